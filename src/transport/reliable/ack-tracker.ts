// Receiver-side acknowledgement state — RFC 9000 §13.2 and RFC 5681 §4.2: remember which packet
// numbers arrived (bounded), acknowledge every second ack-eliciting packet or after
// max_ack_delay, and at once when a packet arrives out of order or a probe asks for it.

import { RangeSet } from './ranges.js'
import type { PnRange } from './codec.js'
import { RECEIVED_PN_RANGES_KEPT, ACK_REPORTS_PER_RANGE } from './constants.js'

/** What an ACK frame reports (see AckTracker.frame). */
export interface AckRanges { ranges: PnRange[], ackDelayUs: number }

export class AckTracker {
  readonly #received = new RangeSet()
  readonly #maxAckDelayMs: number
  readonly #ackEvery: number
  #largest = -1
  #largestAt = 0
  #eliciting = 0
  #deadline: number | null = null
  #immediate = false
  // largest pn of each of the last ACK_REPORTS_PER_RANGE ACKs sent (oldest first)
  readonly #reported: number[] = []
  readonly #frame: AckRanges = { ranges: [], ackDelayUs: 0 }
  readonly #rangePool: PnRange[] = []
  /** An ack-eliciting packet (or a window update) is waiting to be acknowledged. */
  pending = false

  constructor (maxAckDelayMs: number, ackEvery: number) {
    this.#maxAckDelayMs = maxAckDelayMs
    this.#ackEvery = ackEvery
  }

  /** Whether packet `pn` was seen before (as far as the bounded memory knows). */
  isDuplicate (pn: number): boolean { return this.#received.has(pn) }

  /** Records an accepted packet. */
  onPacket (pn: number, ackEliciting: boolean, now: number): void {
    const inOrder = pn === this.#largest + 1
    this.#received.add(pn, pn + 1)
    this.#received.keepHighest(RECEIVED_PN_RANGES_KEPT)
    if (pn > this.#largest) {
      this.#largest = pn
      this.#largestAt = now
    }
    if (!ackEliciting) return
    this.pending = true
    this.#eliciting++
    this.#deadline ??= now + this.#maxAckDelayMs
    // RFC 9000 §13.2.1 / RFC 5681 §4.2: a gap, or a packet filling one, is acked at once so the
    // sender's loss detection (and fast retransmit) starts without waiting for the delay timer.
    if (!inOrder || this.#eliciting >= this.#ackEvery) this.#immediate = true
  }

  /** Ask for an ACK now (peer probe, or our flow-control window opened). */
  requestImmediate (): void {
    if (this.#largest < 0) return
    this.pending = true
    this.#immediate = true
  }

  shouldSend (now: number): boolean {
    return this.pending && (this.#immediate || (this.#deadline !== null && now >= this.#deadline))
  }

  /** When the delayed ACK must go out, if one is waiting. */
  get deadline (): number | null { return this.pending ? this.#deadline : null }
  get hasReceived (): boolean { return this.#largest >= 0 }

  /**
   * Highest ranges first, at most `maxRanges`, and the ack delay in microseconds. Without
   * acks of acks, a range is retired once ACK_REPORTS_PER_RANGE ACKs have covered it, as TCP
   * repeats only recent SACK blocks (RFC 2018 §4); should all those ACKs be lost, the sender
   * merely retransmits bytes the receiver already has.
   * The answer is reused by the next call: write it out first.
   */
  frame (now: number, maxRanges: number): AckRanges {
    const all = this.#received.ranges
    const floor = this.#reported.length === ACK_REPORTS_PER_RANGE ? this.#reported[0]! : -1
    // one answer object, its array and its range objects are reused for every ACK (one per
    // packet in a request/response exchange): the caller writes the frame before asking again
    const out = this.#frame
    const ranges = out.ranges
    let n = 0
    for (let i = all.length - 1; i >= 0 && n < maxRanges; i--) {
      const hi = all[i]!.end - 1
      if (hi <= floor && n > 0) break
      const r = this.#rangePool[n] ??= { lo: 0, hi: 0 }
      r.lo = all[i]!.start
      r.hi = hi
      ranges[n++] = r
    }
    while (ranges.length > n) ranges.pop() // (pop is inlined; a length store is a runtime call)
    out.ackDelayUs = Math.max(0, now - this.#largestAt) * 1000
    return out
  }

  /** An ACK frame went out. */
  onAckSent (): void {
    this.#reported.push(this.#largest)
    if (this.#reported.length > ACK_REPORTS_PER_RANGE) this.#reported.shift()
    this.pending = false
    this.#immediate = false
    this.#eliciting = 0
    this.#deadline = null
  }
}
