// Which addresses found in a presence record a reader may dial (dht.md §5.3, last step). A record
// names its owner's interface addresses; dialling them blindly would let a contact point our node
// at hosts on our own network (our router's admin port, a printer) and would try private addresses
// that mean another host on every LAN. So: never loopback, link-local, unspecified, multicast,
// broadcast or reserved addresses; private ones (RFC 1918, RFC 6598 shared, RFC 4193 unique local)
// only when they lie in a private network this node is itself on (the same block as one of its
// own addresses); public ones always. A node bound to loopback (tests, one-machine testnets:
// src/dht/loopback.ts) dials what it finds. Scopes and blocks are src/io/address.ts's one table.
import { hostScope, inPrefix, parseIp, scopeBlockOf } from '../io/address.js'

/** A network prefix: the IP bytes (4 or 16) and the prefix length in bits. */
export interface Prefix { ip: Uint8Array, bits: number }

/** What a reader knows about where it is: bound to loopback, and the networks it is on. */
export interface DialScope { loopback: boolean, localNetworks: readonly Prefix[] }

/** The private block (src/io/address.ts's table) `host` is in, or null if it is not private. */
export function privateBlock (host: string): Prefix | null {
  const ip = parseIp(host)
  const b = ip === null ? null : scopeBlockOf(ip)
  return b === null || b.scope !== 'private' ? null : { ip: Uint8Array.from(b.ip), bits: b.bits }
}

/** May a reader with `scope` dial `host` (an address from a presence record)? */
export function dialable (host: string, scope: DialScope): boolean {
  if (scope.loopback) return parseIp(host) !== null
  const s = hostScope(host)
  if (s === 'public') return true
  if (s !== 'private') return false
  const ip = parseIp(host)!
  return scope.localNetworks.some(n => n.ip.length === ip.length && inPrefix(ip, n.ip, n.bits))
}

/** A reader that knows nothing of its networks: public addresses only. */
export const PUBLIC_ONLY: DialScope = { loopback: false, localNetworks: [] }
