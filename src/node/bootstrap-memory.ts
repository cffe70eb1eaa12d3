// The remembered bootstrap candidates on disk (dht.md §6.4): <home>/dht.peers, replaced
// atomically, sealed like the messaging state file (proto-spec/storage.md "Encryption", messaging.md
// §10): XChaCha20-Poly1305 under a key derived from the identity's X25519 secret with HKDF-SHA256
// and this file's own salt and info, so that no other use of that secret yields it. A copy of the
// home therefore does not show which DHT nodes (and so roughly which contacts' addresses) this
// user has talked to. A file that does not open (another identity, damage) counts as empty.
import { Packr } from 'msgpackr'
import { hkdfSha256, randomBytes, utf8, wipe, xchacha, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import type { Storage } from '../io/storage.js'
import { BootstrapCandidates, type BootstrapCandidate, type CandidateSource } from '../dht/bootstrap-candidates.js'

const SALT = utf8.encode('dmess/dht-peers')
const INFO = utf8.encode('dmess/dht-peers/file-key')
const AAD = utf8.encode('dmess/dht-peers/v1')
const VERSION = 1
const SOURCES = new Set<CandidateSource>(['dht', 'invite', 'contact', 'configured'])
const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

export const BOOTSTRAP_MEMORY_FILE = 'dht.peers'

export class BootstrapMemory {
  readonly #key: Uint8Array
  #chain: Promise<void> = Promise.resolve()
  #closed = false

  constructor (readonly path: string, dhSecret: Uint8Array, private readonly storage: Storage) {
    this.#key = hkdfSha256(dhSecret, SALT, INFO, 32)
  }

  async load (): Promise<BootstrapCandidates> {
    const bytes = await this.storage.readFile(this.path).catch(() => null)
    return new BootstrapCandidates(bytes === null ? [] : this.#open(bytes))
  }

  /** Writes the list (writes are serialised; after close() nothing is written). */
  async save (list: BootstrapCandidates): Promise<void> {
    if (this.#closed) return
    const sealed = this.#seal(list.snapshot())
    this.#chain = this.#chain.then(async () => { await this.storage.writeFileAtomic(this.path, sealed) })
    await this.#chain
  }

  /**
   * Adds addresses to the file as it is on disk (a CLI adding a contact while the daemon runs: the
   * daemon merges the file in again before each of its own writes).
   */
  async add (addrs: readonly string[], source: CandidateSource, at: number): Promise<void> {
    const list = await this.load()
    for (const a of addrs) list.note(a, source, at)
    await this.save(list)
  }

  async close (): Promise<void> {
    await this.#chain.catch(() => {})
    this.#closed = true
    wipe(this.#key)
  }

  #seal (list: BootstrapCandidate[]): Uint8Array {
    const nonce = randomBytes(XCHACHA_NONCE_BYTES)
    const ct = xchacha.seal(this.#key, nonce, packr.pack({ v: VERSION, list }), AAD)
    const out = new Uint8Array(nonce.length + ct.length)
    out.set(nonce, 0)
    out.set(ct, nonce.length)
    return out
  }

  #open (bytes: Uint8Array): BootstrapCandidate[] {
    if (bytes.length <= XCHACHA_NONCE_BYTES) return []
    const body = xchacha.open(this.#key, bytes.subarray(0, XCHACHA_NONCE_BYTES), bytes.subarray(XCHACHA_NONCE_BYTES), AAD)
    if (body === null) return []
    try {
      const v = packr.unpack(body) as { v?: number, list?: unknown }
      if (v.v !== VERSION || !Array.isArray(v.list)) return []
      return v.list.filter((c): c is BootstrapCandidate => typeof c === 'object' && c !== null &&
        typeof c.addr === 'string' && typeof c.at === 'number' && SOURCES.has(c.source))
    } catch {
      return []
    }
  }
}
