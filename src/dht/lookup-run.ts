// Drives one Lookup over the RPC table (dht.md §6.1): FIND_NODE for node lookups, FIND_VALUE for
// value lookups and for announces (which also collect write tokens). Callback-driven, so it runs
// the same under a simulated clock (no awaits between network events); node.ts wraps it in promises.
import { Lookup, type Candidate } from './lookup.js'
import { idEquals, nodeIdAt, type NodeId } from './ids.js'
import { DhtType, ValueStatus, RECORDS_PER_KEY, LOOKUP_TAIL_FACTOR, LOOKUP_TAIL_FLOOR_MS } from './constants.js'
import { after } from '../io/scheduler.js'
import type { DhtMessage, FindValueBody, NodeInfo, RecordsBody } from './messages.js'
import type { VerifiedRecord } from './records.js'
import type { Transaction } from './rpc.js'
import type { NodeInternals } from './context.js'

export type LookupMode = 'find-node' | 'find-value' | 'announce'

export interface LookupProgress {
  queried: number
  responded: number
  failed: number
  inflight: number
  /** Round trips of the deepest answer so far. */
  hops: number
}

export interface LookupResult {
  target: NodeId
  /** Closest nodes that answered, closest first (with write tokens for an announce). */
  closest: Candidate[]
  /** find-value: the record found (highest seq seen if exhaustive); announce: a newer record than ours, if any. */
  record: VerifiedRecord | null
  /** Round trips: to the node that gave the record, or the deepest of the closest otherwise. */
  hops: number
  queried: number
  responded: number
  failed: number
  /** Datagrams this lookup sent (retries included) and received. */
  sent: number
  received: number
  startedAt: number
  durationMs: number
  aborted: boolean
}

export interface LookupParams {
  mode: LookupMode
  target: NodeId
  /** FIND_VALUE `have seq`: only a record newer than this is sent back. */
  haveSeq?: number | null
  /** FIND_VALUE period key: ask only about the record under it (an announce, dht.md §6.2). */
  periodKey?: Uint8Array | null
  /** find-value: keep going to the k closest and return the highest seq (default: stop at the first). */
  exhaustive?: boolean
  /** find-value: the reader's own test of a record that verified (dht.md §5.3: it opens); others are passed over */
  accept?: (r: VerifiedRecord) => boolean
  signal?: AbortSignal
  onProgress?: (p: LookupProgress) => void
  onDone: (r: LookupResult) => void
}

export interface LookupHandle {
  readonly lookup: Lookup
  readonly result: LookupResult | null
  abort: () => void
}

class Run implements LookupHandle {
  readonly lookup: Lookup
  result: LookupResult | null = null
  readonly #n: NodeInternals
  readonly #p: LookupParams
  readonly #txs = new Set<Transaction>()
  readonly #startedAt: number
  #record: VerifiedRecord | null = null
  #recordHop = 0
  #maxHop = 0
  #sent = 0
  #received = 0
  /** FIND_VALUEs with a `start` in flight: the lookup does not end before they answer (dht.md §3.5). */
  #followUps = 0
  #onAbort: (() => void) | null = null
  /** When each candidate's request went out, and the slowest answer so far: the lookup's own stall time (#armTail). */
  readonly #sentAt = new Map<Candidate, number>()
  #slowestMs = 0
  #tailTimer: (() => void) | null = null
  #tailAt = Infinity

  constructor (n: NodeInternals, p: LookupParams) {
    this.#n = n
    this.#p = p
    this.#startedAt = n.scheduler.wallNow()
    this.lookup = new Lookup({ target: p.target, selfId: n.id, k: n.settings.k, alpha: n.settings.alpha, maxPerSubnet: n.settings.maxPerSubnet })
  }

  start (seeds: NodeInfo[]): void {
    const signal = this.#p.signal
    if (signal?.aborted) return this.#complete(true)
    if (signal) {
      this.#onAbort = () => this.abort()
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    this.#n.table.markLookup(this.#p.target, this.#n.scheduler.wallNow())
    const known = this.#n.table.closest(this.#p.target, this.#n.settings.k).map(c => ({ id: c.id, addr: c.addr }))
    this.lookup.add(known, 1)
    this.lookup.add(seeds, 1)
    this.#pump()
  }

  abort (): void {
    if (this.result) return
    this.lookup.stop()
    this.#complete(true)
  }

  #pump (): void {
    if (this.result) return
    for (const c of this.lookup.next()) this.#query(c)
    if (this.lookup.finished && (this.lookup.stopped || this.#followUps === 0)) return this.#complete(false)
    this.#armTail()
  }

  // Per-lookup stall times (dht.md §6.1): once α answered, a request still out is passed over
  // (stalled) when it has waited LOOKUP_TAIL_FACTOR × the slowest answer this lookup got — its
  // peers, asked from the same host over the same network moments before. A departed node among
  // the k closest then costs a few round trips of this lookup, not the node-wide stall time (at
  // least 25 ms, and several times the slowest join answer on a node that just started), and it
  // no longer holds the window at α when it is the closest candidate. A late answer still counts
  // while the lookup runs; until α answered, only the node-wide stall applies.
  #armTail (): void {
    if (this.lookup.counters.responded < this.lookup.alpha) return
    const wait = this.#tailWait()
    let at = Infinity
    for (const c of this.lookup.candidates) if (c.state === 'pending') at = Math.min(at, (this.#sentAt.get(c) ?? 0) + wait)
    if (at === Infinity) return this.#cancelTail()
    if (at >= this.#tailAt) return
    this.#cancelTail()
    this.#tailAt = at
    // Timers run before the event loop polls sockets: after a pause of the loop, answers already
    // waiting would be judged late. So the timer only schedules a second look, after the poll.
    this.#tailTimer = after(this.#n.scheduler, Math.max(0, at - this.#n.scheduler.wallNow()), () => {
      this.#tailTimer = after(this.#n.scheduler, 0, () => { this.#tailTimer = null; this.#tailAt = Infinity; this.#tail() })
    })
  }

  #tailWait (): number {
    return Math.max(LOOKUP_TAIL_FLOOR_MS, LOOKUP_TAIL_FACTOR * this.#slowestMs)
  }

  #tail (): void {
    if (this.result) return
    const now = this.#n.scheduler.wallNow()
    const wait = this.#tailWait()
    for (const c of this.lookup.candidates) {
      if (c.state === 'pending' && (this.#sentAt.get(c) ?? 0) + wait <= now) this.lookup.stalled(c)
    }
    this.#progress()
    this.#pump()
  }

  #cancelTail (): void {
    this.#tailTimer?.()
    this.#tailTimer = null
    this.#tailAt = Infinity
  }

  #findValue (start?: number): FindValueBody {
    const { target, haveSeq, periodKey } = this.#p
    const body: FindValueBody = { type: DhtType.FIND_VALUE, key: target, haveSeq: haveSeq ?? null, periodKey: periodKey ?? null }
    if (start !== undefined) body.start = start
    return body
  }

  #query (c: Candidate): void {
    const { mode, target } = this.#p
    const body = mode === 'find-node' ? { type: DhtType.FIND_NODE, target } as const : this.#findValue()
    let tx: Transaction | null = null
    const done = (): void => { if (tx) this.#txs.delete(tx) }
    // A request still out when the lookup ends is left to finish: its answer or its timeout
    // still tells the routing table whether that node lives (dht.md §7.3).
    tx = this.#n.request(c.addr, body, {
      stallMs: this.#n.rpc.rtt.stallMs(this.#n.settings.lookupStallMs),
      onStall: () => { this.lookup.stalled(c); this.#pump() },
      onTimeout: () => { done(); if (this.result) this.#n.contactFailed(c.id); else this.#fail(c) },
      onResponse: (msg) => {
        done()
        if (this.result) return this.#late(c, msg)
        this.#received++
        this.#slowestMs = Math.max(this.#slowestMs, this.#n.scheduler.wallNow() - (this.#sentAt.get(c) ?? 0))
        this.#answer(c, msg)
      }
    })
    if (tx === null) return this.#fail(c)
    this.#sentAt.set(c, tx.sentAt)
    this.#txs.add(tx)
    this.#sent++
  }

  #fail (c: Candidate): void {
    this.lookup.failed(c)
    this.#n.contactFailed(c.id)
    this.#progress()
    this.#pump()
  }

  /** An answer after the lookup ended: routing-table upkeep only. */
  #late (c: Candidate, msg: DhtMessage): void {
    const id = nodeIdAt(msg.senderKey, c.addr)
    this.#n.heardFrom(id, c.addr, msg.readOnly)
    if (!idEquals(id, c.id)) this.#n.contactFailed(c.id)
  }

  #answer (c: Candidate, msg: DhtMessage): void {
    // The id a third party gave us must be the answering node's: its key, placed at the address
    // we asked (dht.md §1.1), gives it. Another id there answered from that address: a new node
    // took it (a restart draws a new key), and it takes the old one's place in the table.
    const id = nodeIdAt(msg.senderKey, c.addr)
    if (!idEquals(id, c.id)) {
      this.#n.heardFrom(id, c.addr, msg.readOnly)
      return this.#fail(c)
    }
    this.#n.heardFrom(c.id, c.addr, msg.readOnly)
    this.#maxHop = Math.max(this.#maxHop, c.hop)
    if (msg.type === DhtType.NODES) this.lookup.responded(c, msg.nodes)
    else if (msg.type === DhtType.VALUE) this.#value(c, msg)
    this.#progress()
    this.#pump()
  }

  #value (c: Candidate, msg: DhtMessage & { type: typeof DhtType.VALUE }): void {
    c.token = msg.token
    if (msg.status !== ValueStatus.RECORDS) {
      if (msg.status === ValueStatus.NOT_NEWER) c.storedSeq = msg.seq
      this.lookup.responded(c, msg.nodes)
      return
    }
    this.lookup.responded(c, [])
    this.#records(c, msg)
  }

  /**
   * The records of one VALUE (dht.md §5.3): each that verifies and passes `accept` is a find; the
   * others (another writer's, under the same key) are passed over. If none was taken and the
   * storer holds more than this answer carried, ask it for the rest (at most RECORDS_PER_KEY in
   * all: a storer claiming more is not followed further).
   */
  #records (c: Candidate, msg: RecordsBody): void {
    let found = false
    for (const bytes of msg.records) {
      const rec = this.#n.verifyRecord(bytes, this.#p.target, this.#n.scheduler.wallNow())
      if (rec === null) { this.#n.drops.count('bad-record'); continue }
      if (this.#p.accept !== undefined && !this.#p.accept(rec)) continue
      found = true
      if (this.#record === null || rec.seq > this.#record.seq) {
        this.#record = rec
        this.#recordHop = c.hop
      }
    }
    const firstOnly = this.#p.mode === 'find-value' && !this.#p.exhaustive
    if (found && firstOnly) return this.lookup.stop()
    const next = msg.start + msg.records.length
    if (next < Math.min(msg.total, RECORDS_PER_KEY) && !this.lookup.stopped) this.#followUp(c, next)
  }

  #followUp (c: Candidate, start: number): void {
    let tx: Transaction | null = null
    const done = (): void => {
      if (tx) this.#txs.delete(tx)
      this.#followUps--
    }
    tx = this.#n.request(c.addr, this.#findValue(start), {
      onTimeout: () => { done(); this.#pump() },
      onResponse: (msg) => {
        done()
        if (this.result) return // the lookup ended meanwhile (it no longer cancels what is out)
        this.#received++
        const same = idEquals(nodeIdAt(msg.senderKey, c.addr), c.id)
        if (same && msg.type === DhtType.VALUE && msg.status === ValueStatus.RECORDS && msg.start === start) this.#records(c, msg)
        this.#progress()
        this.#pump()
      }
    })
    if (tx === null) return
    this.#followUps++
    this.#txs.add(tx)
    this.#sent++
  }

  #progress (): void {
    const l = this.lookup
    this.#p.onProgress?.({ ...l.counters, inflight: l.inflight, hops: this.#maxHop })
  }

  #complete (aborted: boolean): void {
    if (this.result) return
    this.#cancelTail()
    if (aborted) for (const tx of this.#txs) this.#n.rpc.cancel(tx)
    this.#txs.clear()
    if (this.#onAbort) this.#p.signal?.removeEventListener('abort', this.#onAbort)
    const closest = this.lookup.closest()
    const now = this.#n.scheduler.wallNow()
    this.result = {
      target: this.#p.target,
      closest,
      record: this.#record,
      hops: this.#record ? this.#recordHop : closest.reduce((h, c) => Math.max(h, c.hop), 0),
      ...this.lookup.counters,
      sent: this.#sent,
      received: this.#received,
      startedAt: this.#startedAt,
      durationMs: now - this.#startedAt,
      aborted
    }
    this.#p.onDone(this.result)
  }
}

/** Starts a lookup from the routing table's closest contacts plus `seeds`. */
export function startLookup (n: NodeInternals, p: LookupParams, seeds: NodeInfo[] = []): LookupHandle {
  const run = new Run(n, p)
  run.start(seeds)
  return run
}
