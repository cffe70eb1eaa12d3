// The daemon: a node (src/node/node.ts) with the pieces only a long-running process of one home
// has: the pidfile, the IPC socket, signals, and the start/stop bookkeeping `status` reports.
// Components start in list order and stop in reverse.
import { appendFileSync } from 'node:fs'
import type { Logger } from 'pino'
import type { HomePaths } from '../config/home.js'
import { errors, isDmessError } from '../errors.js'
import { displayName, lock, type Unlocked } from '../app/profile.js'
import { chachaPolyImplementation, wipe } from '../crypto/primitives.js'
import { openStore, type Store } from '../store/index.js'
import { prekeyFileKey } from '../pqxdh/index.js'
import { realWorld, type World } from '../io/world.js'
import { realScheduler } from '../io/scheduler.js'
import { heapUsedAfterGc } from '../platform/heap.js'
import { clearDhtMemos } from '../dht/ids.js'
import { Node, type NodeFileOptions } from '../node/node.js'
import type { EndpointComponent } from '../node/endpoint.js'
import type { DhtComponent } from '../node/dht.js'
import { keepInviteForNextStart, seedFromInvite } from '../node/invite-seed.js'
import { offlineSockets } from '../io/offline.js'
import { AgentTimer } from './agent.js'
import type { Component } from '../runtime/component.js'
import type { EventBus } from '../runtime/events.js'
import { IpcServer, type IpcLimits } from './ipc-server.js'
import { Notifier } from './notify.js'
import type { NotifyMode } from '../config/schema.js'
import { probeSocket } from './ipc-client.js'
import { PidFile, readPidFile } from './lock.js'
import { daemonPaths, type DaemonPaths } from './paths.js'
import type { DaemonStatus } from './rpc-methods.js'
import { startMemoryLog } from './memory-log.js'
import { warmUp } from './warm-up.js'

export interface HostPort { host: string, port: number }
/** A --peer: an address, and the fingerprint of whoever is there if known (a node answers only a dial that names it, proto-spec/wire.md §4.1.1). */
export interface StaticPeer extends HostPort { fingerprint?: string }

export interface DaemonOptions {
  paths: HomePaths
  host: string
  /** UDP port; 0 picks a free one (status reports the real one) */
  port: number
  mdns: boolean
  /** map the UDP port on the home router with PCP/NAT-PMP/UPnP IGD (default off here; `dmess daemon` turns it on unless --no-portmap) */
  portmap?: boolean
  /** peers to connect to at start (--peer), for the connection manager */
  peers: StaticPeer[]
  /** DHT bootstrap nodes (--bootstrap, else config) */
  bootstrap: HostPort[]
  log: Logger
  /** the wall clock (default Date.now): a test of a peer whose clock is off */
  now?: () => number
  /** More components, started after the UDP socket and before IPC (tests; later wiring). */
  extraComponents?: (daemon: Daemon) => Component[]
  ipcLimits?: Partial<IpcLimits>
  /** file transfer settings (proto-spec/files.md §5); default: the node's */
  files?: FileSettings
  /** desktop notifications for messages while no chat is open (notify.ts); default off */
  notify?: NotifyMode
  /**
   * Run as the unlock agent (`dmess unlock`, proto-spec/ipc.md §14): the store, the outbox and the
   * socket on no network at all (no UDP socket, DHT, mDNS, STUN, port mapping or relay), stopping
   * by itself `lockAfterMs` after it started. host, port, mdns, peers and bootstrap are ignored.
   */
  agent?: { lockAfterMs: number }
  /**
   * Run a first connect's crypto once on throwaway keys after start (warm-up.ts), so the first
   * real one does not pay for V8's first runs of it; default on (never for the agent, which connects nothing).
   */
  warmUp?: boolean
}

/** What the daemon's settings say about files: plain data, so the detached child resolves the same. */
export interface FileSettings {
  downloadDir: string
  autoAcceptBytes: number
  autoAcceptPendingBytes: number
  /** ended transfers are forgotten after this long (0: not by age), and beyond this many (files.md §5.3) */
  keepEndedMs: number
  keepEnded: number
  /** test hook, only under the test runner (run.ts fileSettings) */
  corruptChunk?: number
}

function nodeFileOptions (f: FileSettings): NodeFileOptions {
  return {
    downloadDir: () => f.downloadDir,
    autoAcceptBytes: () => f.autoAcceptBytes,
    autoAcceptPendingBytes: () => f.autoAcceptPendingBytes,
    keepEndedMs: () => f.keepEndedMs,
    keepEnded: () => f.keepEnded,
    ...(f.corruptChunk === undefined ? {} : { corruptChunk: f.corruptChunk }) }
}

/** A stop() of one component that takes longer than this is abandoned (logged) so shutdown ends. */
export const COMPONENT_STOP_TIMEOUT_MS = 10_000
/** How long to wait for a CLI command that briefly holds the store lock before giving up. */
export const STORE_LOCK_WAIT_MS = 3000

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

export class Daemon {
  readonly files: DaemonPaths
  /** the node: store, socket, DHT, messaging (src/node/node.ts) */
  readonly node: Node
  readonly ipc: IpcServer
  private readonly components: Component[]
  private readonly started: Component[] = []
  private state: State = 'new'
  private startedAt = 0
  private stopping: Promise<void> | undefined
  private resolveStopped!: () => void
  /** set for the unlock agent: when it locks */
  private readonly agentTimer: AgentTimer | undefined
  private stopMemoryLog: () => void = () => {}
  /** Resolves when the daemon has stopped (by stop(), a signal or the IPC `stop` method). */
  readonly stopped = new Promise<void>(resolve => { this.resolveStopped = resolve })

  constructor (readonly opts: DaemonOptions, private readonly unlocked: Unlocked) {
    this.files = daemonPaths(opts.paths)
    const log = opts.log
    const real = realWorld()
    const agent = opts.agent
    // the agent's node binds no socket of the kernel's: what it would send goes nowhere (offline.ts)
    const world: World = { ...real, ...(agent === undefined ? {} : { sockets: offlineSockets }), ...(opts.now === undefined ? {} : { scheduler: { ...realScheduler, wallNow: opts.now } }) }
    this.node = new Node({
      world,
      identity: unlocked.identity,
      paths: opts.paths,
      openStore: async () => await openDaemonStore(opts.paths, this.files, unlocked.storeKey),
      ...(agent === undefined
        ? {
            host: opts.host,
            port: opts.port,
            mdns: opts.mdns,
            portmap: opts.portmap === true,
            // relay for others while publicly reachable (proto-spec/relay.md §1)
            relay: 'when-public' as const,
            peers: opts.peers,
            bootstrap: opts.bootstrap
          }
        : { host: '127.0.0.1', port: 0, mdns: false, portmap: false, relay: false, peers: [], bootstrap: [], dht: false as const, stun: false as const }),
      log,
      profileName: async () => await displayName(opts.paths),
      // derived now: the store wipes the store key once it has opened (openDaemonStore)
      prekeyFileKey: prekeyFileKey(unlocked.storeKey),
      ...(opts.files === undefined ? {} : { files: nodeFileOptions(opts.files) }),
      envelopeTrace: envelopeTrace(process.env.DMESS_TRACE_ENVELOPES)
    })
    this.ipc = new IpcServer({
      path: this.files.socket,
      events: this.events,
      log: log.child({ c: 'ipc' }),
      limits: opts.ipcLimits,
      context: session => ({
        store: this.store,
        identity: this.unlocked.identity,
        now: this.now,
        events: this.events,
        daemon: { status: () => this.status(), requestStop: reason => this.requestStop(reason) },
        messaging: this.node.actions,
        files: this.node.files,
        dht: this.node.dht ?? undefined,
        inviteSeed: async (fp, addresses) => {
          seedFromInvite(this.node, fp, addresses)
          // the agent has no DHT to join: the addresses wait for the daemon, as a command keeps them
          if (agent !== undefined) await keepInviteForNextStart(opts.paths.home, unlocked.identity.dhSecret, addresses, this.now())
        },
        session
      })
    })
    // The wiring, in start order: the node's parts with the pidfile right after the store (whose
    // lock makes this the home's one daemon, lock.ts), then IPC last, so a client that can
    // connect finds every other component running, and it goes first at shutdown.
    const [store, ...network] = this.node.components()
    this.agentTimer = agent === undefined
      ? undefined
      : new AgentTimer({ lockAfterMs: agent.lockAfterMs, scheduler: world.scheduler, expire: () => this.requestStop('unlock time is up') })
    this.components = [
      store!,
      new PidFile(this.files.pidfile),
      ...network,
      ...(opts.extraComponents?.(this) ?? []),
      ...(this.agentTimer === undefined ? [] : [this.agentTimer]),
      new Notifier({
        mode: opts.notify ?? 'off',
        events: this.events,
        watched: () => this.ipc.subscribers('message') > 0,
        contactName: async fp => (await this.store.getContact(fp))?.name,
        log: log.child({ c: 'notify' })
      }),
      this.ipc
    ]
  }

  get events (): EventBus { return this.node.events }
  get udp (): EndpointComponent { return this.node.udp }
  get dht (): DhtComponent {
    if (this.node.dht === null) throw errors.DAEMON_FAILED('the daemon has no DHT')
    return this.node.dht
  }

  get now (): () => number { return this.opts.now ?? Date.now }
  get fingerprint (): string { return this.unlocked.identity.fingerprint }
  get isRunning (): boolean { return this.state === 'running' }

  get store (): Store { return this.node.store }

  /** Starts every component in order; on a failure stops those started, in reverse, and throws. */
  async start (): Promise<DaemonStatus> {
    if (this.state !== 'new') throw errors.DAEMON_FAILED(`cannot start a daemon that is ${this.state}`)
    this.state = 'starting'
    this.startedAt = this.now()
    try {
      for (const c of this.components) {
        await c.start()
        this.started.push(c)
        this.opts.log.debug({ component: c.name }, 'component started')
      }
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'daemon start failed')
      await this.stop('start failed')
      throw err
    }
    this.state = 'running'
    this.stopMemoryLog = startMemoryLog(process.env.DMESS_MEMORY_LOG)
    const st = this.status()
    if (st.mode === 'agent') this.opts.log.info({ fingerprint: st.fingerprint, socket: this.files.socket, locksAt: st.locksAt }, 'unlock agent running (offline)')
    else this.opts.log.info({ fingerprint: st.fingerprint, host: st.host, port: st.port, socket: this.files.socket, aead: st.aead, aeadFallbackReason: st.aeadFallbackReason }, 'daemon running')
    if (st.mode === 'daemon' && this.opts.warmUp !== false) this.#warmUp()
    return st
  }

  /** After start, off the start's path: steps on later turns of the event loop (warm-up.ts); a failure is logged, nothing else. */
  #warmUp (): void {
    warmUp(() => this.state !== 'running').then(
      r => this.opts.log.debug(r, 'warm-up done'),
      err => this.opts.log.warn({ err: (err as Error).message }, 'warm-up failed')
    )
  }

  status (): DaemonStatus {
    const a = this.udp.address()
    const agent = this.agentTimer
    return {
      running: true,
      mode: agent === undefined ? 'daemon' : 'agent',
      ...(agent === undefined ? {} : { locksAt: new Date(agent.locksAt).toISOString() }),
      fingerprint: this.fingerprint,
      // the agent binds nothing: no address (ipc.md §14)
      host: agent === undefined ? a.address : '',
      port: agent === undefined ? a.port : 0,
      pid: process.pid,
      startedAt: new Date(this.startedAt).toISOString(),
      peers: this.node.messaging.peerCount,
      home: this.opts.paths.home,
      mdns: agent === undefined && this.opts.mdns,
      dhtNodes: this.node.dht?.tableSize ?? 0,
      portmap: this.node.portmap?.report() ?? { enabled: false, state: 'off', publiclyReachable: false },
      nat: natStatus(this.node),
      relay: { serving: this.node.servesRelays(), allocations: this.node.relay.service?.stats().allocations ?? 0, using: this.node.autoRelay?.report() ?? [] },
      traversal: this.node.traversal?.report() ?? { registeredWith: [], servingRegistrations: 0 },
      ...aeadStatus(),
      ...heapStatus()
    }
  }

  /** Fire-and-forget stop for signal handlers and the IPC `stop` method. */
  requestStop (reason: string): void {
    this.stop(reason).catch(err => this.opts.log.error({ err: (err as Error).message }, 'stop failed'))
  }

  /** Stops the started components in reverse order, then wipes the keys. Idempotent. */
  async stop (reason = 'stop'): Promise<void> {
    this.stopping ??= this.doStop(reason)
    await this.stopping
  }

  private async doStop (reason: string): Promise<void> {
    this.state = 'stopping'
    this.stopMemoryLog()
    this.opts.log.info({ reason }, 'daemon stopping')
    for (const c of [...this.started].reverse()) {
      await stopWithTimeout(c, this.opts.log)
    }
    this.started.length = 0
    lock(this.unlocked)
    this.state = 'stopped'
    this.opts.log.info('daemon stopped')
    this.resolveStopped()
  }
}

async function stopWithTimeout (c: Component, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), COMPONENT_STOP_TIMEOUT_MS) })
  try {
    const r = await Promise.race([c.stop().then(() => 'ok' as const), timeout])
    if (r === 'timeout') log.error({ component: c.name }, 'component did not stop in time; abandoned')
    else log.debug({ component: c.name }, 'component stopped')
  } catch (err) {
    log.error({ component: c.name, err: (err as Error).message }, 'component failed to stop')
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The store, whose LevelDB lock is the daemon's one-per-home lock (lock.ts). A CLI command may
 * hold it for a moment: that is waited out. A live daemon socket means a daemon holds it.
 */
async function openDaemonStore (paths: HomePaths, files: DaemonPaths, storeKey: Uint8Array): Promise<Store> {
  const deadline = Date.now() + STORE_LOCK_WAIT_MS
  try {
    while (true) {
      try {
        return await openStore(paths.db, storeKey)
      } catch (err) {
        if (!isDmessError(err) || err.code !== 'STORE_LOCKED') throw err
        if (await probeSocket(files.socket) === 'live') throw await alreadyRunning(paths.home, files)
        if (Date.now() >= deadline) throw err
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
  } finally {
    wipe(storeKey) // the store derived its own subkey and keeps no reference (store.ts)
  }
}

/** DAEMON_RUNNING, naming the unlock agent when that is what runs (its status, if asked for already). */
export async function alreadyRunning (home: string, files: DaemonPaths, status?: DaemonStatus): Promise<Error> {
  const pid = status?.pid ?? await readPidFile(files.pidfile)
  const at = `${home}${pid ? ` (pid ${pid})` : ''}`
  if (status?.mode === 'agent') return errors.DAEMON_RUNNING(`the dmess unlock agent is running for ${at}; \`dmess lock\` stops it`)
  return errors.DAEMON_RUNNING(`a dmess daemon is already running for ${at}`)
}

/** DaemonStatus's AEAD fields: the implementation in use and, on node:crypto, why. */
function aeadStatus (): Pick<DaemonStatus, 'aead' | 'aeadFallbackReason'> {
  const i = chachaPolyImplementation()
  return i.fallbackReason === undefined ? { aead: i.name } : { aead: i.name, aeadFallbackReason: i.fallbackReason }
}

/** `heapUsedAfterGc` when the process runs with --expose-gc (src/platform/heap.ts), else nothing. */
function heapStatus (): Pick<DaemonStatus, 'heapUsedAfterGc'> {
  const used = heapUsedAfterGc(clearDhtMemos)
  return used === undefined ? {} : { heapUsedAfterGc: used }
}

/** The NAT fields of `status` (ipc.md §4): what the node's STUN probe learned. */
function natStatus (node: Node): DaemonStatus['nat'] {
  const s = node.nat?.status()
  return { natKind: s?.natKind ?? 'unknown', filtering: s?.filtering ?? 'unknown', publicAddresses: s?.reflexive ?? [], publiclyReachable: s?.publiclyReachable ?? false, stunServing: s?.stunServing ?? false }
}

/**
 * DMESS_TRACE_ENVELOPES=<file>: for tests that kill the daemon (test/e2e/ratchet-crash.test.ts),
 * one line per envelope v2 sealed or received, and per session read back at start, is appended,
 * synchronously, so a SIGKILL loses none already acted on. Public values only: SHA-256 of the
 * envelope, the session base, the ratchet public key and message number (envelope.md §8.4).
 */
function envelopeTrace (file: string | undefined): ((line: string) => void) | undefined {
  if (file === undefined || file === '') return undefined
  return line => { appendFileSync(file, line + '\n') }
}
