// The iterative lookup state machine (Kademlia §2.3, dht.md §6.1), pure: the node asks `next()` whom
// to query, reports answers and failures, and reads `finished`. Up to α requests count as in
// flight; a request that stalls stops counting (the node calls `stalled`) but its late answer is
// still used while the lookup runs. A stalled candidate is presumed failed: the next one out
// takes its place among the k closest, and the lookup ends when the k closest candidates neither
// failed nor stalled have all answered — a dead node among them then costs the stall time, not
// the whole request timeout (under churn, most stalls are dead nodes: dht.md §7.3) — unless
// fewer than α answered (a slow host: it waits). Candidates
// per /24 (/48) are capped, so one subnet cannot fill the k closest.
import { compareDistance, idEquals, type NodeId } from './ids.js'
import { subnetOf } from '../io/address.js'
import type { NodeInfo } from './messages.js'
import { K, ALPHA, MAX_PER_SUBNET } from './constants.js'

// Module copies of hot imported functions (see routing-table.ts).
const cmp = compareDistance
const same = idEquals
const subnet = subnetOf

export type CandidateState = 'new' | 'pending' | 'stalled' | 'done' | 'failed'

export interface Candidate {
  readonly id: NodeId
  readonly addr: string
  readonly subnet: string
  state: CandidateState
  /** Round trips to reach it: 1 for contacts we knew, n + 1 for those a hop-n node told us of. */
  readonly hop: number
  /** Write token from a VALUE answer (dht.md §4), for a later STORE. */
  token?: Uint8Array
  /** A NOT_NEWER answer's seq: this node already holds that record (dht.md §3.5). */
  storedSeq?: number
}

export interface LookupOptions {
  target: NodeId
  /** Our own id: never a candidate. */
  selfId: NodeId
  k?: number
  alpha?: number
  maxPerSubnet?: number
  /** Candidates kept, closest first (bounded memory); default 5k. */
  maxCandidates?: number
}

export interface LookupCounters {
  queried: number
  responded: number
  failed: number
}

export class Lookup {
  readonly target: NodeId
  readonly k: number
  readonly alpha: number
  readonly counters: LookupCounters = { queried: 0, responded: 0, failed: 0 }
  readonly #selfId: NodeId
  readonly #maxPerSubnet: number
  readonly #maxCandidates: number
  readonly #subnets = new Map<string, number>()
  /** Id objects already taken as candidates (identity, not value: a fast path only). */
  readonly #seen = new Set<NodeId>()
  #candidates: Candidate[] = []
  #inflight = 0
  #stopped = false

  constructor (opts: LookupOptions) {
    this.target = opts.target
    this.#selfId = opts.selfId
    this.k = opts.k ?? K
    this.alpha = opts.alpha ?? ALPHA
    this.#maxPerSubnet = opts.maxPerSubnet ?? MAX_PER_SUBNET
    this.#maxCandidates = opts.maxCandidates ?? 5 * this.k
  }

  get candidates (): readonly Candidate[] { return this.#candidates }
  /** Requests counted against α. */
  get inflight (): number { return this.#inflight }

  /** Adds contacts (dedup by id); those from a hop-h answer get hop h + 1. Returns how many were new. */
  add (nodes: readonly NodeInfo[], hop: number): number {
    let added = 0
    for (const n of nodes) {
      // Answers repeat contacts, and decoded contacts are interned (intern.ts): an id object seen
      // before is a duplicate without a search. Other copies of a known id are caught below.
      if (this.#seen.has(n.id) || same(n.id, this.#selfId)) continue
      const at = this.#position(n.id)
      const there = this.#candidates[at]
      if (there && same(there.id, n.id)) continue
      if (at >= this.#maxCandidates) continue
      const sn = subnet(n.addr)
      if ((this.#subnets.get(sn) ?? 0) >= this.#maxPerSubnet) continue
      this.#subnets.set(sn, (this.#subnets.get(sn) ?? 0) + 1)
      this.#candidates.splice(at, 0, { id: n.id, addr: n.addr, subnet: sn, state: 'new', hop })
      this.#seen.add(n.id)
      added++
    }
    while (this.#candidates.length > this.#maxCandidates) {
      const dropped = this.#candidates.pop()!
      if (dropped.state === 'pending') this.#inflight--
      this.#seen.delete(dropped.id)
      this.#subnets.set(dropped.subnet, (this.#subnets.get(dropped.subnet) ?? 1) - 1)
    }
    return added
  }

  /**
   * Candidates to query now (marked pending): the closest unqueried among the k closest live ones,
   * α at a time while the lookup still approaches the target. Once the closest live candidate has
   * answered, answers can no longer lead closer than what the k closest hold, and Kademlia's last
   * step applies (§2.3: a round that finds nothing closer sends to all of the k closest not yet
   * queried): the window opens to k. Same requests, a third of the rounds.
   */
  next (): Candidate[] {
    const out: Candidate[] = []
    if (this.#stopped) return out
    const limit = this.#closestDone() ? this.k : this.alpha
    let live = 0
    for (const c of this.#candidates) {
      if (this.#inflight >= limit || live >= this.k) break
      if (c.state === 'failed' || c.state === 'stalled') continue
      live++
      if (c.state !== 'new') continue
      c.state = 'pending'
      this.#inflight++
      this.counters.queried++
      out.push(c)
    }
    return out
  }

  /** `c` answered; `nodes` are the contacts it returned. */
  responded (c: Candidate, nodes: readonly NodeInfo[]): void {
    if (c.state === 'done' || c.state === 'failed') return
    if (c.state === 'pending') this.#inflight--
    c.state = 'done'
    this.counters.responded++
    this.add(nodes, c.hop + 1)
  }

  /** `c` did not answer (timeout, or the request could not be sent). */
  failed (c: Candidate): void {
    if (c.state === 'done' || c.state === 'failed') return
    if (c.state === 'pending') this.#inflight--
    c.state = 'failed'
    this.counters.failed++
  }

  /** `c` is slow: free its α slot (Kademlia §2.3) while still waiting for it. */
  stalled (c: Candidate): void {
    if (c.state !== 'pending') return
    c.state = 'stalled'
    this.#inflight--
  }

  /** End early (value found, or cancelled): next() returns nothing and finished is true. */
  stop (): void {
    this.#stopped = true
  }

  get stopped (): boolean { return this.#stopped }

  /**
   * True when stopped, or when the k closest candidates neither failed nor stalled have all
   * answered — and, if any stalled, at least α answered: a lookup whose every request stalls is on
   * a slow host or network (not among dead nodes), and it waits for the answers.
   */
  get finished (): boolean {
    if (this.#stopped) return true
    let live = 0
    let stalled = 0
    for (const c of this.#candidates) {
      if (live >= this.k) break
      if (c.state === 'failed') continue
      if (c.state === 'stalled') { stalled++; continue }
      if (c.state !== 'done') return false
      live++
    }
    return stalled === 0 || live >= this.alpha
  }

  /** The (up to) k closest candidates that answered, closest first. */
  closest (n: number = this.k): Candidate[] {
    const out: Candidate[] = []
    for (const c of this.#candidates) {
      if (out.length >= n) break
      if (c.state === 'done') out.push(c)
    }
    return out
  }

  #closestDone (): boolean {
    for (const c of this.#candidates) {
      if (c.state === 'failed' || c.state === 'stalled') continue
      return c.state === 'done'
    }
    return false
  }

  // First index whose candidate is not closer to the target than `id` (binary search).
  #position (id: NodeId): number {
    let lo = 0
    let hi = this.#candidates.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cmp(this.#candidates[mid]!.id, id, this.target) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
