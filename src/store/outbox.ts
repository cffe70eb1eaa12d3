// Outbox: entries keyed by a tag of their id, sealed whole (proto-spec/storage.md §Outbox); since
// v5 the entry of a stored outbound text (`ofMessage`) is held in that message's msgindex entry
// instead (Messages.prepareHold): the message is what it sends, so the text costs no record of
// its own to put or to delete. There is no due-time index on disk (v2's leaked when each retry
// was due): the due times live in memory, read from the sealed entries on first use, so "what is
// due now?" decrypts only the entries it returns. The outbox is small (messages not yet delivered).
import { errors } from '../errors.js'
import type { Tx } from './group.js'
import type { StoreContext } from './db.js'
import { checkFingerprint, checkId, checkTime, SUB } from './key-layout.js'
import { checkLimit, type Messages } from './messages.js'
import { outboxOp } from './record-ops.js'
import { openRecord, toOutbox } from './records.js'
import type { OutboxEntry, OutboxListOptions } from './types.js'

const MAX_LIST = 10_000

function checkEntry (e: OutboxEntry): OutboxEntry {
  checkId(e.id, 'outbox id')
  checkFingerprint(e.peer)
  if (!(e.payload instanceof Uint8Array)) throw errors.BAD_ARGUMENT(`outbox ${e.id}: payload must be bytes`)
  if (e.ofMessage === true && e.payload.length > 0) throw errors.BAD_ARGUMENT(`outbox ${e.id}: an entry of a stored message has no payload of its own`)
  if (!Number.isSafeInteger(e.attempts) || e.attempts < 0) throw errors.BAD_ARGUMENT(`outbox ${e.id}: attempts must be a non-negative integer`)
  checkTime(e.nextAttemptAt, `outbox ${e.id} nextAttemptAt`)
  checkTime(e.createdAt, `outbox ${e.id} createdAt`)
  const out: OutboxEntry = { id: e.id, peer: e.peer, payload: e.payload, attempts: e.attempts, nextAttemptAt: e.nextAttemptAt, createdAt: e.createdAt }
  if (e.ofMessage === true) out.ofMessage = true
  return out
}

const NO_PAYLOAD = new Uint8Array(0)

function dueOrder (a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
}

export class Outbox {
  /** id → nextAttemptAt of every entry; null until first needed. Only touched on the write queue. */
  private due: Map<string, number> | null = null

  constructor (private readonly ctx: StoreContext, private readonly messages: Messages) {}

  /** Insert or replace the entry with this id (e.g. after a failed attempt, with a later nextAttemptAt). */
  async put (entry: OutboxEntry): Promise<void> {
    await this.putMany([entry])
  }

  /** put for many entries, in one step of the next batch. */
  async putMany (entries: readonly OutboxEntry[], also?: (tx: Tx) => void): Promise<void> {
    const checked = entries.map(checkEntry)
    await this.ctx.group.run(tx => {
      also?.(tx)
      for (const e of checked) {
        if (e.ofMessage === true) {
          // held in the message's msgindex entry (§Outbox); one in the outbox sublevel goes
          this.messages.prepareHold(tx, e.id, { a: e.attempts, n: e.nextAttemptAt, c: e.createdAt })
          this.#prepareDelete(tx, e.id)
        } else {
          this.messages.prepareRelease(tx, e.id) // one held for the same id goes: an id has one entry
          tx.ops.push(outboxOp(this.ctx, e))
          tx.outbox.set(e.id, true)
        }
      }
      tx.after.push(() => { for (const e of checked) this.due?.set(e.id, e.nextAttemptAt) })
    }, Math.max(1, checked.length))
  }

  async get (id: string): Promise<OutboxEntry | undefined> {
    const key = this.ctx.keys.outbox(checkId(id, 'outbox id'))
    return await this.ctx.queue.run(async () => {
      const held = this.messages.heldEntries().get(id)
      if (held !== undefined) return { id, peer: held.peer, payload: NO_PAYLOAD, attempts: held.o.a, nextAttemptAt: held.o.n, createdAt: held.o.c, ofMessage: true }
      const v = await this.ctx.subs.outbox.get(key)
      return v === undefined ? undefined : this.open(key, v, id)
    })
  }

  /**
   * Deletes the outbox sublevel's entry for `id` in this batch if there is one: put earlier in this
   * batch, or on disk (the due times mirror the disk once read: a batch is prepared only after the
   * one before landed and updated them; else a synchronous read). False when there is none.
   */
  #prepareDelete (tx: Tx, id: string): boolean {
    const key = this.ctx.keys.outbox(id)
    const inSublevel = tx.outbox.get(id) ?? (this.due === null ? this.ctx.subs.outbox.getSync(key) !== undefined : this.due.has(id) && !this.messages.heldEntries().has(id))
    if (!inSublevel) return false
    tx.ops.push({ type: 'del', sublevel: this.ctx.subs.outbox, key })
    tx.outbox.set(id, false)
    return true
  }

  private open (key: string, value: Uint8Array, id?: string): OutboxEntry {
    const what = `outbox entry ${id ?? key}`
    const e = toOutbox(openRecord(this.ctx.cipher, SUB.outbox, key, value, what), what)
    if (this.ctx.keys.outbox(e.id) !== key) throw errors.STORE_CORRUPT(`${what}: filed under another id`)
    return e
  }

  /** True when an entry was removed (delivered, or given up). */
  async remove (id: string): Promise<boolean> {
    return (await this.removeMany([id]))[0] === true
  }

  /** remove for many ids, in one step of the next batch; one boolean per id (removed or not there). */
  async removeMany (ids: readonly string[]): Promise<boolean[]> {
    for (const id of ids) checkId(id, 'outbox id')
    return await this.ctx.group.run(tx => ids.map(id => {
      const released = this.messages.prepareRelease(tx, id)
      const deleted = this.#prepareDelete(tx, id)
      if (!released && !deleted) return false
      tx.after.push(() => { this.due?.delete(id) })
      return true
    }), Math.max(1, ids.length))
  }

  /** Entries in nextAttemptAt order (ties by id); with dueBy, only those due by then. */
  async list (opts: OutboxListOptions = {}): Promise<OutboxEntry[]> {
    const dueBy = opts.dueBy === undefined ? Infinity : checkTime(opts.dueBy, 'dueBy')
    const limit = checkLimit(opts.limit, MAX_LIST)
    // under the queue: the due times and the entries are read with no put/remove in between
    return await this.ctx.queue.run(async () => {
      const ids = [...(await this.dueTimes())].filter(([, n]) => n <= dueBy).sort(dueOrder).slice(0, limit).map(([id]) => id)
      const held = this.messages.heldEntries()
      const inSublevel = ids.filter(id => !held.has(id))
      const keys = inSublevel.map((id) => this.ctx.keys.outbox(id))
      const values = await this.ctx.subs.outbox.getMany(keys)
      const opened = new Map(inSublevel.map((id, i) => {
        const v = values[i]
        if (v === undefined) throw errors.STORE_CORRUPT(`outbox entry ${id} vanished`)
        return [id, this.open(keys[i] as string, v, id)]
      }))
      return ids.map(id => {
        const h = held.get(id)
        return h === undefined ? opened.get(id) as OutboxEntry : { id, peer: h.peer, payload: NO_PAYLOAD, attempts: h.o.a, nextAttemptAt: h.o.n, createdAt: h.o.c, ofMessage: true }
      })
    })
  }

  /** The due times, read from every entry the first time (on the queue). */
  private async dueTimes (): Promise<Map<string, number>> {
    if (this.due !== null) return this.due
    const due = new Map<string, number>()
    for await (const [key, value] of this.ctx.subs.outbox.iterator()) {
      const e = this.open(key, value)
      due.set(e.id, e.nextAttemptAt)
    }
    for (const [id, h] of this.messages.heldEntries()) due.set(id, h.o.n)
    this.due = due
    return due
  }
}
