// Network addresses as the DHT sees them: canonical "a.b.c.d:port" / "[v6]:port" strings (the
// form the transport hands us and the form the "answer only from the asked address" rule compares),
// their 7- or 19-byte wire form, and the /24 (/48) subnet that the defences count. dht.md §2.

export type IpFamily = 4 | 6

export interface ParsedAddress {
  family: IpFamily
  /** 4 or 16 bytes */
  ip: Uint8Array
  port: number
}

/** family byte, IP, port */
export const ADDRESS_V4_BYTES = 1 + 4 + 2
export const ADDRESS_V6_BYTES = 1 + 16 + 2

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

function isV4Mapped (ip: Uint8Array): boolean {
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

function parsePort (s: string): number | null {
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

/** The IP part of a canonical address (the rate limiter's and the record store's "source"). */
export function hostOf (addr: string): string {
  return addr.slice(0, addr.lastIndexOf(':'))
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

/** Writes the wire form (family 4|6, IP, port u16) at `off`; returns the offset after it. */
export function writeAddress (view: DataView, buf: Uint8Array, off: number, p: ParsedAddress): number {
  buf[off] = p.family
  buf.set(p.ip, off + 1)
  view.setUint16(off + 1 + p.ip.length, p.port)
  return off + 3 + p.ip.length
}

/** Wire size of a canonical address string, or 0 if it does not parse (IPv4 checked when written). */
export function addressTextBytes (addr: string): number {
  return addr.charCodeAt(0) === 0x5b ? ADDRESS_V6_BYTES : ADDRESS_V4_BYTES
}

/**
 * Writes the wire form of an address string straight into `buf` (no intermediate parse for the
 * common IPv4 case); returns the offset after it, or -1 if the string is not a valid address.
 */
export function writeAddressText (view: DataView, buf: Uint8Array, off: number, addr: string): number {
  if (addr.charCodeAt(0) === 0x5b) {
    const p = parseAddress(addr)
    return p && p.family === 6 ? writeAddress(view, buf, off, p) : -1
  }
  buf[off] = 4
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i)
    if (c === 0x2e || c === 0x3a) { // "." or ":"
      if (digits === 0 || (c === 0x3a) !== (part === 3)) return -1
      buf[off + 1 + part++] = value
      if (c === 0x3a) {
        const port = parsePort(addr.slice(i + 1))
        if (port === null) return -1
        view.setUint16(off + 5, port)
        return off + ADDRESS_V4_BYTES
      }
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39 && !(digits > 0 && value === 0)) {
      value = value * 10 + c - 0x30
      if (++digits > 3 || value > 255) return -1
    } else {
      return -1
    }
  }
  return -1
}

/** Reads the wire form; null if the family is unknown, the port 0, v4-mapped v6, or bytes run out. */
export function readAddress (view: DataView, buf: Uint8Array, off: number): { addr: string, off: number } | null {
  const family = buf[off]
  const len = family === 4 ? 4 : family === 6 ? 16 : -1
  if (len < 0 || off + 3 + len > buf.length) return null
  const ip = buf.subarray(off + 1, off + 1 + len)
  const port = view.getUint16(off + 1 + len)
  if (port === 0 || (len === 16 && isV4Mapped(ip))) return null
  return { addr: formatAddress(ip, port), off: off + 3 + len }
}

export function addressBytes (p: ParsedAddress): number {
  return p.family === 4 ? ADDRESS_V4_BYTES : ADDRESS_V6_BYTES
}
