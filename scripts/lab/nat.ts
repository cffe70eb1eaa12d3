// Network lab: hosts behind real Linux NAT routers (iptables MASQUERADE on the router's WAN side),
// all joined by an "internet" namespace that forwards between the routers and holds a public
// address for a rendezvous server. Builds on netns.ts; everything lives inside the Lab's
// namespaces and goes away with them.
//
//   host i (192.168.1.2/24) ── router i: lan 192.168.1.1 | wan 198.18.(10+i).2 ── inet: 198.18.(10+i).1
//                                                                                  lo: 198.18.0.1 (public)
// Every site uses the same private subnet, as two homes would, so a private address can never
// be reached from the other site: only what the NATs translate crosses.
//
// Modes, in RFC 4787 terms: plain MASQUERADE keeps the host's source port while the resulting
// connection tuple is unique, so it maps endpoint-independently in practice (§4.1) and filters
// by address and port (conntrack admits only replies, §5); `--random-fully` draws a random port
// for every new connection, i.e. address-and-port-dependent mapping with random ports (§4.2.1).
//
// Each router also drops new connections from the WAN to itself, as a home router's firewall
// does. Without that, a simultaneous punch breaks on Linux about half the time: when the peer's
// first punch reaches the router before the host's own punch has left, conntrack records it as
// a connection to the router (peer:p → wan:5000, unreplied); the host's punch then needs the very
// same tuple reversed, so MASQUERADE gives it another source port, which the peer's router does
// not admit. Dropped in the filter table's INPUT chain, such a packet is never confirmed in
// conntrack and leaves no entry behind.
import { addAddress, addRoute, createVethPair, enableForwarding, linkUp, nsExec, sweepStaleLabs, type Lab, type LinkEnd } from './netns.js'

export type NatMode = 'masquerade' | 'random-fully'

export interface NattedSite {
  /** The NAT router's namespace. */
  routerNs: string
  /** Its address on the internet side: what anyone outside sees as the host's IP. */
  wanAddress: string
  /** The host behind it. */
  hostNs: string
  hostAddress: string
}

export interface NatLab {
  /** The "internet": forwards between the routers and is where public services run. */
  inetNs: string
  /** A public address in `inetNs` (on its loopback), reachable from every site. */
  publicAddress: string
  sites: NattedSite[]
}

const PUBLIC_ADDRESS = '198.18.0.1'
/** The home LAN every site uses (router .1, host .2). */
export const LAN = '192.168.1'

/** Builds the internet namespace and one NATed site per entry of `modes` (1..20), the sites in
 *  parallel (each touches only its own namespaces and its own veth in `inet`). */
export async function createNatLab (lab: Lab, modes: NatMode[]): Promise<NatLab> {
  if (modes.length < 1 || modes.length > 20) throw new Error('modes must list 1..20 NATs')
  await sweepStaleLabs()
  const inetNs = await lab.namespace('inet')
  await enableForwarding(inetNs)
  await addAddress(inetNs, 'lo', `${PUBLIC_ADDRESS}/32`)
  const sites = await Promise.all(modes.map(async (mode, i) => await createSite(lab, inetNs, i, mode)))
  return { inetNs, publicAddress: PUBLIC_ADDRESS, sites }
}

async function createSite (lab: Lab, inetNs: string, i: number, mode: NatMode): Promise<NattedSite> {
  const wanNet = `198.18.${10 + i}`
  const routerNs = await lab.namespace(`nat${i}`)
  const hostNs = await lab.namespace(`h${i}`)
  await enableForwarding(routerNs)

  await wireHome({ ns: inetNs, name: `w${i}` }, routerNs, hostNs, wanNet)
  await addMasquerade(routerNs, 'wan', mode)
  await nsExec(routerNs, 'iptables', ['-w', '-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP'])
  return { routerNs, wanAddress: `${wanNet}.2`, hostNs, hostAddress: `${LAN}.2` }
}

/**
 * The links of one home, as drawn above: the router's `wan` to `inet` (router wanNet.2/24, `inet`
 * wanNet.1/24 on its end of the veth, the router's default route through it) and its `lan`
 * (LAN.1/24) to the host's `eth0` (LAN.2/24, default route via the router). No translation yet.
 */
export async function wireHome (inet: LinkEnd, routerNs: string, hostNs: string, wanNet: string): Promise<void> {
  await createVethPair(inet, { ns: routerNs, name: 'wan' })
  await addAddress(inet.ns, inet.name, `${wanNet}.1/24`)
  await linkUp(inet.ns, inet.name)
  await addAddress(routerNs, 'wan', `${wanNet}.2/24`)
  await linkUp(routerNs, 'wan')
  await addRoute(routerNs, ['default', 'via', `${wanNet}.1`])

  await createVethPair({ ns: routerNs, name: 'lan' }, { ns: hostNs, name: 'eth0' })
  await addAddress(routerNs, 'lan', `${LAN}.1/24`)
  await linkUp(routerNs, 'lan')
  await addAddress(hostNs, 'eth0', `${LAN}.2/24`)
  await linkUp(hostNs, 'eth0')
  await addRoute(hostNs, ['default', 'via', `${LAN}.1`])
}

/** Source NAT for everything leaving `wan`: `-j MASQUERADE`, with `--random-fully` if asked. */
export async function addMasquerade (ns: string, wan: string, mode: NatMode): Promise<void> {
  const rule = ['-t', 'nat', '-A', 'POSTROUTING', '-o', wan, '-j', 'MASQUERADE']
  if (mode === 'random-fully') rule.push('--random-fully')
  await nsExec(ns, 'iptables', ['-w', ...rule])
}

/**
 * Another host behind `site`'s router, on a subnet of its own (192.168.(2+j).0/24, routed by the
 * router without translation): two users behind one home NAT. Nothing makes the router hairpin
 * (no DNAT of its WAN address back inside), so the two reach each other only at their private
 * addresses.
 */
export async function addSiteHost (lab: Lab, site: NattedSite, j: number): Promise<{ hostNs: string, hostAddress: string }> {
  const net = `192.168.${2 + j}`
  const hostNs = await lab.namespace(`${site.routerNs.slice(site.routerNs.lastIndexOf('-') + 1)}h${j}`) // nat0 → nat0h0
  await createVethPair({ ns: site.routerNs, name: `lan${2 + j}` }, { ns: hostNs, name: 'eth0' })
  await addAddress(site.routerNs, `lan${2 + j}`, `${net}.1/24`)
  await linkUp(site.routerNs, `lan${2 + j}`)
  await addAddress(hostNs, 'eth0', `${net}.2/24`)
  await linkUp(hostNs, 'eth0')
  await addRoute(hostNs, ['default', 'via', `${net}.1`])
  return { hostNs, hostAddress: `${net}.2` }
}
