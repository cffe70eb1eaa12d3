// Housekeeping on one timer (dht.md §6.3): expire records, forget quiet rate-limit buckets, rotate
// the token secret, refresh buckets no lookup touched for an hour (Kademlia §2.3), ping contacts
// quiet for staleMs so that dead ones leave the table (BEP 5 "questionable"). Also keeps the
// addresses PONGs report for us (a hint for NAT discovery, not trusted for anything).
import { randomIdInBucket } from './ids.js'
import { after } from '../io/scheduler.js'
import type { RequestGate } from './defences.js'
import type { LookupHandle, LookupParams } from './lookup-run.js'
import type { NodeInternals } from './context.js'

/** Refresh lookups one tick may start (spreads the work of a node that slept). */
const MAX_REFRESHES_PER_TICK = 3
const MAX_OBSERVED = 16
/** Quiet contacts one tick may ping: a table of a few hundred is checked within minutes. */
const MAX_QUIET_PINGS_PER_TICK = 16

export class Maintenance {
  readonly #n: NodeInternals
  readonly #startLookup: (p: LookupParams) => LookupHandle
  readonly #limiter: RequestGate
  readonly #observed = new Map<string, number>()
  readonly #refreshing = new Set<number>()
  #cancelTick: (() => void) | null = null
  #lastObserved: string | null = null
  readonly #checkQuiet: (max: number) => number

  constructor (n: NodeInternals, startLookup: (p: LookupParams) => LookupHandle, limiter: RequestGate, checkQuiet: (max: number) => number = () => 0) {
    this.#n = n
    this.#startLookup = startLookup
    this.#limiter = limiter
    this.#checkQuiet = checkQuiet
  }

  start (): void {
    if (this.#cancelTick) return
    const loop = (): void => {
      this.tick()
      this.#cancelTick = after(this.#n.scheduler, this.#n.settings.maintenanceMs, loop)
    }
    this.#cancelTick = after(this.#n.scheduler, this.#n.settings.maintenanceMs, loop)
  }

  stop (): void {
    this.#cancelTick?.()
    this.#cancelTick = null
  }

  tick (): void {
    const n = this.#n
    const now = n.scheduler.wallNow()
    n.store.sweep(now)
    this.#limiter.sweep(now)
    n.tokens.tick(now)
    this.#checkQuiet(MAX_QUIET_PINGS_PER_TICK)
    let started = 0
    for (const i of n.table.staleBuckets(now, n.settings.refreshMs)) {
      if (started >= MAX_REFRESHES_PER_TICK) break
      if (this.refresh(i)) started++
    }
  }

  /** Look up a random id in bucket `i` (skipped if one is already running for it). */
  refresh (i: number, onDone?: () => void): boolean {
    if (this.#refreshing.has(i) || i >= this.#n.table.bucketCount) return false
    this.#refreshing.add(i)
    const target = randomIdInBucket(this.#n.id, i, this.#n.random)
    this.#startLookup({ mode: 'find-node', target, onDone: () => { this.#refreshing.delete(i); onDone?.() } })
    return true
  }

  observed (addr: string): void {
    this.#lastObserved = addr
    this.#observed.set(addr, (this.#observed.get(addr) ?? 0) + 1)
    if (this.#observed.size > MAX_OBSERVED) this.#observed.delete(this.#observed.keys().next().value!)
  }

  /** The address most PONGs reported (ties: the latest). */
  observedAddress (): string | null {
    let best = this.#lastObserved
    let count = best === null ? 0 : (this.#observed.get(best) ?? 0)
    for (const [addr, c] of this.#observed) if (c > count) { best = addr; count = c }
    return best
  }
}
