// The session layer of one node, as a pure core (proto-spec/session.md): every dmess datagram
// the socket receives, every connect, send, close and timer goes in with `now`; datagrams to
// send and events come out as a list of actions, which the Endpoint (endpoint.ts) carries out.
// Bad input is counted and dropped, never thrown (wire.md §5). Local misuse throws DmessError.
import { decodePacketResult, versionNegotiationReply, type HandshakeResponse, type HandshakeFinal, type TransportData, type SessionClose } from '../wire/packet.js'
import { DropCounter, type DropReason } from '../wire/drops.js'
import { X25519_PUBLIC_BYTES } from '../wire/constants.js'
import { checkMac1, mac1Key } from '../wire/mac1.js'
import { realScheduler } from '../io/scheduler.js'
import { randomBytes } from '../crypto/primitives.js'
import { parseFingerprint, type Identity } from '../crypto/identity.js'
import { errors, type DmessError } from '../errors.js'
import { DEFAULT_TUNING, MAX_SESSION_DATAGRAM_BYTES, DUPLICATE_FINAL_REPLY_INTERVAL_MS, type SessionTuning } from './constants.js'
import { SessionTable } from './session-table.js'
import { Responder, type HalfOpen } from './responder.js'
import { retryDelay } from './dial.js'
import { Dialer } from './dialer.js'
import { SessionKeys } from './session-keys.js'
import { SessionCore, sessionKey } from './session-core.js'
import { supersedes } from './peer-policy.js'
import { SESSION_ID_BYTES, tai64n, type VerifiedPeer } from './proof.js'
import { SESSION_DROP_REASONS, type PeerAddress, type CloseReason, type SessionDropReason } from './types.js'
import type { ManagerAction, ConnectOptions, ManagerStats } from './actions.js'

export type { ManagerAction, ConnectOptions, ManagerStats } from './actions.js'

export interface ManagerOptions {
  identity: Identity
  now: number
  /** randomness for indices, cookies, jitter — and ephemeral keys when given (deterministic tests) */
  random?: (n: number) => Uint8Array
  /**
   * randomness for indices, session ids, cookie secrets and jitter only (src/io/random.ts: the
   * world's); ephemeral keys still come from OpenSSL. A simulated node's session indices then
   * replay with the seed, and so does everything ordered by them. `random` wins when both are given.
   */
  nonKeyRandom?: (n: number) => Uint8Array
  tuning?: Partial<SessionTuning>
  /** wall-clock ms since the epoch, for IK timestamps (session.md §6.4); default the real clock */
  wallNow?: () => number
  /**
   * Is this fingerprint one of the user's contacts? Sessions with others are strangers': capped
   * and evicted least recently heard first (session.md §3.7). Without it everyone counts as a contact.
   */
  isContact?: (fingerprint: string) => boolean
  /** Does a session with `fingerprint` at `address` run through a relay of ours (relay.md §8; peer-policy.ts)? Default: none does. */
  relayed?: (fingerprint: string, address: PeerAddress) => boolean
}

export class SessionManager {
  readonly tuning: SessionTuning
  readonly #identity: Identity
  readonly #random: (n: number) => Uint8Array
  readonly #ephemeralRandom: ((n: number) => Uint8Array) | undefined
  readonly #table: SessionTable
  readonly #responder: Responder
  readonly #dialer: Dialer
  readonly #wireDrops = new DropCounter()
  readonly #drops = new Map<SessionDropReason, number>()
  /** wire.md §4.1.1: what an initiation to us must be MACed with */
  readonly #mac1Key: Uint8Array
  readonly #wallNow: () => number
  readonly #isContact: (fingerprint: string) => boolean
  readonly #relayed: (fingerprint: string, address: PeerAddress) => boolean
  #lastStamp = { ms: -1, ns: 0 }
  #handshakesCompleted = 0
  #strangersEvicted = 0
  #replaced = 0
  #deadline = Infinity

  constructor (opts: ManagerOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning }
    this.#identity = opts.identity
    this.#random = opts.random ?? opts.nonKeyRandom ?? randomBytes
    this.#ephemeralRandom = opts.random
    this.#table = new SessionTable(this.#random)
    this.#mac1Key = mac1Key(opts.identity.fingerprint)
    this.#wallNow = opts.wallNow ?? realScheduler.wallNow
    this.#isContact = opts.isContact ?? (() => true)
    this.#relayed = opts.relayed ?? (() => false)
    const ctx = {
      identity: opts.identity,
      tuning: this.tuning,
      table: this.#table,
      random: this.#random,
      ephemeralRandom: this.#ephemeralRandom,
      drop: (r: SessionDropReason) => { this.#drop(r) },
      timestamp: () => this.#timestamp()
    }
    this.#responder = new Responder({ ...ctx, now: opts.now, crossing: (rs, from) => this.#dialer.crossing(rs, from) })
    this.#dialer = new Dialer(ctx)
  }

  /** The earliest time `tick` has work to do (Infinity if none). */
  get nextDeadline (): number {
    return this.#deadline
  }

  get identity (): Identity {
    return this.#identity
  }

  session (fingerprint: string): SessionCore | undefined {
    return this.#table.session(fingerprint)
  }

  sessions (): SessionCore[] {
    return [...this.#table.sessions()]
  }

  /** The isContact hook's answer: strangers get a smaller receive window (session.md §3.7). */
  isContact (fingerprint: string): boolean {
    return this.#isContact(fingerprint)
  }

  // ---- local calls ----

  /** Start a handshake to `to` (session.md §3.1). The outcome arrives as 'connected' / 'connect-failed'. */
  connect (to: PeerAddress, opts: ConnectOptions, now: number): { dialId: number, actions: ManagerAction[] } {
    const out: ManagerAction[] = []
    // canonical form, so that a pasted fingerprint compares equal (throws BAD_FINGERPRINT)
    const expect = opts.expectFingerprint === undefined ? null : parseFingerprint(opts.expectFingerprint)
    const rs = opts.remoteStatic ?? null
    if (rs !== null && rs.length !== X25519_PUBLIC_BYTES) throw errors.BAD_ARGUMENT(`connect: remoteStatic must be ${X25519_PUBLIC_BYTES} bytes, got ${rs.length}`)
    const existing = expect === null || opts.fresh === true ? undefined : this.#table.session(expect)
    if (existing !== undefined) {
      const dialId = this.#dialer.reserveId()
      return { dialId, actions: [{ type: 'connected', dialId, session: existing }] }
    }
    const deadline = now + (opts.timeoutMs ?? this.tuning.connectTimeoutMs)
    const sessionId = this.#random(SESSION_ID_BYTES) // a new session (session.md §2.3)
    // session.md §3.1, an answered initiation: the peer's IK message 1 from `to`, answered within
    // the first retry delay, makes the session this connect asks for as soon as the peer's first
    // transport packet comes; a message 1 of ours now would make a second one
    const wait = this.tuning.handshakeRetryInitialMs
    const held = rs !== null && opts.fresh !== true && this.#responder.answeredIk(rs, to, now - wait)
    const dial = this.#dialer.start({ to: { ...to }, expectFingerprint: expect, remoteStatic: rs?.slice() ?? null, rekeyOf: null, sessionId, fresh: opts.fresh === true, deadline }, now, out, held ? now + wait : null)
    this.#wake(dial.nextAt)
    return { dialId: dial.id, actions: out }
  }

  /** Abandon a pending connect (AbortSignal); it fails with `error`. */
  cancel (dialId: number, error: DmessError): ManagerAction[] {
    const out: ManagerAction[] = []
    const dial = this.#dialer.get(dialId)
    if (dial !== undefined) this.#dialer.fail(dial, error, out)
    return out
  }

  /** Encrypt and send one datagram; `sent` is false when the session has no usable keys (or is closed). */
  send (s: SessionCore, data: Uint8Array, now: number): { sent: boolean, actions: ManagerAction[] } {
    const out: ManagerAction[] = []
    const bytes = this.seal(s, data, now, out)
    if (bytes !== null) out.push({ type: 'send', to: s.address, bytes })
    return { sent: bytes !== null, actions: out }
  }

  /**
   * The per-packet path of `send`: the sealed datagram for `s.address`, or null. Actions a rekey
   * starts (its handshake initiation) are appended to `out` and go before the datagram.
   */
  seal (s: SessionCore, data: Uint8Array, now: number, out: ManagerAction[]): Uint8Array | null {
    if (data.length > MAX_SESSION_DATAGRAM_BYTES) {
      throw errors.BAD_ARGUMENT(`session datagram: at most ${MAX_SESSION_DATAGRAM_BYTES} bytes, got ${data.length}`)
    }
    if (s.closed !== null) return null
    this.#maybeRekey(s, now, out)
    return s.seal(data, now, this.tuning)
  }

  /** Close with an authenticated SESSION_CLOSE, so the peer drops it at once (session.md §3.6). */
  close (s: SessionCore, now: number, reason: CloseReason = 'local'): ManagerAction[] {
    const out: ManagerAction[] = []
    if (s.closed !== null) return out
    const bytes = s.closePacket(now, this.tuning)
    if (bytes !== null) out.push({ type: 'send', to: s.address, bytes })
    this.#closeSession(s, reason, out)
    return out
  }

  /** Close every session and fail every pending connect (the endpoint is going away). */
  shutdown (now: number): ManagerAction[] {
    const out: ManagerAction[] = []
    this.#dialer.failAll(errors.ENDPOINT_CLOSED('the endpoint was closed'), out)
    for (const s of this.sessions()) out.push(...this.close(s, now, 'endpoint-closed'))
    this.#responder.clear()
    this.#deadline = Infinity
    return out
  }

  // ---- network input ----

  /**
   * One datagram from the socket (STUN already split off by the caller). The actions are
   * appended to `out` (the Endpoint passes one list it reuses per datagram) and returned.
   */
  receive (datagram: Uint8Array, from: PeerAddress, now: number, out: ManagerAction[] = []): ManagerAction[] {
    const r = decodePacketResult(datagram)
    if (!r.ok) {
      this.#wireDrops.count(r.reason)
      if (r.reason === 'unsupported-version' && this.#mac1Ok(datagram)) this.#negotiateVersion(datagram, from, now, out)
      return out
    }
    const p = r.packet
    switch (p.kind) {
      case 'dht': out.push({ type: 'dht', datagram, from }); break
      case 'handshake-initiation': {
        if (!this.#mac1Ok(datagram)) break // wire.md §4.1.1: no answer, no state, no DH
        const reply = this.#responder.onInitiation(p, from, now)
        if (reply !== null) out.push({ type: 'send', to: from, bytes: reply })
        this.#wake(this.#responder.nextDeadline())
        break
      }
      case 'handshake-response': this.#onResponse(p, from, now, out); break
      case 'handshake-final': this.#onFinal(p, from, now, out); break
      case 'cookie-reply': case 'version-negotiation': {
        const e = this.#table.get(p.receiverIndex)
        if (e?.kind !== 'dial') this.#drop('unknown-session')
        else if (p.kind === 'cookie-reply') this.#dialer.onCookieReply(e.dial, p, out)
        else this.#dialer.onVersionNegotiation(e.dial, p, out)
        break
      }
      case 'transport-data': case 'session-close': this.#onTransport(p, datagram, from, now, out); break
    }
    return out
  }

  /**
   * wire.md §4.1.1: an initiation (in any version: mac1 is its last 16 bytes, §2.3) proves it
   * knows our fingerprint before we answer or compute anything; else it is dropped, counted.
   */
  #mac1Ok (datagram: Uint8Array): boolean {
    if (checkMac1(datagram, this.#mac1Key)) return true
    this.#drop('bad-mac1')
    return false
  }

  /** session.md §6.4: TAI64N of the wall clock, strictly increasing even within one millisecond. */
  #timestamp (): Uint8Array {
    const ms = Math.floor(this.#wallNow())
    const last = this.#lastStamp
    if (ms > last.ms) this.#lastStamp = { ms, ns: 0 }
    else if (last.ns < 999_999) last.ns++
    else this.#lastStamp = { ms: last.ms + 1, ns: 0 }
    return tai64n(this.#lastStamp.ms, this.#lastStamp.ns)
  }

  /** wire.md §5.2: answer an initiation in a version we do not speak, rate-limited per IP. */
  #negotiateVersion (datagram: Uint8Array, from: PeerAddress, now: number, out: ManagerAction[]): void {
    const reply = versionNegotiationReply(datagram)
    if (reply !== null && this.#responder.allow(from.host, now)) out.push({ type: 'send', to: from, bytes: reply })
  }

  #onResponse (p: HandshakeResponse, from: PeerAddress, now: number, out: ManagerAction[]): void {
    const e = this.#table.get(p.receiverIndex)
    if (e?.kind !== 'dial') return this.#drop('unknown-session')
    const done = this.#dialer.consumeResponse(e.dial, p, now, out)
    if (done === null) return
    const { dial, keys, peer, final } = done
    const s = this.#establish(peer, keys, from, now, true, out)
    if (s.current !== keys) {
      // lost to an existing session with this peer (session.md §3.1): resolve with that one
      if (dial.rekeyOf === null) out.push({ type: 'connected', dialId: dial.id, session: s })
      return
    }
    if (final !== null) {
      // wire.md §6.3: resend FINAL until the responder is heard from on these keys
      s.pendingFinal = { bytes: final, keys, attempts: 1, nextAt: now + retryDelay(1, this.tuning, this.#dialer.jitter()) }
      out.push({ type: 'send', to: s.address, bytes: final })
    } else {
      this.#keepalive(s, now, out) // IK: key confirmation for the responder (noise.md §4)
    }
    if (dial.rekeyOf === null) out.push({ type: 'connected', dialId: dial.id, session: s })
    this.#wake(s.nextDeadline(this.tuning))
  }

  #onFinal (p: HandshakeFinal, from: PeerAddress, now: number, out: ManagerAction[]): void {
    const e = this.#table.get(p.receiverIndex)
    if (e?.kind === 'keys') return this.#duplicateFinal(e.session, e.keys, now, out)
    if (e?.kind !== 'half-open') return this.#drop('unknown-session')
    const ho = e.halfOpen
    if (ho.xx === null) return this.#drop('unexpected')
    const res = ho.xx.consumeFinal(p.message)
    if (!res.ok) {
      this.#drop(res.reason === 'decrypt-failed' ? 'decrypt-failed' : 'handshake-failed')
      return this.#responder.remove(ho)
    }
    this.#responder.detach(ho)
    const keys = new SessionKeys({ localIndex: ho.localIndex, remoteIndex: ho.remoteIndex, initiator: false, createdAt: now }, res.value.keys)
    const s = this.#establish(res.value.peer, keys, from, now, false, out)
    if (s.current === keys) this.#keepalive(s, now, out) // so the initiator stops resending FINAL (wire.md §6.3)
  }

  /** A retransmitted FINAL: our keepalive was lost; send another (rate-limited), nothing else. */
  #duplicateFinal (s: SessionCore, keys: SessionKeys, now: number, out: ManagerAction[]): void {
    this.#drop('duplicate')
    if (keys.initiator || s.current !== keys || now - s.lastDuplicateFinalReplyAt < DUPLICATE_FINAL_REPLY_INTERVAL_MS) return
    s.lastDuplicateFinalReplyAt = now
    this.#keepalive(s, now, out)
  }

  #onTransport (p: TransportData | SessionClose, datagram: Uint8Array, from: PeerAddress, now: number, out: ManagerAction[]): void {
    const e = this.#table.get(p.receiverIndex)
    if (e === undefined || e.kind === 'dial') return this.#drop('unknown-session')
    if (e.kind === 'half-open') return this.#confirmIk(e.halfOpen, p, datagram, from, now, out)
    const pt = e.keys.open(datagram, p.counter, p.ciphertext, now, this.tuning.rejectAfterMs)
    if (typeof pt === 'string') return this.#drop(pt)
    this.#deliver(e.session, e.keys, p.kind, pt, from, now, out)
  }

  /** noise.md §4: an IK responder's keys are confirmed by the initiator's first transport packet. */
  #confirmIk (ho: HalfOpen, p: TransportData | SessionClose, datagram: Uint8Array, from: PeerAddress, now: number, out: ManagerAction[]): void {
    if (ho.ik === null) return this.#drop('unexpected') // XX still waiting for FINAL (wire.md §6.3)
    const { keys, peer } = ho.ik
    const pt = keys.open(datagram, p.counter, p.ciphertext, now, this.tuning.rejectAfterMs)
    if (typeof pt === 'string') return this.#drop(pt)
    this.#responder.detach(ho)
    // this packet is fresh (replay window) and authenticated, so its source may move the address
    const s = this.#establish(peer, keys, from, now, false, out)
    if (s.current === keys) this.#deliver(s, keys, p.kind, pt, from, now, out)
  }

  #deliver (s: SessionCore, keys: SessionKeys, kind: 'transport-data' | 'session-close', pt: Uint8Array, from: PeerAddress, now: number, out: ManagerAction[]): void {
    if (s.authenticated(keys, from, now)) out.push({ type: 'roamed', session: s, address: { ...from } })
    if (kind === 'session-close') return this.#closeSession(s, 'peer', out)
    if (pt.length > 0) out.push({ type: 'data', session: s, data: pt }) // empty: a keepalive
  }

  /**
   * A handshake completed and authenticated `peer`: install the keys on the session it names
   * (peer + session id), creating the session if it is new (session.md §3.1). `roamTo` is where a fresh, authenticated
   * message came from: a response, a FINAL, an IK confirmation — never an IK message 1, which
   * can be replayed.
   */
  #establish (peer: VerifiedPeer, keys: SessionKeys, roamTo: PeerAddress, now: number, outbound: boolean, out: ManagerAction[]): SessionCore {
    const sessionId = peer.sessionId ?? this.#random(SESSION_ID_BYTES) // always set: checked in handshake.ts
    let s = this.#table.sessionByKey(sessionKey(peer.fingerprint, sessionId))
    const isNew = s === undefined
    if (s === undefined) {
      s = new SessionCore(this.#table.nextSessionId(), sessionId, peer, roamTo, outbound, now)
      this.#table.addSession(s)
    }
    if (!isNew && s.authenticated(keys, roamTo, now)) out.push({ type: 'roamed', session: s, address: { ...roamTo } })
    const dropped = s.install(keys)
    if (dropped !== null) {
      this.#table.free(dropped.localIndex)
      dropped.destroy()
    }
    this.#table.set(keys.localIndex, { kind: 'keys', session: s, keys })
    s.lastReceivedAt = now
    this.#handshakesCompleted++
    this.#wake(s.nextDeadline(this.tuning))
    if (!isNew) {
      out.push({ type: 'rekeyed', session: s })
      return s
    }
    const kept = this.#onePerPeer(s, now, out)
    // a new outbound session is announced by the dial's 'connected'
    if (kept === s && !outbound) {
      out.push({ type: 'session', session: s })
      // our own connects to this peer have their session (session.md §3.1): as if made now
      for (const dial of this.#dialer.answeredBy(s.remoteFingerprint)) {
        this.#dialer.remove(dial)
        out.push({ type: 'connected', dialId: dial.id, session: s })
      }
    }
    if (kept === s && !this.#isContact(s.remoteFingerprint)) this.#boundStrangers(s, now, out)
    return kept
  }

  /**
   * session.md §3.7: at most maxStrangerSessions sessions with peers that are not contacts; the
   * one heard from least recently (never `fresh`, just made) is closed with a SESSION_CLOSE.
   */
  #boundStrangers (fresh: SessionCore, now: number, out: ManagerAction[]): void {
    const strangers = this.sessions().filter(x => x !== fresh && !this.#isContact(x.remoteFingerprint))
    if (strangers.length < this.tuning.maxStrangerSessions) return
    strangers.sort((a, b) => a.lastReceivedAt - b.lastReceivedAt)
    for (const old of strangers.slice(0, strangers.length + 1 - this.tuning.maxStrangerSessions)) {
      this.#strangersEvicted++
      out.push(...this.close(old, now, 'evicted'))
    }
  }

  /**
   * session.md §3.1: keep one open session per peer (peer-policy.ts). Returns the survivor; when
   * the new one loses it is dropped unannounced — silently if we dialled it (the peer never
   * completes it), else with a CLOSE so the peer drops it at once.
   */
  #onePerPeer (n: SessionCore, now: number, out: ManagerAction[]): SessionCore {
    for (const o of this.#table.sessionsOf(n.remoteFingerprint)) {
      if (o === n) continue
      this.#replaced++
      if (supersedes(n, o, this.#identity.fingerprint, now, s => this.#relayed(s.remoteFingerprint, s.address))) {
        out.push(...this.close(o, now, 'replaced'))
        continue
      }
      const bye = n.outbound ? null : n.closePacket(now, this.tuning)
      if (bye !== null) out.push({ type: 'send', to: n.address, bytes: bye })
      this.#closeSession(n, 'replaced', [])
      return o
    }
    return n
  }

  #closeSession (s: SessionCore, reason: CloseReason, out: ManagerAction[]): void {
    for (const k of s.destroy(reason)) this.#table.free(k.localIndex)
    this.#table.removeSession(s)
    const dial = s.rekeyDialId === null ? undefined : this.#dialer.get(s.rekeyDialId)
    if (dial !== undefined) this.#dialer.remove(dial)
    s.rekeyDialId = null
    out.push({ type: 'closed', session: s, reason })
  }

  // ---- rekey, keepalive, timers ----

  /** wire.md §7: about to send on old keys → a fresh IK handshake, old keys used meanwhile. */
  #maybeRekey (s: SessionCore, now: number, out: ManagerAction[]): void {
    if (s.rekeyDialId !== null || !s.wantsRekey(now, this.tuning)) return
    const deadline = now + this.tuning.connectTimeoutMs
    const dial = this.#dialer.start({ to: { ...s.address }, expectFingerprint: s.remoteFingerprint, remoteStatic: s.remoteStatic, rekeyOf: s, sessionId: s.sessionId, fresh: false, deadline }, now, out)
    s.rekeyDialId = dial.id
    this.#wake(dial.nextAt)
  }

  #keepalive (s: SessionCore, now: number, out: ManagerAction[]): void {
    const bytes = s.keepalive(now, this.tuning)
    if (bytes !== null) out.push({ type: 'send', to: s.address, bytes })
  }

  /** Run everything due at `now`: retransmissions, keepalives, rekeys, expiry, idle timeouts. */
  tick (now: number): ManagerAction[] {
    const out: ManagerAction[] = []
    this.#responder.expire(now)
    this.#dialer.tick(now, out)
    for (const s of this.sessions()) this.#tickSession(s, now, out)
    this.#deadline = this.#computeDeadline()
    return out
  }

  #tickSession (s: SessionCore, now: number, out: ManagerAction[]): void {
    const t = this.tuning
    const due = s.due(now, t)
    if (due.idle) return this.#closeSession(s, 'timeout', out)
    for (const k of due.expired) {
      this.#table.free(k.localIndex)
      s.drop(k)
    }
    const final = due.resendFinal ? s.resendFinal(now, t, this.#dialer.jitter()) : null
    if (final !== null) out.push({ type: 'send', to: s.address, bytes: final })
    if (due.keepalive) {
      this.#maybeRekey(s, now, out)
      this.#keepalive(s, now, out)
      s.lastSentAt = now // even without usable keys: try again one interval later, not at once
    }
  }

  #computeDeadline (): number {
    let at = Math.min(this.#responder.nextDeadline(), this.#dialer.nextDeadline())
    for (const s of this.#table.sessions()) at = Math.min(at, s.nextDeadline(this.tuning))
    return at
  }

  #wake (at: number): void {
    if (at < this.#deadline) this.#deadline = at
  }

  // ---- counters ----

  #drop (reason: SessionDropReason): void {
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1)
  }

  stats (): ManagerStats {
    const dropped = { ...this.#wireDrops.snapshot() } as Record<DropReason | SessionDropReason, number>
    for (const r of SESSION_DROP_REASONS) dropped[r] = this.#drops.get(r) ?? 0
    return {
      dropped,
      handshakesCompleted: this.#handshakesCompleted,
      handshakes: { started: this.#dialer.started, initiationsSent: this.#dialer.initiationsSent, responsesSent: this.#responder.responsesSent, sessionsReplaced: this.#replaced, held: this.#dialer.held },
      cookieRepliesSent: this.#responder.cookieRepliesSent,
      halfOpenEvicted: this.#responder.evicted,
      strangersEvicted: this.#strangersEvicted,
      sessions: this.#table.sessionCount,
      halfOpen: this.#responder.size,
      dials: this.#dialer.size
    }
  }
}
