// Candidates (proto-spec/traversal.md §2; RFC 8445 §5.1.1 for the idea): the addresses at which a
// node might be reached, each with its kind — lan (an interface address), mapped (a port the
// router opened for us: PCP / NAT-PMP), reflexive (our NAT's address for us as others see it),
// public (an interface address nobody translates) — and the NAT kind (RFC 4787 §4.1 mapping).
// Where the reflexive address and the NAT kind come from is a small interface, AddressObserver:
// today the DHT's PONGs (dht.md §3.2, observedAddress()); a STUN client can take its place.
import { parseIp, peerAddressOf, ipScope, type PeerAddress } from '../io/address.js'

export type CandidateKind = 'lan' | 'public' | 'mapped' | 'reflexive'
export type NatKind = 'unknown' | 'open' | 'endpoint-independent' | 'address-dependent'

export interface Candidate { kind: CandidateKind, host: string, port: number }

/** Wire codes, the same as a presence record's address kinds (dht.md §5.2). */
export const CANDIDATE_CODE: Record<CandidateKind, number> = { lan: 1, public: 2, reflexive: 4, mapped: 5 }
export const CANDIDATE_KIND: Record<number, CandidateKind> = { 1: 'lan', 2: 'public', 4: 'reflexive', 5: 'mapped' }
export const NAT_CODE: Record<NatKind, number> = { unknown: 0, open: 1, 'endpoint-independent': 2, 'address-dependent': 3 }
export const NAT_NAME: Record<number, NatKind> = { 0: 'unknown', 1: 'open', 2: 'endpoint-independent', 3: 'address-dependent' }

/** Where a node learns how others see it (a STUN client, or the DHT's PONGs). */
export interface AddressObserver {
  /** reflexive addresses, most trusted first */
  reflexive: () => PeerAddress[]
  natKind: () => NatKind
  /** a port mapping the router granted (PCP / NAT-PMP), if any */
  mapped?: () => PeerAddress | null
  /**
   * strangers reach us at our reflexive address without a punch: STUN's filtering test found an
   * endpoint-independent mapping that filters nobody (a full cone, stun.md §5.1)
   */
  reachable?: () => boolean
}

/**
 * The observer from what exists today: the address the DHT's PONGs report most often. It cannot
 * tell the mapping behaviour, so the kind is 'open' when that address is our bound one, else 'unknown'.
 */
export function dhtObserver (observed: () => string | null, bound: () => PeerAddress): AddressObserver {
  return {
    reflexive: () => {
      const a = observed()
      const p = a === null ? null : peerAddressOf(a)
      return p === null ? [] : [p]
    },
    natKind: () => {
      const a = observed()
      const b = bound()
      return a !== null && a === `${b.host}:${b.port}` ? 'open' : 'unknown'
    }
  }
}

/** Preference order of RFC 8445 §5.1.2.2's type preferences, for our kinds: LAN first (no NAT in the way), then mapped, then reflexive. */
const ORDER: Record<CandidateKind, number> = { lan: 0, public: 1, mapped: 2, reflexive: 3 }

const same = (a: Candidate, b: Candidate): boolean => a.host === b.host && a.port === b.port

/** Our candidates now: interface addresses, the mapped one, reflexive ones; deduplicated, in preference order. */
export function gatherCandidates (interfaces: readonly PeerAddress[], observer: AddressObserver): Candidate[] {
  const out: Candidate[] = []
  const add = (c: Candidate): void => { if (!out.some(o => same(o, c))) out.push(c) }
  for (const a of interfaces) {
    const ip = parseIp(a.host)
    if (ip === null) continue
    const scope = ipScope(ip)
    if (scope === 'private') add({ kind: 'lan', host: a.host, port: a.port })
    else if (scope === 'public') add({ kind: 'public', host: a.host, port: a.port })
  }
  const mapped = observer.mapped?.() ?? null
  if (mapped !== null) add({ kind: 'mapped', ...mapped })
  for (const r of observer.reflexive()) add({ kind: 'reflexive', host: r.host, port: r.port })
  return orderCandidates(out)
}

/** Stable sort by kind preference (traversal.md §6.1). */
export function orderCandidates (list: readonly Candidate[]): Candidate[] {
  return list.map((c, i) => ({ c, i })).sort((a, b) => ORDER[a.c.kind] - ORDER[b.c.kind] || a.i - b.i).map(x => x.c)
}

/** Does any candidate let a stranger reach the node without a punch (it has no NAT, or a mapping, or a NAT that filters nobody)? */
export function directlyReachable (natKind: NatKind, candidates: readonly Candidate[], observer?: AddressObserver): boolean {
  return natKind === 'open' || candidates.some(c => c.kind === 'public' || c.kind === 'mapped') || observer?.reachable?.() === true
}
