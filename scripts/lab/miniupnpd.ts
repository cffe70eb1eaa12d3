// Network lab: a home router running miniupnpd (NAT-PMP and PCP) in front of one host, for the
// port-mapping test (proto-spec/portmap.md). Builds on netns.ts and nat.ts's home (wireHome) and MASQUERADE.
//
//   host (192.168.1.2/24) ── router: lan 192.168.1.1 | wan 11.22.33.2 ── inet: 11.22.33.1
//                             miniupnpd on lan:5351
//
// miniupnpd refuses a WAN address in any reserved range (RFC 1918, 100.64/10, the TEST-NETs,
// 198.18/15), so the WAN side uses 11.22.33.0/24: a routable-looking block that exists only inside
// these namespaces, which have no route out. miniupnpd programs its rules through libiptc, i.e.
// the legacy iptables tables, so its chains are made there (the plain `iptables` here may be the
// nft backend that nat.ts uses for MASQUERADE; both sets of hooks see every packet).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { enableForwarding, nsExec, sweepStaleLabs, type Lab } from './netns.js'
import { addMasquerade, LAN, wireHome } from './nat.js'

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

const WAN = '11.22.33'

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

export async function createUpnpSite (lab: Lab): Promise<UpnpSite> {
  await sweepStaleLabs()
  const inetNs = await lab.namespace('inet')
  const routerNs = await lab.namespace('gw')
  const hostNs = await lab.namespace('h0')
  await enableForwarding(routerNs)

  await wireHome({ ns: inetNs, name: 'w0' }, routerNs, hostNs, WAN)
  await addMasquerade(routerNs, 'wan', 'masquerade')
  await addMiniupnpdChains(routerNs, 'wan')
  return { inetNs, inetAddress: `${WAN}.1`, routerNs, wanAddress: `${WAN}.2`, lanGateway: `${LAN}.1`, hostNs, hostAddress: `${LAN}.2` }
}

/** The chains miniupnpd fills, in the legacy tables, jumped to as its iptables_init.sh does. */
async function addMiniupnpdChains (ns: string, wan: string): Promise<void> {
  const ipt = async (args: string[]): Promise<void> => { await nsExec(ns, 'iptables-legacy', ['-w', ...args]) }
  await ipt(['-t', 'nat', '-N', 'MINIUPNPD'])
  await ipt(['-t', 'nat', '-A', 'PREROUTING', '-i', wan, '-j', 'MINIUPNPD'])
  await ipt(['-t', 'nat', '-N', 'MINIUPNPD-POSTROUTING'])
  await ipt(['-t', 'nat', '-A', 'POSTROUTING', '-o', wan, '-j', 'MINIUPNPD-POSTROUTING'])
  await ipt(['-t', 'mangle', '-N', 'MINIUPNPD'])
  await ipt(['-t', 'mangle', '-A', 'PREROUTING', '-i', wan, '-j', 'MINIUPNPD'])
  await ipt(['-t', 'filter', '-N', 'MINIUPNPD'])
  await ipt(['-t', 'filter', '-A', 'FORWARD', '-i', wan, '!', '-o', wan, '-j', 'MINIUPNPD'])
}

/** The DNAT rules miniupnpd holds right now (what a mapping is, on the router). */
export async function miniupnpdRules (site: UpnpSite): Promise<string[]> {
  const text = await nsExec(site.routerNs, 'iptables-legacy', ['-w', '-t', 'nat', '-S', 'MINIUPNPD'])
  return text.split('\n').filter(l => l.startsWith('-A MINIUPNPD'))
}

/**
 * What a power cycle does to the router's kernel: every rule miniupnpd made is gone (miniupnpd
 * itself leaves them in place when it exits). Call with miniupnpd stopped.
 */
export async function flushMiniupnpdRules (site: UpnpSite): Promise<void> {
  for (const [table, chain] of [['nat', 'MINIUPNPD'], ['nat', 'MINIUPNPD-POSTROUTING'], ['mangle', 'MINIUPNPD'], ['filter', 'MINIUPNPD']]) {
    await nsExec(site.routerNs, 'iptables-legacy', ['-w', '-t', table!, '-F', chain!])
  }
}

export interface Miniupnpd {
  child: ChildProcess
  /** stdout and stderr so far (its log, with -d) */
  log: () => string
  /** SIGTERM by PID, then waits for the exit (its rules stay: see flushMiniupnpdRules) */
  stop: () => Promise<void>
}

/**
 * Starts miniupnpd in the router namespace with NAT-PMP/PCP on the LAN side only, no UPnP HTTP
 * (port=0), secure mode (a host may map only to itself), its config and pid file in a temp dir.
 * Resolves once it listens on 5351.
 */
export async function startMiniupnpd (site: UpnpSite, opts: { minLifetimeS?: number } = {}): Promise<Miniupnpd> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-miniupnpd-'))
  const conf = join(dir, 'miniupnpd.conf')
  await writeFile(conf, [
    'ext_ifname=wan',
    'listening_ip=lan',
    'port=0',
    'enable_upnp=no',
    'enable_natpmp=yes',
    'secure_mode=yes',
    'system_uptime=no',
    `min_lifetime=${opts.minLifetimeS ?? 120}`,
    'uuid=3c1f9a2e-2b51-4d8e-9a11-0d0e55a5a001',
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
  while (!/Listening for NAT-PMP\/PCP traffic on port 5351/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`miniupnpd did not start: ${log.trim().slice(-2000)}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { child, log: () => log, stop }
}
