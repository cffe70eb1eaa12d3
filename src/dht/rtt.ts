// How long to wait for a DHT answer before presuming the node dead (dht.md §7.3). A fixed stall
// time of 400 ms is ~5 round trips on the Internet but thousands on loopback, and under churn a
// lookup meets dead nodes in every round: each one held an α slot for the whole stall time. The
// node keeps the round-trip times of recent answers (first transmissions only: Karn's algorithm,
// RFC 6298 §3) and stalls a request after STALL_FACTOR × their 90th percentile, within
// [MIN_STALL_MS, the configured stall time]; with only a few samples (a node that just started:
// its join's PINGs) twice that of the slowest one. A slow but live node passed over this way still
// counts when its answer comes (lookup.ts), so a short stall costs a little traffic, not answers.

/** Samples kept (a ring): enough for a stable 90th percentile, few enough to follow a change. */
export const RTT_SAMPLES = 64
/** From this many samples the 90th percentile is used; below, the slowest sample, doubled. */
export const MIN_RTT_SAMPLES = 8
export const STALL_FACTOR = 3
/** Floor: event-loop pauses on a busy host reach a few ms even on loopback. */
export const MIN_STALL_MS = 25

export class RttEstimator {
  readonly #ring: number[] = []
  readonly #scratch = new Float64Array(RTT_SAMPLES)
  #next = 0

  get samples (): number { return this.#ring.length }

  add (ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return
    if (this.#ring.length < RTT_SAMPLES) this.#ring.push(ms)
    else this.#ring[this.#next] = ms
    this.#next = (this.#next + 1) % RTT_SAMPLES
  }

  /** The 90th percentile of the samples (with fewer than MIN_RTT_SAMPLES: twice the largest), or null with none. */
  p90 (): number | null {
    if (this.#ring.length === 0) return null
    // sorted in a scratch typed array: numerically, with no comparator call per step and no array per request
    this.#scratch.set(this.#ring)
    const s = this.#scratch.subarray(0, this.#ring.length).sort()
    if (s.length < MIN_RTT_SAMPLES) return 2 * s[s.length - 1]!
    return s[Math.min(s.length - 1, Math.floor(0.9 * s.length))]!
  }

  /** The stall time for a request: adaptive within [MIN_STALL_MS, maxMs]. */
  stallMs (maxMs: number): number {
    const p = this.p90()
    if (p === null) return maxMs
    return Math.min(maxMs, Math.max(MIN_STALL_MS, Math.ceil(STALL_FACTOR * p)))
  }
}
