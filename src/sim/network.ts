// An in-memory datagram network for simulations: endpoints are plain string addresses, datagrams
// are Uint8Arrays, and every directed link (from → to) applies latency, jitter, loss, duplication,
// reordering and, optionally, a bottleneck with a drop-tail queue. All randomness comes from one
// seeded RNG and all time from a SimClock, so a run with a fixed seed replays exactly.
// Endpoints bind in the public realm unless they name a NAT (nat.ts): behind one, a packet is
// translated on its way out and in, and may be dropped by the NAT (RFC 4787; see nat.ts).

import { SimClock, type RunLimits } from './clock.js'
import { createRng, type Rng } from './rng.js'
import { SimNat, type NatOptions } from './nat.js'
import { Realm } from './realm.js'
import { hostOf, portOf } from '../io/address.js'
import { errors } from '../errors.js'

/** One-way delay: a base plus uniform jitter in [0, jitter), or any function of the RNG. */
export type LatencyModel = { base: number, jitter?: number } | ((rng: Rng) => number)

export interface LinkOptions {
  latencyMs?: LatencyModel
  /** Probability a datagram is lost. */
  loss?: number
  /** Probability a datagram is delivered twice (each copy with its own delay). */
  duplicate?: number
  /** Probability a datagram is held back by an extra uniform [0, reorderDelayMs) delay, letting
   *  later ones overtake it. Otherwise a link delivers in order, whatever the jitter. */
  reorder?: number
  reorderDelayMs?: number
  /** Bottleneck rate in bits per second; undefined = unlimited. */
  bandwidthBps?: number
  /** Bytes that may wait for the bottleneck before new datagrams are dropped (drop-tail). */
  queueBytes?: number
  /** Datagrams larger than this are dropped, as on a path with this MTU. */
  mtu?: number
  /** A link that is down drops everything. */
  down?: boolean
}

export interface SimNetworkOptions extends LinkOptions {
  seed: number
  startMs?: number
}

export type DatagramHandler = (data: Uint8Array, from: string) => void

export interface SimEndpoint {
  readonly address: string
  onDatagram: DatagramHandler | null
  send (to: string, data: Uint8Array): void
  close (): void
}

export interface SimNetworkStats {
  sent: number
  delivered: number
  bytesDelivered: number
  lost: number
  queueDrops: number
  duplicated: number
  reordered: number
  unroutable: number
  /** Dropped by a NAT on the way (each NAT's own stats say why). */
  natDropped: number
}

export interface BindOptions {
  /** Bind inside this NAT's realm (the address is then a private "ip:port"); default public. */
  realm?: SimNat
}

interface LinkState { opts: LinkOptions, busyUntil: number, lastArrival: number }

const DEFAULT_REORDER_DELAY_MS = 20

export class SimNetwork {
  readonly clock: SimClock
  readonly rng: Rng
  readonly stats: SimNetworkStats = {
    sent: 0, delivered: 0, bytesDelivered: 0, lost: 0, queueDrops: 0, duplicated: 0, reordered: 0, unroutable: 0, natDropped: 0
  }

  /** Sees every datagram as it is sent (before loss or a NAT): a test's packet trace. */
  onSend: ((from: string, to: string, data: Uint8Array) => void) | null = null

  #defaults: LinkOptions
  #links = new Map<string, Map<string, LinkState>>()
  #public = new Realm('', null)
  #nats = new Set<SimNat>()

  constructor (opts: SimNetworkOptions) {
    const { seed, startMs = 0, ...defaults } = opts
    this.clock = new SimClock(startMs)
    this.rng = createRng(seed)
    this.#defaults = defaults
  }

  get now (): number { return this.clock.now }

  /** Attach an endpoint at `address`, in the public realm or behind `opts.realm` (throws if taken:
   *  that is local misuse). */
  bind (address: string, onDatagram: DatagramHandler | null = null, opts: BindOptions = {}): SimEndpoint {
    const realm = this.#realmOf(opts.realm)
    if (realm.endpoints.has(address)) throw errors.BAD_ARGUMENT(`sim address already bound: ${address}`)
    if (realm.natsByIp.has(hostOf(address))) throw errors.BAD_ARGUMENT(`sim address ${address} is a NAT's external IP`)
    if (realm.gateway !== null && portOf(address) === null) throw errors.BAD_ARGUMENT(`behind a NAT, bind "ip:port", not ${address}`)
    const ep: SimEndpoint = {
      address,
      onDatagram,
      send: (to, data) => this.#send(realm, address, to, data),
      close: () => { if (realm.endpoints.get(address) === ep) realm.endpoints.delete(address) }
    }
    realm.endpoints.set(address, ep)
    return ep
  }

  /** A NAT with external IPs in the public realm, or in `opts.realm` (a NAT behind a NAT). */
  createNat (opts: NatOptions): SimNat {
    const outer = this.#realmOf(opts.realm)
    const ips = opts.externalIps
    if (ips.length === 0 || new Set(ips).size !== ips.length) throw errors.BAD_ARGUMENT('a NAT needs distinct external IPs')
    for (const ip of ips) {
      const taken = outer.natsByIp.has(ip) || [...outer.endpoints.keys()].some(a => hostOf(a) === ip)
      if (taken || ip.includes(':') || ip === '') throw errors.BAD_ARGUMENT(`NAT external IP ${ip} is invalid or already in use`)
    }
    const nat = new SimNat(this, `nat${this.#nats.size + 1}`, outer, opts, this.rng.fork())
    for (const ip of ips) outer.natsByIp.set(ip, nat)
    this.#nats.add(nat)
    return nat
  }

  /** Override the impairments of one directed link (between addresses in `realm`, default the
   *  public one); unspecified fields keep the network defaults. */
  setLink (from: string, to: string, opts: LinkOptions, realm?: SimNat): void {
    const link = this.#link(this.#realmOf(realm), from, to)
    link.opts = { ...this.#defaults, ...opts }
  }

  run (limits?: RunLimits): number { return this.clock.run(limits) }
  advance (ms: number, maxEvents?: number): number { return this.clock.advance(ms, maxEvents) }

  #realmOf (nat: SimNat | undefined): Realm {
    if (nat === undefined) return this.#public
    if (!this.#nats.has(nat)) throw errors.BAD_ARGUMENT(`NAT ${nat.id} belongs to another network`)
    return nat.inner
  }

  // By sender, then by receiver: no key string built per datagram (a public-realm sender's
  // address is its key as it is).
  #link (realm: Realm, from: string, to: string): LinkState {
    const fromKey = realm.gateway === null ? from : `${realm.id}\u0000${from}`
    let out = this.#links.get(fromKey)
    if (out === undefined) {
      out = new Map()
      this.#links.set(fromKey, out)
    }
    let link = out.get(to)
    if (!link) {
      link = { opts: this.#defaults, busyUntil: 0, lastArrival: 0 }
      out.set(to, link)
    }
    return link
  }

  #send (realm: Realm, from: string, to: string, data: Uint8Array): void {
    this.stats.sent++
    this.onSend?.(from, to, data)
    const out = this.#routeOut(realm, from, to)
    if (out === null) {
      this.stats.natDropped++
      return
    }
    const link = this.#link(out.realm, out.from, to)
    const o = link.opts
    if (o.down || (o.mtu !== undefined && data.length > o.mtu) || this.rng.chance(o.loss ?? 0)) {
      this.stats.lost++
      return
    }
    const departAt = this.#serialize(link, data.length)
    if (departAt === null) {
      this.stats.queueDrops++
      return
    }
    const copies = this.rng.chance(o.duplicate ?? 0) ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    for (let i = 0; i < copies; i++) {
      const copy = data.slice()
      this.clock.schedule(this.#arrival(link, departAt), () => this.#deliver(out.realm, out.from, to, copy))
    }
  }

  // Bottleneck: datagrams leave one after another at the link rate; if the backlog already
  // holds queueBytes, the new datagram is dropped (drop-tail).
  #serialize (link: LinkState, bytes: number): number | null {
    const bps = link.opts.bandwidthBps
    const now = this.clock.now
    if (bps === undefined) return now
    const start = Math.max(now, link.busyUntil)
    const backlogBytes = (start - now) * bps / 8000
    if (backlogBytes + bytes > (link.opts.queueBytes ?? Infinity)) return null
    link.busyUntil = start + bytes * 8000 / bps
    return link.busyUntil
  }

  // Jitter alone keeps a link FIFO (a queue delays, it does not overtake); only datagrams picked
  // for reordering are held back past later ones.
  #arrival (link: LinkState, departAt: number): number {
    const o = link.opts
    const at = departAt + this.#latency(o)
    if (this.rng.chance(o.reorder ?? 0)) {
      this.stats.reordered++
      return at + this.rng.range(0, o.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS)
    }
    link.lastArrival = Math.max(link.lastArrival, at)
    return link.lastArrival
  }

  #latency (o: LinkOptions): number {
    const m = o.latencyMs
    if (m === undefined) return 0
    const ms = typeof m === 'function' ? m(this.rng) : m.base + this.rng.range(0, m.jitter ?? 0)
    return Math.max(0, ms)
  }

  // Up through NATs (translated as it is sent) until a realm holds `to`; the public realm is the
  // last, and whether it holds `to` is seen on arrival, as before NATs existed.
  #routeOut (realm: Realm, from: string, to: string): { realm: Realm, from: string } | null {
    let r = realm
    let src = from
    while (r.gateway !== null && !r.holds(to)) {
      const translated = r.gateway.translateOut(src, to)
      if (translated === null) return null
      src = translated
      r = r.gateway.outer
    }
    return { realm: r, from: src }
  }

  // On arrival: down through the NATs whose external address `to` is, to an endpoint; null (and
  // counted) when there is none. Each step goes one realm deeper in a tree, so this ends.
  #routeIn (realm: Realm, from: string, to: string): SimEndpoint | null {
    let r = realm
    let dst = to
    for (;;) {
      const ep = r.endpoints.get(dst)
      if (ep !== undefined) return ep
      const nat = r.natsByIp.get(hostOf(dst))
      if (nat === undefined) {
        this.stats.unroutable++
        return null
      }
      const internal = nat.translateIn(from, dst)
      if (internal === null) {
        this.stats.natDropped++
        return null
      }
      r = nat.inner
      dst = internal
    }
  }

  #deliver (realm: Realm, from: string, to: string, data: Uint8Array): void {
    const ep = this.#routeIn(realm, from, to)
    if (ep === null) return
    if (ep.onDatagram === null) {
      this.stats.unroutable++
      return
    }
    this.stats.delivered++
    this.stats.bytesDelivered += data.length
    ep.onDatagram(data, from)
  }
}

export function createSimNetwork (opts: SimNetworkOptions): SimNetwork {
  return new SimNetwork(opts)
}
