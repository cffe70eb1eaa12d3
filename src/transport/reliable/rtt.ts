// Round-trip time estimation and the retransmission timeout — RFC 6298 §2 and §5, with the
// ack-delay adjustment of RFC 9002 §5.3. Packet numbers are never reused, so every sample is
// unambiguous and Karn's algorithm (RFC 6298 §3) is not needed.

import { RTT_ALPHA, RTT_BETA, RTO_K, CLOCK_GRANULARITY_MS, TIME_THRESHOLD } from './constants.js'

export interface RttOptions {
  initialRtoMs: number
  minRtoMs: number
  maxRtoMs: number
  /** Upper bound on the ack delay the peer may report (RFC 9002 §5.3 max_ack_delay). */
  maxAckDelayMs: number
}

export class RttEstimator {
  srtt: number | null = null
  rttvar = 0
  minRtt = Infinity
  latest = 0
  /** Number of consecutive timeouts; the RTO doubles for each (RFC 6298 §5.5). */
  backoff = 0
  readonly #o: RttOptions

  constructor (opts: RttOptions) {
    this.#o = opts
  }

  /** Feed one RTT sample (ms) and the delay the peer says it held the ACK (ms). */
  update (sampleMs: number, ackDelayMs: number): void {
    if (!(sampleMs >= 0)) return
    this.minRtt = Math.min(this.minRtt, sampleMs) // RFC 9002 §5.2: min_rtt ignores ack delay
    this.latest = sampleMs
    // RFC 9002 §5.3: subtract the peer's ack delay unless that would go below min_rtt
    const delay = Math.min(Math.max(0, ackDelayMs), this.#o.maxAckDelayMs)
    const r = sampleMs - delay >= this.minRtt ? sampleMs - delay : sampleMs
    if (this.srtt === null) {
      // RFC 6298 §2.2: first measurement
      this.srtt = r
      this.rttvar = r / 2
    } else {
      // RFC 6298 §2.3: RTTVAR first, using the old SRTT
      this.rttvar = (1 - RTT_BETA) * this.rttvar + RTT_BETA * Math.abs(this.srtt - r)
      this.srtt = (1 - RTT_ALPHA) * this.srtt + RTT_ALPHA * r
    }
  }

  /** RTO before backoff: RFC 6298 §2.1–2.5, clamped to [minRto, maxRto]. */
  get baseRto (): number {
    if (this.srtt === null) return this.#clamp(this.#o.initialRtoMs)
    return this.#clamp(this.srtt + Math.max(CLOCK_GRANULARITY_MS, RTO_K * this.rttvar))
  }

  /** RTO with exponential backoff applied, never above maxRto (RFC 6298 §5.5). */
  get rto (): number {
    return Math.min(this.#o.maxRtoMs, this.baseRto * 2 ** this.backoff)
  }

  /** RFC 6298 §5.5: double the timer after it fires. */
  backOff (): void {
    if (this.baseRto * 2 ** this.backoff < this.#o.maxRtoMs) this.backoff++
  }

  /** New data was acknowledged: drop the backoff (RFC 6298 §5.7, RFC 9002 §6.2.1). */
  resetBackoff (): void {
    this.backoff = 0
  }

  /** How long after a later packet is acked an earlier one is declared lost: RFC 9002 §6.1.2. */
  get lossDelay (): number {
    const base = Math.max(this.srtt ?? this.#o.initialRtoMs, this.latest)
    return Math.max(TIME_THRESHOLD * base, CLOCK_GRANULARITY_MS)
  }

  #clamp (ms: number): number {
    return Math.min(this.#o.maxRtoMs, Math.max(this.#o.minRtoMs, ms))
  }
}
