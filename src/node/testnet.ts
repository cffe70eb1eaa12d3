// A testnet of whole nodes in one process: n complete nodes (store, endpoint, DHT, messaging) on
// the seeded simulated network (simulated clock: minutes of protocol time in moments, the same
// trace for the same seed) or on real loopback UDP. The first node is everyone's DHT bootstrap.
// Library API, so tests of messaging behaviour (and benchmarks) need no daemon processes: the
// package exports this module as `dmess/testnet` (package.json "exports", with its declarations,
// dist/src/node/testnet.d.ts; test/build/package-exports.test.ts imports it so).
//
//   import { createNodes, NAT_PRESETS } from 'dmess/testnet'
//   const net = await createNodes(10, { network: 'sim', seed: 1 })
//   await net.befriend(net.nodes[0], net.nodes[1])
//   await net.nodes[0].actions.send(fp1, 'hi')
//   await net.until(() => …)          // runs simulated time (sim) or waits for it (udp)
//   await net.crash(1); await net.restart(1)   // as after kill -9 (src/node/testnet-life.ts)
//   await net.destroy()
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { homePaths } from '../config/home.js'
import { generateIdentity, identityFromSecrets, IDENTITY_SECRET_NAMES, type Identity } from '../crypto/identity.js'
import { encodeInvite } from '../crypto/invite.js'
import { addContact } from '../app/contacts.js'
import { contactJson } from '../app/contact-json.js'
import { errors } from '../errors.js'
import { realWorld, type World } from '../io/world.js'
import { memoryStorage, diskStorage, type Storage } from '../io/storage.js'
import { Endpoint, type EndpointStats } from '../transport/endpoint.js'
import type { MessagingCounters } from '../messaging/context.js'
import { createSimNetwork, type SimNetwork, type LinkOptions } from '../sim/network.js'
import type { SimNat } from '../sim/nat.js'
import { createRng, type Rng } from '../sim/rng.js'
import { simRandom, simScheduler, simSockets } from '../sim/io.js'
import { openStore, type Store } from '../store/index.js'
import { prekeyFileKey } from '../pqxdh/index.js'
import type { DhtNodeOptions } from '../dht/node.js'
import { cachedRecordVerifier } from '../dht/records.js'
import type { DaemonEvent } from '../runtime/events.js'
import type { NatSettings } from './nat.js'
import { Node, type NodeFileOptions, type NodeOptions } from './node.js'
import { realFileDisk, type FileDisk } from '../files/disk.js'
import { MemoryFileDisk } from '../files/disk-memory.js'
import { Life } from './testnet-life.js'
import { seedFromInvite } from './invite-seed.js'
import type { PeerAddress } from '../io/address.js'

// What the `behind` option needs besides the SimNetwork it is handed: the RFC 4787 behaviours by
// name, so a user of the package's `dmess/testnet` entry need not reach into src/sim/.
export { NAT_PRESETS, type NatPresetName } from '../sim/nat-options.js'

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
  /** STUN on each node (proto-spec/stun.md §6); default false, so seeded traces stay as they were */
  stun?: NatSettings | false
  /** the name node i introduces itself with in contact requests (default `node-<i>`) */
  name?: (index: number) => string
  /** how far node i's wall clock is off, in ms (positive: ahead); its message timestamps carry it */
  wallSkewMs?: (index: number) => number
  log?: Logger
  /** node i's IP (default: its own /24 on the simulator, 127.0.0.1 on UDP; any 127.0.0.0/8 address is loopback) */
  host?: (i: number) => string
  /** does node i serve as a relay (proto-spec/relay.md §1)? Default: none does */
  relay?: (i: number) => boolean | 'when-public'
  /**
   * node i's port mapping (proto-spec/portmap.md): its client's gateway finder and tuning, e.g. a
   * SimPcpGateway's (src/node/sim-gateway.ts) on the router it sits behind; default none
   */
  portmap?: (i: number) => NodeOptions['portmap']
  /**
   * Simulator only: the NAT node i sits behind (create it on `sim` with sim.createNat), or null
   * for none. Give such a node a private `host` inside it (e.g. 192.168.1.2).
   */
  behind?: (i: number, sim: SimNetwork) => SimNat | null
  /** nodes keep PQXDH prekeys in their storage and hand out bundles (pqxdh.md §5, §8); default off */
  prekeys?: boolean
  /** which nodes behave as a version from before the PRESENCE frame (MessagingServiceOptions.legacyPresence) */
  legacyPresence?: (index: number) => boolean
  /** node i's file-transfer settings over the testnet's (a disk of its own, in memory on the simulator; downloads under its home) */
  files?: (i: number) => NodeFileOptions
  /** every node's peer links' send buffer in bytes (default 8 MiB): small enough for a test to fill */
  linkSendBufferBytes?: number
  /** simulator only: every datagram sent also goes into `trace`, as "simMs > from to bytes type" */
  tracePackets?: boolean
}

export interface TestNode extends Node {
  readonly index: number
  readonly identity: Identity
  readonly invite: string
  /** every event the node emitted, in order (messages, receipts, presence, requests, contacts) */
  readonly seen: DaemonEvent[]
}

interface Slot {
  index: number, name: string, identity: Identity, storeKey: Uint8Array, home: string, world: World, host: string, port: number
  /** the node's files (proto-spec/files.md): kept across a restart like its store */
  fileDisk: FileDisk
  /** the running (or crashed) instance's hold on the world */
  life: Life | null
  /** keeps prekeys, overriding the testnet's option (a node restarted as an upgraded version) */
  prekeys?: boolean
}

/** A bare endpoint on the testnet's network: no store, no messaging (a hand-driven or hostile peer). */
export interface Stranger { identity: Identity, endpoint: Endpoint, world: World }

/** A running node's counters: its endpoint's, its messaging's and its store's writes. */
export interface NodeCounts { endpoint: EndpointStats, messaging: MessagingCounters, store: Store['writeCounts'] }

export function nodeCounts (n: TestNode): NodeCounts {
  return { endpoint: n.udp.endpoint.stats(), messaging: structuredClone(n.messaging.ctx.counters), store: n.store.writeCounts }
}

export class Testnet {
  readonly nodes: TestNode[] = []
  /** the counters of every instance stopped or crashed, as they stood then (workCounts in testnet-scenario.ts) */
  readonly retired = new Map<TestNode, NodeCounts>()
  /** the simulated network, when network is 'sim' */
  readonly sim: SimNetwork | null
  /** every event of every node, as "simMs node type" lines (and every datagram, with tracePackets): the trace two runs of one seed share */
  readonly trace: string[] = []
  readonly #slots: Slot[] = []
  readonly #strangers: Endpoint[] = []
  readonly #storage: Storage
  // One record-verification memo for every node (as src/dht/sim/harness.ts shares one): a record
  // is verified the same way at every storer (dht.md §5.3), and nodes in one process need not
  // each spend the curve operations on the same bytes. Keyed by the exact bytes; expiry is still
  // checked at every use.
  readonly #verifyRecord = cachedRecordVerifier(65_536)
  #tmp: string | null = null

  constructor (readonly opts: TestnetOptions) {
    this.sim = opts.network === 'sim' ? createSimNetwork({ seed: opts.seed ?? 1, latencyMs: { base: 10 }, ...opts.link }) : null
    this.#storage = this.sim !== null ? memoryStorage() : diskStorage
    if (this.sim !== null && opts.tracePackets === true) {
      const sim = this.sim
      // byte 1 is the packet type (wire.md §3): handshake, session data, DHT, traversal, relay
      sim.onSend = (from, to, data) => { this.trace.push(`${sim.now} > ${from} ${to} ${data.length} ${data[1] ?? '-'}`) }
    }
  }

  async init (n: number): Promise<void> {
    if (this.sim === null) this.#tmp = await mkdtemp(join(tmpdir(), 'dmess-testnet-'))
    const rng = createRng(this.opts.seed ?? 1)
    const keys = createRng(((this.opts.seed ?? 1) ^ 0x6b657973) >>> 0) // a stream of its own: the nodes' other draws stay as they were
    for (let i = 0; i < n; i++) {
      const host = this.opts.host?.(i) ?? (this.sim === null ? '127.0.0.1' : `10.${1 + (i >> 8)}.${i & 255}.1`) // a /24 each: the DHT's subnet caps hold
      const nat = this.sim === null ? null : (this.opts.behind?.(i, this.sim) ?? null)
      const world: World = this.sim === null
        ? realWorld()
        : { scheduler: simScheduler(this.sim.clock, SIM_WALL_BASE_MS), random: simRandom(rng.fork()), sockets: simSockets(nat ?? this.sim, host), storage: this.#storage }
      const name = this.opts.name?.(i) ?? `node-${i}`
      this.#slots.push({ index: i, name, identity: this.sim === null ? generateIdentity() : seededIdentity(keys), storeKey: world.random.bytes(32), home: join(this.#tmp ?? '/sim', `node-${i}`), world, host, port: 0, life: null, fileDisk: this.sim === null ? realFileDisk : new MemoryFileDisk() })
    }
    for (const slot of this.#slots) this.nodes.push(await this.#start(slot))
  }

  /** Node i's file disk: in memory on the simulator (src/files/disk-memory.ts), else the real one. */
  fileDisk (i: number): FileDisk { return this.#slots[i]!.fileDisk }

  /** The node stopped cleanly (its store closed); restart(i) brings it back with what it stored. */
  async stop (i: number): Promise<void> {
    await this.#stopNode(this.nodes[i]!)
  }

  /** Keeps what a node instance did as it ends; one stopped before (by destroy(), or by itself) has no counters left to read. */
  #retire (n: TestNode): void {
    if (this.retired.has(n) || !n.udp.bound) return
    this.retired.set(n, nodeCounts(n))
  }

  /** A node with a port mapping deletes it as it stops (portmap.md §4), an exchange on simulated time: drive it. */
  async #stopNode (n: TestNode): Promise<void> {
    this.#retire(n)
    if (this.sim !== null && n.portmap !== null) await this.drive(n.stop(), 60_000, `node ${n.index} stopping`)
    else await n.stop()
  }

  /**
   * Node i dies as under `kill -9`: at once, with no clean shutdown. Its sockets close without a
   * SESSION_CLOSE (peers see silence), its timers never fire, and every write it had not yet
   * handed to the store or the state file never lands; writes already handed over finish, as
   * the OS finishes a dead process's writes. Its events stop. restart(i) brings it back with
   * what it had stored. (src/node/testnet-life.ts)
   */
  async crash (i: number): Promise<void> {
    const life = this.#slots[i]!.life
    if (life === null || life.dead) throw errors.BAD_ARGUMENT(`testnet: node ${i} is not running`)
    this.#retire(this.nodes[i]!)
    await life.kill()
  }

  /**
   * Starts node i again on the same identity, store and port (after stop(i) or crash(i)); with
   * `bootstrap`, its DHT joins through that list instead of node 0 (an empty one: only through
   * what it remembered, dht.md §6.4); with `prekeys`, as a node that does (or does not) keep
   * PQXDH prekeys from now on (an upgrade to envelope v2, envelope.md §8.7).
   */
  async restart (i: number, opts: { bootstrap?: PeerAddress[], prekeys?: boolean } = {}): Promise<TestNode> {
    const slot = this.#slots[i]!
    if (opts.prekeys !== undefined) slot.prekeys = opts.prekeys
    await slot.life?.release() // a crashed instance's store is closed as the OS closes a dead process's files
    const node = await this.#start(slot, opts.bootstrap)
    this.nodes[i] = node
    return node
  }

  /**
   * a adds b (as `dmess contacts add` does): from b's invite, or by fingerprint alone (then a
   * learns b's keys and address only from b's DHT record); b may also be any invite or
   * fingerprint text (someone not on the testnet). b sees a request until it adds a too.
   */
  async addContact (a: TestNode, b: TestNode | string, name = typeof b === 'string' ? undefined : `node-${b.index}`, by: 'invite' | 'fingerprint' = 'invite'): Promise<void> {
    const who = typeof b === 'string' ? b : by === 'invite' ? b.invite : b.fingerprint
    const r = await addContact(a.store, who, { name, self: a.fingerprint, now: a.opts.world.scheduler.wallNow() })
    a.events.emit({ type: 'contact', action: r.created ? 'added' : 'updated', contact: contactJson(r.contact) })
    if (r.addresses !== undefined) seedFromInvite(a, r.contact.fingerprint, r.addresses)
  }

  /** A bare endpoint with a new identity on this network, closed by destroy(). */
  async stranger (): Promise<Stranger> {
    const identity = generateIdentity()
    const n = this.#strangers.length
    const world: World = this.sim === null
      ? realWorld()
      : { scheduler: simScheduler(this.sim.clock, SIM_WALL_BASE_MS), random: simRandom(createRng(0x5e7 + n)), sockets: simSockets(this.sim, `10.250.${n & 255}.1`), storage: this.#storage }
    const endpoint = await Endpoint.listen({ host: this.sim === null ? '127.0.0.1' : undefined, port: 0, identity, scheduler: world.scheduler, sockets: world.sockets })
    this.#strangers.push(endpoint)
    return { identity, endpoint, world }
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
    // One macrotask turn per event, as before: an immediate, then in the microtasks after it the
    // check and the next event, whose promise chains (in-memory storage) run out before the next
    // immediate. In a microtask, not in the immediate's own callback, so that the event's promise
    // reactions still run before its process.nextTick callbacks, as they did when this loop was an
    // `await` on a setImmediate promise. That loop allocated two promises, a resolver and two
    // resumptions per event, ~22,000 events a 50-node run (docs/performance.md §13.3).
    await new Promise<void>((resolve, reject) => {
      const body = (): void => {
        try {
          if (done()) { resolve(); return }
          if (sim.clock.pending === 0 || sim.now > end) throw errors.WAIT_TIMEOUT(`testnet: ${what} did not hold within ${maxMs} ms of simulated time`)
          sim.clock.step()
          setImmediate(turn)
        } catch (err) {
          reject(err)
        }
      }
      const turn = (): void => { void RESOLVED.then(body) }
      setImmediate(turn)
    })
  }

  /**
   * Awaits `p` while simulated time runs (an action whose completion needs the network or a
   * timer, e.g. a send that waits for a link); on UDP it is just awaited. Throws like until().
   */
  async drive<T> (p: Promise<T>, maxMs = 60_000, what = 'the action'): Promise<T> {
    let settled = false
    const done = p.finally(() => { settled = true })
    done.catch(() => {}) // rethrown by the await below
    if (this.sim !== null) await this.until(() => settled, maxMs, what)
    return await done
  }

  /** Runs `ms` of simulated time (sim), or waits it out (udp). */
  async advance (ms: number): Promise<void> {
    const sim = this.sim
    if (sim === null) { await new Promise(resolve => setTimeout(resolve, ms)); return }
    const end = sim.now + ms
    await this.until(() => sim.now >= end || sim.clock.pending === 0, ms + 1, `${ms} ms passing`).catch(() => {})
  }

  async destroy (): Promise<void> {
    for (const e of this.#strangers.splice(0)) await e.close()
    for (const [i, n] of this.nodes.entries()) {
      const life = this.#slots[i]?.life
      if (life?.dead === true) await life.release()
      else await this.#stopNode(n)
    }
    if (this.#tmp !== null) await rm(this.#tmp, { recursive: true, force: true })
  }

  async #start (slot: Slot, bootstrapOverride?: PeerAddress[]): Promise<TestNode> {
    const bootstrap = bootstrapOverride ?? (slot.index === 0 ? [] : [{ host: this.#slots[0]!.host, port: this.#slots[0]!.port }])
    const key = slot.storeKey.slice() // the store wipes what it is given
    const life = new Life()
    slot.life = life
    const world = life.world(slot.world, this.opts.wallSkewMs?.(slot.index) ?? 0)
    const node = new Node({
      world,
      identity: slot.identity,
      paths: homePaths(slot.home),
      openStore: async () => await openStore(homePaths(slot.home).db, key, { storage: world.storage, now: () => world.scheduler.wallNow() }),
      host: slot.host,
      port: slot.port,
      mdns: false,
      peers: [],
      bootstrap,
      dht: this.opts.dht === false ? false : { verifyRecord: this.#verifyRecord, ...this.opts.dht },
      stun: this.opts.stun ?? false,
      relay: this.opts.relay?.(slot.index) ?? false,
      portmap: this.opts.portmap?.(slot.index),
      log: this.opts.log ?? pino({ level: 'silent' }),
      prekeyFileKey: (slot.prekeys ?? this.opts.prekeys) === true ? prekeyFileKey(slot.storeKey) : undefined,
      profileName: async () => slot.name,
      files: { disk: slot.fileDisk, downloadDir: () => join(slot.home, 'downloads'), ...this.opts.files?.(slot.index) },
      linkSendBufferBytes: this.opts.linkSendBufferBytes,
      legacyPresence: this.opts.legacyPresence?.(slot.index)
    }) as TestNode
    const seen: DaemonEvent[] = []
    Object.assign(node, { index: slot.index, identity: slot.identity, invite: encodeInvite(slot.identity), seen })
    node.events.on(ev => {
      if (life.dead) return // a dead process tells nobody anything
      seen.push(ev)
      this.trace.push(`${this.sim?.now ?? '-'} ${slot.index} ${ev.type}${typeof ev.action === 'string' ? ':' + ev.action : ''}`)
    })
    await node.start()
    slot.port = node.address.port
    return node
  }
}

/**
 * A simulated node's keys, from the seed: a fingerprint places the node's presence record in the
 * DHT, so with fresh keys every run would take other lookup paths and the trace would differ.
 * Only ever for simulated nodes (src/sim/rng.ts is no key source for anything real).
 */
function seededIdentity (rng: Rng): Identity {
  return identityFromSecrets({ [IDENTITY_SECRET_NAMES.sign]: rng.bytes(32), [IDENTITY_SECRET_NAMES.dh]: rng.bytes(32) })
}

const RESOLVED = Promise.resolve()

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
