// The addresses a fresh invite carries (proto-spec/identity.md §7.1): where this node can be
// reached now — its public address as DHT peers see it (PONG's observed address), then the
// addresses it announces — and up to three DHT nodes it met most recently (not itself), which
// anyone can join through. Built when the invite is shown, so it says where the node is today.
import { encodeInvite, INVITE_MAX_DHT_NODES, INVITE_MAX_NODE_ADDRESSES, type InviteAddresses } from '../crypto/invite.js'
import { publicIdentityOf, type Identity } from '../crypto/identity.js'
import { addressScope, canonicalAddress } from '../io/address.js'

/** Scopes an invite may name, best first: a public address reaches anyone, a private one a LAN. */
const SCOPE_RANK: Record<string, number> = { public: 0, private: 1, loopback: 2 }

function usable (addr: string): boolean {
  return SCOPE_RANK[addressScope(addr) ?? ''] !== undefined
}

/** What the node knows of itself and of others, as "host:port" strings. */
export interface InviteSources {
  /** our address as DHT peers report it, if any */
  observed: string | null
  /** the addresses our presence record announces */
  announced: string[]
  /** remembered DHT nodes, most recently useful first */
  candidates: string[]
}

export function pickInviteAddresses (s: InviteSources): InviteAddresses {
  const own: string[] = []
  for (const a of [s.observed, ...s.announced]) {
    const c = a === null ? null : canonicalAddress(a)
    if (c !== null && usable(c) && !own.includes(c)) own.push(c)
  }
  own.sort((a, b) => SCOPE_RANK[addressScope(a)!]! - SCOPE_RANK[addressScope(b)!]!)
  const others = s.candidates.filter(a => usable(a) && !own.includes(a))
  return { node: own.slice(0, INVITE_MAX_NODE_ADDRESSES), dht: others.slice(0, INVITE_MAX_DHT_NODES) }
}

/** An invite for `identity` with these addresses (version 1 if there are none). */
export function inviteWith (identity: Identity, name: string | undefined, addresses: InviteAddresses): string {
  return encodeInvite(publicIdentityOf(identity), name, addresses)
}
