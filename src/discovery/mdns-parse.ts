// Reading what other hosts say on the link (proto-spec/discovery.md §4). Pure and total: every
// record is checked, the ones about dmess become typed observations, the bad ones become drop
// reasons for the caller to count. Nothing here throws on network input.
import { isIPv4, isIPv6 } from 'node:net'
import type { Answer, Packet } from 'dns-packet'
import { ipScope, isLoopbackHost, parseIp } from '../io/address.js'
import {
  SERVICE_TYPE, MAX_LABEL_BYTES, MAX_NAME_BYTES, MAX_TXT_BYTES, MAX_TXT_KEY_CHARS, MAX_ACCEPTED_TTL_S,
  MDNS_PORT, TXT_TOKEN, TXT_VERSION, TOKEN_PATTERN, MIN_PROTOCOL_VERSION,
  MAX_PROTOCOL_VERSION, DNS_OPCODE_QUERY, DNS_RCODE_NOERROR
} from './constants.js'

/** Why a packet or record was not used; counted in MdnsDiscovery.stats().drops. */
export type DropReason =
  | 'undecodable' // dns-packet could not decode the datagram
  | 'bad-header' // opcode not QUERY or rcode not NOERROR (RFC 6762 §18.3, §18.11)
  | 'bad-source-port' // a response not from port 5353 (RFC 6762 §11)
  | 'off-link' // source address on none of our links (RFC 6762 §11)
  | 'bad-class' // a dmess record not in class IN
  | 'bad-name' // instance or host name malformed or too long
  | 'bad-srv' // SRV port 0
  | 'bad-txt' // TXT malformed, too large, or missing/invalid t or v
  | 'bad-address' // unspecified, multicast, or loopback from a non-loopback source
  | 'own' // our own records, looped back
  | 'same-identity' // another node announcing our fingerprint
  | 'cache-full' // more instances than MAX_INSTANCES
  | 'rate-limited' // a unicast answer over UNICAST_ANSWERS_PER_SECOND, not sent

export const DROP_REASONS: readonly DropReason[] = [
  'undecodable', 'bad-header', 'bad-source-port', 'off-link', 'bad-class', 'bad-name', 'bad-srv',
  'bad-txt', 'bad-address', 'own', 'same-identity', 'cache-full', 'rate-limited'
]

export interface PtrObservation { kind: 'ptr', instance: string, ttl: number }
export interface SrvObservation { kind: 'srv', instance: string, port: number, target: string, ttl: number }
export interface TxtObservation {
  kind: 'txt', instance: string, token: string,
  /** whose token it is, if we know them (discovery.md §2.4); null: a stranger, never a peer */
  fingerprint: string | null
  protocolVersion: number, ttl: number
}
export interface AddressObservation {
  kind: 'addr', host: string, family: 4 | 6, address: string, ttl: number, flush: boolean
}
export type Observation = PtrObservation | SrvObservation | TxtObservation | AddressObservation

export interface Extracted { observations: Observation[], drops: DropReason[] }

export interface Source { address: string, port: number }

const SERVICE_SUFFIX = `.${SERVICE_TYPE}`

/** RFC 6762 §11, §18: responses we read at all. Queries are checked by `checkQueryHeader`. */
export function checkResponseHeader (packet: Packet, source: Source): DropReason | null {
  const p = packet as { opcode?: string, rcode?: string }
  if ((p.opcode ?? DNS_OPCODE_QUERY) !== DNS_OPCODE_QUERY || (p.rcode ?? DNS_RCODE_NOERROR) !== DNS_RCODE_NOERROR) return 'bad-header'
  if (source.port !== MDNS_PORT) return 'bad-source-port'
  return null
}

export function checkQueryHeader (packet: Packet): DropReason | null {
  const opcode = (packet as { opcode?: string }).opcode ?? DNS_OPCODE_QUERY
  return opcode === DNS_OPCODE_QUERY ? null : 'bad-header'
}

/** Whose discovery token this is, among the fingerprints we know, or null (token.ts). */
export type Recognise = (token: string) => string | null

/**
 * Observations about dmess instances in a response's answer and additional sections.
 * SRV targets named in this packet, or accepted by `knownHost`, make their A/AAAA relevant;
 * address records of other hosts are none of our business and are skipped without a count.
 * A TXT's token is resolved to a fingerprint by `recognise` (null for a stranger's).
 */
export function extractObservations (packet: Packet, source: Source, knownHost: (host: string) => boolean, recognise: Recognise = () => null): Extracted {
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])]
  const out: Extracted = { observations: [], drops: [] }
  const targets = new Set<string>()
  // service records first, so this packet's SRV targets make its address records relevant
  for (const r of records) {
    const o = serviceObservation(r, recognise)
    if (o === null) continue
    if (typeof o === 'string') out.drops.push(o)
    else {
      out.observations.push(o)
      if (o.kind === 'srv') targets.add(o.target)
    }
  }
  for (const r of records) {
    if (r.type !== 'A' && r.type !== 'AAAA') continue
    const host = r.name.toLowerCase()
    if (!targets.has(host) && !knownHost(host)) continue
    const o = addressObservation(r, isLoopbackHost(source.address))
    if (typeof o === 'string') out.drops.push(o)
    else if (o !== null) out.observations.push(o)
  }
  return out
}

/** A PTR/SRV/TXT record about `_dmess._udp`, a drop reason, or null if it is not about dmess. */
function serviceObservation (r: Answer, recognise: Recognise): Observation | DropReason | null {
  const name = r.name.toLowerCase()
  const isPtr = r.type === 'PTR' && name === SERVICE_TYPE
  const isInstance = (r.type === 'SRV' || r.type === 'TXT') && name.endsWith(SERVICE_SUFFIX)
  if (!isPtr && !isInstance) return null
  if ((r as { class?: string }).class !== 'IN') return 'bad-class'
  const ttl = clampTtl((r as { ttl?: number }).ttl)
  const data = (r as { data?: unknown }).data
  if (isPtr) {
    const instance = typeof data === 'string' ? parseInstanceName(data) : null
    return instance === null ? 'bad-name' : { kind: 'ptr', instance, ttl }
  }
  const instance = parseInstanceName(name)
  if (instance === null) return 'bad-name'
  if (r.type === 'SRV') return srvObservation(instance, data, ttl)
  const txt = Array.isArray(data) ? parseDiscoveryTxt(data as unknown[]) : null
  return txt === null ? 'bad-txt' : { kind: 'txt', instance, ttl, token: txt.token, fingerprint: recognise(txt.token), protocolVersion: txt.protocolVersion }
}

function srvObservation (instance: string, data: unknown, ttl: number): SrvObservation | DropReason {
  const d = data as { port?: unknown, target?: unknown } | undefined
  const target = typeof d?.target === 'string' ? parseHostName(d.target) : null
  if (target === null) return 'bad-name'
  const port = d?.port
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return 'bad-srv'
  return { kind: 'srv', instance, port, target, ttl }
}

function addressObservation (r: Answer, fromLoopback: boolean): AddressObservation | DropReason | null {
  if ((r as { class?: string }).class !== 'IN') return 'bad-class'
  const host = parseHostName(r.name)
  if (host === null) return 'bad-name'
  const address = (r as { data?: unknown }).data
  const family = r.type === 'A' ? 4 : 6
  if (typeof address !== 'string' || !(family === 4 ? isIPv4(address) : isIPv6(address))) return 'bad-address'
  const verdict = usableAddress(address, family, fromLoopback)
  if (verdict !== true) return verdict
  return { kind: 'addr', host, family, address: address.toLowerCase(), ttl: clampTtl((r as { ttl?: number }).ttl), flush: (r as { flush?: boolean }).flush === true }
}

/**
 * Addresses a peer may hand us: never unspecified, multicast, broadcast or reserved (src/io/address.ts
 * ipScope); loopback only when the packet itself came over loopback (otherwise a LAN host could
 * point us at our own local services), an IPv4-mapped one (::ffff:127.0.0.1) included. IPv6
 * link-local addresses are valid but useless without a zone index: skipped, not counted.
 */
export function usableAddress (address: string, family: 4 | 6, fromLoopback: boolean): true | DropReason | null {
  const ip = parseIp(address)
  if (ip === null || (family === 4) !== (ip.length === 4 && !address.includes(':'))) return 'bad-address'
  const scope = ipScope(ip)
  if (scope === 'unspecified' || scope === 'multicast' || scope === 'broadcast' || scope === 'reserved') return 'bad-address'
  if (scope === 'loopback' && !fromLoopback) return 'bad-address'
  if (scope === 'link-local' && ip.length === 16) return null
  return true
}

/** TTLs we believe: at most MAX_ACCEPTED_TTL_S (0 stays 0: a goodbye). */
export function clampTtl (ttl: number | undefined): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) return 0
  return Math.min(Math.floor(ttl), MAX_ACCEPTED_TTL_S)
}

// ---- names ----

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** `<one label>._dmess._udp.local`, lowercased (RFC 6762 §16), or null. */
export function parseInstanceName (name: string): string | null {
  const lower = name.toLowerCase()
  if (!lower.endsWith(SERVICE_SUFFIX) || utf8Length(lower) > MAX_NAME_BYTES) return null
  const label = lower.slice(0, -SERVICE_SUFFIX.length)
  if (label.length === 0 || label.includes('.') || utf8Length(label) > MAX_LABEL_BYTES || CONTROL.test(label)) return null
  return lower
}

/** A host name under `.local` with sane labels, lowercased, or null. */
export function parseHostName (name: string): string | null {
  const lower = name.toLowerCase().replace(/\.$/, '')
  if (!lower.endsWith('.local') || utf8Length(lower) > MAX_NAME_BYTES || CONTROL.test(lower)) return null
  const labels = lower.split('.')
  if (labels.length < 2 || labels.some(l => l.length === 0 || utf8Length(l) > MAX_LABEL_BYTES)) return null
  return lower
}

// ---- TXT (RFC 6763 §6) ----

/**
 * Key/value pairs of a TXT record, or null when it is malformed: over MAX_TXT_BYTES, not made of
 * byte strings, or with a key that is not printable ASCII. Keys are case-insensitive and only
 * the first occurrence of a key counts (§6.4); strings without a key are ignored (§6.4); a key
 * without '=' is a boolean attribute (value null, §6.4).
 */
export function parseTxt (strings: readonly unknown[]): Map<string, Buffer | null> | null {
  let total = 0
  const fields = new Map<string, Buffer | null>()
  for (const s of strings) {
    if (!Buffer.isBuffer(s)) return null
    total += 1 + s.length
    if (total > MAX_TXT_BYTES) return null
    if (s.length === 0) continue
    const eq = s.indexOf(0x3d) // '='
    const keyBytes = eq < 0 ? s : s.subarray(0, eq)
    if (keyBytes.length === 0) continue
    if (keyBytes.some(b => b < 0x20 || b > 0x7e)) return null
    const key = keyBytes.toString('latin1').toLowerCase()
    if (key.length > MAX_TXT_KEY_CHARS || fields.has(key)) continue
    fields.set(key, eq < 0 ? null : s.subarray(eq + 1))
  }
  return fields
}

export interface DiscoveryTxt { token: string, protocolVersion: number }

const VERSION_TEXT = /^[1-9][0-9]?$/

/** Our TXT keys (discovery.md §2.3): t and v required; other keys ignored. */
export function parseDiscoveryTxt (strings: readonly unknown[]): DiscoveryTxt | null {
  const fields = parseTxt(strings)
  if (fields === null) return null
  const token = fields.get(TXT_TOKEN)?.toString('latin1')
  const v = fields.get(TXT_VERSION)?.toString('latin1')
  if (token === undefined || !TOKEN_PATTERN.test(token)) return null
  if (v === undefined || !VERSION_TEXT.test(v)) return null
  const protocolVersion = Number(v)
  if (protocolVersion < MIN_PROTOCOL_VERSION || protocolVersion > MAX_PROTOCOL_VERSION) return null
  return { token, protocolVersion }
}

// ---- links (RFC 6762 §11) ----

export interface LinkAddress { address: string, netmask: string, family: 4 | 6 }

/** True when `address` is inside the subnet of one of `links`. */
export function isOnLink (address: string, links: readonly LinkAddress[]): boolean {
  return links.some(l => sameSubnet(address, l))
}

export function sameSubnet (address: string, link: LinkAddress): boolean {
  const a = ipBytes(address)
  const b = ipBytes(link.address)
  const m = ipBytes(link.netmask)
  if (a === null || b === null || m === null || a.length !== b.length || m.length !== a.length) return false
  return a.every((x, i) => (x & (m[i] ?? 0)) === ((b[i] ?? 0) & (m[i] ?? 0)))
}

/** IPv4 or IPv6 text to bytes (IPv4-mapped IPv6 becomes IPv4), or null. */
export function ipBytes (text: string): number[] | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text)
  const t = mapped?.[1] ?? text
  if (isIPv4(t)) return t.split('.').map(Number)
  if (!isIPv6(t)) return null
  const [head, tail] = t.split('::') as [string, string | undefined]
  const groups = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'))
  const h = groups(head)
  const tl = groups(tail)
  if (tl.some(g => g.includes('.')) || h.some(g => g.includes('.'))) return null // embedded IPv4: not used on our links
  const all = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl]
  return all.flatMap(g => { const v = parseInt(g, 16); return [v >> 8, v & 0xff] })
}
