// Which protocol to map with (proto-spec/portmap.md §4.2): PCP, NAT-PMP and UPnP IGD are probed at
// once, and the best that answered is used — PCP, then NAT-PMP, then UPnP. A better protocol that
// has not answered yet holds a worse one that has for a short grace (the router may be answering
// both: its first datagram may have been lost), no longer: a router that speaks only UPnP is not
// kept waiting for two silent protocols' retransmissions. The round only decides; the client
// (client.ts) runs the probes, maps, and ends the round when it has a mapping.
import type { Scheduler } from '../io/scheduler.js'
import type { ProbeOutcome } from './requests.js'

export type PortmapProtocol = 'pcp' | 'nat-pmp' | 'upnp'

export class ProbeRound {
  readonly #outcomes = new Map<PortmapProtocol, ProbeOutcome>()
  #graceTimer: unknown = null
  #graceOver = false
  #closed = false
  #waiter: { skip: ReadonlySet<PortmapProtocol>, resolve: (p: PortmapProtocol | null) => void } | null = null

  /**
   * Starts `probe` for every protocol of `order` (best first) at once. `graceMs`: how long a worse
   * protocol that answered waits for better ones that have not, counted from the first such answer.
   */
  constructor (
    private readonly order: readonly PortmapProtocol[],
    probe: (p: PortmapProtocol) => Promise<ProbeOutcome>,
    private readonly scheduler: Scheduler,
    private readonly graceMs: number
  ) {
    for (const p of order) {
      void probe(p)
        .catch((err: unknown) => ({ kind: 'unsupported', reason: `${p}: ${(err as Error).message}` }) as const)
        .then(o => { this.#outcomes.set(p, o); this.#evaluate() })
    }
  }

  /** The probe's outcome, once it has one. */
  outcome (p: PortmapProtocol): ProbeOutcome | undefined {
    return this.#outcomes.get(p)
  }

  /**
   * The best protocol not in `skip` that answered its probe, as soon as no better one can still
   * claim it (each better one answered no, or the grace ran out); null when none answered and none
   * is still being probed, or the round was closed.
   */
  async next (skip: ReadonlySet<PortmapProtocol>): Promise<PortmapProtocol | null> {
    if (this.#waiter !== null) throw new Error('one next() at a time')
    return await new Promise(resolve => {
      this.#waiter = { skip, resolve }
      this.#evaluate()
    })
  }

  /** Ends the round: no more decisions (a pending next() gets null). */
  close (): void {
    this.#closed = true
    if (this.#graceTimer !== null) this.scheduler.clearTimer(this.#graceTimer)
    this.#graceTimer = null
    this.#evaluate()
  }

  #evaluate (): void {
    const w = this.#waiter
    if (w === null) return
    const decide = (p: PortmapProtocol | null): void => { this.#waiter = null; w.resolve(p) }
    if (this.#closed) { decide(null); return }
    let held = false // a better protocol may still answer, and it still may be waited for
    let pending = false
    for (const p of this.order) {
      if (w.skip.has(p)) continue
      const o = this.#outcomes.get(p)
      if (o === undefined) {
        pending = true
        if (!this.#graceOver) held = true
        continue
      }
      if (o.kind !== 'present') continue
      if (!held) { decide(p); return }
      this.#startGrace()
      return
    }
    if (!pending) decide(null)
  }

  #startGrace (): void {
    if (this.#graceTimer !== null || this.#graceOver) return
    this.#graceTimer = this.scheduler.setTimer(this.graceMs, () => {
      this.#graceTimer = null
      this.#graceOver = true
      this.#evaluate()
    })
  }
}
