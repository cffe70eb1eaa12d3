// Contacts' PQXDH prekey bundles: the last one each peer sent that opened, one sealed record per
// peer keyed by a tag of its fingerprint (proto-spec/storage.md §Bundles, pqxdh.md §8). Kept so
// that after our restart we can still start a session with a contact who is offline, without
// asking it first. A bundle is public and signed; the record is sealed anyway, as every record
// is, because which bundles we hold says whom we write to. The bytes are opaque here.
import type { Op, StoreContext } from './db.js'
import { checkFingerprint, checkTime, SUB } from './key-layout.js'
import { FLOOR_RECORD, openRecord, sealRecord } from './records.js'
import { bytes } from './codec.js'
import { errors } from '../errors.js'

export interface StoredBundle {
  peer: string
  /** the bundle as it arrived (pqxdh.md §3.3) */
  bundle: Uint8Array
  /** when it arrived, ms since the epoch */
  receivedAt: number
}

interface BundleValue { p: string, b: Uint8Array, r: number }

export class PeerBundles {
  constructor (private readonly ctx: StoreContext) {}

  async put (s: StoredBundle): Promise<void> {
    const key = this.ctx.keys.bundle(checkFingerprint(s.peer))
    const value: BundleValue = { p: s.peer, b: s.bundle, r: checkTime(s.receivedAt, 'bundle receivedAt') }
    await this.ctx.group.run(tx => {
      tx.ops.push({ type: 'put', sublevel: this.ctx.subs.bundles, key, value: sealRecord(this.ctx.cipher, SUB.bundles, key, value, FLOOR_RECORD) })
    })
  }

  async remove (peer: string): Promise<void> {
    const key = this.ctx.keys.bundle(checkFingerprint(peer))
    await this.ctx.group.run(tx => { tx.ops.push({ type: 'del', sublevel: this.ctx.subs.bundles, key }) })
  }

  /** The op deleting `peer`'s bundle, for a batch of the caller's (a contact removed, contacts.ts). */
  removeOp (peer: string): Op {
    return { type: 'del', sublevel: this.ctx.subs.bundles, key: this.ctx.keys.bundle(checkFingerprint(peer)) }
  }

  /** Every peer's record. */
  async list (): Promise<StoredBundle[]> {
    return await this.ctx.queue.run(async () => {
      const out: StoredBundle[] = []
      for await (const [key, sealed] of this.ctx.subs.bundles.iterator()) {
        const v = openRecord<Partial<BundleValue>>(this.ctx.cipher, SUB.bundles, key, sealed, 'bundle record')
        if (typeof v.p !== 'string' || this.ctx.keys.bundle(v.p) !== key) throw errors.STORE_CORRUPT('bundle record: filed under another peer')
        if (typeof v.r !== 'number' || !Number.isSafeInteger(v.r)) throw errors.STORE_CORRUPT('bundle record: no arrival time')
        out.push({ peer: v.p, bundle: bytes(v.b, 'bundle record'), receivedAt: v.r })
      }
      return out
    })
  }
}
