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
// A site may also be (SiteSpec):
// - behind a carrier-grade NAT: host ── home router (wan 100.64.(10+i).2) ── cgn i (in 100.64.(10+i).1
//   | wan 198.18.(10+i).2) ── inet; the shared address space of RFC 6598 between the two NATs, and
//   what the world sees is the CGN's address;
// - a router with miniupnpd's chains (start miniupnpd with scripts/lab/miniupnpd.ts): miniupnpd
//   refuses a WAN address in any reserved range (RFC 1918, 100.64/10, the TEST-NETs, 198.18/15),
//   so that site's WAN is 11.22.(10+i).0/24, a routable-looking block that exists only inside these
//   namespaces, which have no route out. miniupnpd programs its rules through libiptc, i.e. the
//   legacy iptables tables, so its chains are made there (the plain `iptables` here may be the nft
//   backend that MASQUERADE uses; both sets of hooks see every packet).
//
// Modes, in RFC 4787 terms: plain MASQUERADE keeps the host's source port while the resulting
// connection tuple is unique, so it maps endpoint-independently in practice (§4.1) and filters
// by address and port (conntrack admits only replies, §5); `--random-fully` draws a random port
// for every new connection, i.e. address-and-port-dependent mapping with random ports (§4.2.1);
// `full-cone` is MASQUERADE plus a DNAT of every UDP datagram arriving on the WAN to the one host
// inside: the mapping the host's traffic made (its port kept) admits anyone — endpoint-independent
// filtering (§5), what a filtering test (RFC 5780 §4.4) must tell from the other two.
//
// Each router also drops new connections from the WAN to itself, as a home router's firewall
// does. Without that, a simultaneous punch breaks on Linux about half the time: when the peer's
// first punch reaches the router before the host's own punch has left, conntrack records it as
// a connection to the router (peer:p → wan:5000, unreplied); the host's punch then needs the very
// same tuple reversed, so MASQUERADE gives it another source port, which the peer's router does
// not admit. Dropped in the filter table's INPUT chain, such a packet is never confirmed in
// conntrack and leaves no entry behind.
import { addAddress, addRoute, createVethPair, enableForwarding, linkUp, nsExec, sweepStaleLabs, type Lab } from './netns.js'

export type NatMode = 'masquerade' | 'random-fully' | 'full-cone'

/** One site: its home router's mode, and what else stands between it and the internet. */
export interface SiteSpec {
  mode: NatMode
  /** a carrier-grade NAT of this mode in front of the home router (double NAT) */
  cgn?: NatMode
  /** the home router gets miniupnpd's chains and a non-reserved WAN address (no CGN then) */
  upnp?: boolean
}

export interface NattedSite {
  /** The home NAT router's namespace. */
  routerNs: string
  /** The address anyone outside sees as the host's IP (the CGN's, behind one). */
  wanAddress: string
  /** The home router's own WAN address (the same as wanAddress without a CGN). */
  routerWanAddress: string
  /** The home router's LAN address: the host's gateway (where PCP / NAT-PMP go). */
  lanGateway: string
  /** The carrier-grade NAT's namespace, when there is one. */
  cgnNs?: string
  /** The host behind it. */
  hostNs: string
  hostAddress: string
  /** The internet namespace's address on this site's link (upstream of the outermost NAT). */
  inetLinkAddress: string
}

export interface NatLab {
  /** The "internet": forwards between the routers and is where public services run. */
  inetNs: string
  /** A public address in `inetNs` (on its loopback), reachable from every site. */
  publicAddress: string
  sites: NattedSite[]
}

const PUBLIC_ADDRESS = '198.18.0.1'
const LAN = '192.168.1'

/** Builds the internet namespace and one NATed site per entry of `sites` (1..20), the sites in
 *  parallel (each touches only its own namespaces and its own veth in `inet`). */
export async function createNatLab (lab: Lab, sites: Array<NatMode | SiteSpec>): Promise<NatLab> {
  if (sites.length < 1 || sites.length > 20) throw new Error('sites must list 1..20 NATs')
  await sweepStaleLabs()
  const inetNs = await lab.namespace('inet')
  await enableForwarding(inetNs)
  await addAddress(inetNs, 'lo', `${PUBLIC_ADDRESS}/32`)
  const built = await Promise.all(sites.map(async (spec, i) => await createSite(lab, inetNs, i, typeof spec === 'string' ? { mode: spec } : spec)))
  return { inetNs, publicAddress: PUBLIC_ADDRESS, sites: built }
}

async function createSite (lab: Lab, inetNs: string, i: number, spec: SiteSpec): Promise<NattedSite> {
  if (spec.upnp === true && spec.cgn !== undefined) throw new Error('a miniupnpd router behind a CGN is not built (miniupnpd refuses a 100.64/10 WAN)')
  const wanNet = `${spec.upnp === true ? '11.22' : '198.18'}.${10 + i}`
  const routerNs = await lab.namespace(`nat${i}`)
  const hostNs = await lab.namespace(`h${i}`)
  let cgnNs: string | undefined
  let routerWan = `${wanNet}.2`
  if (spec.cgn !== undefined) {
    // inet ── cgn ── home router: the home router's WAN is in the shared address space (RFC 6598)
    cgnNs = await lab.namespace(`cgn${i}`)
    await join({ ns: inetNs, name: `w${i}` }, { ns: cgnNs, name: 'wan' }, wanNet)
    await join({ ns: cgnNs, name: 'in' }, { ns: routerNs, name: 'wan' }, `100.64.${10 + i}`)
    await natRouter(cgnNs, 'wan', spec.cgn, `100.64.${10 + i}.2`)
    routerWan = `100.64.${10 + i}.2`
  } else {
    await join({ ns: inetNs, name: `w${i}` }, { ns: routerNs, name: 'wan' }, wanNet)
  }
  await join({ ns: routerNs, name: 'lan' }, { ns: hostNs, name: 'eth0' }, LAN)
  await natRouter(routerNs, 'wan', spec.mode, `${LAN}.2`)
  if (spec.upnp === true) await addMiniupnpdChains(routerNs, 'wan')
  return {
    routerNs, wanAddress: `${wanNet}.2`, routerWanAddress: routerWan, lanGateway: `${LAN}.1`,
    ...(cgnNs === undefined ? {} : { cgnNs }), hostNs, hostAddress: `${LAN}.2`, inetLinkAddress: `${wanNet}.1`
  }
}

/**
 * A link from `up` (a router, `<net>.1/24`) down to `down` (`<net>.2/24`, its default route via
 * `up`): the one piece of wiring every hop of the lab repeats.
 */
async function join (up: { ns: string, name: string }, down: { ns: string, name: string }, net: string): Promise<void> {
  await createVethPair(up, down)
  await addAddress(up.ns, up.name, `${net}.1/24`)
  await linkUp(up.ns, up.name)
  await addAddress(down.ns, down.name, `${net}.2/24`)
  await linkUp(down.ns, down.name)
  await addRoute(down.ns, ['default', 'via', `${net}.1`])
}

/**
 * A NAT router: forwards, masquerades on `wan`, and drops new connections from `wan` to itself (see
 * above); a full cone also hands every UDP datagram arriving on `wan` to `inside` (same port).
 */
async function natRouter (ns: string, wan: string, mode: NatMode, inside: string): Promise<void> {
  await enableForwarding(ns)
  await addMasquerade(ns, wan, mode)
  if (mode === 'full-cone') await nsExec(ns, 'iptables', ['-w', '-t', 'nat', '-A', 'PREROUTING', '-i', wan, '-p', 'udp', '-j', 'DNAT', '--to-destination', inside])
  await nsExec(ns, 'iptables', ['-w', '-A', 'INPUT', '-i', wan, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP'])
}

/** Source NAT for everything leaving `wan`: `-j MASQUERADE`, with `--random-fully` if asked. */
export async function addMasquerade (ns: string, wan: string, mode: NatMode): Promise<void> {
  const rule = ['-t', 'nat', '-A', 'POSTROUTING', '-o', wan, '-j', 'MASQUERADE']
  if (mode === 'random-fully') rule.push('--random-fully')
  await nsExec(ns, 'iptables', ['-w', ...rule])
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

/**
 * Another host behind `site`'s router, on a subnet of its own (192.168.(2+j).0/24, routed by the
 * router without translation): two users behind one home NAT. Nothing makes the router hairpin
 * (no DNAT of its WAN address back inside), so the two reach each other only at their private
 * addresses.
 */
export async function addSiteHost (lab: Lab, site: NattedSite, j: number): Promise<{ hostNs: string, hostAddress: string }> {
  const net = `192.168.${2 + j}`
  const hostNs = await lab.namespace(`${site.routerNs.slice(site.routerNs.lastIndexOf('-') + 1)}h${j}`) // nat0 → nat0h0
  await join({ ns: site.routerNs, name: `lan${2 + j}` }, { ns: hostNs, name: 'eth0' }, net)
  return { hostNs, hostAddress: `${net}.2` }
}

/** A host with a public address and no NAT, straight on the internet (198.18.(10+i).2; `i` apart from the sites'). */
export async function addPublicHost (lab: Lab, net: NatLab, i: number): Promise<{ hostNs: string, hostAddress: string }> {
  const wanNet = `198.18.${10 + i}`
  const hostNs = await lab.namespace(`pub${i}`)
  await join({ ns: net.inetNs, name: `w${i}` }, { ns: hostNs, name: 'eth0' }, wanNet)
  return { hostNs, hostAddress: `${wanNet}.2` }
}
