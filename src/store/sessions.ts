// Ratchet sessions: one sealed record per peer, keyed by a tag of its fingerprint (proto-spec/
// storage.md §Sessions, envelope.md §8.4). The value is opaque here (src/session-crypto lays it
// out). A write joins the batch of the message or outbox entry it goes with (group.ts), and a
// write older than one already prepared is left out: records only move forward on disk, however
// the callers' batches interleave.
import type { Op, StoreContext } from './db.js'
import type { Tx } from './group.js'
import { checkFingerprint, SUB } from './key-layout.js'
import { FLOOR_RECORD, openRecord, sealRecord } from './records.js'
import { bytes } from './codec.js'
import { errors } from '../errors.js'

/**
 * A peer's session record; `version` orders the writes of one process. `value` may be computed
 * on first read (the book encodes only the records a batch keeps); `stored`, if given, is called
 * once this write has been sealed into a batch, so the writer knows no older one of the peer
 * will be read again.
 */
export interface SessionWrite { peer: string, readonly value: Uint8Array, version: number, stored?: () => void }

interface SessionValue { p: string, b: Uint8Array }

export class Sessions {
  /** the newest version prepared per peer (a batch that fails leaves a gap, never an older record) */
  readonly #prepared = new Map<string, number>()
  /** per batch being prepared: the newest write of each peer its steps asked for */
  readonly #batches = new WeakMap<Tx, Map<string, SessionWrite>>()

  constructor (private readonly ctx: StoreContext) {}

  /**
   * Puts `w` in `tx`: each peer's newest write of the batch is sealed and pushed once, when the
   * batch's steps are all prepared (tx.finish), unless a newer record of the peer was prepared
   * already. A burst of N ratchet steps to one peer in one batch is one record, not N: the batch
   * lands whole or not at all, so the older ones it replaces never needed to be on disk.
   */
  prepare (tx: Tx, w: SessionWrite): void {
    checkFingerprint(w.peer)
    let batch = this.#batches.get(tx)
    if (batch === undefined) {
      const writes = batch = new Map()
      this.#batches.set(tx, writes)
      tx.finish.set('sessions', () => { this.#finish(tx, writes) })
    }
    const held = batch.get(w.peer)
    if (held === undefined || w.version > held.version) batch.set(w.peer, w)
  }

  #finish (tx: Tx, writes: ReadonlyMap<string, SessionWrite>): void {
    for (const w of writes.values()) {
      if (w.version <= (this.#prepared.get(w.peer) ?? 0)) continue
      this.#prepared.set(w.peer, w.version)
      const key = this.ctx.keys.session(w.peer)
      tx.ops.push({ type: 'put', sublevel: this.ctx.subs.sessions, key, value: sealRecord(this.ctx.cipher, SUB.sessions, key, { p: w.peer, b: w.value } satisfies SessionValue, FLOOR_RECORD) })
      w.stored?.()
    }
  }

  async put (w: SessionWrite): Promise<void> {
    await this.ctx.group.run(tx => { this.prepare(tx, w) })
  }

  async remove (peer: string): Promise<void> {
    const key = this.ctx.keys.session(checkFingerprint(peer))
    await this.ctx.group.run(tx => {
      this.#prepared.set(peer, Number.MAX_SAFE_INTEGER - 1) // nothing older lands after the delete in this process
      tx.ops.push({ type: 'del', sublevel: this.ctx.subs.sessions, key })
      tx.after.push(() => { this.#prepared.delete(peer) })
    })
  }

  /**
   * The op deleting `peer`'s record, for a batch of the caller's (a contact removed, contacts.ts),
   * and what to run once that batch is written (or failed): until then no write of the peer lands.
   */
  removeOp (peer: string): { op: Op, after: () => void } {
    const key = this.ctx.keys.session(checkFingerprint(peer))
    this.#prepared.set(peer, Number.MAX_SAFE_INTEGER - 1)
    return { op: { type: 'del', sublevel: this.ctx.subs.sessions, key }, after: () => { this.#prepared.delete(peer) } }
  }

  /** Every peer's record. */
  async list (): Promise<Array<{ peer: string, value: Uint8Array }>> {
    return await this.ctx.queue.run(async () => {
      const out: Array<{ peer: string, value: Uint8Array }> = []
      for await (const [key, sealed] of this.ctx.subs.sessions.iterator()) {
        const v = openRecord<Partial<SessionValue>>(this.ctx.cipher, SUB.sessions, key, sealed, 'session record')
        if (typeof v.p !== 'string' || this.ctx.keys.session(v.p) !== key) throw errors.STORE_CORRUPT('session record: filed under another peer')
        out.push({ peer: v.p, value: bytes(v.b, 'session record') })
      }
      return out
    })
  }
}
