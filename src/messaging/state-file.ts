// What the messaging layer keeps besides the store (proto-spec/messaging.md §10): recent declines,
// what the request book turned away (counts), which contacts we have introduced ourselves to, and
// where contacts were last reachable — small, whatever strangers do. The pending requests
// themselves are one file each (request-files.ts); a version 1 file still holds them in
// `pending`, and the service moves them out on its first start. One file, <home>/messaging.state,
// replaced atomically, sealed like the store's records: XChaCha20-Poly1305 under a key derived
// from the identity's X25519 secret (HKDF-SHA256, its own salt and info: no other use of that key
// produces it). Writes are serialised and coalesced: one in flight, and one waiting that writes
// the newest state it was given.
import { Packr } from 'msgpackr'
import { hkdfSha256, randomBytes, utf8, wipe, xchacha, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { diskStorage, type Storage } from '../io/storage.js'
import { errors } from '../errors.js'
import type { PeerSource } from './connections.js'
import type { RequestSnapshot, RequestTally } from './requests.js'
import { copyRequest } from './request-files.js'

export const STATE_FILE_VERSION = 2
/** The version that kept the whole request book in this file. */
const V1_WITH_PENDING = 1
const SALT = utf8.encode('dmess/messaging-state')
const INFO = utf8.encode('dmess/messaging-state/file-key')
const AAD = utf8.encode('dmess/messaging-state/v1')

export interface RememberedAddress { fingerprint: string, host: string, port: number, source: PeerSource }

export interface MessagingState extends RequestSnapshot {
  /** contacts our CONTACT_REQUEST has been queued for */
  introduced: string[]
  addresses: RememberedAddress[]
  /** what the request book turned away, counted (absent in files written before it was kept) */
  tally?: RequestTally
}

function emptyState (): MessagingState {
  return { pending: [], declined: [], introduced: [], addresses: [] }
}

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

export class StateFile {
  readonly #key: Uint8Array
  #chain: Promise<void> = Promise.resolve()
  /** the write queued behind the one in flight: later saves replace its state and share its promise */
  #waiting: { state: MessagingState, done: Promise<void> } | null = null
  #closed = false
  /** writes that failed (logged by the caller's onError) */
  failures = 0

  constructor (
    readonly path: string,
    dhSecret: Uint8Array,
    private readonly onError: (err: Error) => void = () => {},
    private readonly storage: Storage = diskStorage,
    private readonly now: () => number = Date.now
  ) {
    this.#key = hkdfSha256(dhSecret, SALT, INFO, 32)
  }

  /** The saved state; an absent file is empty, an unreadable one is moved aside and reported. */
  async load (): Promise<MessagingState> {
    const bytes = await this.storage.readFile(this.path).catch(() => null)
    if (bytes === null) return emptyState()
    const state = this.#open(bytes)
    if (state !== null) return state
    const aside = `${this.path}.unreadable-${this.now()}`
    await this.storage.rename(this.path, aside).catch(() => {})
    this.onError(new Error(`${this.path} did not open (another identity, or damaged); moved to ${aside}`))
    return emptyState()
  }

  /** Queues a write of `state`; resolves once it (and every earlier write) is on disk. */
  async save (state: MessagingState): Promise<void> {
    if (this.#closed) throw errors.DAEMON_FAILED('the messaging state file is closed')
    if (this.#waiting !== null) {
      this.#waiting.state = state
      return await this.#waiting.done
    }
    const slot: { state: MessagingState, done: Promise<void> } = { state, done: Promise.resolve() }
    slot.done = this.#chain.then(async () => {
      if (this.#waiting === slot) this.#waiting = null
      await this.storage.writeFileAtomic(this.path, this.#seal(slot.state))
    })
    this.#waiting = slot
    this.#chain = slot.done.catch(err => { this.failures++; this.onError(err as Error) })
    await slot.done
  }

  async flush (): Promise<void> {
    await this.#chain
  }

  close (): void {
    this.#closed = true
    wipe(this.#key)
  }

  #seal (state: MessagingState): Uint8Array {
    const body = packr.pack({ v: STATE_FILE_VERSION, ...state })
    const nonce = randomBytes(XCHACHA_NONCE_BYTES)
    const ct = xchacha.seal(this.#key, nonce, body, AAD)
    const out = new Uint8Array(nonce.length + ct.length)
    out.set(nonce, 0)
    out.set(ct, nonce.length)
    return out
  }

  #open (bytes: Uint8Array): MessagingState | null {
    if (bytes.length <= XCHACHA_NONCE_BYTES) return null
    const body = xchacha.open(this.#key, bytes.subarray(0, XCHACHA_NONCE_BYTES), bytes.subarray(XCHACHA_NONCE_BYTES), AAD)
    if (body === null) return null
    try {
      const v = packr.unpack(body) as Partial<MessagingState> & { v?: number }
      if (v.v !== STATE_FILE_VERSION && v.v !== V1_WITH_PENDING) return null
      const state: MessagingState = {
        pending: Array.isArray(v.pending) ? v.pending.map(copyRequest) : [],
        declined: Array.isArray(v.declined) ? v.declined : [],
        introduced: Array.isArray(v.introduced) ? v.introduced : [],
        addresses: Array.isArray(v.addresses) ? v.addresses : []
      }
      if (typeof v.tally === 'object' && v.tally !== null) state.tally = { ...v.tally }
      return state
    } catch {
      return null
    }
  }
}
