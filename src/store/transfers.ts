// File transfers (proto-spec/files.md §5.1): one sealed record per transfer, keyed by a keyed hash
// of its id like every record (storage.md §Keys). The record's content is the files module's own
// encoding, opaque here. A write is synced unless the caller says otherwise: the files module
// writes a receiver's bitmap mid-transfer unsynced (LevelDB has it in the OS before the write
// returns, so a killed process loses nothing; a power cut can only take the record back to an
// older bitmap, which claims less than the disk holds, never more).
import { commit, type StoreContext } from './db.js'
import { checkId, SUB } from './key-layout.js'
import { FLOOR_RECORD, openRecord, sealRecord } from './records.js'
import { bytes } from './codec.js'
import { errors } from '../errors.js'

export interface TransferRecord { id: string, value: Uint8Array }

export class Transfers {
  constructor (private readonly ctx: StoreContext) {}

  async put (id: string, value: Uint8Array, sync = true): Promise<void> {
    const key = this.ctx.keys.transfer(checkId(id, 'transfer id'))
    const sealed = sealRecord(this.ctx.cipher, SUB.transfers, key, { i: id, r: value }, FLOOR_RECORD)
    await this.ctx.queue.run(async () => { await commit(this.ctx.db, [{ type: 'put', sublevel: this.ctx.subs.transfers, key, value: sealed }], sync) })
  }

  async remove (id: string): Promise<void> {
    const key = this.ctx.keys.transfer(checkId(id, 'transfer id'))
    await this.ctx.queue.run(async () => { await commit(this.ctx.db, [{ type: 'del', sublevel: this.ctx.subs.transfers, key }], true) })
  }

  async list (): Promise<TransferRecord[]> {
    const entries = await this.ctx.subs.transfers.iterator().all()
    return entries.map(([key, v]) => {
      const r = openRecord<{ i?: unknown, r?: unknown }>(this.ctx.cipher, SUB.transfers, key, v, `transfer ${key}`)
      if (typeof r.i !== 'string') throw errors.STORE_CORRUPT(`transfer ${key}: not a transfer record`)
      return { id: r.i, value: bytes(r.r, `transfer ${r.i}`) }
    })
  }
}
