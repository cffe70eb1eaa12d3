// The responder's side of handshakes (proto-spec/session.md §6, wire.md §4.4, §6.3): admission
// (per-IP token bucket, cookies under load, half-open state bounded per source network and in
// total, §6.1), IK replay refusal by timestamp (§6.4), Noise message 1, and
// the half-open table — XX waiting for message 3, IK waiting for key confirmation. Nothing is
// kept for an initiation that is refused or fails; a retransmitted initiation gets the cached
// response without any Noise work. Pure: `now` in, bytes out; drops are counted by the caller's
// `drop` callback.
import { CookieJar } from '../wire/cookie.js'
import { encodeCookieReply, type HandshakeInitiation } from '../wire/packet.js'
import type { Identity } from '../crypto/identity.js'
import { networkKeyOf } from '../io/address.js'
import { respondToInitiation, type ResponderXX } from './handshake.js'
import { SessionKeys } from './session-keys.js'
import { KeyedRateLimiter, TokenBucket } from './rate-limit.js'
import { MAX_RATE_LIMITED_IPS, MAX_IK_TIMESTAMP_KEYS, type SessionTuning } from './constants.js'
import type { SessionTable } from './session-table.js'
import { compareTimestamps, type VerifiedPeer } from './proof.js'
import { addressKey, type PeerAddress, type SessionDropReason } from './types.js'

export interface HalfOpen {
  localIndex: number
  remoteIndex: number
  from: PeerAddress
  sourceKey: string
  /** the source's IPv4 /24 or IPv6 /64 (session.md §6.1) */
  network: string
  createdAt: number
  /** Noise message 1, to recognise a retransmission */
  message: Uint8Array
  /** our cached HANDSHAKE_RESPONSE */
  response: Uint8Array
  /** XX: waiting for message 3 */
  xx: ResponderXX | null
  /** IK: keys made, waiting for the initiator's first transport packet (noise.md §4) */
  ik: { keys: SessionKeys, peer: VerifiedPeer } | null
}

export interface ResponderContext {
  identity: Identity
  tuning: SessionTuning
  table: SessionTable
  random: (n: number) => Uint8Array
  /** ephemeral-key randomness for Noise; undefined → OpenSSL keygen */
  ephemeralRandom: ((n: number) => Uint8Array) | undefined
  drop: (reason: SessionDropReason) => void
  now: number
  /**
   * session.md §3.1, crossed initiations: null when we are not dialling the IK initiator at
   * `from` (or our dial would lose); else the message 1 is not answered, and `resend` (our own
   * initiation, at most once per dial) goes back instead, or nothing
   */
  crossing?: (remoteStatic: Uint8Array, from: PeerAddress) => { resend: Uint8Array | null } | null
}

export class Responder {
  readonly #ctx: ResponderContext
  readonly #bySource = new Map<string, HalfOpen>()
  readonly #byIndex = new Map<number, HalfOpen>()
  /** half-open handshakes per source network, oldest first (Set order is insertion order) */
  readonly #byNetwork = new Map<string, Set<HalfOpen>>()
  /** session.md §6.4: the newest IK timestamp answered per initiator static key (hex), LRU-bounded */
  readonly #ikTimes = new Map<string, Uint8Array>()
  readonly #perIp: KeyedRateLimiter
  readonly #load: TokenBucket
  readonly #cookies: CookieJar
  cookieRepliesSent = 0
  /** HANDSHAKE_RESPONSEs computed (a retransmitted initiation's cached one not counted) */
  responsesSent = 0
  /** half-open handshakes dropped to make room for a newer one (session.md §6.1) */
  evicted = 0

  constructor (ctx: ResponderContext) {
    this.#ctx = ctx
    const t = ctx.tuning
    this.#perIp = new KeyedRateLimiter({ ratePerS: t.initiationsPerIpPerS, burst: t.initiationBurstPerIp, maxKeys: MAX_RATE_LIMITED_IPS })
    this.#load = new TokenBucket({ ratePerS: t.underLoadInitiationsPerS, burst: t.underLoadInitiationBurst }, ctx.now)
    this.#cookies = new CookieJar(ctx.random, ctx.now)
  }

  get size (): number {
    return this.#byIndex.size
  }

  /**
   * session.md §3.1, an answered initiation: have we answered, since `since`, an IK message 1 from
   * `remoteStatic` at `from` whose key confirmation (the initiator's first transport packet) is
   * still to come?
   */
  answeredIk (remoteStatic: Uint8Array, from: PeerAddress, since: number): boolean {
    for (const h of this.#byIndex.values()) {
      if (h.ik === null || h.createdAt < since || h.from.host !== from.host || h.from.port !== from.port) continue
      if (bytesEqual(h.ik.peer.identity.dhPublic, remoteStatic)) return true
    }
    return false
  }

  /** wire.md §4.4: the session manager's policy for "under load". */
  underLoad (now: number): boolean {
    return this.#byIndex.size >= this.#ctx.tuning.underLoadHalfOpen || !this.#load.peek(now)
  }

  /** Handle a HANDSHAKE_INITIATION; returns the datagram to send back to `from`, if any. */
  onInitiation (p: HandshakeInitiation, from: PeerAddress, now: number): Uint8Array | null {
    const sourceKey = `${addressKey(from)}|${p.senderIndex}`
    const dup = this.#bySource.get(sourceKey)
    if (dup !== undefined && bytesEqual(dup.message, p.message)) {
      this.#ctx.drop('duplicate') // wire.md §6.3: resend the cached response, no Noise
      return dup.response
    }
    if (this.underLoad(now) && !this.#cookieOk(p, from, now)) {
      this.cookieRepliesSent++ // no Noise, no state (wire.md §4.4)
      return encodeCookieReply({ receiverIndex: p.senderIndex, cookie: this.#cookies.make(from.host, from.port, p.senderIndex, now) })
    }
    const network = networkKeyOf(from.host) ?? from.host
    if (!this.#perIp.take(from.host, now) || !this.#makeRoom(network, dup)) {
      this.#ctx.drop('rate-limited')
      return null
    }
    this.#load.take(now)
    return this.#respond(p, from, sourceKey, network, now, dup)
  }

  /**
   * session.md §6.1: a source network at its cap gives up its own oldest half-open handshake; a
   * full table gives up the oldest of the network holding the most — never the only one of a
   * network, so a flood from many networks cannot starve a lone source. False: no room.
   */
  #makeRoom (network: string, dup: HalfOpen | undefined): boolean {
    const { maxHalfOpenPerNetwork, maxHalfOpen } = this.#ctx.tuning
    if (dup !== undefined) return true // replaces its own entry
    const own = this.#byNetwork.get(network)
    if (own !== undefined && own.size >= maxHalfOpenPerNetwork) return this.#evictOldest(own)
    if (this.#byIndex.size < maxHalfOpen) return true
    let largest: Set<HalfOpen> | undefined
    for (const set of this.#byNetwork.values()) if (largest === undefined || set.size > largest.size) largest = set
    if (largest === undefined || largest.size <= 1) return false
    return this.#evictOldest(largest)
  }

  #evictOldest (set: Set<HalfOpen>): boolean {
    for (const ho of set) {
      this.remove(ho)
      this.evicted++
      return true
    }
    return false
  }

  /** session.md §6.4: is `timestamp` newer than every IK message 1 answered for this static key? */
  #fresh (remoteStatic: Uint8Array, timestamp: Uint8Array): boolean {
    const last = this.#ikTimes.get(Buffer.from(remoteStatic).toString('hex'))
    return last === undefined || compareTimestamps(timestamp, last) > 0
  }

  #rememberTimestamp (peer: VerifiedPeer): void {
    if (peer.timestamp === null) return
    const key = Buffer.from(peer.identity.dhPublic).toString('hex')
    this.#ikTimes.delete(key) // re-insert: Map order is then least recently answered first
    this.#ikTimes.set(key, peer.timestamp)
    if (this.#ikTimes.size > MAX_IK_TIMESTAMP_KEYS) this.#ikTimes.delete(this.#ikTimes.keys().next().value!)
  }

  #cookieOk (p: HandshakeInitiation, from: PeerAddress, now: number): boolean {
    return p.cookie !== null && this.#cookies.check(p.cookie, from.host, from.port, p.senderIndex, now)
  }

  #respond (p: HandshakeInitiation, from: PeerAddress, sourceKey: string, network: string, now: number, dup: HalfOpen | undefined): Uint8Array | null {
    const { table, identity, ephemeralRandom } = this.#ctx
    const localIndex = table.allocate()
    let crossed: { resend: Uint8Array | null } | null = null
    const crossing = this.#ctx.crossing
    const res = respondToInitiation({ identity, localIndex, random: ephemeralRandom }, p, (rs, ts) => this.#fresh(rs, ts), crossing === undefined ? undefined : rs => (crossed = crossing(rs, from)) !== null)
    if (!res.ok) {
      this.#ctx.drop(res.reason === 'decrypt-failed' ? 'decrypt-failed' : res.reason === 'replay' ? 'ik-replay' : res.reason === 'crossed' ? 'crossed' : 'handshake-failed')
      return (crossed as { resend: Uint8Array | null } | null)?.resend ?? null
    }
    if (dup !== undefined) this.remove(dup) // same source and index, new message 1: the peer started over
    const { response, xx, ik } = res.value
    if (ik !== null) this.#rememberTimestamp(ik.peer)
    const ho: HalfOpen = {
      localIndex, remoteIndex: p.senderIndex, from: { ...from }, sourceKey, network, createdAt: now,
      message: p.message.slice(), response, xx,
      ik: ik === null ? null : { keys: new SessionKeys({ localIndex, remoteIndex: p.senderIndex, initiator: false, createdAt: now }, ik.keys), peer: ik.peer }
    }
    this.#byIndex.set(localIndex, ho)
    this.#bySource.set(sourceKey, ho)
    const set = this.#byNetwork.get(network)
    if (set === undefined) this.#byNetwork.set(network, new Set([ho]))
    else set.add(ho)
    table.set(localIndex, { kind: 'half-open', halfOpen: ho })
    this.responsesSent++
    return response
  }

  /** The handshake left the half-open state (completed): forget it, keep its index and keys. */
  detach (ho: HalfOpen): void {
    this.#byIndex.delete(ho.localIndex)
    if (this.#bySource.get(ho.sourceKey) === ho) this.#bySource.delete(ho.sourceKey)
    const set = this.#byNetwork.get(ho.network)
    if (set?.delete(ho) === true && set.size === 0) this.#byNetwork.delete(ho.network)
  }

  /** Drop a half-open handshake: its index is freed and its secrets wiped. */
  remove (ho: HalfOpen): void {
    this.detach(ho)
    this.#ctx.table.free(ho.localIndex)
    ho.xx?.destroy()
    ho.ik?.keys.destroy()
  }

  /** wire.md §6.3: half-open entries expire after HALF_OPEN_TTL_MS. */
  expire (now: number): void {
    // Map order is insertion order, which is creation order: stop at the first live entry.
    for (const ho of this.#byIndex.values()) {
      if (now - ho.createdAt < this.#ctx.tuning.halfOpenTtlMs) break
      this.remove(ho)
    }
    this.#perIp.prune(now)
  }

  nextDeadline (): number {
    for (const ho of this.#byIndex.values()) return ho.createdAt + this.#ctx.tuning.halfOpenTtlMs
    return Infinity
  }

  /** One token from `host`'s initiation bucket (also spent on version-negotiation replies). */
  allow (host: string, now: number): boolean {
    return this.#perIp.take(host, now)
  }

  clear (): void {
    for (const ho of [...this.#byIndex.values()]) this.remove(ho)
  }
}

function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  // not secret (message 1 is on the wire), so a plain comparison is fine
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
