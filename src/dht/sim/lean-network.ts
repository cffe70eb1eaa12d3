// A lean datagram network for DHT simulations with 10^4–10^5 nodes, on src/sim's SimClock and Rng.
// src/sim's SimNetwork keeps state per directed link (a Map entry per pair that ever talked),
// which for a DHT grows with nodes × contacts and passes V8's Map limit (2^24 entries) near 10^5
// nodes; it also draws delays per datagram. Here the RTT of a pair is a pure function of the seed
// and the two endpoints, so a pair keeps its RTT for the whole run without any per-pair state.
// Endpoints have the same shape as SimNetwork's, so the DHT harness runs over either.
import { SimClock, type RunLimits } from '../../sim/clock.js'
import { createRng, type Rng } from '../../sim/rng.js'
import type { SimEndpoint, DatagramHandler } from '../../sim/network.js'
import { pairRttMs, type RttModel, DEFAULT_RTT_MODEL } from './latency.js'
import { errors } from '../../errors.js'

export interface DhtSimNetworkOptions {
  seed: number
  startMs?: number
  rtt?: RttModel
  /** Uniform extra one-way delay in [0, jitterMs) per datagram. */
  jitterMs?: number
  /** Independent loss probability per datagram. */
  loss?: number
}

export interface DhtSimNetworkStats { sent: number, delivered: number, lost: number, unroutable: number, bytes: number }

interface Slot { ep: SimEndpoint, index: number }

/** What the DHT harness needs from a simulated network (SimNetwork has it too). */
export interface SimDatagramNetwork {
  readonly clock: SimClock
  bind: (address: string, onDatagram?: DatagramHandler | null) => SimEndpoint
}

export class DhtSimNetwork implements SimDatagramNetwork {
  readonly clock: SimClock
  readonly rng: Rng
  readonly stats: DhtSimNetworkStats = { sent: 0, delivered: 0, lost: 0, unroutable: 0, bytes: 0 }
  readonly #seed: number
  readonly #rtt: RttModel
  readonly #jitterMs: number
  readonly #loss: number
  readonly #slots = new Map<string, Slot>()
  readonly #indexOf = new Map<string, number>()

  constructor (opts: DhtSimNetworkOptions) {
    this.clock = new SimClock(opts.startMs ?? 0)
    this.rng = createRng(opts.seed)
    this.#seed = opts.seed >>> 0
    this.#rtt = opts.rtt ?? DEFAULT_RTT_MODEL
    this.#jitterMs = opts.jitterMs ?? 2
    this.#loss = opts.loss ?? 0
  }

  get now (): number { return this.clock.now }
  run (limits?: RunLimits): number { return this.clock.run(limits) }
  advance (ms: number, maxEvents?: number): number { return this.clock.advance(ms, maxEvents) }

  bind (address: string, onDatagram: DatagramHandler | null = null): SimEndpoint {
    if (this.#slots.has(address)) throw errors.BAD_ARGUMENT(`sim address already bound: ${address}`)
    // An address keeps its index (and so its RTTs) if it is bound again later.
    let index = this.#indexOf.get(address)
    if (index === undefined) {
      index = this.#indexOf.size
      this.#indexOf.set(address, index)
    }
    const slot: Slot = { ep: null as unknown as SimEndpoint, index }
    slot.ep = {
      address,
      onDatagram,
      send: (to, data) => this.#send(slot, to, data),
      close: () => { if (this.#slots.get(address) === slot) this.#slots.delete(address) }
    }
    this.#slots.set(address, slot)
    return slot.ep
  }

  /** The fixed round-trip time between two bound (or once bound) addresses. */
  rttMs (a: string, b: string): number {
    return pairRttMs(this.#seed, this.#indexOf.get(a) ?? 0, this.#indexOf.get(b) ?? 0, this.#rtt)
  }

  #send (from: Slot, to: string, data: Uint8Array): void {
    this.stats.sent++
    if (this.#loss > 0 && this.rng.chance(this.#loss)) {
      this.stats.lost++
      return
    }
    const toIndex = this.#indexOf.get(to)
    const rtt = toIndex === undefined ? 0 : pairRttMs(this.#seed, from.index, toIndex, this.#rtt)
    const delay = rtt / 2 + (this.#jitterMs > 0 ? this.rng.float() * this.#jitterMs : 0)
    const src = from.ep.address
    this.clock.after(delay, () => this.#deliver(src, to, data))
  }

  #deliver (from: string, to: string, data: Uint8Array): void {
    const slot = this.#slots.get(to)
    if (!slot?.ep.onDatagram) {
      this.stats.unroutable++
      return
    }
    this.stats.delivered++
    this.stats.bytes += data.length
    slot.ep.onDatagram(data, from)
  }
}
