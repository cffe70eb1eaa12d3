// Network addresses, the one module for them. Two forms:
// - PeerAddress { host, port }: what a datagram socket reports and takes (node:dgram's form);
// - canonical text "a.b.c.d:port" / "[v6]:port": one string per address, so two spellings of
//   the same IPv6 address compare equal (the DHT keys its tables by it, proto-spec/dht.md §2).
// Plus the /24 (/48) subnet the DHT's defences count, and "host:port" as users type it (flags,
// config) and logs show it. Parsing is hand-rolled (no regex, no split): the simulator parses
// millions of these.
import { errors } from '../errors.js'

export type IpFamily = 4 | 6

export interface ParsedAddress {
  family: IpFamily
  /** 4 or 16 bytes */
  ip: Uint8Array
  port: number
}

// Hand-rolled (no regex, no split): the simulator parses millions of these.
function parseIpv4 (s: string): Uint8Array | null {
  const out = new Uint8Array(4)
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e
    if (c === 0x2e) { // "."
      if (digits === 0 || part > 3) return null
      out[part++] = value
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return null // leading zero
      value = value * 10 + c - 0x30
      if (++digits > 3 || value > 255) return null
    } else {
      return null
    }
  }
  return part === 4 ? out : null
}

function parseGroups (s: string): number[] | null {
  if (s === '') return []
  const groups: number[] = []
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
    groups.push(parseInt(g, 16))
  }
  return groups
}

function parseIpv6 (s: string): Uint8Array | null {
  let text = s
  let tail: number[] = []
  const lastColon = text.lastIndexOf(':')
  if (lastColon >= 0 && text.includes('.', lastColon)) { // embedded IPv4 tail (RFC 4291 §2.2 form 3)
    const v4 = parseIpv4(text.slice(lastColon + 1))
    if (!v4) return null
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!]
    text = text.slice(0, lastColon + 1)
    if (!text.endsWith('::')) text = text.slice(0, -1)
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const head = parseGroups(halves[0] ?? '')
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : []
  if (!head || !rest) return null
  const known = head.length + rest.length + tail.length
  if (halves.length === 1 ? known !== 8 : known > 7) return null
  const groups = [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail]
  const out = new Uint8Array(16)
  groups.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff })
  return out
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

export function isV4Mapped (ip: Uint8Array): boolean {
  return ip.length === 16 && V4_MAPPED_PREFIX.every((b, i) => ip[i] === b)
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function formatIp (ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`
  const groups = Array.from({ length: 8 }, (_, i) => (ip[2 * i]! << 8) | ip[2 * i + 1]!)
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { bestAt = i; bestLen = j - i }
    i = j === i ? i + 1 : j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestAt < 0) return hex.join(':')
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`
}

/** Parses an IP literal; IPv4-mapped IPv6 becomes IPv4 (a dual-stack socket reports both forms). */
export function parseIp (host: string): Uint8Array | null {
  if (typeof host !== 'string' || host.length > 45) return null
  if (!host.includes(':')) return parseIpv4(host)
  const ip = parseIpv6(host)
  return ip && isV4Mapped(ip) ? ip.slice(12) : ip
}

export function parsePort (s: string): number | null {
  if (s.length === 0 || s.length > 5 || s.charCodeAt(0) === 0x30) return null
  let port = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 0x30
    if (c < 0 || c > 9) return null
    port = port * 10 + c
  }
  return port <= 65535 ? port : null
}

/** "1.2.3.4:5" or "[::1]:5" → parts; null for anything else (never throws). */
export function parseAddress (addr: string): ParsedAddress | null {
  if (typeof addr !== 'string') return null
  const colon = addr.lastIndexOf(':')
  if (colon < 0) return null
  const port = parsePort(addr.slice(colon + 1))
  let host = addr.slice(0, colon)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  else if (host.includes(':')) return null
  const ip = parseIp(host)
  if (port === null || ip === null) return null
  return { family: ip.length === 4 ? 4 : 6, ip, port }
}

/** The canonical string for an IP and port (what the transport must pass as `from`). */
export function formatAddress (ip: Uint8Array, port: number): string {
  return ip.length === 4 ? `${formatIp(ip)}:${port}` : `[${formatIp(ip)}]:${port}`
}

/** Canonical form of a host and port as a socket reports them, or null if not an IP literal. */
export function addressOf (host: string, port: number): string | null {
  const ip = parseIp(host)
  return ip !== null && Number.isInteger(port) && port >= 1 && port <= 65535 ? formatAddress(ip, port) : null
}

export function canonicalAddress (addr: string): string | null {
  const p = parseAddress(addr)
  return p ? formatAddress(p.ip, p.port) : null
}

/**
 * The IP part of a canonical address (the rate limiter's and the record store's "source"); a
 * string without a colon is all host (the simulator's public realm takes bare names).
 */
export function hostOf (addr: string): string {
  const i = addr.lastIndexOf(':')
  return i < 0 ? addr : addr.slice(0, i)
}

/** The port of "host:port", or null when there is no valid UDP port (1..65535). */
export function portOf (addr: string): number | null {
  const i = addr.lastIndexOf(':')
  if (i < 0) return null
  return parsePort(addr.slice(i + 1))
}

/**
 * The /24 (IPv4) or /48 (IPv6) a canonical address belongs to: the unit one operator (a home,
 * a small hosting customer) typically controls. dht.md §8.2.
 */
export function subnetOf (addr: string): string {
  if (addr.charCodeAt(0) !== 0x5b) return addr.slice(0, addr.lastIndexOf('.')) // "[" → IPv6
  const p = parseAddress(addr)
  if (!p) return addr
  return `[${Array.from(p.ip.subarray(0, 6), b => b.toString(16).padStart(2, '0')).join('')}]`
}

/**
 * The network a canonical address (or bare IP) is in, for limits per source network: its /24
 * (IPv4) or /64 (IPv6; RFC 4291 §2.5.4: one link, what an ISP hands a single customer, so one host
 * can hold all of it; RFC 6177 §2). An IPv4-mapped IPv6 address counts as its IPv4 /24. Text such
 * as "1.2.3.0/24" or "2001:db8::/64"; null if not an address. The one definition of a source
 * network: the responder's half-open caps (session.md §6.1), the request book's quotas
 * (messaging.md §3.2) and the DHT's limits (dht.md §8.4) all count by it.
 */
export function networkKeyOf (addr: string): string | null {
  const ip = parseAddress(addr)?.ip ?? parseIp(addr)
  if (ip === null) return null
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.0/24`
  const net = new Uint8Array(16)
  net.set(ip.subarray(0, 8))
  return `${formatIp(net)}/64`
}

/** What kind of IP a host is, for deciding whom a node may contact (proto-spec/dht.md §8.1). */
export type IpScope = 'unspecified' | 'loopback' | 'link-local' | 'multicast' | 'broadcast' | 'reserved' | 'private' | 'public'

/** A special-purpose block: the network's bytes (4 or 16), its prefix length, and its scope. */
export interface ScopeBlock { ip: Uint8Array, bits: number, scope: IpScope }

function block (bytes: number[], length: 4 | 16, bits: number, scope: IpScope): ScopeBlock {
  const ip = new Uint8Array(length)
  ip.set(bytes)
  return Object.freeze({ ip, bits, scope })
}

/**
 * The one table of special-purpose addresses (RFC 6890's registries, the parts that matter for
 * where a packet goes), first match wins. 240.0.0.0/4 is 'reserved': RFC 1112 §4 sets class E
 * aside "for future use" and RFC 6890 §2.2.2 lists it as neither a valid source nor destination
 * nor forwardable, so no host on the Internet holds one (it is not 'public'); its last address,
 * 255.255.255.255, is listed apart as the limited broadcast (RFC 919, RFC 6890 §2.2.2) and
 * matches first. Everything outside the table is 'public'.
 */
const V4_BLOCKS: readonly ScopeBlock[] = [
  block([0], 4, 8, 'unspecified'), // RFC 1122 §3.2.1.3 "this network"
  block([127], 4, 8, 'loopback'),
  block([169, 254], 4, 16, 'link-local'), // RFC 3927
  block([224], 4, 4, 'multicast'), // RFC 5771
  block([255, 255, 255, 255], 4, 32, 'broadcast'),
  block([240], 4, 4, 'reserved'),
  block([10], 4, 8, 'private'), // RFC 1918
  block([172, 16], 4, 12, 'private'),
  block([192, 168], 4, 16, 'private'),
  block([100, 64], 4, 10, 'private') // RFC 6598 shared address space (carrier-grade NAT)
]
const V6_BLOCKS: readonly ScopeBlock[] = [
  block([], 16, 128, 'unspecified'), // ::
  block([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 16, 128, 'loopback'), // ::1
  block([0xfe, 0x80], 16, 10, 'link-local'), // RFC 4291 §2.5.6
  block([0xff], 16, 8, 'multicast'), // RFC 4291 §2.7
  block([0xfc], 16, 7, 'private') // RFC 4193 unique local
]

/** True when the first `bits` bits of `ip` equal those of `prefix` (missing bytes count as zero). */
export function inPrefix (ip: Uint8Array, prefix: ArrayLike<number>, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const mask = bits - i * 8 >= 8 ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff
    if (((ip[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false
  }
  return true
}

/** The special-purpose block `ip` lies in, or null: a public address. */
export function scopeBlockOf (ip: Uint8Array): ScopeBlock | null {
  const table = ip.length === 16 ? V6_BLOCKS : V4_BLOCKS
  for (const b of table) if (inPrefix(ip, b.ip, b.bits)) return b
  return null
}

/**
 * The scope of an IP by the table above. IPv4 in IPv6 (::ffff:a.b.c.d) is judged as the IPv4
 * address (parseIp maps it).
 */
export function ipScope (ip: Uint8Array): IpScope {
  return scopeBlockOf(ip)?.scope ?? 'public'
}

/** ipScope of a canonical address's host; null if it is not an address. */
export function addressScope (addr: string): IpScope | null {
  const p = parseAddress(addr)
  return p === null ? null : ipScope(p.ip)
}

/** ipScope of a bare IP literal ("10.0.0.1", "::1", "::ffff:127.0.0.1"); null if it is not one. */
export function hostScope (host: string): IpScope | null {
  const ip = parseIp(host)
  return ip === null ? null : ipScope(ip)
}

/** Is `host` a loopback IP (127/8, ::1, or 127/8 mapped into IPv6)? A name is not. */
export function isLoopbackHost (host: string): boolean {
  return hostScope(host) === 'loopback'
}

/** A UDP address as node:dgram reports it. */
export interface PeerAddress {
  host: string
  port: number
}

/** A Map key for a PeerAddress (not canonical: use addressOf where spellings may differ). */
export function addressKey (a: PeerAddress): string {
  return `${a.host}|${a.port}`
}

export function sameAddress (a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && a.host === b.host
}

/** "host:port", with brackets around an IPv6 host: the form users type and logs show. */
export function formatHostPort (a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** formatHostPort, or null for no address (what JSON shows for a peer with none). */
export function formatHostPortOrNull (a: PeerAddress | null): string | null {
  return a === null ? null : formatHostPort(a)
}

/** The inverse of formatHostPort for any host text (no validation of the host); null without a port. */
export function splitHostPort (text: string): PeerAddress | null {
  const i = text.lastIndexOf(':')
  if (i <= 0) return null
  const port = parsePort(text.slice(i + 1))
  if (port === null) return null
  let host = text.slice(0, i)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  return host === '' ? null : { host, port }
}

/** A canonical address as a PeerAddress, or null when it is not one. */
export function peerAddressOf (addr: string): PeerAddress | null {
  const p = parseAddress(addr)
  return p ? { host: formatIp(p.ip), port: p.port } : null
}

/**
 * "host:port" or "[v6]:port" as a user writes it (a flag, a config entry): a host name or IPv4
 * literal without colons, or an IPv6 literal in brackets, and a port 1..65535; null otherwise.
 */
export function hostPortFromText (text: string): PeerAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port < 1 || port > 65535) return null
  return { host: (m[1] ?? m[2]) as string, port }
}

/** hostPortFromText, or a BAD_ARGUMENT that names `what` (the flag) and what arrived. */
export function parseHostPort (text: string, what = 'address'): PeerAddress {
  const a = hostPortFromText(text)
  if (a === null) throw errors.BAD_ARGUMENT(`${what} must be host:port (IPv6 as [addr]:port), got "${text}"`)
  return a
}
