// The address list of a version 2 invite (proto-spec/identity.md §7.1): where the inviter's node
// answered when the invite was made (role 1), and public DHT nodes it knows (role 2), so that a new
// user needs no bootstrap server of ours. Each entry is role (1), family (4|6), IP (4|16), port
// (u16), after a count byte; entries of unknown roles are skipped (later versions may add some).
import { formatAddress, parseAddress, ipScope, isV4Mapped } from '../io/address.js'
import { errors } from '../errors.js'

export const INVITE_MAX_NODE_ADDRESSES = 3
export const INVITE_MAX_DHT_NODES = 3
const MAX_ENTRIES = INVITE_MAX_NODE_ADDRESSES + INVITE_MAX_DHT_NODES
const ROLE_NODE = 1
const ROLE_DHT = 2
/** count byte and six IPv6 entries of role, family, 16-byte IP and port */
export const INVITE_ADDRESSES_MAX_BYTES = 1 + MAX_ENTRIES * (1 + 1 + 16 + 2)

/** Canonical "host:port" strings (src/io/address.ts), IP literals. */
export interface InviteAddresses {
  /** the inviter's node (its reachable addresses, best first) */
  node: string[]
  /** public dmess DHT nodes the inviter knows (bootstrap candidates) */
  dht: string[]
}

// An address nobody can send to (unspecified, multicast, broadcast, v4-mapped, port 0) is refused
// on both sides; private and loopback ones are kept — an invite passed on a LAN may rightly hold them.
function usable (ip: Uint8Array, port: number): boolean {
  const scope = ipScope(ip)
  return port !== 0 && scope !== 'unspecified' && scope !== 'multicast' && scope !== 'broadcast' && !isV4Mapped(ip)
}

export function encodeInviteAddresses (a: InviteAddresses): Uint8Array {
  if (a.node.length > INVITE_MAX_NODE_ADDRESSES || a.dht.length > INVITE_MAX_DHT_NODES) {
    throw errors.BAD_ARGUMENT(`an invite carries at most ${INVITE_MAX_NODE_ADDRESSES} node addresses and ${INVITE_MAX_DHT_NODES} DHT nodes`)
  }
  const parts: number[] = [a.node.length + a.dht.length]
  const put = (role: number, addr: string): void => {
    const p = parseAddress(addr)
    if (p === null || !usable(p.ip, p.port)) throw errors.BAD_ARGUMENT(`invite address ${JSON.stringify(addr)} is not an IP address and port one can send to`)
    parts.push(role, p.family, ...p.ip, p.port >> 8, p.port & 0xff)
  }
  for (const x of a.node) put(ROLE_NODE, x)
  for (const x of a.dht) put(ROLE_DHT, x)
  return Uint8Array.from(parts)
}

/** The list from its bytes (which must end exactly where it does), or null if malformed. */
export function decodeInviteAddresses (b: Uint8Array): InviteAddresses | null {
  const count = b[0]
  if (count === undefined || count > MAX_ENTRIES) return null
  const out: InviteAddresses = { node: [], dht: [] }
  let off = 1
  for (let i = 0; i < count; i++) {
    const role = b[off]
    const len = b[off + 1] === 4 ? 4 : b[off + 1] === 6 ? 16 : -1
    if (role === undefined || len < 0 || off + 4 + len > b.length) return null
    const ip = b.slice(off + 2, off + 2 + len)
    const port = (b[off + 2 + len]! << 8) | b[off + 3 + len]!
    off += 4 + len
    if (!usable(ip, port)) return null
    const list = role === ROLE_NODE ? out.node : role === ROLE_DHT ? out.dht : null
    if (list === null) continue
    const addr = formatAddress(ip, port)
    if (!list.includes(addr)) list.push(addr)
  }
  if (off !== b.length || out.node.length > INVITE_MAX_NODE_ADDRESSES || out.dht.length > INVITE_MAX_DHT_NODES) return null
  return out
}
