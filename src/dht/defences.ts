// Flood and abuse limits (dht.md §8): token buckets per source IP and per source network (/24,
// /64) for incoming requests, a global answer budget, and the counters every dropped DHT datagram
// goes to. The other defences live where their state is: the /24 (/48) cap in routing-table.ts and
// lookup.ts, the per-source record cap in record-store.ts, the size limit in messages.ts, the
// address checks in address-policy.ts.
import {
  RATE_PER_SECOND, RATE_BURST, RATE_MAX_TRACKED, NETWORK_RATE_PER_SECOND, NETWORK_RATE_BURST,
  ANSWERS_PER_SECOND, ANSWERS_BURST, LIGHT_SHARE, QUIET_RATE_PER_SECOND, QUIET_BURST, QUIET_NETWORK_RATE_PER_SECOND,
  QUIET_NETWORK_BURST
} from './constants.js'
import { TokenBucket } from '../transport/rate-limit.js'
import { hostOf, networkKeyOf } from '../io/address.js'
import { addressFacts } from './address-facts.js'

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
    return this.take(key, now) >= 0
  }

  /** Takes one token for `key`: the tokens left afterwards, or -1 when there was none (drop). */
  take (key: string, now: number): number {
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
    if (b.tokens < 1) return -1
    b.tokens--
    return b.tokens
  }

  /** Forget sources whose bucket has refilled (they are indistinguishable from new ones). */
  sweep (now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.ratePerSecond / 1000 >= this.burst) this.#buckets.delete(key)
    }
  }
}

export interface AnswerBudgetOptions {
  /** answers per second the node sends in total, whatever the number of sources */
  ratePerSecond: number
  burst: number
}

export interface RequestGateOptions {
  /** per source IP */
  rateLimit?: RateLimiterOptions
  /** per source network: /24 (IPv4) or /64 (IPv6) */
  networkRateLimit?: RateLimiterOptions
  answerBudget?: AnswerBudgetOptions
}

export type GateVerdict = 'ok' | 'rate-limited' | 'over-budget'

/**
 * Whether to answer a request (dht.md §8.4): its source IP and its source network each have
 * a token left, and so does the node's global answer budget. The budget is two buckets: a share
 * only "light" sources may use and the rest, for everyone. Light means quiet: the IP has asked
 * fewer than ~20 questions beyond 1/s lately (its network fewer than ~80 beyond 4/s), what a node
 * joining or running a few lookups asks of one node. A flood source is heavy after its first 20
 * requests and stays heavy until it has been silent for a while, so it competes only for the
 * shared part, and a legitimate asker still gets answers from the light share while it lasts.
 */
export class RequestGate {
  readonly perSource: RateLimiter
  readonly perNetwork: RateLimiter
  readonly #quietSource: RateLimiter
  readonly #quietNetwork: RateLimiter
  readonly #light: TokenBucket
  readonly #shared: TokenBucket

  constructor (opts: RequestGateOptions = {}, now = 0) {
    this.perSource = new RateLimiter(opts.rateLimit)
    this.perNetwork = new RateLimiter({ ratePerSecond: NETWORK_RATE_PER_SECOND, burst: NETWORK_RATE_BURST, ...opts.networkRateLimit })
    this.#quietSource = new RateLimiter({ ratePerSecond: QUIET_RATE_PER_SECOND, burst: QUIET_BURST, maxTracked: this.perSource.maxTracked })
    this.#quietNetwork = new RateLimiter({ ratePerSecond: QUIET_NETWORK_RATE_PER_SECOND, burst: QUIET_NETWORK_BURST, maxTracked: this.perNetwork.maxTracked })
    const budget = opts.answerBudget ?? { ratePerSecond: ANSWERS_PER_SECOND, burst: ANSWERS_BURST }
    const part = (share: number): TokenBucket => new TokenBucket({ ratePerS: budget.ratePerSecond * share, burst: Math.max(1, budget.burst * share) }, now)
    this.#light = part(LIGHT_SHARE)
    this.#shared = part(1 - LIGHT_SHARE)
  }

  /** One request from canonical address `from`: answer it, or why not. */
  admit (from: string, now: number): GateVerdict {
    const facts = addressFacts(from)
    const host = facts?.host ?? hostOf(from)
    const network = facts?.network ?? networkKeyOf(from) ?? from
    if (!this.perSource.allow(host, now) || !this.perNetwork.allow(network, now)) return 'rate-limited'
    // quiet = at least half of the quiet bucket left after this request: a source that keeps
    // asking stays below half (it takes every token as it refills) until it falls silent
    const quietIp = this.#quietSource.take(host, now) >= this.#quietSource.burst / 2
    const light = this.#quietNetwork.take(network, now) >= this.#quietNetwork.burst / 2 && quietIp
    if (light && this.#light.take(now)) return 'ok'
    return this.#shared.take(now) ? 'ok' : 'over-budget'
  }

  sweep (now: number): void {
    this.perSource.sweep(now)
    this.perNetwork.sweep(now)
    this.#quietSource.sweep(now)
    this.#quietNetwork.sweep(now)
  }
}

/** Why a DHT datagram or record was dropped (dht.md §8.5). */
export type DhtDropReason =
  | 'oversize' | 'malformed' | 'rate-limited' | 'unknown-txid' | 'wrong-address' | 'wrong-type'
  | 'bad-token' | 'bad-record' | 'stale-record' | 'store-full' | 'not-running' | 'bad-address'
  | 'over-budget' | 'refused-contact'

export const DHT_DROP_REASONS: readonly DhtDropReason[] = [
  'oversize', 'malformed', 'rate-limited', 'unknown-txid', 'wrong-address', 'wrong-type',
  'bad-token', 'bad-record', 'stale-record', 'store-full', 'not-running', 'bad-address',
  'over-budget', 'refused-contact'
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
