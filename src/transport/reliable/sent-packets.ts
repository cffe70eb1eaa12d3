// The sender's record of packets awaiting acknowledgement, ordered by packet number, with
// SACK-driven loss detection — RFC 9002 §6.1 (packet and time thresholds; the packet threshold
// of 3 is the "three duplicate ACKs" of RFC 5681 §3.2 / RFC 6675 DupThresh).

import type { Range } from './ranges.js'
import type { PnRange } from './codec.js'
import { PACKET_THRESHOLD } from './constants.js'

export interface SentPacket {
  readonly pn: number
  readonly sentAt: number
  readonly size: number
  /** Stream byte ranges this packet carried. */
  readonly data: Range[]
  /** Whether the sender was using its congestion window when this was sent (RFC 9002 §7.8). */
  readonly cwndLimited: boolean
  live: boolean
}

export interface LossResult {
  lost: SentPacket[]
  /** When the oldest packet not yet lost would be, by the time threshold (RFC 9002 §6.1.2). */
  nextLossAt: number | null
}

const COMPACT_MIN_DEAD = 64

export class SentPackets {
  // Only ack-eliciting packets are recorded; pns ascend. Acked/lost entries are marked dead and
  // swept in bulk so that removing from the middle stays cheap.
  #list: SentPacket[] = []
  #head = 0
  #dead = 0
  bytesInFlight = 0
  count = 0

  add (p: SentPacket): void {
    this.#list.push(p)
    this.bytesInFlight += p.size
    this.count++
  }

  // Answers of onAck and detectLost: one array each, reused (an ACK per packet in a
  // request/response exchange). A caller reads one before the next call of the same method.
  readonly #acked: SentPacket[] = []
  readonly #loss: LossResult = { lost: [], nextLossAt: null }

  /**
   * Marks packets covered by ACK ranges as acked; returns them in ascending pn order (an
   * array reused by the next onAck).
   */
  onAck (ranges: readonly PnRange[]): SentPacket[] {
    const acked = this.#acked
    empty(acked)
    for (let k = ranges.length - 1; k >= 0; k--) { // ranges are highest-first; walk upwards
      const r = ranges[k]!
      for (let i = this.#lowerBound(r.lo); i < this.#list.length; i++) {
        const p = this.#list[i]!
        if (p.pn > r.hi) break
        if (p.live) { this.#kill(p); acked.push(p) }
      }
    }
    this.#sweep()
    return acked
  }

  /**
   * RFC 9002 §6.1: declare lost what is 3 packets or 9/8 RTT older than the largest acked.
   * The answer is reused by the next detectLost.
   */
  detectLost (largestAcked: number, now: number, lossDelay: number): LossResult {
    const lost = this.#loss.lost
    empty(lost)
    let nextLossAt: number | null = null
    for (let i = this.#head; i < this.#list.length; i++) {
      const p = this.#list[i]!
      if (p.pn >= largestAcked) break
      if (!p.live) continue
      // one expression for both the test and the timer, so float rounding cannot leave a
      // timer due now that declares nothing lost
      const lossAt = p.sentAt + lossDelay
      if (p.pn <= largestAcked - PACKET_THRESHOLD || lossAt <= now) {
        this.#kill(p)
        lost.push(p)
      } else {
        nextLossAt = lossAt // later packets are newer still, so this one sets the timer
        break
      }
    }
    this.#sweep()
    this.#loss.nextLossAt = nextLossAt
    return this.#loss
  }

  /** Remove and return every outstanding packet (the retransmission timer fired). */
  takeAll (): SentPacket[] {
    const all = this.#list.slice(this.#head).filter(p => p.live)
    for (const p of all) this.#kill(p)
    this.#list = []
    this.#head = 0
    this.#dead = 0
    return all
  }

  #kill (p: SentPacket): void {
    p.live = false
    this.bytesInFlight -= p.size
    this.count--
    this.#dead++
  }

  #lowerBound (pn: number): number {
    let lo = this.#head
    let hi = this.#list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#list[mid]!.pn < pn) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #sweep (): void {
    while (this.#head < this.#list.length && !this.#list[this.#head]!.live) { this.#head++; this.#dead-- }
    if (this.#head === this.#list.length) {
      empty(this.#list) // all acked: keep the array (no new one per ACK)
      this.#head = 0
      this.#dead = 0
    } else if ((this.#dead > COMPACT_MIN_DEAD && this.#dead > this.count) || this.#head > this.#list.length / 2) {
      this.#list = this.#list.slice(this.#head).filter(p => p.live)
      this.#head = 0
      this.#dead = 0
    }
  }
}

// pop is inlined by the optimizing compiler; `a.length = 0` is a runtime call (~100 ns)
function empty (a: unknown[]): void {
  while (a.length > 0) a.pop()
}
