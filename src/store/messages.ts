// Messages: per-conversation history keyed by a store-assigned seq, an id index, and an unread
// index (proto-spec/storage.md §Messages). Every multi-key write is one batch (§Atomicity).
import { errors } from '../errors.js'
import { decode, encode } from './codec.js'
import { commit, type Op, type StoreContext } from './db.js'
import { checkFingerprint, checkId, parseSeqKey, seqKey, seqRange } from './key-layout.js'
import {
  decodeLocation, decodeMessageValue, encodeLocation, openMessage, sealMessage, type MessageValue
} from './records.js'
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
    const { subs } = this.ctx
    const fresh = new Map<string, StoredMessage>()
    const assigned = new Map<string, number>()
    const results: AddResult[] = []
    const ops: Op[] = []
    for (const m of list) {
      // point lookups are synchronous: ~1 µs from LevelDB's cache against ~30 µs for an async get
      const loc = subs.msgindex.getSync(m.id)
      const dup = loc !== undefined ? this.getAtSync(decodeLocation(loc, m.id)) : fresh.get(m.id)
      if (dup !== undefined) {
        results.push({ message: dup, duplicate: true })
        continue
      }
      const seq = (assigned.get(m.peer) ?? this.lastSeqSync(m.peer)) + 1
      assigned.set(m.peer, seq)
      const message: StoredMessage = { ...m, seq }
      fresh.set(m.id, message)
      results.push({ message, duplicate: false })
      this.pushAddOps(ops, message)
    }
    for (const [peer, seq] of assigned) ops.push({ type: 'put', sublevel: subs.convs, key: peer, value: encode({ s: seq }) })
    await commit(this.ctx.db, ops, this.ctx.sync)
    for (const [peer, seq] of assigned) this.lastSeqs.set(peer, seq)
    return results
  }

  private pushAddOps (ops: Op[], m: StoredMessage): void {
    const { subs, cipher } = this.ctx
    const key = seqKey(m.peer, m.seq)
    ops.push({ type: 'put', sublevel: subs.messages, key, value: encode(sealMessage(cipher, m)) })
    ops.push({ type: 'put', sublevel: subs.msgindex, key: m.id, value: encodeLocation(m.peer, m.seq) })
    if (m.direction === 'in' && !m.read) ops.push({ type: 'put', sublevel: subs.unread, key, value: encode(m.id) })
  }

  /** Highest seq ever assigned in the conversation (0 when none). Call under the queue. */
  lastSeqSync (peer: string): number {
    const cached = this.lastSeqs.get(peer)
    if (cached !== undefined) return cached
    const v = this.ctx.subs.convs.getSync(peer)
    const seq = v === undefined ? 0 : decode<{ s: number }>(v, `conversation ${peer}`).s
    this.lastSeqs.set(peer, seq)
    return seq
  }

  private getAtSync (loc: { peer: string, seq: number }): StoredMessage | undefined {
    const v = this.ctx.subs.messages.getSync(seqKey(loc.peer, loc.seq))
    return v === undefined ? undefined : this.open(loc.peer, loc.seq, v)
  }

  private async getAt (loc: { peer: string, seq: number }): Promise<StoredMessage | undefined> {
    const v = await this.ctx.subs.messages.get(seqKey(loc.peer, loc.seq))
    return v === undefined ? undefined : this.open(loc.peer, loc.seq, v)
  }

  private open (peer: string, seq: number, value: Uint8Array): StoredMessage {
    return openMessage(this.ctx.cipher, peer, seq, decodeMessageValue(value, `message ${peer}/${seq}`))
  }

  async get (id: string): Promise<StoredMessage | undefined> {
    const loc = await this.ctx.subs.msgindex.get(checkId(id))
    return loc === undefined ? undefined : await this.getAt(decodeLocation(loc, id))
  }

  /** Newest first; a page is one bounded reverse range read, never a scan (§Messages). */
  async history (peer: string, opts: HistoryOptions = {}): Promise<StoredMessage[]> {
    checkFingerprint(peer)
    const range = seqRange(peer, checkSeqBound(opts.after, 'after'), checkSeqBound(opts.before, 'before'))
    const entries = await this.ctx.subs.messages.iterator({ ...range, reverse: true, limit: checkLimit(opts.limit) }).all()
    return entries.map(([key, value]) => {
      const { seq } = parseSeqKey(key)
      return openMessage(this.ctx.cipher, peer, seq, decodeMessageValue(value, `message ${key}`))
    })
  }

  /** Apply a status (monotonic, see advanceStatus); false when unknown id or nothing changed. */
  async setStatus (id: string, status: MessageStatus): Promise<boolean> {
    checkId(id)
    checkStatus(status)
    return await this.ctx.queue.run(async () => {
      const { subs } = this.ctx
      const locValue = subs.msgindex.getSync(id)
      if (locValue === undefined) return false
      const loc = decodeLocation(locValue, id)
      const key = seqKey(loc.peer, loc.seq)
      const value = subs.messages.getSync(key)
      if (value === undefined) throw errors.STORE_CORRUPT(`msgindex ${id} points at missing message ${key}`)
      const v = decodeMessageValue(value, `message ${key}`)
      const next = advanceStatus(v.d, v.s, status)
      if (next === v.s) return false
      v.s = next
      await commit(this.ctx.db, [{ type: 'put', sublevel: subs.messages, key, value: encode(v) }], this.ctx.sync)
      return true
    })
  }

  /** Mark inbound messages read (all, or those with seq ≤ upTo); returns the ids newly marked, oldest first. */
  async markRead (peer: string, upTo?: number): Promise<string[]> {
    checkFingerprint(peer)
    const before = checkSeqBound(upTo, 'upTo')
    return await this.ctx.queue.run(async () => {
      const { subs } = this.ctx
      const range = seqRange(peer, undefined, before === undefined ? undefined : before + 1)
      const keys = await subs.unread.keys(range).all()
      if (keys.length === 0) return []
      const values = await subs.messages.getMany(keys)
      const ops: Op[] = []
      const ids: string[] = []
      for (const [i, key] of keys.entries()) {
        const value = values[i]
        ops.push({ type: 'del', sublevel: subs.unread, key })
        if (value === undefined) continue
        const v: MessageValue = decodeMessageValue(value, `message ${key}`)
        v.u = true
        ops.push({ type: 'put', sublevel: subs.messages, key, value: encode(v) })
        ids.push(v.i)
      }
      await commit(this.ctx.db, ops, this.ctx.sync)
      return ids
    })
  }

  /** Counts the unread index range: O(unread), not O(history). */
  async unreadCount (peer: string): Promise<number> {
    checkFingerprint(peer)
    const keys = await this.ctx.subs.unread.keys(seqRange(peer)).all()
    return keys.length
  }

  /** Every conversation with its newest message and unread count, most recent first. */
  async conversations (): Promise<Conversation[]> {
    const out: Conversation[] = []
    for await (const [peer, value] of this.ctx.subs.convs.iterator()) {
      const seq = decode<{ s: number }>(value, `conversation ${peer}`).s
      const [last] = await this.history(peer, { limit: 1, before: seq + 1 })
      if (last === undefined) continue
      out.push({ peer, lastMessage: last, unread: await this.unreadCount(peer) })
    }
    return out.sort((a, b) => b.lastMessage.receivedAt - a.lastMessage.receivedAt || (a.peer < b.peer ? -1 : 1))
  }
}
