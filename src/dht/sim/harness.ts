// A DHT network in one process (dht.md §9): the real DhtNode over a simulated datagram network,
// with a seeded RNG and the simulated clock, so a run with the same options replays exactly.
import { ipScope, parseIp, splitHostPort } from '../../io/address.js'
import { createRng, type Rng } from '../../sim/rng.js'
import type { SimEndpoint } from '../../sim/network.js'
import { DhtNode, type DhtNodeOptions } from '../node.js'
import type { Scheduler } from '../../io/scheduler.js'
import { SimTransport, simScheduler, simRandom } from '../../sim/io.js'
import type { SimDatagramNetwork } from './lean-network.js'
import { cachedRecordVerifier } from '../records.js'
import { errors } from '../../errors.js'

export interface SimNode {
  readonly index: number
  readonly addr: string
  readonly node: DhtNode
  readonly endpoint: SimEndpoint
  alive: boolean
}

/** A node's socket at `addr` on the simulated network, and the endpoint under it (to close it). */
export function bindTransport (net: SimDatagramNetwork, addr: string): { transport: SimTransport, endpoint: SimEndpoint } {
  let endpoint: SimEndpoint | null = null
  const transport = new SimTransport((a, h) => (endpoint = net.bind(a, h)), simHostPort(addr))
  return { transport, endpoint: endpoint! }
}

/** A simulated node's "ip:port" as a socket address (every harness address has a port). */
function simHostPort (addr: string): { host: string, port: number } {
  const a = splitHostPort(addr)
  if (a === null) throw errors.BAD_ARGUMENT(`sim: "${addr}" is no host:port`)
  return a
}

/**
 * A random public IPv4 address and port; distinct IPs so /24 caps rarely bind. Public only: nodes
 * refuse loopback and private contacts from public peers (dht.md §8.1).
 */
export function randomAddress (rng: Rng, taken: Set<string>): string {
  for (;;) {
    const ip = `${1 + rng.int(222)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`
    if (taken.has(ip) || ipScope(parseIp(ip)!) !== 'public') continue
    taken.add(ip)
    return `${ip}:${1024 + rng.int(64_000)}`
  }
}

export interface SimDhtOptions {
  net: SimDatagramNetwork
  seed: number
  /** Node settings for every node (transport, scheduler, key and random are filled in). */
  node?: Omit<Partial<DhtNodeOptions>, 'publicKey' | 'transport' | 'scheduler' | 'random'>
}

/** A population of DHT nodes on one simulated network. */
export class SimDht {
  readonly net: SimDatagramNetwork
  readonly nodes: SimNode[] = []
  readonly rng: Rng
  readonly #keys: Rng
  readonly #scheduler: Scheduler
  readonly #taken = new Set<string>()
  readonly #opts: SimDhtOptions['node']

  constructor (opts: SimDhtOptions) {
    this.net = opts.net
    this.rng = createRng(opts.seed)
    this.#keys = this.rng.fork()
    this.#scheduler = simScheduler(opts.net.clock)
    // One verification cache for the whole population: the simulator measures the protocol, not
    // CPU, and a record is verified the same way at every node (dht.md §5.3).
    this.#opts = { verifyRecord: cachedRecordVerifier(65_536), ...opts.node }
  }

  /** Creates (but does not start) a node at a fresh random address. */
  add (): SimNode {
    const addr = randomAddress(this.rng, this.#taken)
    const { transport, endpoint } = bindTransport(this.net, addr)
    const rng = this.#keys.fork()
    const node = new DhtNode({
      ...this.#opts,
      // A DHT public key is only hashed into the node id (dht.md §1): seeded bytes keep runs reproducible.
      publicKey: this.#keys.bytes(32),
      transport,
      scheduler: this.#scheduler,
      random: simRandom(rng)
    })
    const s: SimNode = { index: this.nodes.length, addr, node, endpoint, alive: true }
    this.nodes.push(s)
    return s
  }

  /** The node fails silently: no goodbye, nobody's routing table is told (churn). */
  kill (s: SimNode): void {
    if (!s.alive) return
    s.alive = false
    s.node.stop()
    s.endpoint.close()
  }

  /**
   * A killed node's process starts again (churn): a new DHT key, so a new id (as a daemon draws
   * one at every start), at the same address (a fixed port) or a fresh one (port 0). The new node
   * takes the old one's place in `nodes`; it is started but has not joined.
   */
  respawn (s: SimNode, sameAddress: boolean): SimNode {
    this.kill(s)
    const addr = sameAddress ? s.addr : randomAddress(this.rng, this.#taken)
    const { transport, endpoint } = bindTransport(this.net, addr)
    const node = new DhtNode({ ...this.#opts, publicKey: this.#keys.bytes(32), transport, scheduler: this.#scheduler, random: simRandom(this.#keys.fork()) })
    const next: SimNode = { index: s.index, addr, node, endpoint, alive: true }
    this.nodes[s.index] = next
    node.start()
    return next
  }

  alive (): SimNode[] {
    return this.nodes.filter(s => s.alive)
  }

  /**
   * Grows the network to `count` nodes: `bootstrapCount` seed nodes first, then one join every
   * `intervalMs` through two random seed nodes (as real nodes use a bootstrap list). Runs the clock
   * until every join finished.
   */
  grow (count: number, opts: { bootstrapCount?: number, intervalMs?: number } = {}): { joined: number, simMs: number } {
    const seeds = Math.max(1, Math.min(opts.bootstrapCount ?? 4, count))
    const interval = opts.intervalMs ?? 10
    const clock = this.net.clock
    const start = clock.now
    let pending = 0
    let joined = 0
    const first = this.add()
    first.node.start()
    const seedAddrs = [first.addr]
    for (let i = 1; i < count; i++) {
      const at = start + i * interval
      pending++
      clock.schedule(at, () => {
        const s = this.add()
        s.node.start()
        const via = i < seeds ? seedAddrs.slice() : this.#pick(seedAddrs, 2)
        if (i < seeds) seedAddrs.push(s.addr)
        s.node.join(via, (r) => { pending--; if (r.contacts > 0) joined++ })
      })
    }
    clock.run({ done: () => pending === 0 && clock.now >= start + (count - 1) * interval })
    return { joined: joined + 1, simMs: clock.now - start }
  }

  /** Runs the clock for `ms` of simulated time. */
  settle (ms: number): void {
    this.net.clock.advance(ms)
  }

  #pick (from: string[], n: number): string[] {
    const out = new Set<string>()
    while (out.size < Math.min(n, from.length)) out.add(from[this.rng.int(from.length)]!)
    return [...out]
  }
}
