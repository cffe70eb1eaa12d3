// One secure session with one peer (proto-spec/session.md §3): the peer's verified identity, its
// current address, and up to two generations of keys. Pure: the SessionManager feeds it `now`
// and turns what it returns into datagrams. A session outlives any one handshake: a rekey
// installs a new generation, roaming changes the address, the fingerprint never changes.
import type { PublicIdentity } from '../crypto/identity.js'
import { PacketType } from '../wire/constants.js'
import type { VerifiedPeer } from './proof.js'
import type { SessionKeys } from './session-keys.js'
import { sameAddress, type PeerAddress, type CloseReason } from './types.js'
import type { SessionTuning } from './constants.js'
import { retryDelay } from './dial.js'

const EMPTY = new Uint8Array(0)

export function sessionKey (fingerprint: string, sessionId: Uint8Array): string {
  return `${fingerprint}/${Buffer.from(sessionId).toString('hex')}`
}

/** XX initiator: HANDSHAKE_FINAL is resent until the responder is heard from (wire.md §6.3). */
export interface PendingFinal {
  bytes: Uint8Array
  keys: SessionKeys
  attempts: number
  nextAt: number
}

/** What a session's timers ask for at `now`. */
export interface SessionDue {
  idle: boolean
  keepalive: boolean
  resendFinal: boolean
  /** generations whose rejectAfterMs has passed: the manager frees their indices */
  expired: SessionKeys[]
}

export class SessionCore {
  readonly id: number
  /** chosen by the initiator of the first handshake, carried by every rekey (session.md §2.3) */
  readonly sessionId: Uint8Array
  readonly remoteFingerprint: string
  readonly remoteIdentity: PublicIdentity
  /** the first handshake was ours (we dialled) */
  readonly outbound: boolean
  readonly createdAt: number
  address: PeerAddress
  current: SessionKeys | null = null
  previous: SessionKeys | null = null
  pendingFinal: PendingFinal | null = null
  /** the manager's rekey dial for this session, if one runs */
  rekeyDialId: number | null = null
  lastSentAt: number
  lastReceivedAt: number
  lastDuplicateFinalReplyAt = -Infinity
  closed: CloseReason | null = null

  constructor (id: number, sessionId: Uint8Array, peer: VerifiedPeer, address: PeerAddress, outbound: boolean, now: number) {
    this.id = id
    this.sessionId = sessionId.slice()
    this.remoteFingerprint = peer.fingerprint
    this.remoteIdentity = peer.identity
    this.address = { ...address }
    this.outbound = outbound
    this.createdAt = now
    this.lastSentAt = now
    this.lastReceivedAt = now
  }

  /** The table key: a session is named by the peer and its session id together. */
  get key (): string {
    return sessionKey(this.remoteFingerprint, this.sessionId)
  }

  /** The peer's static X25519 key: what a rekey's IK handshake is addressed to. */
  get remoteStatic (): Uint8Array {
    return this.remoteIdentity.dhPublic
  }

  /**
   * Make `keys` the generation we send on; the old current stays as `previous` so packets in
   * flight still decrypt (session.md §4.3). Returns the generation that drops out, if any.
   */
  install (keys: SessionKeys): SessionKeys | null {
    const dropped = this.previous
    this.previous = this.current
    this.current = keys
    if (this.pendingFinal !== null && this.pendingFinal.keys !== keys && this.pendingFinal.keys !== this.previous) this.pendingFinal = null
    return dropped
  }

  /** Both generations, newest first. */
  generations (): SessionKeys[] {
    const out: SessionKeys[] = []
    if (this.current !== null) out.push(this.current)
    if (this.previous !== null) out.push(this.previous)
    return out
  }

  /**
   * An authenticated packet arrived on `keys` from `from`. Roaming (session.md §4.5): the
   * address follows the newest authenticated packet; nothing unauthenticated ever moves it.
   * Returns true if the address changed.
   */
  authenticated (keys: SessionKeys, from: PeerAddress, now: number): boolean {
    this.lastReceivedAt = now
    if (this.pendingFinal?.keys === keys) this.pendingFinal = null
    if (sameAddress(this.address, from)) return false
    this.address = { ...from }
    return true
  }

  /** Whether the generation we send on is old enough to start a rekey (wire.md §7). */
  wantsRekey (now: number, t: SessionTuning): boolean {
    const k = this.current
    if (k === null || this.closed !== null) return this.closed === null
    const after = k.initiator ? t.rekeyAfterMs : t.responderRekeyAfterMs
    return now - k.createdAt >= after || k.sent >= t.rekeyAfterMessages
  }

  /** Encrypt one datagram on the current keys; null when no generation is usable. */
  seal (plaintext: Uint8Array, now: number, t: SessionTuning): Uint8Array | null {
    const k = this.current
    if (k === null || this.closed !== null || !k.usable(now, t.rejectAfterMs)) return null
    this.lastSentAt = now
    return k.seal(plaintext)
  }

  keepalive (now: number, t: SessionTuning): Uint8Array | null {
    return this.seal(EMPTY, now, t)
  }

  /** SESSION_CLOSE on the current keys (wire.md §4.8), if they are still usable. */
  closePacket (now: number, t: SessionTuning): Uint8Array | null {
    const k = this.current
    if (k === null || !k.usable(now, t.rejectAfterMs)) return null
    return k.seal(EMPTY, PacketType.SESSION_CLOSE)
  }

  /** wire.md §6.3: the FINAL to resend now, or null once HANDSHAKE_MAX_ATTEMPTS are spent. */
  resendFinal (now: number, t: SessionTuning, jitter: number): Uint8Array | null {
    const pf = this.pendingFinal
    if (pf === null) return null
    pf.attempts++
    if (pf.attempts > t.handshakeMaxAttempts) {
      this.pendingFinal = null
      return null
    }
    pf.nextAt = now + retryDelay(pf.attempts, t, jitter)
    return pf.bytes
  }

  /** Which timers are due at `now`. */
  due (now: number, t: SessionTuning): SessionDue {
    const expired = this.generations().filter(k => now - k.createdAt >= t.rejectAfterMs)
    return {
      idle: now - this.lastReceivedAt >= t.idleTimeoutMs,
      keepalive: now - this.lastSentAt >= t.keepaliveAfterMs,
      resendFinal: this.pendingFinal !== null && this.pendingFinal.nextAt <= now,
      expired
    }
  }

  /** Forget an expired generation (its index is freed by the manager). */
  drop (keys: SessionKeys): void {
    if (this.current === keys) this.current = null
    if (this.previous === keys) this.previous = null
    if (this.pendingFinal?.keys === keys) this.pendingFinal = null
    keys.destroy()
  }

  /** The earliest time anything here is due. */
  nextDeadline (t: SessionTuning): number {
    let at = Math.min(this.lastReceivedAt + t.idleTimeoutMs, this.lastSentAt + t.keepaliveAfterMs)
    for (const k of this.generations()) at = Math.min(at, k.createdAt + t.rejectAfterMs)
    if (this.pendingFinal !== null) at = Math.min(at, this.pendingFinal.nextAt)
    return at
  }

  /** Wipe every generation; the session cannot send or receive afterwards. */
  destroy (reason: CloseReason): SessionKeys[] {
    this.closed ??= reason
    const gens = this.generations()
    for (const k of gens) k.destroy()
    this.current = null
    this.previous = null
    this.pendingFinal = null
    return gens
  }
}
