// The source network of a stranger's session (proto-spec/messaging.md §3.2): the unit the request
// book counts quotas by. IPv4 /24 and IPv6 /64: what one home, one hosting customer or one
// attacker's rented block typically has (an IPv6 host gets a whole /64 to itself, RFC 4291 §2.5.1),
// so a thousand identities from one place count as one network.
import { formatIp, parseIp } from '../io/address.js'

/** "a.b.c" for IPv4, "[xxxx:xxxx:xxxx:xxxx::]/64" for IPv6, or the host text itself when it is not an IP literal. */
export function sourceNetworkOf (host: string): string {
  const ip = parseIp(host)
  if (ip === null) return host
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.0/24`
  const prefix = new Uint8Array(16)
  prefix.set(ip.subarray(0, 8))
  return `${formatIp(prefix)}/64`
}
