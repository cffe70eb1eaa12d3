// Network lab: miniupnpd (NAT-PMP and PCP, or UPnP IGD) on a home router, for the port-mapping
// tests (proto-spec/portmap.md). The router is a scripts/lab/nat.ts site built with `upnp: true`
// (miniupnpd's chains in the legacy tables, a non-reserved WAN address):
//
//   host (192.168.1.2/24) ── router: lan 192.168.1.1 | wan 11.22.(10+i).2 ── inet: 11.22.(10+i).1
//                             miniupnpd on lan:5351 (NAT-PMP/PCP) or lan:1900 + HTTP (UPnP IGD)
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { nsExec, type Lab } from './netns.js'
import { createNatLab } from './nat.js'

export interface UpnpSite {
  inetNs: string
  /** the internet side's address: where unsolicited packets come from */
  inetAddress: string
  routerNs: string
  wanAddress: string
  lanGateway: string
  hostNs: string
  hostAddress: string
}

const LAN = '192.168.1'

/** Why miniupnpd cannot run here, or null. */
export function miniupnpdUnavailableReason (): string | null {
  for (const [cmd, pkg] of [['miniupnpd', 'miniupnpd-iptables'], ['iptables-legacy', 'iptables']] as const) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    } catch {
      return `\`${cmd}\` is not installed (Debian package ${pkg})`
    }
  }
  return null
}

/** One home router in front of one host, ready for startMiniupnpd. */
export async function createUpnpSite (lab: Lab): Promise<UpnpSite> {
  const net = await createNatLab(lab, [{ mode: 'masquerade', upnp: true }])
  const site = net.sites[0]!
  return { inetNs: net.inetNs, inetAddress: site.inetLinkAddress, routerNs: site.routerNs, wanAddress: site.wanAddress, lanGateway: site.lanGateway, hostNs: site.hostNs, hostAddress: site.hostAddress }
}

/** The DNAT rules miniupnpd holds right now (what a mapping is, on the router). */
export async function miniupnpdRules (site: { routerNs: string }): Promise<string[]> {
  const text = await nsExec(site.routerNs, 'iptables-legacy', ['-w', '-t', 'nat', '-S', 'MINIUPNPD'])
  return text.split('\n').filter(l => l.startsWith('-A MINIUPNPD'))
}

/**
 * What a power cycle does to the router's kernel: every rule miniupnpd made is gone (miniupnpd
 * itself leaves them in place when it exits). Call with miniupnpd stopped.
 */
export async function flushMiniupnpdRules (site: { routerNs: string }): Promise<void> {
  for (const [table, chain] of [['nat', 'MINIUPNPD'], ['nat', 'MINIUPNPD-POSTROUTING'], ['mangle', 'MINIUPNPD'], ['filter', 'MINIUPNPD']]) {
    await nsExec(site.routerNs, 'iptables-legacy', ['-w', '-t', table!, '-F', chain!])
  }
}

export interface Miniupnpd {
  child: ChildProcess
  /** the UPnP HTTP port (description and SOAP control), when UPnP is on */
  httpPort: number | null
  /** the lines of its lease file (UPnP mappings: `UDP:ext port:client:int port:expiry:description`); [] before the first */
  leases: () => Promise<string[]>
  /** stdout and stderr so far (its log, with -d) */
  log: () => string
  /** SIGTERM by PID, then waits for the exit (its rules stay: see flushMiniupnpdRules) */
  stop: () => Promise<void>
}

export interface MiniupnpdOptions {
  minLifetimeS?: number
  /**
   * 'natpmp' (the default): NAT-PMP/PCP on 5351, no UPnP. 'upnp': UPnP IGD only (SSDP on 1900,
   * HTTP on a port of its choosing), NAT-PMP/PCP off — a router that speaks nothing else.
   */
  protocols?: 'natpmp' | 'upnp'
  /** UPnP: describe itself as IGD v1 (WANIPConnection:1), as older routers do */
  igdV1?: boolean
}

/**
 * Starts miniupnpd in the router namespace on the LAN side only, secure mode (a host may map only
 * to itself), its config and pid file in a temp dir. NAT-PMP/PCP mode resolves once it listens on
 * 5351; UPnP mode once its HTTP server listens.
 */
export async function startMiniupnpd (site: { routerNs: string }, opts: MiniupnpdOptions = {}): Promise<Miniupnpd> {
  const upnp = opts.protocols === 'upnp'
  const dir = await mkdtemp(join(tmpdir(), 'dmess-miniupnpd-'))
  const conf = join(dir, 'miniupnpd.conf')
  await writeFile(conf, [
    'ext_ifname=wan',
    'listening_ip=lan',
    'port=0',
    `enable_upnp=${upnp ? 'yes' : 'no'}`,
    `enable_natpmp=${upnp ? 'no' : 'yes'}`,
    'secure_mode=yes',
    'system_uptime=no',
    `min_lifetime=${opts.minLifetimeS ?? 120}`,
    'uuid=3c1f9a2e-2b51-4d8e-9a11-0d0e55a5a001',
    // its leases in the temp dir: a restart (a power cycle) starts with none, and nothing is shared with the machine's own
    `lease_file=${join(dir, 'upnp.leases')}`,
    ...(opts.igdV1 === true ? ['force_igd_desc_v1=yes'] : []),
    `allow 1024-65535 ${LAN}.0/24 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    ''
  ].join('\n'))
  // `ip netns exec` execs miniupnpd itself: child.pid is miniupnpd's
  const child = spawn('ip', ['netns', 'exec', site.routerNs, 'miniupnpd', '-f', conf, '-d', '-P', join(dir, 'pid')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const onData = (d: Buffer): void => { log = (log + d.toString()).slice(-16_384) }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
    await exited
    await rm(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  const ready = upnp ? /HTTP listening on port (\d+)/ : /Listening for NAT-PMP\/PCP traffic on port 5351/
  while (!ready.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`miniupnpd did not start: ${log.trim().slice(-2000)}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const http = upnp ? /HTTP listening on port (\d+)/.exec(log) : null
  const leases = async (): Promise<string[]> => {
    try {
      return (await readFile(join(dir, 'upnp.leases'), 'utf8')).split('\n').filter(l => l !== '')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }
  return { child, httpPort: http === null ? null : Number(http[1]), leases, log: () => log, stop }
}
