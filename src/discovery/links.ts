// Which links we speak mDNS on, and what we announce on each (proto-spec/discovery.md §3.1).
// Pure: takes what os.networkInterfaces() returned.
import type { NetworkInterfaceInfo } from 'node:os'
import { isIPv4 } from 'node:net'
import type { InterfaceAddresses } from './mdns-records.js'
import { sameSubnet, type LinkAddress } from './mdns-parse.js'

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>

export interface Link {
  name: string
  internal: boolean
  ipv4: LinkAddress[]
  ipv6: LinkAddress[]
}

/** The interfaces with at least one IPv4 address (mDNS here runs over IPv4), sorted by name. */
export function readLinks (table: InterfaceTable): Link[] {
  const links: Link[] = []
  for (const name of Object.keys(table).sort()) {
    const infos = table[name] ?? []
    const ipv4 = infos.filter(i => isV4(i)).map(i => ({ address: i.address, netmask: i.netmask, family: 4 as const }))
    if (ipv4.length === 0) continue
    const ipv6 = infos.filter(i => !isV4(i)).map(i => ({ address: i.address, netmask: i.netmask, family: 6 as const }))
    links.push({ name, internal: infos.some(i => i.internal), ipv4, ipv6 })
  }
  return links
}

function isV4 (i: NetworkInterfaceInfo): boolean {
  return (i.family as string | number) === 'IPv4' || (i.family as string | number) === 4
}

/**
 * The links we announce and browse on. With `interfaceAddress` (e.g. '127.0.0.1'): only the
 * link holding it (or a bare /32 if none does). Otherwise every non-loopback link, or the
 * loopback links when there is nothing else.
 */
export function activeLinks (links: readonly Link[], interfaceAddress?: string): Link[] {
  if (interfaceAddress !== undefined) {
    const holder = links.find(l => l.ipv4.some(a => a.address === interfaceAddress))
    if (holder !== undefined) return [{ ...holder, ipv4: holder.ipv4.filter(a => a.address === interfaceAddress) }]
    if (!isIPv4(interfaceAddress)) return []
    return [{ name: interfaceAddress, internal: false, ipv4: [{ address: interfaceAddress, netmask: '255.255.255.255', family: 4 }], ipv6: [] }]
  }
  const external = links.filter(l => !l.internal)
  return external.length > 0 ? external : links.filter(l => l.internal)
}

/** The active link a packet from `source` came over (RFC 6762 §11), or null: off-link. */
export function linkFor (source: string, links: readonly Link[]): Link | null {
  return links.find(l => l.ipv4.some(a => sameSubnet(source, a))) ?? null
}

/** The IPv4 address we send multicast out of on this link. */
export function sendAddress (link: Link): string {
  return link.ipv4[0]?.address ?? '0.0.0.0'
}

/**
 * Addresses we announce on a link (RFC 6762 §6.2: that link's own). IPv6 link-local addresses
 * are left out: without a zone index a peer cannot use them.
 */
export function linkAddresses (link: Link): InterfaceAddresses {
  return {
    ipv4: link.ipv4.map(a => a.address),
    ipv6: link.ipv6.map(a => a.address.toLowerCase()).filter(a => !/^fe[89ab]/.test(a))
  }
}

/** A value that changes whenever what we would announce changes (for interface polling). */
export function linksKey (links: readonly Link[]): string {
  return links.map(l => `${l.name}=${[...linkAddresses(l).ipv4, ...linkAddresses(l).ipv6].join(',')}`).join(';')
}
