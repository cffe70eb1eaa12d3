// A testnet of whole nodes in one process: n complete nodes (store, endpoint, DHT, messaging) on
// the seeded simulated network (simulated clock: minutes of protocol time in moments, the same
// trace for the same seed) or on real loopback UDP. The first node is everyone's DHT bootstrap.
// Library API, so tests of messaging behaviour (and benchmarks) need no daemon processes.
//
//   const net = await createNodes(10, { network: 'sim', seed: 1 })
//   await net.befriend(net.nodes[0], net.nodes[1])
//   await net.nodes[0].actions.send(fp1, 'hi')
//   await net.until(() => …)          // runs simulated time (sim) or waits for it (udp)
//   await net.destroy()
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { homePaths } from '../config/home.js'
import { generateIdentity, type Identity } from '../crypto/identity.js'
import { encodeInvite } from '../crypto/invite.js'
import { addContact } from '../app/contacts.js'
import { contactJson } from '../app/contact-json.js'
import { errors } from '../errors.js'
import { realWorld, type World } from '../io/world.js'
import { memoryStorage, diskStorage, type Storage } from '../io/storage.js'
import { createSimNetwork, type SimNetwork, type LinkOptions } from '../sim/network.js'
import { createRng } from '../sim/rng.js'
import { simRandom, simScheduler, simSockets } from '../sim/io.js'
import { openStore } from '../store/index.js'
import type { DhtNodeOptions } from '../dht/node.js'
import type { DaemonEvent } from '../runtime/events.js'
import { Node } from './node.js'

/** Simulated wall clock at time 0 (2026-01-01): message timestamps look real. */
export const SIM_WALL_BASE_MS = Date.UTC(2026, 0, 1)

export interface TestnetOptions {
  network: 'sim' | 'udp'
  /** the simulator's seed (default 1); printed by tests so a run can be replayed */
  seed?: number
  /** impairments of every simulated link (default 10 ms one way) */
  link?: LinkOptions
  /** false: no DHT at all; else settings over the defaults */
  dht?: Partial<DhtNodeOptions> | false
  log?: Logger
  /** node i's IP (default: its own /24 on the simulator, 127.0.0.1 on UDP; any 127.0.0.0/8 address is loopback) */
  host?: (i: number) => string
}

export interface TestNode extends Node {
  readonly index: number
  readonly identity: Identity
  readonly invite: string
  /** every event the node emitted, in order (messages, receipts, presence, requests, contacts) */
  readonly seen: DaemonEvent[]
}

interface Slot { index: number, identity: Identity, storeKey: Uint8Array, home: string, world: World, host: string, port: number }

export class Testnet {
  readonly nodes: TestNode[] = []
  /** the simulated network, when network is 'sim' */
  readonly sim: SimNetwork | null
  /** every event of every node, as "simMs node type" lines: the trace two runs of one seed share */
  readonly trace: string[] = []
  readonly #slots: Slot[] = []
  readonly #storage: Storage
  #tmp: string | null = null

  constructor (readonly opts: TestnetOptions) {
    this.sim = opts.network === 'sim' ? createSimNetwork({ seed: opts.seed ?? 1, latencyMs: { base: 10 }, ...opts.link }) : null
    this.#storage = this.sim !== null ? memoryStorage() : diskStorage
  }

  async init (n: number): Promise<void> {
    if (this.sim === null) this.#tmp = await mkdtemp(join(tmpdir(), 'dmess-testnet-'))
    const rng = createRng(this.opts.seed ?? 1)
    for (let i = 0; i < n; i++) {
      const host = this.opts.host?.(i) ?? (this.sim === null ? '127.0.0.1' : `10.${1 + (i >> 8)}.${i & 255}.1`) // a /24 each: the DHT's subnet caps hold
      const world: World = this.sim === null
        ? realWorld()
        : { scheduler: simScheduler(this.sim.clock, SIM_WALL_BASE_MS), random: simRandom(rng.fork()), sockets: simSockets(this.sim, host), storage: this.#storage }
      this.#slots.push({ index: i, identity: generateIdentity(), storeKey: world.random.bytes(32), home: join(this.#tmp ?? '/sim', `node-${i}`), world, host, port: 0 })
    }
    for (const slot of this.#slots) this.nodes.push(await this.#start(slot))
  }

  /** The node stopped cleanly (its store closed); restart(i) brings it back with what it stored. */
  async stop (i: number): Promise<void> {
    await this.nodes[i]!.stop()
  }

  /** Starts node i again on the same identity, store and port. */
  async restart (i: number): Promise<TestNode> {
    const node = await this.#start(this.#slots[i]!)
    this.nodes[i] = node
    return node
  }

  /** a adds b from b's invite (as `dmess contacts add` does); b sees a request until it adds a too. */
  async addContact (a: TestNode, b: TestNode, name = `node-${b.index}`): Promise<void> {
    const r = await addContact(a.store, b.invite, { name, self: a.fingerprint, now: a.opts.world.scheduler.wallNow() })
    a.events.emit({ type: 'contact', action: r.created ? 'added' : 'updated', contact: contactJson(r.contact) })
  }

  /** Both add each other. */
  async befriend (a: TestNode, b: TestNode): Promise<void> {
    await this.addContact(a, b)
    await this.addContact(b, a)
  }

  /**
   * Resolves once `done()` holds. On the simulator, runs simulated time event by event, letting
   * the store's promise chains settle between events, up to `maxMs` of simulated time; on UDP,
   * checks every 10 ms for up to `maxMs` of real time. Throws when the limit passes first.
   */
  async until (done: () => boolean, maxMs = 60_000, what = 'the condition'): Promise<void> {
    const sim = this.sim
    if (sim === null) {
      const end = Date.now() + maxMs
      while (!done()) {
        if (Date.now() > end) throw errors.WAIT_TIMEOUT(`testnet: ${what} did not hold within ${maxMs} ms`)
        await new Promise(resolve => setTimeout(resolve, 10))
      }
      return
    }
    const end = sim.now + maxMs
    for (;;) {
      await settle()
      if (done()) return
      if (sim.clock.pending === 0 || sim.now > end) throw errors.WAIT_TIMEOUT(`testnet: ${what} did not hold within ${maxMs} ms of simulated time`)
      sim.clock.step()
    }
  }

  /** Runs `ms` of simulated time (sim), or waits it out (udp). */
  async advance (ms: number): Promise<void> {
    const sim = this.sim
    if (sim === null) { await new Promise(resolve => setTimeout(resolve, ms)); return }
    const end = sim.now + ms
    await this.until(() => sim.now >= end || sim.clock.pending === 0, ms + 1, `${ms} ms passing`).catch(() => {})
  }

  async destroy (): Promise<void> {
    for (const n of this.nodes) await n.stop()
    if (this.#tmp !== null) await rm(this.#tmp, { recursive: true, force: true })
  }

  async #start (slot: Slot): Promise<TestNode> {
    const bootstrap = slot.index === 0 ? [] : [this.nodes[0]?.address ?? { host: this.#slots[0]!.host, port: this.#slots[0]!.port }]
    const key = slot.storeKey.slice() // the store wipes what it is given
    const node = new Node({
      world: slot.world,
      identity: slot.identity,
      paths: homePaths(slot.home),
      openStore: async () => await openStore(homePaths(slot.home).db, key, { storage: slot.world.storage, now: () => slot.world.scheduler.wallNow() }),
      host: slot.host,
      port: slot.port,
      mdns: false,
      peers: [],
      bootstrap,
      dht: this.opts.dht,
      log: this.opts.log ?? pino({ level: 'silent' })
    }) as TestNode
    const seen: DaemonEvent[] = []
    Object.assign(node, { index: slot.index, identity: slot.identity, invite: encodeInvite(slot.identity), seen })
    node.events.on(ev => {
      seen.push(ev)
      this.trace.push(`${this.sim?.now ?? '-'} ${slot.index} ${ev.type}${typeof ev.action === 'string' ? ':' + ev.action : ''}`)
    })
    await node.start()
    slot.port = node.address.port
    return node
  }
}

/** One macrotask turn: every promise chain of in-memory storage completes before it. */
async function settle (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

/** Starts n whole nodes; see Testnet. */
export async function createNodes (n: number, opts: TestnetOptions): Promise<Testnet> {
  const net = new Testnet(opts)
  try {
    await net.init(n)
  } catch (err) {
    await net.destroy()
    throw err
  }
  return net
}
