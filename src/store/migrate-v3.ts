// Schema v3 → v4 (proto-spec/storage.md §Migration v3 → v4). v3 kept one `unread` entry per
// unread inbound message and rewrote a whole message record at each status or read change; v4
// keeps a read mark and an unread count in each conversation's record, and a changed status in
// the message's msgindex entry. Message records and msgindex entries are read as they are (a
// v3 msgindex entry is a v4 one whose message kept the status it was added with), so only the
// conversation records are rewritten and the unread entries deleted.
import type { BatchSink, MigrationContext } from './migrations.js'
import { SUB } from './key-layout.js'
import { conversationOp } from './record-ops.js'
import { openRecord, toPeerSeq, toSeq } from './records.js'

export async function migrateV3toV4 (ctx: MigrationContext, batch: BatchSink): Promise<void> {
  const { subs, cipher, keys } = ctx
  const convs: Array<{ peer: string, s: number, unread: number[] }> = []
  for await (const [key, value] of subs.convs.iterator()) {
    const { p: peer, s } = toPeerSeq(openRecord(cipher, SUB.convs, key, value, `conversation ${key}`), `conversation ${key}`)
    const unread: number[] = []
    for await (const [k, v] of subs.unread.iterator(keys.unreadRange(peer))) {
      unread.push(toSeq(openRecord(cipher, SUB.unread, k, v, `unread ${k}`), `unread ${k}`))
    }
    convs.push({ peer, s, unread })
  }
  // every unread entry goes; each conversation's read mark sits just below its oldest unread
  // message (v3 kept an entry for every inbound message not read, and its record's flag
  // agrees), and its count is the entries it had
  for await (const key of subs.unread.keys()) batch.del(subs.unread, key)
  for (const { peer, s, unread } of convs) {
    const w = unread.length === 0 ? s : unread.reduce((a, b) => Math.min(a, b)) - 1
    const op = conversationOp(ctx, peer, { s, w, n: unread.length })
    if (op.type === 'put') batch.put(op.sublevel, op.key, op.value)
  }
}
