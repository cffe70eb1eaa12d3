// Group commit (proto-spec/storage.md §Atomicity): what a daemon asks of the store in one turn —
// a message and its outbox entry, statuses, outbox removals — is one LevelDB batch, each write
// sees what the earlier ones of its batch wrote, and a write that fails fails alone.
import t from 'tap'
import { MemoryLevel } from 'memory-level'
import { openStore, type OutboxEntry } from '../../src/store/index.js'
import { GroupCommit } from '../../src/store/group.js'
import { SerialQueue } from '../../src/store/db.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'

const BOB = 'bob0fingerprint'

function entry (id: string, peer = BOB): OutboxEntry {
  return { id, peer, payload: new Uint8Array([1, 2, 3]), attempts: 0, nextAttemptAt: 1_700_000_000_000, createdAt: 1_700_000_000_000 }
}

t.test('a send burst issued in one turn is one batch: messages, outbox entries and statuses', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  const before = store.writeCounts
  const N = 50
  const msgs = Array.from({ length: N }, () => msg(BOB, { direction: 'out' }))
  const writes: Array<Promise<unknown>> = []
  for (const m of msgs) {
    writes.push(store.addMessage(m))
    writes.push(store.putOutbox(entry(m.id)))
  }
  // later in the same turn: statuses of messages not yet written see the batch's own writes
  writes.push(store.setStatuses(msgs.slice(0, 10).map(m => m.id), 'sent'))
  const results = await Promise.all(writes)
  const after = store.writeCounts
  t.equal(after.batches - before.batches, 1, `${N} messages, ${N} outbox entries and a status write: one LevelDB batch`)
  t.equal(after.steps - before.steps, 2 * N + 1)
  t.same(results.at(-1), Array.from({ length: 10 }, () => true), 'each status applied to a message of the same batch')
  t.same((await store.history(BOB, { limit: N })).reverse().map(m => [m.id, m.seq, m.status]),
    msgs.map((m, i) => [m.id, i + 1, i < 10 ? 'sent' : 'sending']), 'seqs in call order; statuses applied')
  t.equal((await store.listOutbox()).length, N, 'every outbox entry written')
})

t.test('outbox puts and removals of one batch see each other; a status never goes back', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  const m = msg(BOB, { direction: 'out' })
  const [, , removed, removedAgain, unknown, delivered, sentLate] = await Promise.all([
    store.addMessage(m),
    store.putOutbox(entry(m.id)),
    store.removeOutbox(m.id),
    store.removeOutbox(m.id),
    store.removeOutbox('never-there'),
    store.setStatus(m.id, 'delivered'),
    store.setStatus(m.id, 'sent')
  ])
  t.equal(removed, true, 'an entry put earlier in the batch is removed')
  t.equal(removedAgain, false, 'and is gone for the next removal of the same batch')
  t.equal(unknown, false)
  t.equal(delivered, true)
  t.equal(sentLate, false, 'sent after delivered in the same batch changes nothing')
  t.equal(await store.getOutbox(m.id), undefined)
  t.equal((await store.getMessage(m.id))?.status, 'delivered')
  t.equal(store.getMessageSync(m.id)?.status, 'delivered', 'the synchronous read agrees')
  // the entry on disk (an earlier batch) is found by a later one
  await store.putOutbox(entry('later'))
  t.equal(await store.removeOutbox('later'), true)
  t.equal(await store.removeOutbox('later'), false)
})

t.test('a receipt settles its statuses and outbox entries in one batch, one removal step for all ids', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  const msgs = Array.from({ length: 20 }, () => msg(BOB, { direction: 'out' }))
  await Promise.all([store.addMessages(msgs), store.putOutboxMany(msgs.map(m => entry(m.id)))])
  const ids = msgs.map(m => m.id)
  const before = store.writeCounts
  // as the daemon's receipt does: statuses, then the removals, issued in one turn
  const [changed, removed] = await Promise.all([store.setStatuses(ids, 'delivered'), store.removeOutboxMany([...ids, ids[0] as string, 'never-there'])])
  const after = store.writeCounts
  t.equal(after.batches - before.batches, 1, 'one LevelDB batch')
  t.equal(after.steps - before.steps, 2, 'two steps: the statuses and the removals')
  t.equal(after.dels - before.dels, 20, 'each entry deleted once')
  t.same(changed, ids.map(() => true))
  t.same(removed, [...ids.map(() => true), false, false], 'a repeated id and an unknown one: nothing to remove')
  t.same(await store.listOutbox(), [])
  t.same((await store.history(BOB, { limit: 20 })).map(m => m.status), ids.map(() => 'delivered'))
})

t.test('statuses changed twice in one batch: each msgindex entry is written once, with the last', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  const msgs = Array.from({ length: 10 }, () => msg(BOB, { direction: 'out' }))
  await store.addMessages(msgs)
  const ids = msgs.map(m => m.id)
  const before = store.writeCounts
  // the channel's ACK and the receipt of a burst, asked for while the same batch is open
  const [sent, delivered] = await Promise.all([store.setStatuses(ids, 'sent'), store.setStatuses(ids, 'delivered')])
  const after = store.writeCounts
  t.same([sent, delivered], [ids.map(() => true), ids.map(() => true)], 'both changes applied')
  t.equal(after.batches - before.batches, 1)
  t.equal(after.puts - before.puts, 10, 'one msgindex put per message')
  t.same((await store.history(BOB, { limit: 10 })).map(m => m.status), ids.map(() => 'delivered'), 'history reads the last status')
  t.same(ids.map(id => store.getMessageSync(id)?.status), ids.map(() => 'delivered'), 'and so does the synchronous read')
})

t.test('a write that fails while its batch is prepared fails alone', async (t) => {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  t.teardown(async () => { await db.close() })
  const group = new GroupCommit(db as never, new SerialQueue(), false)
  const sub = { prefix: '' }
  const put = (key: string) => (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]): string => {
    tx.ops.push({ type: 'put', sublevel: sub as never, key, value: new Uint8Array([1]) })
    return key
  }
  const first = group.run(put('a'))
  const bad = group.run(tx => { put('b')(tx); throw new Error('record does not authenticate') })
  const last = group.run(put('c'))
  t.equal(await first, 'a')
  await t.rejects(bad, /does not authenticate/)
  t.equal(await last, 'c')
  t.match(group.counts, { batches: 1, steps: 2 }, 'one batch with the two good writes')
  t.same([await db.get('a'), await db.get('b'), await db.get('c')].map(v => v === undefined ? null : [...v]), [[1], null, [1]], 'nothing of the failed write landed')
})

t.test('a batch holds at most MAX_GROUP_WEIGHT messages; the rest follow in order', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  const before = store.writeCounts
  const lists = Array.from({ length: 5 }, () => Array.from({ length: 900 }, () => msg(BOB)))
  const results = await Promise.all(lists.map(async l => await store.addMessages(l)))
  t.equal(store.writeCounts.batches - before.batches, 3, '4,500 messages in batches of ≤ 2,000 (two lists each, then one)')
  t.same(results.flat().map(r => r.message.seq), Array.from({ length: 4500 }, (_, i) => i + 1), 'seqs follow call order across batches')
})
