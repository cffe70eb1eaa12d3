// Which addresses found in a presence record a reader may dial (dht.md §5.3, last step). A record
// names its owner's interface addresses; dialling them blindly would let a contact point our node
// at hosts on our own network (our router's admin port, a printer) and would try private addresses
// that mean another host on every LAN. So: never loopback, link-local, unspecified, multicast or
// reserved addresses; private ones (RFC 1918, RFC 6598 shared, RFC 4193 unique local) only when they
// lie in a private network this node is itself on (the same block as one of its own addresses);
// public ones always. A node bound to loopback (tests,
// one-machine testnets: src/dht/loopback.ts) dials what it finds.
import { parseIp } from '../io/address.js'

export type AddressScope = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'multicast' | 'reserved'

/** A network prefix: the IP bytes (4 or 16) and the prefix length in bits. */
export interface Prefix { ip: Uint8Array, bits: number }

/** What a reader knows about where it is: bound to loopback, and the networks it is on. */
export interface DialScope { loopback: boolean, localNetworks: readonly Prefix[] }

const V4: Array<[number[], number, AddressScope]> = [
  [[0, 0, 0, 0], 8, 'unspecified'], // RFC 1122 §3.2.1.3 "this network"
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'], // RFC 3927
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'], // RFC 1112 §4, broadcast included
  [[10, 0, 0, 0], 8, 'private'], // RFC 1918
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 168, 0, 0], 16, 'private'],
  [[100, 64, 0, 0], 10, 'private'] // RFC 6598 shared address space (carrier-grade NAT)
]

const V6: Array<[number[], number, AddressScope]> = [
  [[0xfe, 0x80], 10, 'link-local'], // RFC 4291 §2.5.6
  [[0xff], 8, 'multicast'],
  [[0xfc], 7, 'private'] // RFC 4193 unique local
]

/** True when the first `bits` bits of `ip` equal those of `prefix` (missing bytes count as zero). */
export function inPrefix (ip: Uint8Array, prefix: ArrayLike<number>, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const mask = bits - i * 8 >= 8 ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff
    if (((ip[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false
  }
  return true
}

/** The scope of an IP literal (RFC 6890 special-purpose registries), or null if it is not one. */
export function addressScope (host: string): AddressScope | null {
  const ip = parseIp(host)
  if (ip === null) return null
  if (ip.length === 16) {
    if (ip.every((b, i) => b === 0 || (i === 15 && b === 1))) return ip[15] === 1 ? 'loopback' : 'unspecified'
    return V6.find(([p, bits]) => inPrefix(ip, p, bits))?.[2] ?? 'public'
  }
  return V4.find(([p, bits]) => inPrefix(ip, p, bits))?.[2] ?? 'public'
}

/** The private block (prefix of the V4/V6 tables above) `host` is in, or null if it is not private. */
export function privateBlock (host: string): Prefix | null {
  const ip = parseIp(host)
  if (ip === null) return null
  const table = ip.length === 16 ? V6 : V4
  const hit = table.find(([p, bits, scope]) => scope === 'private' && inPrefix(ip, p, bits))
  return hit === undefined ? null : { ip: Uint8Array.from({ length: ip.length }, (_, i) => hit[0][i] ?? 0), bits: hit[1] }
}

/** May a reader with `scope` dial `host` (an address from a presence record)? */
export function dialable (host: string, scope: DialScope): boolean {
  if (scope.loopback) return parseIp(host) !== null
  const s = addressScope(host)
  if (s === 'public') return true
  if (s !== 'private') return false
  const ip = parseIp(host)!
  return scope.localNetworks.some(n => n.ip.length === ip.length && inPrefix(ip, n.ip, n.bits))
}

/** A reader that knows nothing of its networks: public addresses only. */
export const PUBLIC_ONLY: DialScope = { loopback: false, localNetworks: [] }
