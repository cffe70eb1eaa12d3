// Packetization-layer path MTU discovery (DPLPMTUD, RFC 8899) for the reliable channel —
// proto-spec/reliable.md §15. A pure state machine: which packet size is confirmed for the
// path (`mtu`), which size to probe next and when, and what an acknowledged or lost probe
// means. The channel builds the probes (PING + PADDING, no data: RFC 8899 §4.1) and reports
// their fate; the ceiling (the largest size worth trying) comes from outside, e.g. the MTU of
// the local interface that reaches the peer (src/transport/path-mtu.ts).
//
// Search (RFC 8899 §5.3): probe the ceiling first — on a link whose MTU we know it usually
// holds, and one probe settles it. A size that fails MAX_PROBES times bounds the search from
// above; the next probe is halfway between the confirmed size and that bound, until the gap is
// below SEARCH_GRANULARITY (SEARCH_COMPLETE). After PMTU_RAISE_TIMER a completed search below the
// ceiling tries again. A black hole (the confirmed size stopped getting through) drops back to
// the base size and searches again later.

import {
  PMTU_MAX_PROBES, PMTU_SEARCH_GRANULARITY, PMTU_PROBE_TIMER_MIN_MS, PMTU_RAISE_TIMER_MS
} from './constants.js'

export type PmtuState = 'disabled' | 'searching' | 'complete'

interface OutstandingProbe { pn: number, size: number, sentAt: number }

export class PmtuSearch {
  readonly base: number
  #ceiling: number
  /** The largest packet size confirmed on this path (PLPMTU); never below `base`. */
  mtu: number
  #hi: number // exclusive: smallest size known to fail, or ceiling + 1
  #probeSize = 0
  #probeCount = 0 // consecutive failures of #probeSize
  #probe: OutstandingProbe | null = null
  #raiseAt = Infinity
  /** Probes sent, and those that failed (lost or timed out). */
  probesSent = 0
  probesLost = 0
  blackHoles = 0

  constructor (base: number, ceiling: number) {
    this.base = base
    this.mtu = base
    this.#ceiling = base
    this.#hi = base + 1
    this.resetPath(ceiling)
  }

  get ceiling (): number { return this.#ceiling }

  get state (): PmtuState {
    if (this.#ceiling <= this.base) return 'disabled'
    return this.#probeSize === 0 ? 'complete' : 'searching'
  }

  /** The path changed (the peer roamed, or a new ceiling): confirmed size back to base, search again. */
  resetPath (ceiling: number): void {
    this.#ceiling = Math.max(this.base, Math.floor(ceiling))
    this.mtu = this.base
    this.#hi = this.#ceiling + 1
    this.#probe = null
    this.#probeCount = 0
    this.#raiseAt = Infinity
    this.#probeSize = this.#ceiling > this.base ? this.#ceiling : 0
  }

  /** The pn of the probe in flight, or -1. */
  get probePn (): number { return this.#probe?.pn ?? -1 }

  /**
   * Size of the probe to send now, or 0: while searching with no probe outstanding, or when the
   * raise timer has fired. At most one probe is in flight, so probes are at least an RTT apart
   * (RFC 8899 §3: probes that bypass congestion control are spaced by at least one RTT).
   */
  probeDue (now: number): number {
    if (this.#probe !== null) return 0
    if (this.#probeSize === 0 && now >= this.#raiseAt) this.#raise()
    return this.#probeSize
  }

  onProbeSent (pn: number, size: number, now: number): void {
    this.#probe = { pn, size, sentAt: now }
    this.probesSent++
  }

  /** When the outstanding probe counts as lost if still unacknowledged (PROBE_TIMER), or null. */
  probeDeadline (rtoMs: number): number | null {
    if (this.#probe === null) return this.#raiseAt === Infinity ? null : this.#raiseAt
    return this.#probe.sentAt + Math.max(PMTU_PROBE_TIMER_MIN_MS, 2 * rtoMs)
  }

  /** The outstanding probe was acknowledged: its size holds on this path (RFC 8899 §5.3.1). */
  onProbeAcked (now: number): void {
    const p = this.#probe
    if (p === null) return
    this.#probe = null
    this.#probeCount = 0
    if (p.size > this.mtu) this.mtu = p.size
    this.#next(now)
  }

  /**
   * Loss detection for the probe: `largestAcked` is the largest pn the peer acknowledged; the
   * probe is lost once a packet `PACKET_THRESHOLD` later was acknowledged without it (the
   * channel's own rule, reliable.md §5) or its PROBE_TIMER has run out. Returns true if lost.
   */
  checkLost (largestAcked: number, packetThreshold: number, now: number, rtoMs: number): boolean {
    const p = this.#probe
    if (p === null) return false
    const deadline = p.sentAt + Math.max(PMTU_PROBE_TIMER_MIN_MS, 2 * rtoMs)
    if (largestAcked < p.pn + packetThreshold && now < deadline) return false
    this.#probe = null
    this.probesLost++
    if (++this.#probeCount >= PMTU_MAX_PROBES) {
      this.#hi = p.size // RFC 8899 §5.3.1: MAX_PROBES failures: this size does not fit
      this.#probeCount = 0
      this.#next(now)
    }
    return true
  }

  /**
   * Packets of the confirmed size stopped getting through (repeated retransmission timeouts):
   * RFC 8899 §4.3 black-hole detection. Fall back to the base size at once and search again from
   * the ceiling (RFC 8899 §5.2: PROBE_BASE, then PROBE_SEARCH). Heavy random loss also causes
   * timeouts in a row; then the first probe confirms the old size again within a round trip.
   */
  onBlackHole (): void {
    if (this.mtu <= this.base) return
    this.blackHoles++
    this.mtu = this.base
    this.#hi = this.#ceiling + 1
    this.#probe = null
    this.#probeCount = 0
    this.#raiseAt = Infinity
    this.#probeSize = this.#ceiling
  }

  // Halfway between what holds and what failed, or done (RFC 8899 §5.3.2 leaves the algorithm open).
  #next (now: number): void {
    const top = Math.min(this.#hi - 1, this.#ceiling)
    if (top - this.mtu < PMTU_SEARCH_GRANULARITY) {
      this.#probeSize = 0
      this.#raiseAt = this.mtu < this.#ceiling ? now + PMTU_RAISE_TIMER_MS : Infinity
      return
    }
    this.#probeSize = this.#hi > this.#ceiling ? this.#ceiling : Math.floor((this.mtu + top) / 2)
  }

  // RFC 8899 §5.3.3 (PMTU_RAISE_TIMER): try the ceiling again; a failure bound may be stale.
  #raise (): void {
    this.#raiseAt = Infinity
    this.#hi = this.#ceiling + 1
    this.#probeCount = 0
    this.#probeSize = this.#ceiling > this.mtu ? this.#ceiling : 0
  }
}
