// Which relay (proto-spec/relay.md §7): among the candidates — the target's rendezvous nodes from
// its presence record, and public nodes we know ourselves — try the lowest round-trip time first,
// skip the ones that refused us recently, and move on when one refuses or does not answer.
// Nobody configures a relay.
import { formatHostPort, type PeerAddress } from '../io/address.js'
import type { RelayClient, RelayOffer, RelayPath } from './client.js'

export interface RelayCandidate {
  address: PeerAddress
  /** measured round-trip time in ms (DHT RPCs, STUN), if known */
  rttMs?: number
}

/** How long a relay that refused us is skipped. */
export const RELAY_REFUSED_SKIP_MS = 10 * 60_000

/** Remembers refusals (by address) with their time, so the next choice skips them for a while. */
export class RelayRefusals {
  readonly #at = new Map<string, number>()

  note (relay: PeerAddress, now: number): void {
    this.#at.set(formatHostPort(relay), now)
  }

  refused (relay: PeerAddress, now: number): boolean {
    const at = this.#at.get(formatHostPort(relay))
    if (at === undefined) return false
    if (now - at < RELAY_REFUSED_SKIP_MS) return true
    this.#at.delete(formatHostPort(relay))
    return false
  }
}

/** The candidates in the order to try: known RTT ascending, then unknown RTT, refused ones left out, duplicates once. */
export function orderRelays (candidates: readonly RelayCandidate[], refusals: RelayRefusals, now: number): RelayCandidate[] {
  const seen = new Set<string>()
  const usable = candidates.filter(c => {
    const key = formatHostPort(c.address)
    if (seen.has(key) || refusals.refused(c.address, now)) return false
    seen.add(key)
    return true
  })
  const rank = (c: RelayCandidate): number => c.rttMs ?? Infinity
  return usable.sort((a, b) => rank(a) - rank(b)) // stable: equal RTTs keep the caller's order
}

/**
 * Allocate on the best candidate that accepts: each refusal or timeout is noted and the next one
 * tried. Rejects with the last error when none accepts (or there are none).
 */
export async function allocateAny (client: RelayClient, candidates: readonly RelayCandidate[], refusals: RelayRefusals,
  signal?: AbortSignal): Promise<{ path: RelayPath, offer: RelayOffer }> {
  let last: unknown = new Error('no relay candidates')
  for (const c of orderRelays(candidates, refusals, client.now())) {
    if (signal?.aborted === true) break
    try {
      return await client.allocate(c.address, signal)
    } catch (err) {
      last = err
      refusals.note(c.address, client.now())
    }
  }
  throw last
}
