// NewReno congestion control in bytes — RFC 5681 §3.1, RFC 6582, as restated for a
// packet-number transport in RFC 9002 §7: slow start, congestion avoidance, one multiplicative
// decrease per round trip of losses, and a reset to the loss window after a timeout.

import {
  INITIAL_WINDOW_PACKETS, INITIAL_WINDOW_BYTES_CAP, MINIMUM_WINDOW_PACKETS, LOSS_WINDOW_PACKETS,
  LOSS_REDUCTION_FACTOR
} from './constants.js'

export class NewReno {
  /** Largest packet size (bytes); changes when path MTU discovery confirms a new size. */
  mss: number
  readonly maxCwnd: number
  cwnd: number
  ssthresh = Infinity
  /** Packets sent at or before this time belong to the current recovery period (RFC 9002 §7.3.2). */
  recoveryStartAt = -Infinity

  constructor (mss: number, maxCwnd: number) {
    this.mss = mss
    this.maxCwnd = maxCwnd
    // RFC 9002 §7.2: min(10 * mss, max(14720, 2 * mss))
    this.cwnd = Math.min(INITIAL_WINDOW_PACKETS * mss, Math.max(INITIAL_WINDOW_BYTES_CAP, MINIMUM_WINDOW_PACKETS * mss))
  }

  /**
   * A new packet size was confirmed for the path (reliable.md §15). RFC 8899 §3: an update of
   * the PLPMTU must not increase the congestion window in bytes; growth and the minimum and
   * loss windows use the new size from now on.
   */
  setMss (mss: number): void {
    this.mss = mss
  }

  get minWindow (): number { return MINIMUM_WINDOW_PACKETS * this.mss }
  get inSlowStart (): boolean { return this.cwnd < this.ssthresh }

  /** Whether another ack-eliciting packet may go out with `bytesInFlight` outstanding. */
  canSend (bytesInFlight: number): boolean { return bytesInFlight < this.cwnd }

  /**
   * A packet of `bytes` sent at `sentAt` was acknowledged. `cwndLimited` says whether the
   * sender was using the window when it sent it: an application-limited sender must not grow
   * the window it is not using (RFC 9002 §7.8, RFC 7661).
   */
  onAck (bytes: number, sentAt: number, cwndLimited: boolean): void {
    if (sentAt <= this.recoveryStartAt) return // RFC 9002 §7.3.2: no growth during recovery
    if (!cwndLimited) return
    if (this.inSlowStart) this.cwnd += bytes // RFC 9002 §7.3.1 (byte counting, RFC 3465)
    else this.cwnd += (this.mss * bytes) / this.cwnd // RFC 5681 §3.1 eq. (3)
    this.cwnd = Math.min(this.cwnd, this.maxCwnd)
  }

  /**
   * Packets were declared lost; `largestLostSentAt` is when the newest of them was sent.
   * Returns true if this started a new congestion event (one reduction per round trip).
   */
  onLoss (largestLostSentAt: number, now: number): boolean {
    if (largestLostSentAt <= this.recoveryStartAt) return false
    this.recoveryStartAt = now
    this.ssthresh = Math.max(this.cwnd * LOSS_REDUCTION_FACTOR, this.minWindow) // RFC 5681 §3.1 eq. (4)
    this.cwnd = this.ssthresh
    return true
  }

  /**
   * The retransmission timer fired. RFC 5681 §3.1: ssthresh = max(FlightSize / 2, 2 * SMSS) on
   * the first timeout of a series (later ones keep it), and cwnd drops to the loss window.
   */
  onTimeout (flightSize: number, firstTimeout: boolean, now: number): void {
    if (firstTimeout) this.ssthresh = Math.max(flightSize / 2, this.minWindow)
    this.cwnd = LOSS_WINDOW_PACKETS * this.mss
    this.recoveryStartAt = now
  }
}
