// The ceiling for path MTU discovery (proto-spec/reliable.md §15): the largest UDP payload the
// local link towards a peer can carry, when the peer is on that link — loopback, or inside the
// subnet of one of our interfaces, so no router stands between us and the link's MTU is the
// path's. Off-link peers get null: a probe towards them could pass only because the kernel
// fragments it (Linux sends UDP with IP_PMTUDISC_WANT), which is exactly what we must not
// confirm, so they stay at the base size. The MTU comes from /sys/class/net/<name>/mtu (Linux);
// elsewhere it is unknown and the answer is null.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { readFileSync } from 'node:fs'
import { BlockList, isIP, isIPv4 } from 'node:net'
import { MAX_TRANSPORT_DATAGRAM_BYTES } from '../wire/constants.js'
import { isLoopbackHost } from '../io/address.js'

const IPV4_UDP_OVERHEAD = 20 + 8 // RFC 791 header without options, RFC 768
const IPV6_UDP_OVERHEAD = 40 + 8 // RFC 8200 fixed header, RFC 768

/** Where interface facts come from (the OS by default; a test passes its own). */
export interface LinkFacts {
  interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>
  /** The interface's MTU, or null if unknown. */
  mtu: (name: string) => number | null
}

export const osLinkFacts: LinkFacts = {
  interfaces: networkInterfaces,
  mtu (name) {
    if (!/^[\w.:@-]+$/.test(name)) return null // an interface name, never a path
    try {
      const n = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'), 10)
      return Number.isInteger(n) && n > 0 ? n : null
    } catch {
      return null
    }
  }
}

/** How long interface facts are reused: links change rarely, sessions may start by the hundred per second. */
export const LINK_FACTS_TTL_MS = 2000

/**
 * `facts`, each answer reused for `ttlMs`. Every new session and every roam asks; reading the
 * interfaces (getifaddrs) and /sys each time cost ~10% of a responder's CPU per handshake. A
 * link that changed is seen at most `ttlMs` late, and probing copes with a stale ceiling (a
 * probe that is too big is lost and the black-hole rule of reliable.md §15 applies).
 */
export function cachedLinkFacts (facts: LinkFacts, ttlMs = LINK_FACTS_TTL_MS, now: () => number = () => performance.now()): LinkFacts {
  let interfaces: { at: number, value: NodeJS.Dict<NetworkInterfaceInfo[]> } | null = null
  const mtus = new Map<string, { at: number, value: number | null }>()
  return {
    interfaces () {
      const t = now()
      if (interfaces === null || t - interfaces.at >= ttlMs) interfaces = { at: t, value: facts.interfaces() }
      return interfaces.value
    },
    mtu (name) {
      const t = now()
      let m = mtus.get(name)
      if (m === undefined || t - m.at >= ttlMs) {
        if (mtus.size > 64) mtus.clear() // names come from our own interfaces: a handful
        m = { at: t, value: facts.mtu(name) }
        mtus.set(name, m)
      }
      return m.value
    }
  }
}

// Process-wide: the interfaces are the host's, the same for every endpoint in the process (one
// network stack), so endpoints sharing the snapshot only share getifaddrs calls. A node that must
// see other links (a simulated one) passes its own facts or `pathCeiling` (reliable-session.ts).
const osLinkFactsCached = cachedLinkFacts(osLinkFacts)

/**
 * Largest UDP payload worth probing towards `host` (an IP literal), or null if the peer is not
 * on a link of ours or the link's MTU is unknown.
 */
export function onLinkUdpPayloadCeiling (host: string, facts: LinkFacts = osLinkFactsCached): number | null {
  const addr = normalize(host)
  if (addr === null) return null
  const family = isIPv4(addr) ? 'IPv4' : 'IPv6'
  const loopback = isLoopbackHost(addr)
  for (const [name, infos] of Object.entries(facts.interfaces())) {
    for (const info of infos ?? []) {
      if (info.family !== family || info.internal !== loopback) continue
      if (!loopback && !inSubnet(addr, info, family)) continue
      const mtu = facts.mtu(name)
      if (mtu === null) return null
      const payload = mtu - (family === 'IPv4' ? IPV4_UDP_OVERHEAD : IPV6_UDP_OVERHEAD)
      return Math.min(payload, MAX_TRANSPORT_DATAGRAM_BYTES)
    }
  }
  return null
}

// An IPv4-mapped IPv6 address is the IPv4 address; a zone id (fe80::1%eth0) does not change the subnet.
function normalize (host: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)
  if (mapped !== null) return mapped[1]!
  const bare = host.split('%')[0]!
  return isIP(bare) !== 0 ? bare : null
}

function inSubnet (addr: string, info: NetworkInterfaceInfo, family: 'IPv4' | 'IPv6'): boolean {
  const prefix = Number(info.cidr?.split('/')[1])
  if (!Number.isInteger(prefix)) return false
  const type = family === 'IPv4' ? 'ipv4' : 'ipv6'
  const list = new BlockList()
  list.addSubnet(info.address.split('%')[0]!, prefix, type)
  return list.check(addr, type)
}
