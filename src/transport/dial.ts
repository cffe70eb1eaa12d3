// An outbound handshake with retransmission (proto-spec/session.md §3.3, wire.md §6.3): the
// initiator owns retries, resending the same datagram with exponential backoff and jitter, and
// gives up after a deadline. An IK dial that is never answered falls back to XX (noise.md §1).
// Pure: the SessionManager drives it with `now` and sends what it returns.
import { HandshakePattern } from '../wire/constants.js'
import { InitiatorHandshake, type HandshakeParty } from './handshake.js'
import { HANDSHAKE_RETRY_JITTER, type SessionTuning } from './constants.js'
import type { PeerAddress } from './types.js'
import type { SessionCore } from './session-core.js'

export interface DialInit {
  id: number
  to: PeerAddress
  /** fail unless the peer proves this fingerprint (key substitution, session.md §4.1) */
  expectFingerprint: string | null
  /** the peer's static X25519 key if known: IK, else XX */
  remoteStatic: Uint8Array | null
  /** a rekey of this session (IK, no fallback) rather than a new connection */
  rekeyOf: SessionCore | null
  /** the session id our payload carries: fresh for a connect, the session's for a rekey (session.md §2.3) */
  sessionId: Uint8Array
  /** a connect that wants a new session even beside an open one (ConnectOptions.fresh) */
  fresh: boolean
  deadline: number
  /** from the peer's fingerprint (wire.md §4.1.1); null: no responder will answer */
  mac1Key: Uint8Array | null
  /** a fresh TAI64N time for each IK message 1 (session.md §6.4) */
  timestamp: () => Uint8Array
}

/** What the dial wants at `now`. */
export type DialStep =
  | { type: 'wait' }
  | { type: 'send', bytes: Uint8Array }
  /** the attempt was replaced (IK → XX): free `oldIndex`, then send `bytes` */
  | { type: 'restart', oldIndex: number, bytes: Uint8Array }
  | { type: 'give-up' }

export class Dial {
  readonly id: number
  readonly to: PeerAddress
  readonly expectFingerprint: string | null
  readonly rekeyOf: SessionCore | null
  readonly sessionId: Uint8Array
  readonly fresh: boolean
  readonly deadline: number
  readonly mac1Key: Uint8Array | null
  readonly timestamp: () => Uint8Array
  remoteStatic: Uint8Array | null
  hs: InitiatorHandshake
  cookie: Uint8Array | null = null
  cookieUsed = false
  /** sends of the current attempt's message 1 */
  attempts = 0
  nextAt = 0
  /** any packet for this dial has arrived (a later VERSION_NEGOTIATION is then ignored) */
  heard = false
  /** message 1 was sent again at once, in place of answering the peer's crossing one (session.md §3.1) */
  crossResent = false

  constructor (init: DialInit, party: HandshakeParty) {
    this.id = init.id
    this.to = init.to
    this.expectFingerprint = init.expectFingerprint
    this.remoteStatic = init.remoteStatic
    this.rekeyOf = init.rekeyOf
    this.sessionId = init.sessionId
    this.fresh = init.fresh
    this.deadline = init.deadline
    this.mac1Key = init.mac1Key
    this.timestamp = init.timestamp
    this.hs = this.#handshake(party)
  }

  #handshake (party: HandshakeParty): InitiatorHandshake {
    return new InitiatorHandshake(party, this.remoteStatic, this.sessionId, this.mac1Key, this.remoteStatic === null ? null : this.timestamp())
  }

  get localIndex (): number {
    return this.hs.localIndex
  }

  /** Send message 1 now and schedule the retry. */
  send (now: number, t: SessionTuning, jitter: number): Uint8Array {
    this.attempts++
    this.nextAt = Math.min(now + retryDelay(this.attempts, t, jitter), this.deadline)
    return this.hs.initiation(this.cookie)
  }

  /** A COOKIE_REPLY for our attempt: resend once with the cookie (wire.md §4.4). */
  withCookie (cookie: Uint8Array): Uint8Array | null {
    if (this.cookieUsed) return null
    this.cookieUsed = true
    this.cookie = cookie.slice()
    return this.hs.initiation(this.cookie)
  }

  /**
   * Timers. `nextParty` gives a fresh index for a new attempt (the IK → XX fallback); it is only
   * called when one is needed.
   */
  step (now: number, t: SessionTuning, jitter: () => number, nextParty: () => HandshakeParty): DialStep {
    if (now < this.nextAt) return { type: 'wait' }
    if (now >= this.deadline) return { type: 'give-up' }
    const ik = this.hs.pattern === HandshakePattern.IK
    if (ik && this.rekeyOf === null && this.attempts >= t.ikAttemptsBeforeXx) {
      // noise.md §1: the responder's key may have changed; learn it with XX, then compare fingerprints
      const oldIndex = this.hs.localIndex
      this.remoteStatic = null
      this.restart(nextParty())
      this.attempts = 0
      return { type: 'restart', oldIndex, bytes: this.send(now, t, jitter()) }
    }
    if (this.attempts >= t.handshakeMaxAttempts) return { type: 'give-up' }
    return { type: 'send', bytes: this.send(now, t, jitter()) }
  }

  /**
   * Replace the attempt with a fresh one (new index, new ephemeral) on the same schedule: after
   * the IK → XX fallback, or when a response failed to authenticate and killed the Noise state.
   */
  restart (party: HandshakeParty): void {
    this.hs.destroy()
    this.hs = this.#handshake(party)
    this.cookie = null // a cookie is bound to the sender index (wire.md §4.4)
    this.cookieUsed = false
  }

  destroy (): void {
    this.hs.destroy()
  }
}

/** wire.md §6.3: initial × 2^(n−1), capped, ± jitter (jitter ∈ [−1, 1) scaled by the tuning). */
export function retryDelay (attempt: number, t: SessionTuning, jitter: number, jitterFraction = HANDSHAKE_RETRY_JITTER): number {
  const base = Math.min(t.handshakeRetryInitialMs * 2 ** (attempt - 1), t.handshakeRetryMaxMs)
  return base * (1 + jitterFraction * jitter)
}
