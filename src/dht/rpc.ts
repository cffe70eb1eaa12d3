// Outstanding requests (dht.md §7.1): a table keyed by random 32-bit transaction id. A response
// is accepted only if its txid is pending, it comes from the exact address that was asked, and
// its type answers the request's type; anything else is dropped and counted by the caller.
// Together with the random txid this means an off-path attacker must guess 32 bits and spoof the
// asked node's address to inject an answer (cf. BEP 5 "t", RFC 5452 for DNS).
import type { DhtMessage } from './messages.js'
import { RESPONSE_OF, MAX_PENDING_RPCS } from './constants.js'

/** Injected time: `after` runs fn once after ms and returns a function that cancels it. */
export interface Scheduler {
  now (): number
  after (ms: number, fn: () => void): () => void
}

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
  cancelTimer: () => void
  cancelStall: (() => void) | null
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
    const tx: Pending = {
      txid, to, type, sentAt: this.#scheduler.now(), sends: 0, packet: build(txid), opts,
      triesLeft: opts.retries ?? 0, cancelTimer: noop, cancelStall: null
    }
    this.#pending.set(txid, tx)
    if (opts.stallMs !== undefined && opts.onStall) {
      tx.cancelStall = this.#scheduler.after(opts.stallMs, () => { tx.cancelStall = null; opts.onStall?.() })
    }
    this.#transmit(tx)
    return tx
  }

  /** Routes a decoded response to its transaction (dht.md §7.1). */
  receive (msg: DhtMessage, from: string): ReceiveResult {
    const tx = this.#pending.get(msg.txid)
    if (!tx) return 'unknown-txid'
    if (from !== tx.to) return 'wrong-address' // left pending: the real answer may still come
    if (RESPONSE_OF[tx.type] !== msg.type) return 'wrong-type'
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

  #transmit (tx: Pending): void {
    tx.sends++
    this.#send(tx.to, tx.packet)
    tx.cancelTimer = this.#scheduler.after(tx.opts.timeoutMs, () => this.#expire(tx))
  }

  #expire (tx: Pending): void {
    if (this.#pending.get(tx.txid) !== tx) return
    if (tx.triesLeft > 0) {
      tx.triesLeft--
      this.#transmit(tx)
      return
    }
    this.#finish(tx)
    tx.opts.onTimeout()
  }

  #finish (tx: Pending): void {
    this.#pending.delete(tx.txid)
    tx.cancelTimer()
    tx.cancelStall?.()
    tx.cancelStall = null
  }

  #freshTxid (): number {
    for (;;) {
      const b = this.#random(4)
      const txid = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
      if (!this.#pending.has(txid)) return txid
    }
  }
}

function noop (): void {}
