// Outbox: entries by id plus a due-time index, so the sender's "what is due now?" is one
// range read in nextAttemptAt order (proto-spec/storage.md §Outbox).
import { errors } from '../errors.js'
import { commit, type Op, type StoreContext } from './db.js'
import { checkFingerprint, checkId, checkTime, dueKey, dueUpTo, parseDueKey } from './key-layout.js'
import { checkLimit } from './messages.js'
import { decodeOutbox, encodeOutbox } from './records.js'
import type { OutboxEntry, OutboxListOptions } from './types.js'

const MAX_LIST = 10_000

function checkEntry (e: OutboxEntry): OutboxEntry {
  checkId(e.id, 'outbox id')
  checkFingerprint(e.peer)
  if (!(e.payload instanceof Uint8Array)) throw errors.BAD_ARGUMENT(`outbox ${e.id}: payload must be bytes`)
  if (!Number.isSafeInteger(e.attempts) || e.attempts < 0) throw errors.BAD_ARGUMENT(`outbox ${e.id}: attempts must be a non-negative integer`)
  checkTime(e.nextAttemptAt, `outbox ${e.id} nextAttemptAt`)
  checkTime(e.createdAt, `outbox ${e.id} createdAt`)
  return { id: e.id, peer: e.peer, payload: e.payload, attempts: e.attempts, nextAttemptAt: e.nextAttemptAt, createdAt: e.createdAt }
}

export class Outbox {
  constructor (private readonly ctx: StoreContext) {}

  /** Insert or replace the entry with this id (e.g. after a failed attempt, with a later nextAttemptAt). */
  async put (entry: OutboxEntry): Promise<void> {
    const e = checkEntry(entry)
    const { subs } = this.ctx
    await this.ctx.queue.run(async () => {
      const ops: Op[] = []
      const old = await this.get(e.id)
      if (old !== undefined) ops.push({ type: 'del', sublevel: subs.outboxdue, key: dueKey(old.nextAttemptAt, e.id) })
      ops.push({ type: 'put', sublevel: subs.outbox, key: e.id, value: encodeOutbox(this.ctx.cipher, e) })
      ops.push({ type: 'put', sublevel: subs.outboxdue, key: dueKey(e.nextAttemptAt, e.id), value: new Uint8Array(0) })
      await commit(this.ctx.db, ops, this.ctx.sync)
    })
  }

  async get (id: string): Promise<OutboxEntry | undefined> {
    const v = await this.ctx.subs.outbox.get(checkId(id, 'outbox id'))
    return v === undefined ? undefined : decodeOutbox(this.ctx.cipher, id, v)
  }

  /** True when an entry was removed (delivered, or given up). */
  async remove (id: string): Promise<boolean> {
    checkId(id, 'outbox id')
    const { subs } = this.ctx
    return await this.ctx.queue.run(async () => {
      const old = await this.get(id)
      if (old === undefined) return false
      await commit(this.ctx.db, [
        { type: 'del', sublevel: subs.outbox, key: id },
        { type: 'del', sublevel: subs.outboxdue, key: dueKey(old.nextAttemptAt, id) }
      ], this.ctx.sync)
      return true
    })
  }

  /** Entries in nextAttemptAt order (ties by id); with dueBy, only those due by then. */
  async list (opts: OutboxListOptions = {}): Promise<OutboxEntry[]> {
    const range = opts.dueBy === undefined ? {} : { lt: dueUpTo(checkTime(opts.dueBy, 'dueBy')) }
    const limit = checkLimit(opts.limit, MAX_LIST)
    // under the queue: the index and the entries are read with no put/remove in between
    return await this.ctx.queue.run(async () => await this.listLocked(range, limit))
  }

  private async listLocked (range: { lt?: string }, limit: number): Promise<OutboxEntry[]> {
    const keys = await this.ctx.subs.outboxdue.keys({ ...range, limit }).all()
    const ids = keys.map(parseDueKey)
    const values = await this.ctx.subs.outbox.getMany(ids)
    const out: OutboxEntry[] = []
    for (const [i, id] of ids.entries()) {
      const v = values[i]
      if (v === undefined) throw errors.STORE_CORRUPT(`outbox due index names missing entry ${id}`)
      out.push(decodeOutbox(this.ctx.cipher, id, v))
    }
    return out
  }
}
