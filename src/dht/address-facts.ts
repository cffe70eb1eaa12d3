// What the DHT reads from a canonical address string (dht.md §2), worked out once per address.
// Every datagram names addresses: the source of each request (rate limits by IP and network,
// dht.md §8.4), the placement of the sender's id (BEP 42, ids.ts), and up to k contacts per
// NODES or VALUE answer, each checked for scope and placement (address-policy.ts, dht.md §8.1).
// Parsed anew each time, those checks were a tenth of all the bytes a 50-node simulation
// allocated (docs/performance.md §13.3). The facts are a pure function of the string, so one
// bounded memo serves the whole process, as intern.ts's does: once full it is cleared, so hostile
// input costs at most `internLimit()` entries and then merely misses. Callers must never mutate
// what they get (the ip bytes, the PeerAddress).
import { addressOf, formatIp, hostOf, ipScope, networkKeyOf, parseAddress, type IpScope, type PeerAddress } from '../io/address.js'
import { internLimit } from './intern.js'

export interface AddressFacts {
  /** 4 or 16 bytes; shared, never to be mutated */
  readonly ip: Uint8Array
  readonly port: number
  readonly scope: IpScope
  /** the IP part of the string (src/io/address.ts hostOf) */
  readonly host: string
  /** its /24 or /64 (src/io/address.ts networkKeyOf) */
  readonly network: string
  /** where to send to it (frozen) */
  readonly peer: Readonly<PeerAddress>
}

const memo = new Map<string, AddressFacts | null>()

/** The facts of canonical address `addr`, or null when it is not one (parseAddress's null). */
export function addressFacts (addr: string): AddressFacts | null {
  let f = memo.get(addr)
  if (f === undefined) {
    const p = parseAddress(addr)
    f = p === null
      ? null
      : Object.freeze({ ip: p.ip, port: p.port, scope: ipScope(p.ip), host: hostOf(addr), network: networkKeyOf(addr) ?? addr, peer: Object.freeze({ host: formatIp(p.ip), port: p.port }) })
    if (memo.size >= internLimit()) memo.clear()
    memo.set(addr, f)
  }
  return f
}

const canonical = new Map<string, Map<number, string | null>>()
let canonicalSize = 0

/** src/io/address.ts addressOf(host, port), kept: a socket reports the same few senders over and over. */
export function canonicalOf (host: string, port: number): string | null {
  let ports = canonical.get(host)
  let a = ports?.get(port)
  if (a === undefined) {
    a = addressOf(host, port)
    if (canonicalSize >= internLimit()) { canonical.clear(); canonicalSize = 0; ports = undefined }
    if (ports === undefined) { ports = new Map(); canonical.set(host, ports) }
    ports.set(port, a)
    canonicalSize++
  }
  return a
}

/** Empties both memos (ids.ts clearDhtMemos). */
export function clearAddressFacts (): void {
  memo.clear()
  canonical.clear()
  canonicalSize = 0
}
