// Messages: per-conversation history keyed by a store-assigned seq, an id index that also holds
// a message's status once it changed, and per conversation a read mark and unread count
// (proto-spec/storage.md §Messages). A message record is written once; a status change rewrites
// its small id-index record, marking read rewrites the conversation's record. Every multi-key
// write is one batch (§Atomicity). Keys hold keyed-hash tags, never a fingerprint or id; every
// value is sealed whole (§Keys).
import { errors } from '../errors.js'
import { commit, type StoreContext } from './db.js'
import type { HeldEntry, Tx } from './group.js'
import { checkFingerprint, checkId, parseSeqKey, SUB } from './key-layout.js'
import { conversationOp, locationOp, messageOp } from './record-ops.js'
import { openRecord, toConv, toLocation, toMessage, type ConvState, type Location, type OutboxFold } from './records.js'
import { advanceStatus, checkNewMessage, checkStatus } from './status.js'
import type { AddResult, Conversation, HistoryOptions, MessageStatus, NewMessage, StoredMessage } from './types.js'

const DEFAULT_PAGE = 50
const MAX_PAGE = 10_000

/** Messages kept in memory by id (the last written or read): about 1 MiB of short texts. */
const RECENT_MESSAGES = 4096

/** A bounded map of recent messages by id; the oldest entry goes first. */
class RecentMessages {
  readonly #byId = new Map<string, StoredMessage>()

  constructor (private readonly max: number) {}

  get (id: string): StoredMessage | undefined { return this.#byId.get(id) }
  delete (id: string): void { this.#byId.delete(id) }

  set (m: StoredMessage): void {
    this.#byId.delete(m.id) // re-inserted: the newest again
    this.#byId.set(m.id, m)
    if (this.#byId.size > this.max) this.#byId.delete(this.#byId.keys().next().value as string)
  }
}

export function checkLimit (limit: number | undefined, fallback = DEFAULT_PAGE): number {
  if (limit === undefined) return fallback
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw errors.BAD_ARGUMENT(`limit must be an integer 1–${MAX_PAGE}, got ${String(limit)}`)
  }
  return limit
}

function checkSeqBound (v: number | undefined, what: string): number | undefined {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
    throw errors.BAD_ARGUMENT(`${what} must be a seq (non-negative integer), got ${String(v)}`)
  }
  return v
}

export class Messages {
  /** Each conversation's counters (last seq, read mark, unread count); filled lazily from `convs`, updated only after a batch lands. */
  private readonly convs = new Map<string, ConvState>()
  /**
   * Messages written or read lately, as on disk (updated only once a batch has landed): the
   * daemon's hot path (a status on send, on the channel's ACK, on the receipt) finds them here,
   * with no LevelDB read and no record to open.
   */
  private readonly recent = new RecentMessages(RECENT_MESSAGES)
  /**
   * Every outbox entry held in a msgindex entry (storage.md §Outbox), by message id: read at open
   * (loadHeld), updated only once a batch has landed. A msgindex entry rewritten for a status keeps
   * the entry it holds from here, with no read.
   */
  private readonly held = new Map<string, HeldEntry>()
  /** per batch being prepared: conversations whose lowest held seq (`o`) let its entry go, recomputed in `finish` */
  readonly #lowestGone = new WeakMap<Tx, Set<string>>()

  constructor (private readonly ctx: StoreContext) {}

  /**
   * Reads the outbox entries held in msgindex entries (at open): each conversation's messages from
   * its lowest held seq `o` up, the outbound ones' msgindex entries. Conversations without `o` hold
   * none and cost one record read.
   */
  async loadHeld (): Promise<void> {
    for await (const [key, value] of this.ctx.subs.convs.iterator()) {
      const c = toConv(openRecord(this.ctx.cipher, SUB.convs, key, value, `conversation ${key}`), `conversation ${key}`)
      this.convs.set(c.p, { s: c.s, w: c.w, n: c.n, o: c.o })
      if (c.o === 0) continue
      for await (const [k, v] of this.ctx.subs.messages.iterator(this.ctx.keys.messageRange(c.p, c.o - 1, c.s + 1))) {
        const m = this.open(k, v)
        if (m.direction !== 'out') continue
        const loc = this.locate(m.id, this.ctx.subs.msgindex.getSync(this.ctx.keys.messageId(m.id)))
        if (loc?.o !== undefined) this.held.set(m.id, { peer: m.peer, seq: m.seq, o: loc.o })
      }
    }
  }

  /** The held outbox entries as on disk (loadHeld); for the outbox's due times and listing. */
  heldEntries (): ReadonlyMap<string, HeldEntry> {
    return this.held
  }

  /** The outbox entry held for message `id` as this batch now stands (undefined: none). */
  heldIn (tx: Tx, id: string): HeldEntry | undefined {
    const h = tx.held.get(id)
    return h === null ? undefined : h ?? this.held.get(id)
  }

  /**
   * Holds outbox entry `o` in the msgindex entry of the stored outbound message `id` (added in this
   * batch or before), replacing any it held: storage.md §Outbox. BAD_ARGUMENT when there is no such message.
   */
  prepareHold (tx: Tx, id: string, o: OutboxFold): void {
    const m = tx.messages.get(id) ?? this.getSync(id)
    if (m === undefined || m.direction !== 'out') throw errors.BAD_ARGUMENT(`outbox ${id}: no stored outbound message to hold it`)
    tx.held.set(id, { peer: m.peer, seq: m.seq, o })
    this.#indexWrite(tx, id, m)
    const c = tx.convs.get(m.peer) ?? this.convSync(m.peer)
    if (c.o === 0 || m.seq < c.o) this.#txConv(tx, m.peer).o = m.seq
  }

  /** Lets go of the outbox entry held for message `id` (delivered, or now kept in the outbox sublevel); false when it held none. */
  prepareRelease (tx: Tx, id: string): boolean {
    const h = this.heldIn(tx, id)
    if (h === undefined) return false
    const m = tx.messages.get(id) ?? this.getSync(id)
    if (m === undefined) throw errors.STORE_CORRUPT(`outbox ${id}: held by a message that is gone`)
    tx.held.set(id, null)
    this.#indexWrite(tx, id, m)
    if ((tx.convs.get(h.peer) ?? this.convSync(h.peer)).o === h.seq) {
      this.#txConv(tx, h.peer)
      let gone = this.#lowestGone.get(tx)
      if (gone === undefined) this.#lowestGone.set(tx, gone = new Set())
      gone.add(h.peer)
    }
    return true
  }

  /**
   * Has this batch rewrite message `id`'s msgindex entry (for the outbox entry it holds). One the
   * batch does not write already keeps its `st` only if it had one: a status is written only once
   * it moved past the record's (§Messages), so the entry is read (the hold of a retry, or a removal
   * with no status change: the receipt's statuses come first and are in the batch already).
   */
  #indexWrite (tx: Tx, id: string, m: StoredMessage): void {
    if (!tx.index.has(id)) {
      const loc = this.locate(id, this.ctx.subs.msgindex.getSync(this.ctx.keys.messageId(id)))
      tx.index.set(id, { m, recordStatus: loc?.st === undefined ? m.status : undefined })
    }
    this.#finishIndex(tx)
  }

  /** The conversation's counters in this batch (copied from the store's on first use), written once in `finish`. */
  #txConv (tx: Tx, peer: string): ConvState {
    let conv = tx.convs.get(peer)
    if (conv === undefined) {
      conv = { ...this.convSync(peer) }
      tx.convs.set(peer, conv)
    }
    this.#finishConvs(tx)
    return conv
  }

  /** Once per batch: each conversation's record, and the cache once the batch has landed. */
  #finishConvs (tx: Tx): void {
    if (tx.finish.has('convs')) return
    tx.finish.set('convs', () => {
      const gone = this.#lowestGone.get(tx)
      if (gone !== undefined) for (const peer of gone) (tx.convs.get(peer) as ConvState).o = this.#lowestHeld(tx, peer)
      for (const [peer, c] of tx.convs) tx.ops.push(conversationOp(this.ctx, peer, c))
      tx.after.push(() => { for (const [peer, c] of tx.convs) this.convs.set(peer, c) })
    })
  }

  /** The lowest seq of `peer`'s messages holding an outbox entry once this batch lands (0: none). */
  #lowestHeld (tx: Tx, peer: string): number {
    let low = 0
    const consider = (h: HeldEntry): void => { if (h.peer === peer && (low === 0 || h.seq < low)) low = h.seq }
    for (const [id, h] of this.held) if (!tx.held.has(id)) consider(h)
    for (const h of tx.held.values()) if (h !== null) consider(h)
    return low
  }

  /**
   * Once per batch: each msgindex entry the batch changes, sealed once with its last status and
   * the outbox entry it holds (the channel's ACK and the receipt of a burst often share a batch,
   * and a text's entry is put with it: the batch is atomic, so what it replaces never needed to be
   * on disk); the caches once the batch has landed.
   */
  #finishIndex (tx: Tx): void {
    if (tx.finish.has('index')) return
    tx.finish.set('index', () => {
      for (const [id, w] of tx.index) {
        const status = w.recordStatus === w.m.status ? undefined : w.m.status
        tx.ops.push(locationOp(this.ctx, id, w.m.peer, w.m.seq, status, this.heldIn(tx, id)?.o))
      }
      tx.after.push(() => {
        for (const w of tx.index.values()) this.recent.set(w.m)
        for (const [id, h] of tx.held) {
          if (h === null) this.held.delete(id)
          else this.held.set(id, h)
        }
      })
    })
  }

  async add (m: NewMessage): Promise<AddResult> {
    const [result] = await this.addMany([m])
    return result as AddResult
  }

  /**
   * Adds messages (results in input order). Calls made while a write is in flight are grouped
   * into the next batch with every other write (group commit, src/store/group.ts): a burst of
   * single adds costs one LevelDB write, and seqs follow call order. Each promise resolves only
   * once its batch has been written (proto-spec/storage.md §Durability).
   */
  async addMany (list: readonly NewMessage[], also?: (tx: Tx) => void, freshIds = false): Promise<AddResult[]> {
    const items = list.map(checkNewMessage)
    return await this.ctx.group.run(tx => { const r = this.prepareAdd(tx, items, freshIds); also?.(tx); return r }, Math.max(1, items.length))
  }

  /** `freshIds`: ids just drawn at random, which no stored message can have (no lookup in the store). */
  private prepareAdd (tx: Tx, list: readonly NewMessage[], freshIds: boolean): AddResult[] {
    const results: AddResult[] = []
    for (const m of list) {
      const dup = tx.messages.get(m.id) ?? (freshIds ? undefined : this.getSync(m.id))
      if (dup !== undefined) {
        results.push({ message: dup, duplicate: true })
        continue
      }
      const conv = this.#txConv(tx, m.peer)
      const seq = ++conv.s
      if (m.direction === 'in' && !m.read) conv.n++
      const message: StoredMessage = { ...m, seq }
      tx.messages.set(m.id, message)
      results.push({ message, duplicate: false })
      tx.ops.push(messageOp(this.ctx, message))
      tx.index.set(m.id, { m: message, recordStatus: message.status }) // its msgindex entry: written in `finish`
      this.#finishIndex(tx)
    }
    return results
  }

  /** Highest seq ever assigned in the conversation (0 when none). Call under the queue. */
  lastSeqSync (peer: string): number {
    return this.convSync(peer).s
  }

  /**
   * The conversation's counters as on disk (all 0 when it has none). A synchronous read: LevelDB's
   * cache, or the copy kept once read (only replaced by a landed batch or markRead, on the queue).
   */
  private convSync (peer: string): ConvState {
    const cached = this.convs.get(peer)
    if (cached !== undefined) return cached
    const key = this.ctx.keys.conversation(peer)
    const v = this.ctx.subs.convs.getSync(key)
    const what = `conversation ${peer}`
    const c: ConvState = v === undefined ? { s: 0, w: 0, n: 0, o: 0 } : toConv(openRecord(this.ctx.cipher, SUB.convs, key, v, what), what)
    this.convs.set(peer, { s: c.s, w: c.w, n: c.n, o: c.o })
    return c
  }

  /** Where message `id` lives, and its status if it changed since, from msgindex (undefined when unknown). */
  private locate (id: string, value: Uint8Array | undefined): Location | undefined {
    if (value === undefined) return undefined
    const key = this.ctx.keys.messageId(id)
    return toLocation(openRecord(this.ctx.cipher, SUB.msgindex, key, value, `msgindex ${id}`), `msgindex ${id}`)
  }

  /** The message at a location; STORE_CORRUPT when msgindex points at nothing or at another id. */
  private atLocation (id: string, loc: Location, value: Uint8Array | undefined): StoredMessage {
    const key = this.ctx.keys.message(loc.p, loc.s)
    if (value === undefined) throw errors.STORE_CORRUPT(`msgindex ${id} points at a missing message`)
    const m = this.open(key, value)
    if (m.id !== id || m.peer !== loc.p) throw errors.STORE_CORRUPT(`msgindex ${id} points at another message`)
    return this.current(m, loc.st)
  }

  /**
   * A message as it stands now: its record holds the status and read flag it was added with; a
   * later status is in its msgindex entry (`status`), and an inbound message at or below its
   * conversation's read mark is read (§Messages).
   */
  private current (m: StoredMessage, status: MessageStatus | undefined): StoredMessage {
    const read = m.read || (m.direction === 'in' && m.seq <= this.convSync(m.peer).w)
    return status === undefined && read === m.read ? m : { ...m, status: status ?? m.status, read }
  }

  /**
   * Opened message records → the messages as they stand now: outbound ones take their status
   * from the recent messages or from their msgindex entries (one read for all), inbound ones
   * their read flag from the read mark.
   */
  async resolve (list: StoredMessage[]): Promise<StoredMessage[]> {
    const lookups: number[] = []
    const out = list.map((m, i) => {
      const known = this.recent.get(m.id)
      if (known !== undefined && known.seq === m.seq && known.peer === m.peer) return known
      if (m.direction === 'out') lookups.push(i)
      return this.current(m, undefined)
    })
    if (lookups.length === 0) return out
    const keys = lookups.map(i => this.ctx.keys.messageId((out[i] as StoredMessage).id))
    const values = await this.ctx.subs.msgindex.getMany(keys)
    lookups.forEach((i, k) => {
      const m = out[i] as StoredMessage
      const loc = this.locate(m.id, values[k])
      if (loc === undefined || loc.p !== m.peer || loc.s !== m.seq) throw errors.STORE_CORRUPT(`message ${m.id} is not where msgindex says`)
      out[i] = this.current(m, loc.st)
    })
    return out
  }

  private getSync (id: string): StoredMessage | undefined {
    const cached = this.recent.get(id)
    if (cached !== undefined) return cached
    // point lookups are synchronous: ~1 µs from LevelDB's cache against ~30 µs for an async get
    const loc = this.locate(id, this.ctx.subs.msgindex.getSync(this.ctx.keys.messageId(id)))
    const m = loc === undefined ? undefined : this.atLocation(id, loc, this.ctx.subs.messages.getSync(this.ctx.keys.message(loc.p, loc.s)))
    if (m !== undefined) this.recent.set(m)
    return m
  }

  /** Open the message record at `key` (its seq is in the key; the AAD binds the record to it). */
  open (key: string, value: Uint8Array): StoredMessage {
    const what = `message ${key}`
    return toMessage(openRecord(this.ctx.cipher, SUB.messages, key, value, what), parseSeqKey(key).seq, what)
  }

  async get (id: string): Promise<StoredMessage | undefined> {
    const loc = this.locate(id, await this.ctx.subs.msgindex.get(this.ctx.keys.messageId(checkId(id))))
    return loc === undefined ? undefined : this.atLocation(id, loc, await this.ctx.subs.messages.get(this.ctx.keys.message(loc.p, loc.s)))
  }

  /** Newest first; a page is one bounded reverse range read, never a scan (§Messages). */
  async history (peer: string, opts: HistoryOptions = {}): Promise<StoredMessage[]> {
    checkFingerprint(peer)
    const range = this.ctx.keys.messageRange(peer, checkSeqBound(opts.after, 'after'), checkSeqBound(opts.before, 'before'))
    const entries = await this.ctx.subs.messages.iterator({ ...range, reverse: true, limit: checkLimit(opts.limit) }).all()
    return await this.resolve(entries.map(([key, value]) => {
      const m = this.open(key, value)
      if (m.peer !== peer) throw errors.STORE_CORRUPT(`message ${key} belongs to another conversation`)
      return m
    }))
  }

  /** Apply a status (monotonic, see advanceStatus); false when unknown id or nothing changed. */
  async setStatus (id: string, status: MessageStatus): Promise<boolean> {
    return (await this.setStatusMany([id], status))[0] === true
  }

  /** setStatus for many ids in one step of the next batch; one boolean per id, in order. `also`: more ops for that step. */
  async setStatusMany (ids: readonly string[], status: MessageStatus, also?: (tx: Tx) => void): Promise<boolean[]> {
    for (const id of ids) checkId(id)
    checkStatus(status)
    return await this.ctx.group.run(tx => { also?.(tx); return ids.map(id => this.prepareStatus(tx, id, status)) }, Math.max(1, ids.length))
  }

  private prepareStatus (tx: Tx, id: string, status: MessageStatus): boolean {
    const m = tx.messages.get(id) ?? this.getSync(id)
    if (m === undefined) return false
    const next = advanceStatus(m.direction, m.status, status)
    if (next === m.status) return false
    const updated = { ...m, status: next }
    tx.messages.set(id, updated)
    // its msgindex entry is written once per batch, in `finish` (#finishIndex)
    tx.index.set(id, { m: updated, recordStatus: tx.index.get(id)?.recordStatus })
    this.#finishIndex(tx)
    return true
  }

  /** A message by id, read synchronously (LevelDB's cache: no round trip through the thread pool). */
  getSyncChecked (id: string): StoredMessage | undefined {
    return this.getSync(checkId(id))
  }

  /**
   * Mark inbound messages read (all, or those with seq ≤ upTo); returns the ids newly marked,
   * oldest first. Moves the conversation's read mark: one record written, however many messages.
   */
  async markRead (peer: string, upTo?: number): Promise<string[]> {
    checkFingerprint(peer)
    const before = checkSeqBound(upTo, 'upTo')
    return await this.ctx.queue.run(async () => {
      const conv = this.convSync(peer)
      const mark = Math.min(before ?? conv.s, conv.s)
      if (mark <= conv.w) return []
      // the messages between the old mark and the new: those inbound and not yet read are newly read
      const range = this.ctx.keys.messageRange(peer, conv.w, mark + 1)
      const ids: string[] = []
      if (conv.n > 0) {
        for await (const [key, value] of this.ctx.subs.messages.iterator(range)) {
          const m = this.open(key, value)
          if (m.direction === 'in' && !m.read) ids.push(m.id)
        }
      }
      const next: ConvState = { ...conv, w: mark, n: conv.n - ids.length }
      if (next.n < 0) throw errors.STORE_CORRUPT(`conversation ${peer}: unread count below zero`)
      await commit(this.ctx.db, [conversationOp(this.ctx, peer, next)], this.ctx.sync)
      this.convs.set(peer, next)
      for (const id of ids) this.recent.delete(id) // now read: the next lookup reads the record anew
      return ids
    })
  }

  /** The conversation's unread count, kept in its record: O(1). */
  async unreadCount (peer: string): Promise<number> {
    checkFingerprint(peer)
    return this.convSync(peer).n
  }

  /** Every conversation with its newest message and unread count, most recent first. */
  async conversations (): Promise<Conversation[]> {
    const out: Conversation[] = []
    for await (const [key, value] of this.ctx.subs.convs.iterator()) {
      const { p: peer, s: seq, n } = toConv(openRecord(this.ctx.cipher, SUB.convs, key, value, `conversation ${key}`), `conversation ${key}`)
      const [last] = await this.history(peer, { limit: 1, before: seq + 1 })
      if (last === undefined) continue
      out.push({ peer, lastMessage: last, unread: n })
    }
    return out.sort((a, b) => b.lastMessage.receivedAt - a.lastMessage.receivedAt || (a.peer < b.peer ? -1 : 1))
  }
}
