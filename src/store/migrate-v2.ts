// Schema v2 → v3 (proto-spec/storage.md §Migration v2 → v3). v2 kept fingerprints and ids in
// keys and times, statuses and flags in values in the clear, and indexed the outbox by due time:
// a copy of the database showed who talked to whom and when. v3 keys everything by keyed-hash
// tags and seals every value whole, padded. Nothing is lost: every record is rewritten.
import type { Op } from './db.js'
import { parseSeqKey } from './key-layout.js'
import {
  decodeBlockedV2, decodeContactV2, decodeConvV2, decodeMessageV2, decodeOutboxV2
} from './legacy-v2.js'
import type { BatchSink, MigrationContext } from './migrations.js'
import { addMessageOps, blockedOp, contactOp, conversationOp, outboxOp, unreadOpV3 } from './record-ops.js'

/** Delete every v2 key of these sublevels. */
async function deleteAll (ctx: MigrationContext, batch: BatchSink, names: Array<keyof MigrationContext['subs']>): Promise<void> {
  for (const name of names) {
    for await (const key of ctx.subs[name].keys()) batch.del(ctx.subs[name], key)
  }
}

async function messages (ctx: MigrationContext, puts: Op[]): Promise<void> {
  const lastSeq = new Map<string, number>()
  for await (const [key, value] of ctx.subs.messages.iterator()) {
    const { prefix: peer, seq } = parseSeqKey(key)
    const m = decodeMessageV2(ctx.cipher, peer, seq, value)
    puts.push(...addMessageOps(ctx, m)) // the v3 record and msgindex entry (v4 reads both as they are)
    if (m.direction === 'in' && !m.read) puts.push(unreadOpV3(ctx, peer, seq))
    lastSeq.set(peer, Math.max(seq, lastSeq.get(peer) ?? 0))
  }
  // a v2 counter is ≥ every seq of its conversation: keep it, so seqs are never reused
  for await (const [peer, value] of ctx.subs.convs.iterator()) {
    lastSeq.set(peer, Math.max(decodeConvV2(peer, value), lastSeq.get(peer) ?? 0))
  }
  for (const [peer, seq] of lastSeq) puts.push(conversationOp(ctx, peer, { s: seq }))
}

async function others (ctx: MigrationContext, puts: Op[]): Promise<void> {
  const { subs, cipher } = ctx
  for await (const [fp, value] of subs.contacts.iterator()) puts.push(contactOp(ctx, decodeContactV2(cipher, fp, value)))
  for await (const [id, value] of subs.outbox.iterator()) puts.push(outboxOp(ctx, decodeOutboxV2(cipher, id, value)))
  for await (const [fp, value] of subs.blocklist.iterator()) puts.push(blockedOp(ctx, fp, decodeBlockedV2(fp, value)))
}

export async function migrateV2toV3 (ctx: MigrationContext, batch: BatchSink): Promise<void> {
  const puts: Op[] = []
  await messages(ctx, puts)
  await others(ctx, puts)
  // every v2 key goes first, then the v3 puts: in a batch the later op wins, so a v2 key that
  // happened to equal a v3 tag could not delete the new record
  await deleteAll(ctx, batch, ['messages', 'msgindex', 'unread', 'convs', 'contacts', 'outbox', 'outboxdue', 'blocklist'])
  for (const op of puts) if (op.type === 'put') batch.put(op.sublevel, op.key, op.value)
}
