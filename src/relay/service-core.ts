// The relay's state machine (proto-spec/relay.md §3–§6), with no I/O: datagrams and `now` in,
// datagrams to send out. The adapter (service.ts) opens the two ports of an allocation and carries
// the sends out; everything that decides who may use the relay is here.
//
//   ALLOCATE  → cookie check (return routability) → caps → reservation → ports → ALLOCATE_OK
//   BIND on a port → proof (knows the bind key) → cookie (owns its source) → bound
//   data on a port → from the bound source, other side bound, within rate → out of the other port
import { CookieJar } from '../wire/cookie.js'
import { classifyDatagram } from '../wire/packet.js'
import { constantTimeEqual } from '../crypto/primitives.js'
import { addressKey, networkKeyOf, sameAddress, type PeerAddress } from '../io/address.js'
import { KeyedRateLimiter, TokenBucket } from '../transport/rate-limit.js'
import { decodeRelayMessage, encodeRelayMessage, isRelayControl } from './codec.js'
import { bindProof, releaseProof } from './keys.js'
import {
  RelayType, RefuseReason, BoundState, ALLOCATION_ID_BYTES, RELAY_DEFAULTS, CHALLENGE_LIMIT, type RelayLimits
} from './constants.js'

/** Why the relay did not forward or answer something; every one is counted (relay.md §5). */
export const RELAY_DROP_REASONS = [
  'malformed', 'unexpected', 'no-allocation', 'bad-proof', 'unbound-source', 'peer-unbound',
  'not-dmess', 'rate-allocation', 'rate-total', 'refused-network', 'refused-total', 'rate-challenge'
] as const
export type RelayDropReason = typeof RELAY_DROP_REASONS[number]

export interface RelaySend { fromPort: number | null, to: PeerAddress, bytes: Uint8Array }

/** What ALLOCATE asked for, held while the adapter opens the two ports. */
export interface Reservation {
  readonly id: number
  readonly from: PeerAddress
  readonly requestId: Uint8Array
  readonly bindKey: Uint8Array
  readonly network: string
}

export type ControlResult =
  | { kind: 'reply', bytes: Uint8Array }
  | { kind: 'open', reservation: Reservation }
  | { kind: 'drop' }

interface Allocation {
  readonly id: Uint8Array
  readonly key: string
  readonly bindKey: Uint8Array
  readonly network: string
  readonly ports: readonly [number, number]
  readonly bound: [PeerAddress | null, PeerAddress | null]
  readonly bucket: TokenBucket
  readonly createdAt: number
  readonly ok: Uint8Array
  readonly requestKey: string
  lastActive: number
}

export interface RelayStats {
  allocations: number
  allocationsCreated: number
  allocationsExpired: number
  allocationsReleased: number
  challengesSent: number
  binds: number
  forwardedPackets: number
  forwardedBytes: number
  dropped: Record<RelayDropReason, number>
}

export interface RelayCoreOptions {
  /** random bytes for allocation ids and cookie secrets */
  random: (n: number) => Uint8Array
  now: number
  limits?: Partial<RelayLimits>
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const u32 = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0

export class RelayCore {
  readonly limits: RelayLimits
  readonly #random: (n: number) => Uint8Array
  readonly #allocateCookies: CookieJar
  readonly #bindCookies: CookieJar
  readonly #total: TokenBucket
  /** challenges per source IP: what a spoofed flood can make us send to one victim (relay.md §6) */
  readonly #challenges = new KeyedRateLimiter(CHALLENGE_LIMIT)
  readonly #allocations = new Map<string, Allocation>()
  readonly #byPort = new Map<number, { a: Allocation, side: 0 | 1 }>()
  readonly #byRequest = new Map<string, Allocation>()
  readonly #reserved = new Map<number, Reservation>()
  readonly #perNetwork = new Map<string, number>()
  #nextReservation = 1
  readonly #counts = { allocationsCreated: 0, allocationsExpired: 0, allocationsReleased: 0, challengesSent: 0, binds: 0, forwardedPackets: 0, forwardedBytes: 0 }
  readonly #dropped = Object.fromEntries(RELAY_DROP_REASONS.map(r => [r, 0])) as Record<RelayDropReason, number>

  constructor (opts: RelayCoreOptions) {
    this.limits = { ...RELAY_DEFAULTS, ...opts.limits }
    this.#random = opts.random
    this.#allocateCookies = new CookieJar(opts.random, opts.now)
    this.#bindCookies = new CookieJar(opts.random, opts.now)
    this.#total = new TokenBucket({ ratePerS: this.limits.totalBytesPerS, burst: this.limits.totalBurstBytes }, opts.now)
  }

  // ---- the relay's main port: ALLOCATE (relay.md §3.1–§3.4) ----

  onControl (bytes: Uint8Array, from: PeerAddress, now: number): ControlResult {
    const m = decodeRelayMessage(bytes)
    if (m === null) return this.#drop('malformed')
    if (m.type !== RelayType.ALLOCATE) return this.#drop('unexpected') // answers go to the client
    // return routability first: a spoofed source never gets an allocation (relay.md §6)
    const tag = u32(m.requestId)
    if (m.cookie === null || !this.#allocateCookies.check(m.cookie, from.host, from.port, tag, now)) {
      if (!this.#challenges.take(from.host, now)) return this.#drop('rate-challenge')
      this.#counts.challengesSent++
      const cookie = this.#allocateCookies.make(from.host, from.port, tag, now)
      return { kind: 'reply', bytes: encodeRelayMessage({ type: RelayType.ALLOCATE_CHALLENGE, requestId: m.requestId, cookie }) }
    }
    const again = this.#byRequest.get(requestKey(m.requestId, from))
    if (again !== undefined) return { kind: 'reply', bytes: again.ok } // our ALLOCATE_OK was lost
    for (const r of this.#reserved.values()) {
      if (requestKey(r.requestId, r.from) === requestKey(m.requestId, from)) return { kind: 'drop' } // ports still opening
    }
    const network = networkKeyOf(from.host) ?? from.host
    const refuse = (reason: RefuseReason, why: RelayDropReason): ControlResult => {
      this.#dropped[why]++
      return { kind: 'reply', bytes: encodeRelayMessage({ type: RelayType.ALLOCATE_REFUSED, requestId: m.requestId, reason }) }
    }
    if ((this.#perNetwork.get(network) ?? 0) >= this.limits.perNetwork) return refuse(RefuseReason.NETWORK_CAP, 'refused-network')
    if (this.#allocations.size + this.#reserved.size >= this.limits.total) return refuse(RefuseReason.TOTAL_CAP, 'refused-total')
    const reservation: Reservation = { id: this.#nextReservation++, from: { ...from }, requestId: m.requestId, bindKey: m.bindKey, network }
    this.#reserved.set(reservation.id, reservation)
    this.#perNetwork.set(network, (this.#perNetwork.get(network) ?? 0) + 1)
    return { kind: 'open', reservation }
  }

  /** The adapter opened two ports for `r`: the allocation exists; send the returned ALLOCATE_OK to r.from. */
  install (r: Reservation, ports: readonly [number, number], now: number): Uint8Array {
    this.#reserved.delete(r.id)
    let id = this.#random(ALLOCATION_ID_BYTES)
    while (this.#allocations.has(hex(id))) id = this.#random(ALLOCATION_ID_BYTES)
    const ok = encodeRelayMessage({
      type: RelayType.ALLOCATE_OK, requestId: r.requestId, allocationId: id, portA: ports[0], portB: ports[1],
      idleTimeoutS: Math.floor(this.limits.idleTimeoutMs / 1000)
    })
    const bucket = new TokenBucket({ ratePerS: this.limits.allocationBytesPerS, burst: this.limits.allocationBurstBytes }, now)
    const a: Allocation = {
      id, key: hex(id), bindKey: r.bindKey, network: r.network, ports, bound: [null, null], bucket, createdAt: now,
      ok, requestKey: requestKey(r.requestId, r.from), lastActive: now
    }
    this.#allocations.set(a.key, a)
    this.#byRequest.set(a.requestKey, a)
    this.#byPort.set(ports[0], { a, side: 0 })
    this.#byPort.set(ports[1], { a, side: 1 })
    this.#counts.allocationsCreated++
    return ok
  }

  /** The adapter could not open ports for `r`: free its place; send the returned refusal. */
  abandon (r: Reservation): Uint8Array {
    this.#reserved.delete(r.id)
    this.#release(r.network)
    return encodeRelayMessage({ type: RelayType.ALLOCATE_REFUSED, requestId: r.requestId, reason: RefuseReason.UNAVAILABLE })
  }

  // ---- an allocation's ports: BIND, RELEASE, data (relay.md §3.5–§3.8, §4) ----

  /**
   * A datagram arrived on one of an allocation's ports. Sends go to `out`; returns the ports
   * to close when this ended the allocation (a RELEASE), else null.
   */
  onPortDatagram (port: number, bytes: Uint8Array, from: PeerAddress, now: number, out: RelaySend[]): readonly [number, number] | null {
    const entry = this.#byPort.get(port)
    if (entry === undefined) { this.#drop('no-allocation'); return null }
    if (isRelayControl(bytes)) return this.#onPortControl(entry.a, entry.side, port, bytes, from, now, out)
    this.#forward(entry.a, entry.side, bytes, from, now, out)
    return null
  }

  #forward (a: Allocation, side: 0 | 1, bytes: Uint8Array, from: PeerAddress, now: number, out: RelaySend[]): void {
    const self = a.bound[side]
    const peer = a.bound[1 - side]
    // consent and no third address: only the bound source, only to the other bound side
    if (self === null || !sameAddress(self, from)) { this.#drop('unbound-source'); return }
    if (peer === null || peer === undefined) { this.#drop('peer-unbound'); return }
    if (classifyDatagram(bytes) !== 'dmess') { this.#drop('not-dmess'); return }
    if (!a.bucket.takeAmount(bytes.length, now)) { this.#drop('rate-allocation'); return }
    if (!this.#total.takeAmount(bytes.length, now)) { this.#drop('rate-total'); return }
    a.lastActive = now
    this.#counts.forwardedPackets++
    this.#counts.forwardedBytes += bytes.length
    out.push({ fromPort: a.ports[1 - side]!, to: peer, bytes })
  }

  #onPortControl (a: Allocation, side: 0 | 1, port: number, bytes: Uint8Array, from: PeerAddress, now: number, out: RelaySend[]): readonly [number, number] | null {
    const m = decodeRelayMessage(bytes)
    if (m === null) { this.#drop('malformed'); return null }
    if (m.type !== RelayType.BIND && m.type !== RelayType.RELEASE) { this.#drop('unexpected'); return null }
    if (!constantTimeEqual(m.allocationId, a.id)) { this.#drop('no-allocation'); return null }
    if (m.type === RelayType.RELEASE) {
      const self = a.bound[side]
      if (self === null || !sameAddress(self, from) || !constantTimeEqual(m.proof, releaseProof(a.bindKey, a.id, port))) {
        this.#drop('bad-proof')
        return null
      }
      this.#counts.allocationsReleased++
      this.#close(a)
      return a.ports
    }
    // the proof first: a stranger without the bind key gets no answer at all (relay.md §4)
    if (!constantTimeEqual(m.proof, bindProof(a.bindKey, a.id, port, m.cookie))) { this.#drop('bad-proof'); return null }
    const tag = (u32(a.id) ^ port) >>> 0
    if (m.cookie === null || !this.#bindCookies.check(m.cookie, from.host, from.port, tag, now)) {
      if (!this.#challenges.take(from.host, now)) { this.#drop('rate-challenge'); return null }
      this.#counts.challengesSent++
      const cookie = this.#bindCookies.make(from.host, from.port, tag, now)
      out.push({ fromPort: port, to: from, bytes: encodeRelayMessage({ type: RelayType.BIND_CHALLENGE, allocationId: a.id, cookie }) })
      return null
    }
    this.#bind(a, side, port, from, now, out)
    return null
  }

  #bind (a: Allocation, side: 0 | 1, port: number, from: PeerAddress, now: number, out: RelaySend[]): void {
    const before = a.bound[side]
    const moved = before === null || !sameAddress(before, from)
    a.bound[side] = { ...from }
    a.lastActive = now
    if (moved) this.#counts.binds++
    const peer = a.bound[1 - side] ?? null
    const state = peer === null ? BoundState.WAITING : BoundState.FORWARDING
    out.push({ fromPort: port, to: from, bytes: encodeRelayMessage({ type: RelayType.BOUND, allocationId: a.id, state }) })
    // the side already waiting learns at once that it can start (only its own bound address)
    if (moved && peer !== null) {
      out.push({ fromPort: a.ports[1 - side]!, to: peer, bytes: encodeRelayMessage({ type: RelayType.BOUND, allocationId: a.id, state: BoundState.FORWARDING }) })
    }
  }

  // ---- time (relay.md §5) ----

  /** The earliest time tick() has something to do. */
  get nextDeadline (): number {
    let at = Infinity
    for (const a of this.#allocations.values()) at = Math.min(at, this.#expiry(a))
    return at
  }

  /** Close allocations that were never completed or went idle; returns the ports to close. */
  tick (now: number): Array<readonly [number, number]> {
    const closed: Array<readonly [number, number]> = []
    for (const a of this.#allocations.values()) {
      if (now < this.#expiry(a)) continue
      this.#counts.allocationsExpired++
      this.#close(a)
      closed.push(a.ports)
    }
    return closed
  }

  #expiry (a: Allocation): number {
    const complete = a.bound[0] !== null && a.bound[1] !== null
    const idle = a.lastActive + this.limits.idleTimeoutMs
    return complete ? idle : Math.min(idle, a.createdAt + this.limits.bindTimeoutMs)
  }

  stats (): RelayStats {
    return { allocations: this.#allocations.size, ...this.#counts, dropped: { ...this.#dropped } }
  }

  /** The two ports of every allocation, for the adapter's shutdown. */
  ports (): Array<readonly [number, number]> {
    return [...this.#allocations.values()].map(a => a.ports)
  }

  #close (a: Allocation): void {
    this.#allocations.delete(a.key)
    this.#byRequest.delete(a.requestKey)
    this.#byPort.delete(a.ports[0])
    this.#byPort.delete(a.ports[1])
    this.#release(a.network)
    a.bindKey.fill(0)
  }

  #release (network: string): void {
    const n = (this.#perNetwork.get(network) ?? 1) - 1
    if (n <= 0) this.#perNetwork.delete(network)
    else this.#perNetwork.set(network, n)
  }

  #drop (reason: RelayDropReason): { kind: 'drop' } {
    this.#dropped[reason]++
    return { kind: 'drop' }
  }
}

function requestKey (requestId: Uint8Array, from: PeerAddress): string {
  return `${hex(requestId)}|${addressKey(from)}`
}
