// Token buckets for handshake initiations (proto-spec/session.md §6): one per source IP, so one
// address cannot make us run Noise more than a few times a second, and one global bucket whose
// exhaustion is what "under load" means (then initiations need a cookie, wire.md §4.4).
// Pure: the caller passes `now` (ms).

export interface BucketOptions {
  /** tokens added per second */
  ratePerS: number
  /** bucket size: the largest burst */
  burst: number
}

export class TokenBucket {
  #tokens: number
  #at: number

  constructor (readonly opts: BucketOptions, now: number) {
    this.#tokens = opts.burst
    this.#at = now
  }

  #refill (now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.opts.burst, this.#tokens + (now - this.#at) * this.opts.ratePerS / 1000)
    }
    this.#at = Math.max(this.#at, now)
  }

  /** Take one token if there is one. */
  take (now: number): boolean {
    this.#refill(now)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Take `n` tokens if there are that many (a byte budget: the relay's bytes/s, proto-spec/relay.md §5). */
  takeAmount (n: number, now: number): boolean {
    this.#refill(now)
    if (this.#tokens < n) return false
    this.#tokens -= n
    return true
  }

  /** True if a token is available (takes none). */
  peek (now: number): boolean {
    this.#refill(now)
    return this.#tokens >= 1
  }

  /** A full bucket behaves like a new one, so it can be forgotten. */
  full (now: number): boolean {
    this.#refill(now)
    return this.#tokens >= this.opts.burst
  }
}

/**
 * One bucket per key (a source IP), bounded in memory: full buckets are forgotten on `prune`,
 * and when `maxKeys` distinct keys are being limited at once a new key is refused outright
 * (a spoofed-source flood is turned away by cookies before it gets here, session.md §6).
 */
export class KeyedRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>()

  constructor (readonly opts: BucketOptions & { maxKeys: number }) {}

  get size (): number {
    return this.#buckets.size
  }

  take (key: string, now: number): boolean {
    let b = this.#buckets.get(key)
    if (b === undefined) {
      if (this.#buckets.size >= this.opts.maxKeys) this.prune(now)
      if (this.#buckets.size >= this.opts.maxKeys) return false
      b = new TokenBucket(this.opts, now)
      this.#buckets.set(key, b)
    }
    return b.take(now)
  }

  /** Forget buckets that have refilled completely. */
  prune (now: number): void {
    for (const [key, b] of this.#buckets) if (b.full(now)) this.#buckets.delete(key)
  }
}
