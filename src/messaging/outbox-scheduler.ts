// The outbox's retry logic (proto-spec/messaging.md §4). Pure: entries and `now` in, actions out;
// the service seals and sends, writes the store and arms one timer for `nextDeadline`.
//
// An entry is sent whenever its peer has a link: at once when created, again when a new link to
// the peer comes up (what was in flight on the old one is presumed lost), and again after
// RECEIPT_WAIT_MS (doubling) if the end-to-end receipt has not come. Without a link it asks for a
// connection with backoff. It leaves the outbox when acknowledged: a DELIVERY_RECEIPT for
// 'receipt' entries (TEXT, CONTACT_REQUEST), the reliable channel's ack for 'transport' entries
// (READ_RECEIPT: a receipt is not itself receipted). Entries of one peer go out in creation order.
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import { RECEIPT_WAIT_MS, RETRY_INITIAL_MS, RETRY_JITTER, RETRY_MAX_MS } from './constants.js'

export type AckKind = 'receipt' | 'transport'

export interface OutboxItem {
  id: string
  peer: string
  /** sends so far (persisted) */
  attempts: number
  nextAttemptAt: number
  /** strictly increasing per outbox: the send order of one peer's entries */
  createdAt: number
  ack: AckKind
}

export type OutboxAction =
  /** seal the entry and send it on the peer's link; report back with sent()/sendFailed(id, attempt) */
  | { type: 'send', id: string, peer: string, attempt: number }
  /** the peer has work waiting and no link: ask the connection manager for one */
  | { type: 'connect', peer: string }
  /** persist the entry's attempts / nextAttemptAt (after a retry went out) */
  | { type: 'save', item: OutboxItem }
  /** delete the entry from the store */
  | { type: 'remove', id: string, peer: string }

interface Slot {
  item: OutboxItem
  /** the attempt whose outcome is awaited, or null */
  inFlight: number | null
  /** failures to reach the peer since its last link (in memory only: backoff of 'connect') */
  offlineFailures: number
  /** the link (an opaque token) this entry was sent on ahead of peerUp (early), or null */
  early: object | null
  /** the peer's channel took the last attempt (sent() for it): the peer has the entry */
  taken: boolean
}

export interface OutboxSchedulerOptions {
  random: () => number
  retry?: BackoffPolicy
  receiptWaitMs?: number
}

export class OutboxScheduler {
  readonly #slots = new Map<string, Slot>()
  readonly #online = new Set<string>()
  readonly #retry: BackoffPolicy
  readonly #receiptWaitMs: number
  readonly #random: () => number
  /** the link (a token) each online peer was last taken up on, when the caller named one */
  readonly #upOn = new Map<string, object>()
  /** a lower bound of the earliest nextAttemptAt (exact after tick) */
  #earliest = Infinity

  constructor (opts: OutboxSchedulerOptions) {
    this.#random = opts.random
    this.#retry = opts.retry ?? { initialMs: RETRY_INITIAL_MS, maxMs: RETRY_MAX_MS, jitter: RETRY_JITTER }
    this.#receiptWaitMs = opts.receiptWaitMs ?? RECEIPT_WAIT_MS
  }

  get size (): number { return this.#slots.size }

  has (id: string): boolean { return this.#slots.has(id) }

  peerOf (id: string): string | undefined { return this.#slots.get(id)?.item.peer }
  /** The entry as the scheduler holds it (attempts, next attempt), if pending. */
  item (id: string): OutboxItem | undefined { const s = this.#slots.get(id); return s === undefined ? undefined : { ...s.item } }

  /** Entries waiting for `peer`, in send order. */
  pendingFor (peer: string): OutboxItem[] {
    return this.#ordered(peer).map(s => ({ ...s.item }))
  }

  /** Entries found in the store at start: all become due now (a restart is a reason to try). */
  load (items: readonly OutboxItem[], now: number): void {
    for (const it of items) this.#slots.set(it.id, { item: { ...it, nextAttemptAt: Math.min(it.nextAttemptAt, now) }, inFlight: null, offlineFailures: 0, early: null, taken: false })
    if (items.length > 0) this.#earliest = Math.min(this.#earliest, now)
  }

  /** A new entry (already persisted by the caller). */
  add (item: OutboxItem, now: number): OutboxAction[] {
    const slot: Slot = { item: { ...item }, inFlight: null, offlineFailures: 0, early: null, taken: false }
    this.#slots.set(item.id, slot)
    return this.#attempt(slot, now)
  }

  /**
   * A link to `peer` came up (or was replaced): send everything of theirs, in order; but what
   * early() already sent on this same `link` (a token), which is not sent twice, nor, when the
   * peer is up on this same link already (taken up again: it became a contact, its bundle came),
   * what is on its way on it or taken by its channel: the receipt answers those.
   */
  peerUp (peer: string, now: number, link: object | null = null): OutboxAction[] {
    const again = link !== null && this.#online.has(peer) && this.#upOn.get(peer) === link
    this.#online.add(peer)
    if (link === null) this.#upOn.delete(peer)
    else this.#upOn.set(peer, link)
    const out: OutboxAction[] = []
    for (const s of this.#ordered(peer)) {
      s.offlineFailures = 0
      const already = link !== null && s.early === link
      s.early = null
      if (already) continue
      if (again && (s.inFlight !== null || s.taken)) continue
      s.inFlight = null
      out.push(...this.#attempt(s, now))
    }
    return out
  }

  /**
   * The first of `peer`'s entries, while `first(id)` holds, are sent on `link` (a token) before
   * the peer counts as up (its other entries wait for peerUp: the CONTACT_REQUESTs ahead of
   * what waits for the peer's bundle, messaging.md §4.2). A prefix only, so the order holds. None
   * while the peer is up already (peerUp sent them).
   */
  early (peer: string, now: number, link: object, first: (id: string) => boolean): OutboxAction[] {
    if (this.#online.has(peer)) return []
    const out: OutboxAction[] = []
    for (const s of this.#ordered(peer)) {
      if (!first(s.item.id)) break
      if (s.early === link) continue
      s.early = link
      s.offlineFailures = 0
      s.taken = false
      s.item.attempts++
      s.inFlight = s.item.attempts
      this.#schedule(s, now + this.#receiptWaitMs)
      out.push({ type: 'send', id: s.item.id, peer, attempt: s.item.attempts })
    }
    return out
  }

  /** The link to `peer` went away: nothing in flight on it will be confirmed. */
  peerDown (peer: string, now: number): void {
    this.#online.delete(peer)
    this.#upOn.delete(peer)
    for (const s of this.#ordered(peer)) {
      s.early = null
      s.inFlight = null
      this.#schedule(s, Math.min(s.item.nextAttemptAt, now + this.#delay(0)))
    }
  }

  isOnline (peer: string): boolean { return this.#online.has(peer) }

  /** `id` is on its way to the peer over the link it has now (sent, no failure reported), or its channel took it. */
  underway (id: string): boolean {
    const s = this.#slots.get(id)
    return s !== undefined && (s.taken || (s.inFlight !== null && this.#online.has(s.item.peer)) || s.early !== null)
  }

  /** The transport took attempt `attempt` of `id` (the peer's channel acknowledged it). */
  sent (id: string, attempt: number, now: number): OutboxAction[] {
    const s = this.#slots.get(id)
    if (s === undefined || s.inFlight !== attempt) return []
    s.inFlight = null
    s.taken = true
    if (s.item.ack === 'transport') return this.#remove(s)
    // wait for the receipt, longer after each unanswered send
    this.#schedule(s, now + Math.min(this.#retry.maxMs, this.#receiptWaitMs * 2 ** Math.max(0, s.item.attempts - 1)))
    // a first send is the normal case and needs no write; a retry's count is worth keeping
    return s.item.attempts > 1 ? [{ type: 'save', item: { ...s.item } }] : []
  }

  /** Attempt `attempt` did not make it (link closed, channel failed). */
  sendFailed (id: string, attempt: number, now: number): OutboxAction[] {
    const s = this.#slots.get(id)
    if (s === undefined || s.inFlight !== attempt) return []
    s.inFlight = null
    s.early = null // peerUp sends it again
    this.#schedule(s, now + this.#delay(s.item.attempts))
    return []
  }

  /** The end-to-end acknowledgement arrived (or the entry is obsolete): forget it. */
  acknowledged (id: string): OutboxAction[] {
    const s = this.#slots.get(id)
    return s === undefined ? [] : this.#remove(s)
  }

  /** Everything due by `now`. */
  tick (now: number): OutboxAction[] {
    const out: OutboxAction[] = []
    const asked = new Set<string>()
    for (const s of this.#sorted()) {
      if (s.item.nextAttemptAt > now) continue
      s.inFlight = null // an attempt with no outcome by now is presumed lost (a hung link)
      s.early = null
      if (this.#online.has(s.item.peer)) { out.push(...this.#attempt(s, now)); continue }
      this.#schedule(s, now + this.#delay(s.offlineFailures++))
      if (!asked.has(s.item.peer)) { asked.add(s.item.peer); out.push({ type: 'connect', peer: s.item.peer }) }
    }
    this.#recompute()
    return out
  }

  /**
   * When tick() next may have something to do (Infinity: nothing). O(1): a lower bound kept on
   * every change, made exact by each tick, so a burst of sends does not rescan the outbox.
   */
  get nextDeadline (): number {
    return this.#earliest
  }

  #recompute (): void {
    let at = Infinity
    for (const s of this.#slots.values()) if (s.item.nextAttemptAt < at) at = s.item.nextAttemptAt
    this.#earliest = at
  }

  #schedule (s: Slot, at: number): void {
    s.item.nextAttemptAt = at
    if (at < this.#earliest) this.#earliest = at
  }

  #attempt (s: Slot, now: number): OutboxAction[] {
    const peer = s.item.peer
    if (!this.#online.has(peer)) {
      this.#schedule(s, now + this.#delay(s.offlineFailures++))
      return [{ type: 'connect', peer }]
    }
    s.item.attempts++
    s.inFlight = s.item.attempts
    s.taken = false
    // if no outcome is ever reported (a hung link), the entry is due again after this
    this.#schedule(s, now + this.#receiptWaitMs)
    return [{ type: 'send', id: s.item.id, peer, attempt: s.item.attempts }]
  }

  #remove (s: Slot): OutboxAction[] {
    this.#slots.delete(s.item.id)
    return [{ type: 'remove', id: s.item.id, peer: s.item.peer }]
  }

  #delay (failures: number): number {
    return backoffDelay(failures, this.#retry, this.#random())
  }

  #ordered (peer: string): Slot[] {
    return [...this.#slots.values()].filter(s => s.item.peer === peer).sort(byCreation)
  }

  #sorted (): Slot[] {
    return [...this.#slots.values()].sort(byCreation)
  }
}

function byCreation (a: Slot, b: Slot): number {
  return a.item.createdAt - b.item.createdAt || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0)
}
