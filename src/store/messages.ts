// Messages: per-conversation history keyed by a store-assigned seq, an id index, and an unread
// index (proto-spec/storage.md §Messages). Every multi-key write is one batch (§Atomicity).
// Keys hold keyed-hash tags, never a fingerprint or id; every value is sealed whole (§Keys).
import { errors } from '../errors.js'
import { commit, type Op, type StoreContext } from './db.js'
import { checkFingerprint, checkId, parseSeqKey, SUB } from './key-layout.js'
import { addMessageOps, conversationOp, messageOp } from './record-ops.js'
import { openRecord, toMessage, toPeerSeq, toSeq, type PeerSeq } from './records.js'
import { advanceStatus, checkNewMessage, checkStatus } from './status.js'
import type { AddResult, Conversation, HistoryOptions, MessageStatus, NewMessage, StoredMessage } from './types.js'

const DEFAULT_PAGE = 50
/** Messages per group-commit batch at most (bounds one batch's memory and latency). */
const MAX_GROUP = 2000
const MAX_PAGE = 10_000

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

interface PendingAdd {
  items: NewMessage[]
  resolve: (results: AddResult[]) => void
  reject: (err: unknown) => void
}

export class Messages {
  /** Last seq assigned per peer; filled lazily from `convs`, updated only after a batch lands. */
  private readonly lastSeqs = new Map<string, number>()
  private readonly pending: PendingAdd[] = []
  private flushQueued = false

  constructor (private readonly ctx: StoreContext) {}

  async add (m: NewMessage): Promise<AddResult> {
    const [result] = await this.addMany([m])
    return result as AddResult
  }

  /**
   * Adds messages (results in input order). Calls made while a write is in flight are grouped
   * into the next batch (group commit): a burst of single adds costs one LevelDB write, and
   * seqs follow call order. Each promise resolves only once its batch has been written.
   */
  async addMany (list: readonly NewMessage[]): Promise<AddResult[]> {
    const items = list.map(checkNewMessage)
    return await new Promise<AddResult[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject })
      this.scheduleFlush()
    })
  }

  private scheduleFlush (): void {
    if (this.flushQueued) return
    this.flushQueued = true
    void this.ctx.queue.run(async () => { await this.flush() })
  }

  private async flush (): Promise<void> {
    this.flushQueued = false
    const group: PendingAdd[] = []
    let count = 0
    while (this.pending.length > 0 && count < MAX_GROUP) {
      const next = this.pending.shift() as PendingAdd
      group.push(next)
      count += next.items.length
    }
    if (this.pending.length > 0) this.scheduleFlush()
    try {
      const results = await this.addLocked(group.flatMap((g) => g.items))
      let at = 0
      for (const g of group) {
        g.resolve(results.slice(at, at + g.items.length))
        at += g.items.length
      }
    } catch (err) {
      for (const g of group) g.reject(err)
    }
  }

  private async addLocked (list: NewMessage[]): Promise<AddResult[]> {
    const fresh = new Map<string, StoredMessage>()
    const assigned = new Map<string, number>()
    const results: AddResult[] = []
    const ops: Op[] = []
    for (const m of list) {
      const dup = this.getSync(m.id) ?? fresh.get(m.id)
      if (dup !== undefined) {
        results.push({ message: dup, duplicate: true })
        continue
      }
      const seq = (assigned.get(m.peer) ?? this.lastSeqSync(m.peer)) + 1
      assigned.set(m.peer, seq)
      const message: StoredMessage = { ...m, seq }
      fresh.set(m.id, message)
      results.push({ message, duplicate: false })
      ops.push(...addMessageOps(this.ctx, message))
    }
    for (const [peer, seq] of assigned) ops.push(conversationOp(this.ctx, peer, seq))
    await commit(this.ctx.db, ops, this.ctx.sync)
    for (const [peer, seq] of assigned) this.lastSeqs.set(peer, seq)
    return results
  }

  /** Highest seq ever assigned in the conversation (0 when none). Call under the queue. */
  lastSeqSync (peer: string): number {
    const cached = this.lastSeqs.get(peer)
    if (cached !== undefined) return cached
    const key = this.ctx.keys.conversation(peer)
    const v = this.ctx.subs.convs.getSync(key)
    const seq = v === undefined ? 0 : toPeerSeq(openRecord(this.ctx.cipher, SUB.convs, key, v, `conversation ${peer}`), `conversation ${peer}`).s
    this.lastSeqs.set(peer, seq)
    return seq
  }

  /** Where message `id` lives, from msgindex (undefined when unknown). */
  private locate (id: string, value: Uint8Array | undefined): PeerSeq | undefined {
    if (value === undefined) return undefined
    const key = this.ctx.keys.messageId(id)
    return toPeerSeq(openRecord(this.ctx.cipher, SUB.msgindex, key, value, `msgindex ${id}`), `msgindex ${id}`)
  }

  /** The message at a location; STORE_CORRUPT when msgindex points at nothing or at another id. */
  private atLocation (id: string, loc: PeerSeq, value: Uint8Array | undefined): StoredMessage {
    const key = this.ctx.keys.message(loc.p, loc.s)
    if (value === undefined) throw errors.STORE_CORRUPT(`msgindex ${id} points at a missing message`)
    const m = this.open(key, value)
    if (m.id !== id || m.peer !== loc.p) throw errors.STORE_CORRUPT(`msgindex ${id} points at another message`)
    return m
  }

  private getSync (id: string): StoredMessage | undefined {
    // point lookups are synchronous: ~1 µs from LevelDB's cache against ~30 µs for an async get
    const loc = this.locate(id, this.ctx.subs.msgindex.getSync(this.ctx.keys.messageId(id)))
    return loc === undefined ? undefined : this.atLocation(id, loc, this.ctx.subs.messages.getSync(this.ctx.keys.message(loc.p, loc.s)))
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
    return entries.map(([key, value]) => {
      const m = this.open(key, value)
      if (m.peer !== peer) throw errors.STORE_CORRUPT(`message ${key} belongs to another conversation`)
      return m
    })
  }

  /** Apply a status (monotonic, see advanceStatus); false when unknown id or nothing changed. */
  async setStatus (id: string, status: MessageStatus): Promise<boolean> {
    checkId(id)
    checkStatus(status)
    return await this.ctx.queue.run(async () => {
      const m = this.getSync(id)
      if (m === undefined) return false
      const next = advanceStatus(m.direction, m.status, status)
      if (next === m.status) return false
      await commit(this.ctx.db, [messageOp(this.ctx, { ...m, status: next })], this.ctx.sync)
      return true
    })
  }

  /** Mark inbound messages read (all, or those with seq ≤ upTo); returns the ids newly marked, oldest first. */
  async markRead (peer: string, upTo?: number): Promise<string[]> {
    checkFingerprint(peer)
    const before = checkSeqBound(upTo, 'upTo')
    return await this.ctx.queue.run(async () => {
      const { subs, keys } = this.ctx
      // the unread keys of a conversation are in no telling order: read them all, pick by seq
      const entries = await subs.unread.iterator(keys.unreadRange(peer)).all()
      const picked = entries
        .map(([key, value]) => ({ key, seq: toSeq(openRecord(this.ctx.cipher, SUB.unread, key, value, `unread ${key}`), `unread ${key}`) }))
        .filter((e) => before === undefined || e.seq <= before)
        .sort((a, b) => a.seq - b.seq)
      if (picked.length === 0) return []
      const messageKeys = picked.map((e) => keys.message(peer, e.seq))
      const values = await subs.messages.getMany(messageKeys)
      const ops: Op[] = []
      const ids: string[] = []
      for (const [i, e] of picked.entries()) {
        const value = values[i]
        ops.push({ type: 'del', sublevel: subs.unread, key: e.key })
        if (value === undefined) continue
        const m = this.open(messageKeys[i] as string, value)
        ops.push(messageOp(this.ctx, { ...m, read: true }))
        ids.push(m.id)
      }
      await commit(this.ctx.db, ops, this.ctx.sync)
      return ids
    })
  }

  /** Counts the unread index range: O(unread), not O(history). */
  async unreadCount (peer: string): Promise<number> {
    checkFingerprint(peer)
    const keys = await this.ctx.subs.unread.keys(this.ctx.keys.unreadRange(peer)).all()
    return keys.length
  }

  /** Every conversation with its newest message and unread count, most recent first. */
  async conversations (): Promise<Conversation[]> {
    const out: Conversation[] = []
    for await (const [key, value] of this.ctx.subs.convs.iterator()) {
      const { p: peer, s: seq } = toPeerSeq(openRecord(this.ctx.cipher, SUB.convs, key, value, `conversation ${key}`), `conversation ${key}`)
      const [last] = await this.history(peer, { limit: 1, before: seq + 1 })
      if (last === undefined) continue
      out.push({ peer, lastMessage: last, unread: await this.unreadCount(peer) })
    }
    return out.sort((a, b) => b.lastMessage.receivedAt - a.lastMessage.receivedAt || (a.peer < b.peer ? -1 : 1))
  }
}
