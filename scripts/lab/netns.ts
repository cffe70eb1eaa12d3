// Network lab: small building blocks for tests that need real Linux networking between "hosts"
// (mDNS on a LAN now, NAT traversal later). Each host is a network namespace; a LAN is a Linux
// bridge living in its own "switch" namespace, so nothing is added to the root namespace and
// deleting the namespaces removes every veth and bridge with them.
//
// Every name starts with a tag `dml-<pid>-<6 random hex>` so parallel runs never collide, and
// every Lab removes what it made in `destroy()`, on `process.exit`, and on SIGINT/SIGTERM; what a
// SIGKILLed run left behind is removed by `sweepStaleLabs()` (its PID is no longer alive).
// Root only: `labUnavailableReason()` says why a lab cannot run here (tests skip with that text).
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Linux IFNAMSIZ is 16 including the NUL; namespace names have no such limit but stay short. */
export const MAX_IFNAME_CHARS = 15
const TAG_PREFIX = 'dml'

/** Why a lab cannot run on this machine, or null when it can. */
export function labUnavailableReason (): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'network namespaces need root'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'the `ip` command (iproute2) is not installed'
  }
  return null
}

/** What labReady needs of a tap test: enough to fail it or to skip it with a reason. */
export interface LabGateTest {
  fail: (message: string) => unknown
  plan: (n: number, comment: string) => unknown
}

/**
 * The gate every lab test file opens with: true when the lab can run here (root, iproute2, and
 * each of `also`'s prerequisites, asked in order until one is missing). Otherwise a lab test must
 * not pass by skipping in CI: under CI=true the test fails with the reason; elsewhere it is skipped
 * with the reason printed. `what` names the lab in those messages ("the STUN NAT lab").
 */
export function labReady (t: LabGateTest, what: string, ...also: Array<() => string | null>): boolean {
  let missing = labUnavailableReason()
  for (const check of also) missing ??= check()
  if (missing === null) return true
  if (process.env.CI === 'true') {
    t.fail(`${what} must run in CI, but: ${missing}`)
  } else {
    console.log(`# skipping ${what}: ${missing}`)
    t.plan(0, missing)
  }
  return false
}

/** A fresh tag with our PID and 24 random bits: every namespace of one lab starts with it. */
export function labTag (): string {
  return `${TAG_PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`
}

const TAG_PATTERN = new RegExp(`^${TAG_PREFIX}-(\\d+)-[0-9a-f]{6}-`)

/** Deletes lab namespaces whose creating process is gone (a run killed with SIGKILL). */
export async function sweepStaleLabs (): Promise<string[]> {
  const listed = await ip(['netns', 'list'])
  const stale = listed.split('\n').map(l => l.split(' ')[0] ?? '').filter(ns => {
    const pid = TAG_PATTERN.exec(ns)?.[1]
    return pid !== undefined && !processAlive(Number(pid))
  })
  for (const ns of stale) await deleteNamespace(ns)
  return stale
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

/** Runs `ip ARGS` (in namespace `ns` when given); rejects with ip's own message on failure. */
export async function ip (args: string[], ns?: string): Promise<string> {
  const full = ns === undefined ? args : ['-n', ns, ...args]
  try {
    const { stdout } = await execFileAsync('ip', full, { timeout: 10_000 })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`ip ${full.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cause: err })
  }
}

/** Runs a command inside a namespace and returns its stdout (rejects on a non-zero exit). */
export async function nsExec (ns: string, cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`${cmd} in ${ns}: ${(e.stderr ?? e.message).trim()}`, { cause: err })
  }
}

/** Starts a long-running process inside a namespace (the caller owns and kills it by PID). */
export function nsSpawn (ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
}

export async function createNamespace (ns: string): Promise<void> {
  await ip(['netns', 'add', ns])
  await ip(['link', 'set', 'lo', 'up'], ns)
}

/** Deletes a namespace and with it every interface inside; a missing one is not an error. */
export async function deleteNamespace (ns: string): Promise<void> {
  try {
    await ip(['netns', 'del', ns])
  } catch (err) {
    if (!/No such file|not found|Invalid netns/i.test((err as Error).message)) throw err
  }
}

export async function createBridge (ns: string, name: string): Promise<void> {
  checkIfName(name)
  await ip(['link', 'add', name, 'type', 'bridge'], ns)
  // No STP delay and no multicast snooping: a lab LAN forwards mDNS from the first packet.
  await ip(['link', 'set', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0'], ns)
  await ip(['link', 'set', name, 'up'], ns)
}

export interface LinkEnd { ns: string, name: string }

/** A veth pair whose ends are created directly inside their namespaces (never in the root one). */
export async function createVethPair (a: LinkEnd, b: LinkEnd): Promise<void> {
  checkIfName(a.name)
  checkIfName(b.name)
  await ip(['link', 'add', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns])
}

export async function attachToBridge (ns: string, link: string, bridge: string): Promise<void> {
  await ip(['link', 'set', link, 'master', bridge], ns)
}

/** Brings a link up with multicast on (mDNS needs it; veths have it by default, say it anyway). */
export async function linkUp (ns: string, link: string): Promise<void> {
  await ip(['link', 'set', 'dev', link, 'multicast', 'on'], ns)
  await ip(['link', 'set', 'dev', link, 'up'], ns)
}

export async function addAddress (ns: string, link: string, cidr: string): Promise<void> {
  await ip(['addr', 'add', cidr, 'dev', link], ns)
}

export async function addRoute (ns: string, args: string[]): Promise<void> {
  await ip(['route', 'add', ...args], ns)
}

/** Lets a namespace route between its interfaces (a router or NAT box). */
export async function enableForwarding (ns: string): Promise<void> {
  await nsExec(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
}

function checkIfName (name: string): void {
  if (name.length === 0 || name.length > MAX_IFNAME_CHARS || /[\s/]/.test(name)) {
    throw new Error(`interface name '${name}' must be 1..${MAX_IFNAME_CHARS} characters without spaces or '/'`)
  }
}

// ---- Labs: a set of namespaces removed together ----

const liveLabs = new Set<Lab>()
let exitHooked = false

/** Namespaces created under one tag; destroy() removes them all (idempotent, never throws). */
export class Lab {
  readonly tag: string
  readonly namespaces: string[] = []

  constructor (tag = labTag()) {
    this.tag = tag
    liveLabs.add(this)
    hookExit()
  }

  /** Creates `<tag>-<suffix>` and remembers it for cleanup. */
  async namespace (suffix: string): Promise<string> {
    const ns = `${this.tag}-${suffix}`
    this.namespaces.push(ns) // remember before creating: a half-made namespace is cleaned too
    await createNamespace(ns)
    return ns
  }

  async destroy (): Promise<void> {
    liveLabs.delete(this)
    const errors: string[] = []
    for (const ns of this.namespaces.splice(0).reverse()) {
      await deleteNamespace(ns).catch((err: Error) => errors.push(err.message))
    }
    if (errors.length > 0) console.error(`lab ${this.tag}: cleanup problems: ${errors.join('; ')}`)
  }

  /** Synchronous variant for process exit, where promises no longer run. */
  destroySync (): void {
    liveLabs.delete(this)
    for (const ns of this.namespaces.splice(0).reverse()) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }) } catch { /* already gone */ }
    }
  }
}

function hookExit (): void {
  if (exitHooked) return
  exitHooked = true
  process.once('exit', () => { for (const lab of [...liveLabs]) lab.destroySync() })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of [...liveLabs]) lab.destroySync()
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15))
    })
  }
}

/** Runs `fn` with a fresh Lab and always destroys it afterwards, whatever `fn` does. */
export async function withLab<T> (fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = new Lab()
  try {
    return await fn(lab)
  } finally {
    await lab.destroy()
  }
}

// ---- A LAN: hosts on one bridge ----

export interface LanHost {
  /** Namespace of this host. */
  ns: string
  /** Its interface on the LAN (inside `ns`). */
  ifname: string
  /** Its IPv4 address on the LAN. */
  address: string
}

export interface Lan {
  /** Namespace holding the bridge. */
  switchNs: string
  bridge: string
  hosts: LanHost[]
  prefixLength: number
}

export interface LanOptions {
  /** Number of hosts (1..200). */
  hosts: number
  /** First three octets of the /24 the hosts share; host i gets .(10+i). Private, lab-only. */
  subnet?: string
  /** Namespace suffix of the hosts: `<tag>-<hostPrefix><i>`. */
  hostPrefix?: string
  /** Add `224.0.0.0/4 dev eth0`. Default false: mDNS must work on a LAN without routes. */
  multicastRoute?: boolean
}

/**
 * Builds a LAN inside `lab`: a switch namespace with bridge `br0`, and `hosts` host namespaces each
 * with `eth0` plugged into it. The subnet exists only inside these namespaces.
 */
export async function createLan (lab: Lab, opts: LanOptions): Promise<Lan> {
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > 200) throw new Error('hosts must be 1..200')
  await sweepStaleLabs()
  const subnet = opts.subnet ?? '10.231.0'
  const switchNs = await lab.namespace('sw')
  const bridge = 'br0'
  await createBridge(switchNs, bridge)
  const hosts: LanHost[] = []
  for (let i = 0; i < opts.hosts; i++) {
    const ns = await lab.namespace(`${opts.hostPrefix ?? 'h'}${i}`)
    const port = `p${i}`
    await createVethPair({ ns, name: 'eth0' }, { ns: switchNs, name: port })
    await attachToBridge(switchNs, port, bridge)
    await linkUp(switchNs, port)
    const address = `${subnet}.${10 + i}`
    await addAddress(ns, 'eth0', `${address}/24`)
    await linkUp(ns, 'eth0')
    if (opts.multicastRoute === true) await addRoute(ns, ['224.0.0.0/4', 'dev', 'eth0'])
    hosts.push({ ns, ifname: 'eth0', address })
  }
  return { switchNs, bridge, hosts, prefixLength: 24 }
}

// ---- Routed networks: one host per subnet, a router between them ----

export interface RoutedHost extends LanHost {
  /** The router's address on this host's subnet (its default route). */
  gateway: string
}

export interface RoutedNetwork {
  /** Namespace of the router (ip_forward=1); it may run services too, e.g. a DHT bootstrap node. */
  routerNs: string
  hosts: RoutedHost[]
}

export interface RoutedOptions {
  /** First three octets of each host's /24: host i is `<subnet>.2`, the router `<subnet>.1` (1..20 subnets). */
  subnets: string[]
  /** Namespace suffix of the hosts: `<tag>-<hostPrefix><i>`. */
  hostPrefix?: string
}

/**
 * Builds hosts that can reach each other only through a router: each host namespace has `eth0`
 * on its own /24, a veth to the router namespace, and a default route via the router. No bridge
 * joins two hosts, and the router does not route multicast, so mDNS cannot cross.
 */
export async function createRoutedNetwork (lab: Lab, opts: RoutedOptions): Promise<RoutedNetwork> {
  if (opts.subnets.length < 1 || opts.subnets.length > 20) throw new Error('subnets must list 1..20 subnets')
  await sweepStaleLabs()
  const routerNs = await lab.namespace('rt')
  await enableForwarding(routerNs)
  const hosts: RoutedHost[] = []
  for (const [i, subnet] of opts.subnets.entries()) {
    const ns = await lab.namespace(`${opts.hostPrefix ?? 'h'}${i}`)
    const routerIf = `r${i}`
    await createVethPair({ ns, name: 'eth0' }, { ns: routerNs, name: routerIf })
    const gateway = `${subnet}.1`
    const address = `${subnet}.2`
    await addAddress(routerNs, routerIf, `${gateway}/24`)
    await linkUp(routerNs, routerIf)
    await addAddress(ns, 'eth0', `${address}/24`)
    await linkUp(ns, 'eth0')
    await addRoute(ns, ['default', 'via', gateway])
    hosts.push({ ns, ifname: 'eth0', address, gateway })
  }
  return { routerNs, hosts }
}
