// Network lab: a point-to-point link between two namespaces and random packet loss on it, with
// iptables' statistic match (`tc netem` is not in every kernel; this is). Builds on netns.ts;
// everything lives inside the Lab's namespaces and goes away with them.
import { execFileSync } from 'node:child_process'
import { addAddress, createVethPair, linkUp, nsExec, type Lab } from './netns.js'

/** Why iptables cannot be used here, or null when it can. */
export function iptablesUnavailableReason (): string | null {
  try {
    execFileSync('iptables', ['-V'], { stdio: 'ignore' })
    return null
  } catch {
    return 'the `iptables` command is not installed'
  }
}

export interface Host { ns: string, ifname: string, address: string }

/**
 * Two namespaces `<tag>-<a>` and `<tag>-<b>` joined by a veth pair (`veth0` in each), with
 * addresses `<subnet>.1` and `<subnet>.2` on a /24 that exists only between them.
 */
export async function createLink (lab: Lab, a: string, b: string, subnet = '10.232.0'): Promise<[Host, Host]> {
  const nsA = await lab.namespace(a)
  const nsB = await lab.namespace(b)
  await createVethPair({ ns: nsA, name: 'veth0' }, { ns: nsB, name: 'veth0' })
  const hosts: [Host, Host] = [
    { ns: nsA, ifname: 'veth0', address: `${subnet}.1` },
    { ns: nsB, ifname: 'veth0', address: `${subnet}.2` }
  ]
  for (const h of hosts) {
    await addAddress(h.ns, h.ifname, `${h.address}/24`)
    await linkUp(h.ns, h.ifname)
  }
  return hosts
}

export type Chain = 'INPUT' | 'OUTPUT'

/**
 * Drops each UDP packet on `chain` of `host`'s interface with probability `p`, independently
 * (`-m statistic --mode random`). Returns the rule's spec, for dropCount.
 */
export async function addRandomUdpDrop (host: Host, chain: Chain, p: number): Promise<string[]> {
  if (!(p > 0 && p < 1)) throw new Error(`drop probability must be in (0, 1), got ${p}`)
  const dir = chain === 'INPUT' ? '-i' : '-o'
  const rule = [chain, dir, host.ifname, '-p', 'udp', '-m', 'statistic', '--mode', 'random', '--probability', String(p), '-j', 'DROP']
  await nsExec(host.ns, 'iptables', ['-w', '-A', ...rule])
  return rule
}

/** Packets the DROP rules on `chain` of `host` have dropped so far. */
export async function dropCount (host: Host, chain: Chain): Promise<number> {
  const out = await nsExec(host.ns, 'iptables', ['-w', '-L', chain, '-v', '-n', '-x'])
  let n = 0
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[2] === 'DROP') n += Number(f[0])
  }
  return n
}
