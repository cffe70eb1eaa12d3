// The addresses a fresh invite carries (proto-spec/identity.md §7.1): where this node can be
// reached now — its public address as DHT peers see it (PONG's observed address), then the
// addresses it is bound to — and up to three DHT nodes it met most recently (not itself), which
// anyone can join through. Built when the invite is shown, so it says where the node is today.
import { encodeInvite, INVITE_MAX_DHT_NODES, INVITE_MAX_NODE_ADDRESSES, type InviteAddresses } from '../crypto/invite.js'
import { publicIdentityOf, type Identity } from '../crypto/identity.js'
import { addressScope, canonicalAddress, formatHostPort } from '../io/address.js'
import { announcedAddresses, type DhtComponent } from './dht.js'
import type { PeerAddress } from '../io/address.js'

/** Scopes an invite may name, best first: a public address reaches anyone, a private one a LAN. */
const SCOPE_RANK: Record<string, number> = { public: 0, private: 1, loopback: 2 }

function usable (addr: string): boolean {
  return SCOPE_RANK[addressScope(addr) ?? ''] !== undefined
}

export function inviteAddresses (bound: PeerAddress, dht: DhtComponent | null): InviteAddresses {
  const own: string[] = []
  const add = (a: string | null): void => {
    const c = a === null ? null : canonicalAddress(a)
    if (c !== null && usable(c) && !own.includes(c)) own.push(c)
  }
  add(dht?.node?.observedAddress() ?? null)
  for (const a of announcedAddresses(bound)) add(formatHostPort(a))
  own.sort((a, b) => SCOPE_RANK[addressScope(a)!]! - SCOPE_RANK[addressScope(b)!]!)
  const node = own.slice(0, INVITE_MAX_NODE_ADDRESSES)
  const others = (dht?.candidates() ?? []).filter(a => usable(a) && !own.includes(a))
  return { node, dht: others.slice(0, INVITE_MAX_DHT_NODES) }
}

/** An invite for `identity` with the node's current addresses (version 1 if it has none). */
export function currentInvite (identity: Identity, name: string | undefined, bound: PeerAddress, dht: DhtComponent | null): string {
  return encodeInvite(publicIdentityOf(identity), name, inviteAddresses(bound, dht))
}
