// Who owns each local session index (wire.md §2.4): a packet names the receiver's index, so one
// map lookup finds the dial, the half-open handshake or the key generation it belongs to,
// whatever address it came from (session.md §4.5). Also the sessions, named by peer fingerprint
// and session id together: a handshake that names an existing one rekeys it (session.md §3.1).
import type { Dial } from './dial.js'
import type { SessionKeys } from './session-keys.js'
import type { SessionCore } from './session-core.js'
import type { HalfOpen } from './responder.js'

export type IndexEntry =
  | { kind: 'dial', dial: Dial }
  | { kind: 'half-open', halfOpen: HalfOpen }
  | { kind: 'keys', session: SessionCore, keys: SessionKeys }

const UINT32_RANGE = 2 ** 32

export class SessionTable {
  readonly #indices = new Map<number, IndexEntry>()
  /** by sessionKey(fingerprint, session id) */
  readonly #byKey = new Map<string, SessionCore>()
  /** open sessions per peer, oldest first */
  readonly #byFingerprint = new Map<string, SessionCore[]>()
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

  /** The newest open session with this peer. */
  session (fingerprint: string): SessionCore | undefined {
    return this.#byFingerprint.get(fingerprint)?.at(-1)
  }

  /** Open sessions with this peer, oldest first (a copy). */
  sessionsOf (fingerprint: string): SessionCore[] {
    return [...(this.#byFingerprint.get(fingerprint) ?? [])]
  }

  /** The session a handshake names (peer and session id), if we have it. */
  sessionByKey (key: string): SessionCore | undefined {
    return this.#byKey.get(key)
  }

  addSession (s: SessionCore): void {
    this.#byKey.set(s.key, s)
    const list = this.#byFingerprint.get(s.remoteFingerprint)
    if (list === undefined) this.#byFingerprint.set(s.remoteFingerprint, [s])
    else list.push(s)
  }

  removeSession (s: SessionCore): void {
    if (this.#byKey.get(s.key) === s) this.#byKey.delete(s.key)
    const list = (this.#byFingerprint.get(s.remoteFingerprint) ?? []).filter(x => x !== s)
    if (list.length === 0) this.#byFingerprint.delete(s.remoteFingerprint)
    else this.#byFingerprint.set(s.remoteFingerprint, list)
  }

  sessions (): IterableIterator<SessionCore> {
    return this.#byKey.values()
  }

  get sessionCount (): number {
    return this.#byKey.size
  }
}
