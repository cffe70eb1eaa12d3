// Real `dmess` processes in the network lab (scripts/lab/nat.ts): homes, `dmess bootstrap` and
// `dmess daemon` started in a namespace with their output kept, stopped by PID; and a pair of
// daemons across one of the lab's topologies, talked to over their IPC sockets
// (proto-spec/ipc.md), for the NAT matrix tests (test/lab/nat-matrix.test.ts) and the connect-time
// benchmark (scripts/bench/lab-connect.ts). Every wait is bounded. Needs `npm run build` (bin/).
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { initProfile } from '../../src/app/profile.js'
import { homePaths } from '../../src/config/home.js'
import { setConfigValue } from '../../src/config/config.js'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import { daemonPaths } from '../../src/daemon/paths.js'
import { isProcessAlive, waitForExit } from '../../src/daemon/lock.js'
import type { DaemonEvent } from '../../src/runtime/events.js'
import { addAddress, nsSpawn, type Lab } from './netns.js'
import { addPublicHost, addSiteHost, createNatLab, type NatLab, type NatMode, type SiteSpec } from './nat.js'
import { startMiniupnpd, type Miniupnpd } from './miniupnpd.js'

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js')
export const LAB_PASSPHRASE = 'correct horse battery staple'
/** Cheap Argon2id for lab homes (the keystore records it: every unlock is cheap too). */
const LAB_KDF = { t: 1, m: 64, p: 1 }
// a bound, not a speed test: on a loaded 2-core machine a bundled CLI may take tens of seconds to start
const START_MS = 90_000

export interface Home { name: string, home: string, fingerprint: string }
/** A child whose output is kept; `exited` rejects if it ends before we stop it. */
export interface Proc { child: ChildProcess, log: () => string, exited: Promise<never> }

export async function waitUntil (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** A fresh home in a temp directory, as `dmess init --name <name>` makes it (cheap KDF); `remove` deletes it. */
export async function makeHome (name: string, logLevel?: string): Promise<Home & { remove: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), `dmess-lab-${name}-`))
  const p = await initProfile(homePaths(home), LAB_PASSPHRASE, { name, kdf: LAB_KDF })
  if (logLevel !== undefined) await setConfigValue(homePaths(home).config, 'logLevel', logLevel)
  return { name, home, fingerprint: p.fingerprint, remove: async () => { await rm(home, { recursive: true, force: true }) } }
}

/** This process's environment without a home or passphrase of the caller's. */
export function cleanEnv (): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_HOME' && k !== 'DMESS_PASSPHRASE') env[k] = v
  return env
}

/** `dmess <args>` in namespace `ns` (`nodeArgs`: node's own flags, before the script). */
export function spawnIn (ns: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = nsSpawn(ns, process.execPath, [...nodeArgs, BIN, ...args], { env })
  let log = ''
  child.stdout?.on('data', d => { log += String(d) })
  child.stderr?.on('data', d => { log += String(d) })
  const exited = new Promise<never>((_resolve, reject) => child.on('exit', c => reject(new Error(`dmess ${args[0] ?? ''} exited early (${String(c)}): ${log}`))))
  exited.catch(() => {})
  return { child, log: () => log, exited }
}

/** `dmess bootstrap --host <host> --port 0` in `ns`; resolves with its port from the `listening` line. */
export async function startBootstrap (ns: string, host: string, procs: Proc[], extra: string[] = []): Promise<number> {
  const p = spawnIn(ns, ['bootstrap', '--host', host, '--port', '0', ...extra], cleanEnv())
  procs.push(p)
  const lines = createInterface({ input: p.child.stdout as NodeJS.ReadableStream })
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line from dmess bootstrap: ${p.log()}`)), START_MS)
    lines.on('line', l => {
      let ev: { event?: string, address?: string }
      try { ev = JSON.parse(l) as typeof ev } catch { return }
      if (ev.event === 'listening' && typeof ev.address === 'string') { clearTimeout(timer); resolve(Number(ev.address.split(':').pop())) }
    })
  })
  return await Promise.race([listening, p.exited])
}

/** `dmess daemon` in the foreground in `ns` on 0.0.0.0, joined through `bootstrap`, plus `extra` flags (and node's `nodeArgs`). */
export async function startDaemon (ns: string, h: Home, bootstrap: string, procs: Proc[], extra: string[] = [], nodeArgs: string[] = []): Promise<Proc> {
  const p = spawnIn(ns, ['daemon', '--home', h.home, '--host', '0.0.0.0', '--port', '0', '--bootstrap', bootstrap, ...extra], { ...cleanEnv(), DMESS_PASSPHRASE: LAB_PASSPHRASE }, nodeArgs)
  procs.push(p)
  await Promise.race([waitUntil(() => p.log().includes('dmess daemon running'), START_MS, () => `${h.name}'s daemon did not start: ${p.log()}`), p.exited])
  return p
}

/** SIGTERM by PID (the `ip netns exec` wrapper execs node, so it is our process), then wait. */
export async function stop (child: ChildProcess): Promise<void> {
  const pid = child.pid
  if (pid === undefined || !isProcessAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
}

// ---- a pair of daemons across a topology ----

/** The pairs of the NAT matrix: Alice's side – Bob's side. */
export const PAIRS = ['none-none', 'cone-cone', 'cone-symmetric', 'symmetric-symmetric', 'same-nat', 'double-nat', 'cone-upnp', 'cone-igd'] as const
export type PairName = typeof PAIRS[number]

interface Placed { ns: string, address: string }

export interface Topology {
  net: NatLab
  alice: Placed
  bob: Placed
  /** Bob's home router with miniupnpd: PCP/NAT-PMP ('cone-upnp'), or UPnP IGD only ('cone-igd') */
  upnp?: { routerNs: string, wanAddress: string, lanGateway: string, daemon: Miniupnpd }
}

/** Builds the lab for `pair`: 'cone' is MASQUERADE, 'symmetric' --random-fully (nat.ts). */
export async function buildTopology (lab: Lab, pair: PairName): Promise<Topology> {
  const sites = async (specs: Array<NatMode | SiteSpec>): Promise<Topology> => {
    const net = await createNatLab(lab, specs)
    const [a, b] = net.sites as [NatLab['sites'][number], NatLab['sites'][number]]
    return { net, alice: { ns: a.hostNs, address: a.hostAddress }, bob: { ns: b.hostNs, address: b.hostAddress } }
  }
  switch (pair) {
    case 'none-none': {
      const net = await createNatLab(lab, ['masquerade'])
      const [a, b] = await Promise.all([addPublicHost(lab, net, 1), addPublicHost(lab, net, 2)])
      return { net, alice: { ns: a.hostNs, address: a.hostAddress }, bob: { ns: b.hostNs, address: b.hostAddress } }
    }
    case 'cone-cone': return await sites(['masquerade', 'masquerade'])
    case 'cone-symmetric': return await sites(['masquerade', 'random-fully'])
    case 'symmetric-symmetric': return await sites(['random-fully', 'random-fully'])
    case 'double-nat': return await sites(['masquerade', { mode: 'masquerade', cgn: 'masquerade' }])
    case 'same-nat': {
      const net = await createNatLab(lab, ['masquerade'])
      const site = net.sites[0]!
      const second = await addSiteHost(lab, site, 0)
      return { net, alice: { ns: site.hostNs, address: site.hostAddress }, bob: { ns: second.hostNs, address: second.hostAddress } }
    }
    case 'cone-upnp':
    case 'cone-igd': {
      const topo = await sites(['masquerade', { mode: 'masquerade', upnp: true }])
      const site = topo.net.sites[1]!
      const daemon = await startMiniupnpd(site, { protocols: pair === 'cone-igd' ? 'upnp' : 'natpmp' })
      return { ...topo, upnp: { routerNs: site.routerNs, wanAddress: site.wanAddress, lanGateway: site.lanGateway, daemon } }
    }
  }
}

/** What `dht.lookup` gives (src/daemon/rpc-dht.ts PresenceJson), the parts used here. */
export interface RecordView { addresses: Array<{ host: string, port: number, kind: string }>, natKind: string, rendezvous: Array<{ host: string, port: number }> }

export interface Pair {
  topo: Topology
  alice: Home
  bob: Home
  bootstrap: string
  procs: Proc[]
  aliceIpc: IpcClient
  bobIpc: IpcClient
  /** Bob's record as Alice's daemon reads it, once it shows how to reach him */
  record: RecordView
  /**
   * Bob has Alice as a contact already; Alice adds Bob by fingerprint and sends `text`: resolves
   * with the ms from the add to Bob's daemon emitting the message, or null if it did not arrive
   * within `timeoutMs`.
   */
  connect: (text: string, timeoutMs: number) => Promise<number | null>
  /** The last connect's start, wall clock (Date.now(), the daemons' log timestamps' clock) */
  lastStart: number
  /**
   * The last connect's ms from the start to Bob's daemon showing Alice online (its `presence`
   * event): the session's key confirmation at Bob, i.e. the first transport packet from Alice that
   * his daemon decrypted and authenticated (session.md §2.2); null if it did not come.
   */
  lastSessionMs: number | null
  /**
   * The last connect's ms from the start to Alice's daemon answering the bench's `contacts.add`
   * and then its `messages.send` (the message is in her outbox from then on)
   */
  lastIpcMs: { add: number, send: number } | null
  /** Alice's and Bob's daemon output so far (their logs: JSON lines on stderr) */
  aliceLog: () => string
  bobLog: () => string
  /** Alice's daemon stopped and replaced by a new user's in the same place, whom Bob adds: first contact again */
  freshAlice: () => Promise<void>
}

/** Is `who` behind a NAT whose kind two rendezvous tell (not a public host; not Bob behind a router that maps his port)? */
function behindNat (pair: PairName, topo: Topology, who: 'alice' | 'bob'): boolean {
  return pair !== 'none-none' && !(who === 'bob' && topo.upnp !== undefined)
}

/** A record that says how to reach its owner: a port mapping, a rendezvous entry, or no NAT (behind miniupnpd: the mapping). */
function reachable (r: RecordView | null, topo: Topology): boolean {
  if (r === null) return false
  const direct = r.natKind === 'open' || r.addresses.some(a => a.kind === 'mapped' || a.kind === 'public')
  return topo.upnp !== undefined ? direct : direct || r.rendezvous.length > 0
}

/**
 * Runs `fn` with Alice and Bob's daemons up across `pair` (mDNS off: the LAN is found through the
 * record only), both joined through one `dmess bootstrap` in the internet namespace (their DHT
 * bootstrap and rendezvous), Bob's record readable; stops everything after, by PID.
 */
/** What withPair sets up besides its defaults. */
export interface PairOptions {
  /** the daemons' log level (default: the config's, info) */
  logLevel?: string
  /**
   * A second `dmess bootstrap` at a second public IP of the internet namespace, which both daemons
   * join too: two rendezvous at two IPs let each side learn its NAT kind (traversal.md §2), as a
   * real node does from its several bootstrap nodes; Alice's own kind and Bob's record's are then
   * known before a connect (birthday punching §6.3, relay first §7.1). Default: one.
   */
  twoRendezvous?: boolean
  /** node's own flags for both daemons (not the bootstrap nodes), e.g. --cpu-prof */
  daemonNodeArgs?: string[]
  /**
   * ms each Alice's daemon runs (up, her NAT kind known) before Bob adds her: its start-up work
   * (the DHT, the rendezvous, the warm-up of src/daemon/warm-up.ts) done before anything connects.
   * Default 0.
   */
  settleMs?: number
  /**
   * Bob adds each new Alice before her daemon starts, and her daemon starts only once his own
   * attempt has looked her up PASSIVE_LOOKUPS times and found no record: his next lookup is then
   * 16-24 s away (messaging.md §5.2's backoff, 5 s doubling, ± 20 %), so within that window he
   * only answers. A connect then is hers alone (a contact added while she was offline), not the
   * mutual add of the default, in which his own lookup, punch and stranger's offer race hers.
   * The first Alice of the pair (made to read Bob's record) is not measured: freshAlice makes one.
   * Reads Bob's lookups from his debug log: needs logLevel 'debug'.
   */
  passiveBob?: boolean
}

/** Failed lookups of Bob's before a passive Bob's Alice starts (PairOptions.passiveBob). */
const PASSIVE_LOOKUPS = 3

/** The second public address in the lab's internet namespace (PairOptions.twoRendezvous). */
export const SECOND_PUBLIC = '198.18.0.2'

/** NAT kinds a side learns from two rendezvous: known once both answered (the lab's NATs are never 'open'). */
const KNOWN_NAT = new Set(['endpoint-independent', 'address-dependent'])

export async function withPair<T> (lab: Lab, pair: PairName, fn: (p: Pair) => Promise<T>, step: (what: string) => void = () => {}, opts: PairOptions = {}): Promise<T> {
  const { logLevel, twoRendezvous = false, daemonNodeArgs = [], settleMs = 0, passiveBob = false } = opts
  const settle = async (): Promise<void> => { if (settleMs > 0) await new Promise(resolve => setTimeout(resolve, settleMs)) }
  const topo = await buildTopology(lab, pair)
  if (twoRendezvous) await addAddress(topo.net.inetNs, 'lo', `${SECOND_PUBLIC}/32`)
  step('lab built')
  const [alice, bob] = await Promise.all([makeHome('alice', logLevel), makeHome('bob', logLevel)])
  const homesMade = [alice, bob]
  const procs: Proc[] = []
  const clients: IpcClient[] = []
  try {
    const port = await startBootstrap(topo.net.inetNs, topo.net.publicAddress, procs)
    const bootstrap = `${topo.net.publicAddress}:${port}`
    // the daemons join both, so the two bootstrap nodes need not know each other
    const flags = ['--no-mdns', ...(twoRendezvous ? ['--bootstrap', `${SECOND_PUBLIC}:${await startBootstrap(topo.net.inetNs, SECOND_PUBLIC, procs)}`] : [])]
    await Promise.all([startDaemon(topo.alice.ns, alice, bootstrap, procs, flags, daemonNodeArgs), startDaemon(topo.bob.ns, bob, bootstrap, procs, flags, daemonNodeArgs)])
    step('bootstrap node and daemons running')
    const connect = async (h: Home): Promise<IpcClient> => { const c = await IpcClient.connect(daemonPaths(homePaths(h.home)).socket); clients.push(c); return c }
    const [aliceIpc, bobIpc] = [await connect(alice), await connect(bob)]
    let record: RecordView | null = null
    // bounded by a rendezvous that missed its first REGISTERs and is passed over for 30 s
    // (traversal.md §3.1), then the republish of the record
    await waitUntil(async () => {
      const r = await aliceIpc.call('dht.lookup', { fingerprint: bob.fingerprint, timeoutMs: 5000 })
      record = r.record
      return reachable(record, topo) && (!twoRendezvous || !behindNat(pair, topo, 'bob') || KNOWN_NAT.has(record?.natKind ?? ''))
    }, 120_000, () => `Bob's record to show how to reach him: ${JSON.stringify(record)}`)
    step('Bob\'s record readable')
    const aliceKnowsHerNat = async (ipc: IpcClient): Promise<void> => {
      if (!twoRendezvous || !behindNat(pair, topo, 'alice')) return
      let kind = ''
      await waitUntil(async () => {
        kind = (await ipc.call('status', {})).nat?.natKind ?? ''
        return KNOWN_NAT.has(kind)
      }, 60_000, () => `Alice's NAT kind from her two rendezvous (${kind})`)
    }
    // Bob looks Alice up as soon as he adds her (messaging.md §5.2): a lookup that finds no record
    // of hers yet backs off 5 s, and the connect would then depend on Alice's dial alone
    const aliceReadable = async (fingerprint: string): Promise<void> => {
      let r: RecordView | null = null
      await waitUntil(async () => {
        r = (await bobIpc.call('dht.lookup', { fingerprint, timeoutMs: 5000 })).record
        return r !== null && (r.natKind === 'open' || r.rendezvous.length > 0 || r.addresses.some(a => a.kind !== 'lan'))
      }, 60_000, () => `Alice's record readable by Bob: ${JSON.stringify(r)}`)
    }
    const bobLog = (): string => procs.find(x => x.child.spawnargs.includes(bob.home))?.log() ?? ''
    /** passiveBob: Bob adds `fingerprint` (no daemon of it runs yet) and his lookups of it find nothing PASSIVE_LOOKUPS times */
    const bobGivesUp = async (fingerprint: string, name: string): Promise<void> => {
      const from = bobLog().length
      const misses = (): number => bobLog().slice(from).split('\n').filter(l => l.includes('"dht lookup done"') && l.includes(fingerprint) && l.includes('"addresses":null')).length
      await bobIpc.call('contacts.add', { who: fingerprint, name })
      await waitUntil(() => misses() >= PASSIVE_LOOKUPS, 90_000, () => `Bob's lookups of a new Alice to find nothing ${PASSIVE_LOOKUPS} times (${misses()})`)
    }
    await aliceKnowsHerNat(aliceIpc)
    await aliceReadable(alice.fingerprint)
    await settle()
    await bobIpc.call('contacts.add', { who: alice.fingerprint, name: 'alice' })
    const p: Pair = {
      topo, alice, bob, bootstrap, procs, aliceIpc, bobIpc, record: record!,
      connect: async (text, timeoutMs) => await firstMessage(p, text, timeoutMs),
      lastStart: 0,
      lastSessionMs: null,
      lastIpcMs: null,
      aliceLog: () => procs.find(x => x.child.spawnargs.includes(p.alice.home))?.log() ?? '',
      bobLog,
      freshAlice: async () => {
        p.aliceIpc.close()
        await stop(procs.find(x => x.child.spawnargs.includes(p.alice.home))!.child)
        const next = await makeHome('alice', logLevel)
        homesMade.push(next)
        if (passiveBob) await bobGivesUp(next.fingerprint, `alice-${homesMade.length}`)
        await startDaemon(topo.alice.ns, next, bootstrap, procs, flags, daemonNodeArgs)
        p.alice = next
        p.aliceIpc = await connect(next)
        await aliceKnowsHerNat(p.aliceIpc)
        if (!passiveBob) await aliceReadable(next.fingerprint)
        await settle()
        if (!passiveBob) await bobIpc.call('contacts.add', { who: next.fingerprint, name: `alice-${homesMade.length}` })
      }
    }
    return await fn(p)
  } catch (err) {
    const logs = procs.map(p => p.log().slice(-3000)).join('\n----\n')
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err })
  } finally {
    for (const c of clients) c.close()
    for (const p of procs.reverse()) await stop(p.child)
    await topo.upnp?.daemon.stop()
    await Promise.all(homesMade.map(async h => { await h.remove() }))
  }
}

/**
 * The clock starts when Alice's daemon is told Bob's fingerprint: just before her `contacts.add`
 * call leaves (the moment "a knows b's fingerprint"; the IPC call, its store writes and everything
 * after are inside). It stops at Bob's `message` event for `text`; `lastSessionMs` at his
 * `presence` event showing her online.
 */
async function firstMessage (p: Pair, text: string, timeoutMs: number): Promise<number | null> {
  let resolve: (at: number) => void = () => {}
  const got = new Promise<number>(r => { resolve = r })
  let sessionAt: number | null = null
  const alice = p.alice.fingerprint
  const onEvent = (ev: DaemonEvent): void => {
    const m = ev.message as { direction?: string, text?: string } | undefined
    if (ev.type === 'presence' && ev.peer === alice && ev.state === 'online') sessionAt ??= performance.now()
    if (ev.type === 'message' && ev.peer === alice && m?.direction === 'in' && m.text === text) resolve(performance.now())
  }
  await p.bobIpc.subscribe(['message', 'presence'], onEvent)
  p.lastStart = Date.now()
  p.lastSessionMs = null
  p.lastIpcMs = null
  const t0 = performance.now()
  await p.aliceIpc.call('contacts.add', { who: p.bob.fingerprint, name: 'bob' })
  const addMs = performance.now() - t0
  await p.aliceIpc.call('messages.send', { contact: p.bob.fingerprint, text })
  p.lastIpcMs = { add: Math.round(addMs), send: Math.round(performance.now() - t0) }
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<null>(r => { timer = setTimeout(() => r(null), timeoutMs) })
  const at = await Promise.race([got, late])
  clearTimeout(timer)
  p.lastSessionMs = sessionAt === null ? null : Math.round(sessionAt - t0)
  return at === null ? null : Math.round(at - t0)
}
