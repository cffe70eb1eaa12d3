// An in-memory datagram network for simulations: endpoints are plain string addresses, datagrams
// are Uint8Arrays, and every directed link (from → to) applies latency, jitter, loss, duplication,
// reordering and, optionally, a bottleneck with a drop-tail queue. All randomness comes from one
// seeded RNG and all time from a SimClock, so a run with a fixed seed replays exactly.

import { SimClock, type RunLimits } from './clock.js'
import { createRng, type Rng } from './rng.js'
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
}

interface LinkState { opts: LinkOptions, busyUntil: number, lastArrival: number }

const DEFAULT_REORDER_DELAY_MS = 20

export class SimNetwork {
  readonly clock: SimClock
  readonly rng: Rng
  readonly stats: SimNetworkStats = {
    sent: 0, delivered: 0, bytesDelivered: 0, lost: 0, queueDrops: 0, duplicated: 0, reordered: 0, unroutable: 0
  }

  #defaults: LinkOptions
  #links = new Map<string, LinkState>()
  #endpoints = new Map<string, SimEndpoint>()

  constructor (opts: SimNetworkOptions) {
    const { seed, startMs = 0, ...defaults } = opts
    this.clock = new SimClock(startMs)
    this.rng = createRng(seed)
    this.#defaults = defaults
  }

  get now (): number { return this.clock.now }

  /** Attach an endpoint at `address` (throws if taken: that is local misuse). */
  bind (address: string, onDatagram: DatagramHandler | null = null): SimEndpoint {
    if (this.#endpoints.has(address)) throw errors.BAD_ARGUMENT(`sim address already bound: ${address}`)
    const ep: SimEndpoint = {
      address,
      onDatagram,
      send: (to, data) => this.#send(address, to, data),
      close: () => { if (this.#endpoints.get(address) === ep) this.#endpoints.delete(address) }
    }
    this.#endpoints.set(address, ep)
    return ep
  }

  /** Override the impairments of one directed link; unspecified fields keep the network defaults. */
  setLink (from: string, to: string, opts: LinkOptions): void {
    const link = this.#link(from, to)
    link.opts = { ...this.#defaults, ...opts }
  }

  run (limits?: RunLimits): number { return this.clock.run(limits) }
  advance (ms: number, maxEvents?: number): number { return this.clock.advance(ms, maxEvents) }

  #link (from: string, to: string): LinkState {
    const key = `${from}\u0000${to}`
    let link = this.#links.get(key)
    if (!link) {
      link = { opts: this.#defaults, busyUntil: 0, lastArrival: 0 }
      this.#links.set(key, link)
    }
    return link
  }

  #send (from: string, to: string, data: Uint8Array): void {
    this.stats.sent++
    const link = this.#link(from, to)
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
      this.clock.schedule(this.#arrival(link, departAt), () => this.#deliver(from, to, copy))
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

  #deliver (from: string, to: string, data: Uint8Array): void {
    const ep = this.#endpoints.get(to)
    if (!ep?.onDatagram) {
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
