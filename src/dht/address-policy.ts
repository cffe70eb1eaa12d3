// Which node addresses a DHT node may add to its table or send to (dht.md §8.1). A NODES answer
// names addresses we then send requests to, so an answer naming 127.0.0.1, a multicast group or a
// LAN address would make us send datagrams where its author cannot (a reflection toward our own
// host or network). Such contacts are dropped, and so is a contact whose id BEP 42 says cannot be
// the node at that address (ids.ts idValidFor).
import { ipScope, parseIp, type IpScope } from '../io/address.js'
import { addressFacts } from './address-facts.js'
import { idValidFor } from './ids.js'
import type { NodeInfo } from './messages.js'

/** The scope of the host a node is bound to ('unspecified' for the wildcard). */
export function localScopeOf (host: string): IpScope {
  const ip = parseIp(host)
  return ip === null ? 'unspecified' : ipScope(ip)
}

/**
 * May a node bound in scope `local` contact `addr`, which the node at `from` named? Never an
 * unspecified, multicast, broadcast or link-local address (no zone index travels with it); a
 * loopback one only when we run on loopback ourselves (testnets); a private one only when the
 * node that named it is itself on our side of a LAN (private or loopback), or we run on loopback.
 */
export function contactAllowed (addr: string, from: string, local: IpScope): boolean {
  const p = addressFacts(addr)
  if (p === null) return false
  switch (p.scope) {
    case 'public': return true
    case 'loopback': return local === 'loopback'
    case 'private': {
      if (local === 'loopback') return true
      const fromScope = addressFacts(from)?.scope ?? null
      return fromScope === 'private' || fromScope === 'loopback'
    }
    default: return false
  }
}

/** The contacts of an answer from `from` we may use; `refused` counts the others. */
export function usableContacts (nodes: NodeInfo[], from: string, local: IpScope, refused: () => void): NodeInfo[] {
  let out: NodeInfo[] | null = null
  for (let i = 0; i < nodes.length; i++) {
    const c = nodes[i]!
    const ok = contactAllowed(c.addr, from, local) && idValidFor(c.id, c.addr)
    if (!ok) {
      refused()
      out ??= nodes.slice(0, i)
    } else if (out !== null) {
      out.push(c)
    }
  }
  return out ?? nodes
}
