// Messages: history paging, duplicates, seq under concurrency, status rules, unread and read.
import t from 'tap'
import { openStore, type StoredMessage } from '../../src/store/index.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, readAll } from './fixtures/raw.js'

const ALICE = 'alice0fingerprint'
const BOB = 'bob0fingerprint'

t.test('history pages newest first through thousands of messages, without overlap or gaps', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  const N = 3000
  const sent: string[] = []
  // interleave two conversations so Alice's range has Bob's keys on both sides of it in LevelDB
  for (let i = 0; i < N; i += 250) {
    const batch = []
    for (let j = i; j < i + 250; j++) {
      const m = msg(j % 3 === 0 ? BOB : ALICE, { text: `text ${j}` })
      if (m.peer === ALICE) sent.push(m.id)
      batch.push(m)
    }
    await store.addMessages(batch)
  }
  const pages: StoredMessage[][] = []
  let before: number | undefined
  while (true) {
    const page = await store.history(ALICE, { limit: 97, before })
    if (page.length === 0) break
    pages.push(page)
    before = page[page.length - 1]?.seq
  }
  const all = pages.flat()
  t.equal(all.length, sent.length, 'every message of the conversation, once')
  t.ok(pages.slice(0, -1).every((p) => p.length === 97), 'full pages until the last')
  t.ok(all.every((m) => m.peer === ALICE), 'no message of another conversation')
  t.same(all.map((m) => m.seq), Array.from({ length: sent.length }, (_, i) => sent.length - i), 'seq strictly descending with no gaps')
  t.same(all.map((m) => m.id), [...sent].reverse(), 'newest first, in the order they were added')
  t.equal(new Set(all.map((m) => m.id)).size, all.length, 'pages do not overlap')

  const since = await store.history(ALICE, { after: sent.length - 5 })
  t.same(since.map((m) => m.seq), [sent.length, sent.length - 1, sent.length - 2, sent.length - 3, sent.length - 4], 'after: only the newer ones')
  t.same(await store.history('nobody'), [], 'unknown conversation is empty')
  t.equal(await store.lastSeq(ALICE), sent.length)
})

t.test('a duplicate id is stored once and reported as a duplicate', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  const first = msg(ALICE, { text: 'original' })
  const a = await store.addMessage(first)
  t.equal(a.duplicate, false)
  t.equal(a.message.seq, 1)
  const again = await store.addMessage({ ...first, text: 'replayed', timestamp: 5 })
  t.equal(again.duplicate, true)
  t.equal(again.message.text, 'original', 'the stored message is returned, not the new one')
  t.equal(again.message.seq, 1)

  const m2 = msg(ALICE)
  const results = await store.addMessages([m2, { ...m2, text: 'same batch' }, first])
  t.same(results.map((r) => r.duplicate), [false, true, true], 'duplicates inside one batch and against stored ones')
  t.equal(results[1]?.message.seq, results[0]?.message.seq)
  // the same id arriving concurrently (e.g. a retransmission racing the original)
  const m3 = msg(ALICE)
  const racing = await Promise.all([store.addMessage(m3), store.addMessage(m3), store.addMessage(m3)])
  t.equal(racing.filter((r) => !r.duplicate).length, 1, 'exactly one of the racing adds stored it')
  t.equal((await store.history(ALICE)).length, 3, 'three distinct messages in history')
  t.equal(await store.unreadCount(ALICE), 3, 'duplicates did not inflate unread')
})

t.test('concurrent addMessage calls get dense, unique seqs per conversation', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const adds = Array.from({ length: 300 }, (_, i) => store.addMessage(msg(i % 2 === 0 ? ALICE : BOB)))
  const results = await Promise.all(adds)
  for (const peer of [ALICE, BOB]) {
    const seqs = results.filter((r) => r.message.peer === peer).map((r) => r.message.seq).sort((a, b) => a - b)
    t.same(seqs, Array.from({ length: 150 }, (_, i) => i + 1), `${peer}: 1..150`)
    const inCallOrder = results.filter((r) => r.message.peer === peer).map((r) => r.message.seq)
    t.same(inCallOrder, seqs, `${peer}: seqs follow call order`)
  }
  const mixed = await Promise.all([store.addMessage(msg('carol')), store.addMessages([msg('carol'), msg('carol')]), store.addMessage(msg('carol'))])
  t.same([mixed[0].message.seq, ...mixed[1].map((r) => r.message.seq), mixed[2].message.seq], [1, 2, 3, 4], 'single and bulk adds interleave in call order')
  await store.close()
  t.same(checkInvariants(await readAll(dir), key).problems, [], 'indexes and counters consistent on disk')
  // the counter survives a reopen: the next message continues the sequence
  const again = await openStore(dir, key)
  t.teardown(async () => { await again.close() })
  t.equal((await again.addMessage(msg(ALICE))).message.seq, 151)
  t.equal((await again.addMessage(msg('dave'))).message.seq, 1, 'a new conversation starts at 1')
})

t.test('status only moves forward: sending < sent < delivered < read; there is no failed', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const out = (await store.addMessage(msg(ALICE, { direction: 'out' }))).message
  t.equal(out.status, 'sending')
  const steps: Array<[Parameters<typeof store.setStatus>[1], boolean, string]> = [
    ['delivered', true, 'delivered'], // a delivery receipt may overtake the 'sent' ack
    ['sent', false, 'delivered'], // the late ack is stale
    ['delivered', false, 'delivered'], // a repeated receipt changes nothing
    ['read', true, 'read'],
    ['delivered', false, 'read'],
    ['sending', false, 'read'],
    ['received', false, 'read']
  ]
  for (const [to, changed, now] of steps) {
    t.equal(await store.setStatus(out.id, to), changed, `→ ${to} ${changed ? 'applies' : 'is ignored'}`)
    t.equal((await store.getMessage(out.id))?.status, now)
  }

  const inbound = (await store.addMessage(msg(ALICE))).message
  t.equal(await store.setStatus(inbound.id, 'read'), false, 'inbound messages stay received')
  t.equal(await store.setStatus('no-such-id', 'read'), false, 'a receipt for an unknown id is ignored')
  await t.rejects(store.setStatus(out.id, 'bogus' as 'read'), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.setStatus(out.id, 'failed' as 'read'), { code: 'BAD_ARGUMENT' }, 'the outbox never gives up, so nothing is ever failed')
  await store.close()
  const again = await openStore(dir, key)
  t.equal((await again.getMessage(out.id))?.status, 'read', 'status persisted')
  await again.close()
})

t.test('unread counts, markRead and conversations', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const a = await store.addMessages([msg(ALICE), msg(ALICE), msg(ALICE, { direction: 'out' }), msg(ALICE), msg(ALICE, { read: true })])
  await store.addMessages([msg(BOB), msg(BOB)])
  t.equal(await store.unreadCount(ALICE), 3, 'only inbound, not-yet-read messages count')
  t.equal(await store.unreadCount(BOB), 2)
  t.equal(await store.unreadCount('nobody'), 0)

  const convs = await store.conversations()
  t.same(convs.map((c) => [c.peer, c.unread]), [[BOB, 2], [ALICE, 3]], 'most recent conversation first, with unread counts')
  t.equal(convs[1]?.lastMessage.id, a[4]?.message.id, 'last message of the conversation')

  const upTo = a[1]?.message.seq as number
  t.same(await store.markRead(ALICE, upTo), [a[0]?.message.id, a[1]?.message.id], 'markRead up to a seq: oldest first')
  t.equal(await store.unreadCount(ALICE), 1)
  t.same(await store.markRead(ALICE), [a[3]?.message.id], 'then the rest')
  t.same(await store.markRead(ALICE), [], 'nothing left to mark')
  t.equal(await store.unreadCount(ALICE), 0)
  t.equal((await store.getMessage(a[0]?.message.id as string))?.read, true, 'the message itself is marked read')
  t.equal(await store.unreadCount(BOB), 2, 'other conversations untouched')
  await store.addMessage(msg(ALICE))
  t.equal(await store.unreadCount(ALICE), 1, 'a new message is unread again')
  await store.close()
  const again = await openStore(dir, key)
  t.same((await again.conversations()).map((c) => [c.peer, c.unread]), [[ALICE, 1], [BOB, 2]], 'persisted')
  await again.close()
  t.same(checkInvariants(await readAll(dir), key).problems, [])
})

t.test('bad input is refused with a typed error', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  await t.rejects(store.addMessage(msg('Not-A-Fingerprint!')), { code: 'BAD_FINGERPRINT' })
  await t.rejects(store.addMessage(msg(ALICE, { id: '' })), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.addMessage(msg(ALICE, { status: 'sent' })), { code: 'BAD_ARGUMENT' }, 'inbound must be received')
  await t.rejects(store.addMessage(msg(ALICE, { direction: 'out', status: 'received' })), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.addMessage(msg(ALICE, { timestamp: -1 })), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.history(ALICE, { limit: 0 }), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.history(ALICE, { before: 1.5 }), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.addMessages([msg(ALICE), msg('BAD')]), { code: 'BAD_FINGERPRINT' })
  t.same(await store.history(ALICE), [], 'a batch with one bad message writes nothing')
})
