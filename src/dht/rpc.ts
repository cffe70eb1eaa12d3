// Outstanding requests (dht.md §7.1): a table keyed by random 32-bit transaction id. A response
// is accepted only if its txid is pending, it comes from the exact address that was asked, and
// its type answers the request's type; anything else is dropped and counted by the caller.
// Together with the random txid this means an off-path attacker must guess 32 bits and spoof the
// asked node's address to inject an answer (cf. BEP 5 "t", RFC 5452 for DNS).
import type { DhtMessage } from './messages.js'
import { after, type Scheduler } from '../io/scheduler.js'
import { RESPONSE_OF, MAX_PENDING_RPCS } from './constants.js'
import { RttEstimator } from './rtt.js'

export interface RequestOptions {
  timeoutMs: number
  /** Resends of the same packet (same txid) after each timeout before giving up. */
  retries?: number
  /** If set, onStall runs once this long after the first send if no answer came yet. */
  stallMs?: number
  onResponse: (msg: DhtMessage, from: string) => void
  onTimeout: () => void
  onStall?: () => void
}

export interface Transaction {
  readonly txid: number
  readonly to: string
  readonly type: number
  readonly sentAt: number
  sends: number
}

interface Pending extends Transaction {
  packet: Uint8Array
  opts: RequestOptions
  triesLeft: number
  /** When the current send times out (ms, scheduler time). */
  deadline: number
  /** When onStall runs, or null (none asked for, or already run). */
  stallAt: number | null
}

export type ReceiveResult = 'ok' | 'unknown-txid' | 'wrong-address' | 'wrong-type'

export interface RpcTableOptions {
  scheduler: Scheduler
  random: (n: number) => Uint8Array
  send: (to: string, datagram: Uint8Array) => void
  maxPending?: number
}

export class RpcTable {
  readonly #scheduler: Scheduler
  readonly #random: (n: number) => Uint8Array
  readonly #send: (to: string, datagram: Uint8Array) => void
  readonly #maxPending: number
  readonly #pending = new Map<number, Pending>()
  /** Round trips of answered first transmissions (rtt.ts). */
  readonly rtt = new RttEstimator()
  #timer: (() => void) | null = null
  #timerAt = Infinity

  constructor (opts: RpcTableOptions) {
    this.#scheduler = opts.scheduler
    this.#random = opts.random
    this.#send = opts.send
    this.#maxPending = opts.maxPending ?? MAX_PENDING_RPCS
  }

  get size (): number { return this.#pending.size }

  /**
   * Sends the packet `build(txid)` to `to`. Returns null (and sends nothing) when the table is
   * full: the caller treats that as an immediate failure. Exactly one of onResponse/onTimeout
   * runs later, unless the transaction is cancelled.
   */
  request (to: string, type: number, build: (txid: number) => Uint8Array, opts: RequestOptions): Transaction | null {
    if (this.#pending.size >= this.#maxPending) return null
    const txid = this.#freshTxid()
    const now = this.#scheduler.wallNow()
    const tx: Pending = {
      txid, to, type, sentAt: now, sends: 0, packet: build(txid), opts, triesLeft: opts.retries ?? 0, deadline: 0,
      stallAt: opts.stallMs !== undefined && opts.onStall ? now + opts.stallMs : null
    }
    this.#pending.set(txid, tx)
    this.#transmit(tx, now)
    return tx
  }

  /** Routes a decoded response to its transaction (dht.md §7.1). */
  receive (msg: DhtMessage, from: string): ReceiveResult {
    const tx = this.#pending.get(msg.txid)
    if (!tx) return 'unknown-txid'
    if (from !== tx.to) return 'wrong-address' // left pending: the real answer may still come
    if (RESPONSE_OF[tx.type] !== msg.type) return 'wrong-type'
    if (tx.sends === 1) this.rtt.add(this.#scheduler.wallNow() - tx.sentAt)
    this.#finish(tx)
    tx.opts.onResponse(msg, from)
    return 'ok'
  }

  /** Forget a transaction without calling anything (lookup cancelled). */
  cancel (tx: Transaction): void {
    const p = this.#pending.get(tx.txid)
    if (p === tx) this.#finish(p)
  }

  cancelAll (): void {
    for (const p of [...this.#pending.values()]) this.#finish(p)
  }

  #transmit (tx: Pending, now: number): void {
    tx.sends++
    tx.deadline = now + tx.opts.timeoutMs
    this.#send(tx.to, tx.packet)
    this.#arm(tx.stallAt === null ? tx.deadline : Math.min(tx.deadline, tx.stallAt))
  }

  // One timer per table, not one per request (a per-request timer cost a heap event or a libuv
  // timer per datagram, most of them cancelled by the answer): it is armed for the earliest
  // deadline; when it fires, whatever is due runs and it is re-armed for the next. An answered
  // request leaves at most one wasted wake-up behind, not a cancelled timer per request.
  #arm (at: number): void {
    if (at >= this.#timerAt) return
    this.#cancelTimer()
    this.#timerAt = at
    this.#timer = after(this.#scheduler, Math.max(0, at - this.#scheduler.wallNow()), () => this.#sweep())
  }

  #cancelTimer (): void {
    this.#timer?.()
    this.#timer = null
    this.#timerAt = Infinity
  }

  #sweep (): void {
    this.#timer = null
    this.#timerAt = Infinity
    const now = this.#scheduler.wallNow()
    const due: Pending[] = []
    for (const tx of this.#pending.values()) {
      if (tx.deadline <= now || (tx.stallAt !== null && tx.stallAt <= now)) due.push(tx)
    }
    // callbacks may start or finish other requests: each due one is re-checked before it runs
    for (const tx of due) this.#due(tx, now)
    let next = Infinity
    for (const tx of this.#pending.values()) next = Math.min(next, tx.deadline, tx.stallAt ?? Infinity)
    if (next !== Infinity) this.#arm(next)
  }

  #due (tx: Pending, now: number): void {
    if (this.#pending.get(tx.txid) !== tx) return
    if (tx.stallAt !== null && tx.stallAt <= now) {
      tx.stallAt = null
      tx.opts.onStall?.()
      if (this.#pending.get(tx.txid) !== tx) return
    }
    if (tx.deadline > now) return
    if (tx.triesLeft > 0) {
      tx.triesLeft--
      this.#transmit(tx, now)
      return
    }
    this.#finish(tx)
    tx.opts.onTimeout()
  }

  #finish (tx: Pending): void {
    this.#pending.delete(tx.txid)
    tx.stallAt = null
    if (this.#pending.size === 0) this.#cancelTimer() // an idle node keeps no timer
  }

  #freshTxid (): number {
    for (;;) {
      const b = this.#random(4)
      const txid = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
      if (!this.#pending.has(txid)) return txid
    }
  }
}
