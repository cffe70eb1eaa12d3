// Flood and abuse limits (dht.md §8): a token bucket per source IP for incoming requests, and the
// counters every dropped DHT datagram goes to. The other defences live where their state is: the
// /24 (/48) cap in routing-table.ts and lookup.ts, the per-source record cap in record-store.ts,
// the size limit in messages.ts.
import { RATE_PER_SECOND, RATE_BURST, RATE_MAX_TRACKED } from './constants.js'

export interface RateLimiterOptions {
  ratePerSecond?: number
  burst?: number
  /** Source IPs tracked at once; the longest-unseen is forgotten first (bounded memory). */
  maxTracked?: number
}

interface BucketState { tokens: number, at: number }

/** Token bucket per key (an IP): `burst` requests at once, refilled at `ratePerSecond`. */
export class RateLimiter {
  readonly ratePerSecond: number
  readonly burst: number
  readonly maxTracked: number
  readonly #buckets = new Map<string, BucketState>()

  constructor (opts: RateLimiterOptions = {}) {
    this.ratePerSecond = opts.ratePerSecond ?? RATE_PER_SECOND
    this.burst = opts.burst ?? RATE_BURST
    this.maxTracked = opts.maxTracked ?? RATE_MAX_TRACKED
  }

  get tracked (): number { return this.#buckets.size }

  /** Takes one token for `key`; false means drop the request. */
  allow (key: string, now: number): boolean {
    let b = this.#buckets.get(key)
    if (b === undefined) {
      if (this.#buckets.size >= this.maxTracked) this.#buckets.delete(this.#buckets.keys().next().value!)
      b = { tokens: this.burst, at: now }
    } else {
      this.#buckets.delete(key) // re-inserted below: Map order is then least recently seen first
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.ratePerSecond / 1000)
      b.at = now
    }
    this.#buckets.set(key, b)
    if (b.tokens < 1) return false
    b.tokens--
    return true
  }

  /** Forget sources whose bucket has refilled (they are indistinguishable from new ones). */
  sweep (now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.ratePerSecond / 1000 >= this.burst) this.#buckets.delete(key)
    }
  }
}

/** Why a DHT datagram or record was dropped (dht.md §8.5). */
export type DhtDropReason =
  | 'oversize' | 'malformed' | 'rate-limited' | 'unknown-txid' | 'wrong-address' | 'wrong-type'
  | 'bad-token' | 'bad-record' | 'stale-record' | 'store-full' | 'not-running' | 'bad-address'

export const DHT_DROP_REASONS: readonly DhtDropReason[] = [
  'oversize', 'malformed', 'rate-limited', 'unknown-txid', 'wrong-address', 'wrong-type',
  'bad-token', 'bad-record', 'stale-record', 'store-full', 'not-running', 'bad-address'
]

export class DhtDropCounter {
  readonly #counts = new Map<DhtDropReason, number>()

  count (reason: DhtDropReason): void {
    this.#counts.set(reason, this.get(reason) + 1)
  }

  get (reason: DhtDropReason): number {
    return this.#counts.get(reason) ?? 0
  }

  snapshot (): Record<DhtDropReason, number> {
    const out = {} as Record<DhtDropReason, number>
    for (const r of DHT_DROP_REASONS) out[r] = this.get(r)
    return out
  }
}
