// The initiator's side of handshakes for one node (proto-spec/session.md §3, wire.md §6): the
// pending dials by id and by index, their retransmission timers, the packets that answer them
// (response, cookie reply, version negotiation) and the key-substitution check. A completed
// response becomes keys that the SessionManager installs. Pure; drops are counted by `drop`.
import { HandshakePattern, WIRE_VERSION } from '../wire/constants.js'
import { mac1Key } from '../wire/mac1.js'
import type { HandshakeResponse, CookieReply, VersionNegotiation } from '../wire/packet.js'
import type { Identity } from '../crypto/identity.js'
import { errors, type DmessError } from '../errors.js'
import { Dial, type DialInit } from './dial.js'
import { SessionKeys } from './session-keys.js'
import type { HandshakeParty } from './handshake.js'
import type { VerifiedPeer } from './proof.js'
import type { SessionTable } from './session-table.js'
import type { SessionTuning } from './constants.js'
import type { ManagerAction } from './actions.js'
import { sameAddress, type PeerAddress, type SessionDropReason } from './types.js'

export interface DialerContext {
  identity: Identity
  tuning: SessionTuning
  table: SessionTable
  random: (n: number) => Uint8Array
  ephemeralRandom: ((n: number) => Uint8Array) | undefined
  drop: (reason: SessionDropReason) => void
  /** a TAI64N wall-clock time, strictly increasing (session.md §6.4) */
  timestamp: () => Uint8Array
}

/** A response that completed a dial: keys for its session, and (XX) the FINAL to send. */
export interface DialDone {
  dial: Dial
  keys: SessionKeys
  peer: VerifiedPeer
  final: Uint8Array | null
}

export class Dialer {
  readonly #ctx: DialerContext
  readonly #dials = new Map<number, Dial>()
  #nextId = 1
  /** handshakes begun (connects and rekeys), and HANDSHAKE_INITIATIONs sent for them, retransmissions included */
  started = 0
  initiationsSent = 0
  /** connects whose message 1 was held for the peer's answered initiation (session.md §3.1) */
  held = 0

  constructor (ctx: DialerContext) {
    this.#ctx = ctx
  }

  get size (): number {
    return this.#dials.size
  }

  get (id: number): Dial | undefined {
    return this.#dials.get(id)
  }

  /** A dial id for a connect that needs no handshake (the session exists). */
  reserveId (): number {
    return this.#nextId++
  }

  party (): HandshakeParty {
    return { identity: this.#ctx.identity, localIndex: this.#ctx.table.allocate(), random: this.#ctx.ephemeralRandom }
  }

  /** Uniform in [−1, 1): jitter for retransmission delays (wire.md §6.3). */
  jitter (): number {
    const b = this.#ctx.random(2)
    return (((b[0] ?? 0) << 8) | (b[1] ?? 0)) / 32768 - 1
  }

  /**
   * Create a dial and send its first initiation. Its mac1 is keyed by the fingerprint it expects
   * (wire.md §4.1.1): a dial that names none is answered by no dmess responder.
   */
  start (init: Omit<DialInit, 'id' | 'mac1Key' | 'timestamp'>, now: number, out: ManagerAction[], holdUntil: number | null = null): Dial {
    const fp = init.expectFingerprint ?? init.rekeyOf?.remoteFingerprint ?? null
    const dial = new Dial({ ...init, id: this.#nextId++, mac1Key: fp === null ? null : mac1Key(fp), timestamp: this.#ctx.timestamp }, this.party())
    this.#ctx.table.set(dial.localIndex, { kind: 'dial', dial })
    this.#dials.set(dial.id, dial)
    this.started++
    if (holdUntil !== null) {
      // the peer's own handshake to us waits for its key confirmation (session.md §3.1): the
      // session it makes answers this dial; its message 1 goes only if none has by then
      dial.nextAt = Math.min(holdUntil, dial.deadline)
      this.held++
      return dial
    }
    this.initiationsSent++
    out.push({ type: 'send', to: dial.to, bytes: dial.send(now, this.#ctx.tuning, this.jitter()) })
    return dial
  }

  /**
   * session.md §3.1, crossed initiations: our IK dial under way to `remoteStatic` at `from`, if
   * its session would win over the peer's (its initiator, we, has the smaller fingerprint): the
   * peer's message 1 is then left unanswered. `resend`: our message 1 once more, the first time
   * (theirs arriving shows the way from them is open, and ours may not have passed before it).
   */
  crossing (remoteStatic: Uint8Array, from: PeerAddress): { resend: Uint8Array | null } | null {
    for (const dial of this.#dials.values()) {
      const want = dial.expectFingerprint
      if (dial.rekeyOf !== null || dial.heard || want === null || dial.remoteStatic === null || dial.hs.pattern !== HandshakePattern.IK) continue
      if (!sameAddress(dial.to, from) || !bytesEqual(dial.remoteStatic, remoteStatic) || !(this.#ctx.identity.fingerprint < want)) continue
      if (dial.crossResent) return { resend: null }
      dial.crossResent = true
      this.initiationsSent++
      return { resend: dial.hs.initiation(dial.cookie) }
    }
    return null
  }

  /** Pending connects to `fingerprint` that an open session answers (not `fresh` ones, nor rekeys). */
  answeredBy (fingerprint: string): Dial[] {
    return [...this.#dials.values()].filter(d => d.rekeyOf === null && !d.fresh && d.expectFingerprint === fingerprint)
  }

  remove (dial: Dial): void {
    this.#dials.delete(dial.id)
    this.#ctx.table.free(dial.localIndex)
    dial.destroy()
  }

  fail (dial: Dial, error: DmessError, out: ManagerAction[]): void {
    this.remove(dial)
    if (dial.rekeyOf !== null) dial.rekeyOf.rekeyDialId = null // the session keeps its old keys
    else out.push({ type: 'connect-failed', dialId: dial.id, error })
  }

  failAll (error: DmessError, out: ManagerAction[]): void {
    for (const dial of [...this.#dials.values()]) this.fail(dial, error, out)
  }

  /**
   * HANDSHAKE_RESPONSE for `dial`. On success the dial is finished (its index now names the
   * keys). A response that does not authenticate is dropped and the attempt starts over at the
   * next retry; a valid handshake with a bad proof or the wrong fingerprint fails the dial.
   */
  consumeResponse (dial: Dial, p: HandshakeResponse, now: number, out: ManagerAction[]): DialDone | null {
    dial.heard = true
    const res = dial.hs.consumeResponse(p)
    if (!res.ok) {
      if (res.reason === 'bad-proof') {
        this.#ctx.drop('handshake-failed')
        this.fail(dial, errors.HANDSHAKE_FAILED(`peer at ${dial.to.host}:${dial.to.port} sent an identity proof that does not match its key`), out)
      } else {
        this.#ctx.drop(res.reason === 'decrypt-failed' ? 'decrypt-failed' : 'handshake-failed')
        this.#restart(dial) // forged or corrupted: the Noise state is dead
      }
      return null
    }
    const { keys: hk, peer, final } = res.value
    const want = dial.expectFingerprint ?? dial.rekeyOf?.remoteFingerprint ?? null
    if (want !== null && peer.fingerprint !== want) {
      // session.md §4.1: key substitution — a valid identity, but not the one we meant to reach
      hk.send.wipe()
      hk.receive.wipe()
      this.#ctx.drop('fingerprint-mismatch')
      this.fail(dial, errors.FINGERPRINT_MISMATCH(`expected peer ${want}, it proved ${peer.fingerprint}`), out)
      return null
    }
    this.#dials.delete(dial.id)
    if (dial.rekeyOf !== null) dial.rekeyOf.rekeyDialId = null
    const keys = new SessionKeys({ localIndex: dial.localIndex, remoteIndex: p.senderIndex, initiator: true, createdAt: now }, hk)
    return { dial, keys, peer: { ...peer, sessionId: dial.sessionId }, final }
  }

  #restart (dial: Dial): void {
    this.#ctx.table.free(dial.localIndex)
    dial.restart(this.party())
    this.#ctx.table.set(dial.localIndex, { kind: 'dial', dial })
  }

  /** wire.md §4.4: resend the initiation once with the cookie. */
  onCookieReply (dial: Dial, p: CookieReply, out: ManagerAction[]): void {
    dial.heard = true
    const bytes = dial.withCookie(p.cookie)
    if (bytes === null) return this.#ctx.drop('duplicate')
    this.initiationsSent++
    out.push({ type: 'send', to: dial.to, bytes })
  }

  /** wire.md §5.2: we speak only version 1, so a negotiation that does not list it ends the dial. */
  onVersionNegotiation (dial: Dial, p: VersionNegotiation, out: ManagerAction[]): void {
    if (dial.heard || p.versions.includes(WIRE_VERSION)) return this.#ctx.drop('unexpected')
    this.fail(dial, errors.HANDSHAKE_FAILED(`peer speaks wire versions ${p.versions.join(', ')}; we speak ${WIRE_VERSION}`), out)
  }

  /** Retransmissions, the IK → XX fallback, and giving up (wire.md §6.3). */
  tick (now: number, out: ManagerAction[]): void {
    for (const dial of [...this.#dials.values()]) {
      const step = dial.step(now, this.#ctx.tuning, () => this.jitter(), () => this.party())
      if (step.type === 'give-up') {
        this.fail(dial, errors.HANDSHAKE_TIMEOUT(`no handshake with ${dial.to.host}:${dial.to.port} after ${dial.attempts} attempts`), out)
        continue
      }
      if (step.type === 'restart') {
        this.#ctx.table.free(step.oldIndex)
        this.#ctx.table.set(dial.localIndex, { kind: 'dial', dial })
      }
      if (step.type === 'wait') continue
      this.initiationsSent++
      out.push({ type: 'send', to: dial.to, bytes: step.bytes })
    }
  }

  nextDeadline (): number {
    let at = Infinity
    for (const d of this.#dials.values()) at = Math.min(at, d.nextAt)
    return at
  }
}

function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  // public keys, not secrets: a plain comparison is fine
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
