// Who owns each local session index (wire.md §2.4): a packet names the receiver's index, so one
// map lookup finds the dial, the half-open handshake or the key generation it belongs to,
// whatever address it came from (session.md §4.5). Also the sessions by peer fingerprint: one
// session per peer, which every later handshake with that peer rekeys (session.md §3.1).
import type { Dial } from './dial.js'
import type { SessionKeys } from './keys.js'
import type { SessionCore } from './session.js'
import type { HalfOpen } from './responder.js'

export type IndexEntry =
  | { kind: 'dial', dial: Dial }
  | { kind: 'half-open', halfOpen: HalfOpen }
  | { kind: 'keys', session: SessionCore, keys: SessionKeys }

const UINT32_RANGE = 2 ** 32

export class SessionTable {
  readonly #indices = new Map<number, IndexEntry>()
  readonly #byFingerprint = new Map<string, SessionCore>()
  #nextId = 1

  constructor (private readonly random: (n: number) => Uint8Array) {}

  /** A random non-zero index not in use (wire.md §2.4), reserved until `free`. */
  allocate (): number {
    for (;;) {
      const b = this.random(4)
      const index = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0
      if (index !== 0 && index < UINT32_RANGE && !this.#indices.has(index)) return index
    }
  }

  get (index: number): IndexEntry | undefined {
    return this.#indices.get(index)
  }

  set (index: number, entry: IndexEntry): void {
    this.#indices.set(index, entry)
  }

  free (index: number): void {
    this.#indices.delete(index)
  }

  get indexCount (): number {
    return this.#indices.size
  }

  nextSessionId (): number {
    return this.#nextId++
  }

  session (fingerprint: string): SessionCore | undefined {
    return this.#byFingerprint.get(fingerprint)
  }

  addSession (s: SessionCore): void {
    this.#byFingerprint.set(s.remoteFingerprint, s)
  }

  removeSession (s: SessionCore): void {
    if (this.#byFingerprint.get(s.remoteFingerprint) === s) this.#byFingerprint.delete(s.remoteFingerprint)
  }

  sessions (): IterableIterator<SessionCore> {
    return this.#byFingerprint.values()
  }

  get sessionCount (): number {
    return this.#byFingerprint.size
  }
}
