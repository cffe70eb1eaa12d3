// Outbox entries held in their messages' msgindex entries (proto-spec/storage.md §Outbox, schema
// v5): a text's entry costs no record of its own, survives status changes and reopening, moves to
// the outbox sublevel and back, and each conversation's lowest held seq stays exact.
import t, { type Test } from 'tap'
import { openStore, type OutboxEntry, type Store } from '../../src/store/index.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, readAll, RawStore, sub } from './fixtures/raw.js'

const T0 = 1_700_000_000_000

function held (id: string, peer: string, attempts = 0, at = T0): OutboxEntry {
  return { id, peer, payload: new Uint8Array(0), attempts, nextAttemptAt: at, createdAt: at, ofMessage: true }
}

/** `n` outbound messages to `peer`, stored with their entries held, in one turn as the daemon sends. */
async function send (store: Store, peer: string, n: number, prefix = 'o'): Promise<string[]> {
  const list = Array.from({ length: n }, (_, i) => msg(peer, { id: `${prefix}${i + 1}`, direction: 'out' }))
  await Promise.all([store.addMessages(list), store.putOutboxMany(list.map((m, i) => held(m.id, peer, 0, T0 + i)))])
  return list.map(m => m.id)
}

async function consistent (t: Test, dir: string, key: Uint8Array): Promise<void> {
  t.same(checkInvariants(await readAll(dir), key).problems, [], 'indexes, held entries and lowest seqs consistent on disk')
}

t.test('a text\'s entry is held by its message: no outbox record, through statuses and a reopen', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  let store = await openStore(dir, key)
  const before = store.writeCounts
  const ids = await send(store, 'alice', 3)
  const after = store.writeCounts
  t.equal(after.batches - before.batches, 1, 'messages and entries in one batch')
  t.equal(after.putsBySub['!outbox!'] ?? 0, 0, 'no outbox record')
  t.equal((after.putsBySub['!msgindex!'] ?? 0) - (before.putsBySub['!msgindex!'] ?? 0), 3, 'one msgindex entry per text, holding its entry')
  t.same((await store.listOutbox()).map(e => [e.id, e.ofMessage, e.payload.length, e.nextAttemptAt]), ids.map((id, i) => [id, true, 0, T0 + i]))
  t.same(await store.setStatuses(ids, 'sent'), [true, true, true])
  t.equal((await store.listOutbox()).length, 3, 'a status change keeps the entry')
  await store.putOutbox(held('o2', 'alice', 1, T0 + 5000)) // a retry's rewrite
  await store.close()
  await consistent(t, dir, key)
  const raw = new RawStore(key)
  const convs = sub(await readAll(dir), 'convs')
  t.equal(raw.open<{ o?: number }>('convs', raw.tag('conversation', 'alice'), convs.get(raw.tag('conversation', 'alice')) as Uint8Array).o, 1, 'the conversation names its lowest held seq')

  store = await openStore(dir, key)
  t.same((await store.listOutbox()).map(e => [e.id, e.attempts, e.nextAttemptAt, e.ofMessage]), [['o1', 0, T0, true], ['o3', 0, T0 + 2, true], ['o2', 1, T0 + 5000, true]], 'read back at open, in due order')
  t.same((await store.getOutbox('o2'))?.attempts, 1)
  t.same((await store.getMessage('o2'))?.status, 'sent')
  // a receipt: statuses and removals in one turn
  const [statuses, removed] = await Promise.all([store.setStatuses(['o1', 'o2'], 'delivered'), store.removeOutboxMany(['o1', 'o2', 'nope'])])
  t.same(statuses, [true, true])
  t.same(removed, [true, true, false], 'removed where held; an unknown id was not there')
  t.same((await store.listOutbox()).map(e => e.id), ['o3'])
  await store.close()
  await consistent(t, dir, key)
  store = await openStore(dir, key)
  t.same((await store.listOutbox()).map(e => e.id), ['o3'], 'after another reopen')
  t.equal(await store.removeOutbox('o3'), true)
  await store.close()
  await consistent(t, dir, key)
  const last = sub(await readAll(dir), 'convs').get(raw.tag('conversation', 'alice')) as Uint8Array
  t.equal(raw.open<{ o?: number }>('convs', raw.tag('conversation', 'alice'), last).o, undefined, 'none held: no lowest seq')
})

t.test('an entry moves to the outbox sublevel and back; an id has one entry', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  await send(store, 'bob', 2)
  // sealed alone (outbound.ts #sealedEntry): the entry takes a payload of its own
  await store.putOutbox({ id: 'o1', peer: 'bob', payload: new Uint8Array([9, 9]), attempts: 2, nextAttemptAt: T0 + 10, createdAt: T0 })
  t.same((await store.listOutbox()).map(e => [e.id, e.ofMessage === true, [...e.payload]]), [['o2', true, []], ['o1', false, [9, 9]]], 'in due order')
  await store.close()
  await consistent(t, dir, key)
  const again = await openStore(dir, key)
  t.same((await again.listOutbox()).map(e => [e.id, e.ofMessage === true]), [['o2', true], ['o1', false]], 'after a reopen')
  await again.putOutbox(held('o1', 'bob', 3, T0 + 20))
  t.same((await again.listOutbox()).map(e => [e.id, e.ofMessage === true, e.attempts]), [['o2', true, 0], ['o1', true, 3]], 'held again')
  t.same(await again.removeOutboxMany(['o1', 'o2']), [true, true])
  t.same(await again.listOutbox(), [])
  await again.close()
  await consistent(t, dir, key)
  t.equal(sub(await readAll(dir), 'outbox').size, 0, 'no outbox record left')
})

t.test('an entry held by no stored outbound message is refused, alone', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  const inbound = msg('carol')
  await store.addMessage(inbound)
  const [missing, wrongWay, fine] = await Promise.allSettled([
    store.putOutbox(held('ghost', 'carol')),
    store.putOutbox(held(inbound.id, 'carol')),
    send(store, 'carol', 1)
  ])
  t.match(missing, { status: 'rejected', reason: { code: 'BAD_ARGUMENT' } }, 'no message with that id')
  t.match(wrongWay, { status: 'rejected', reason: { code: 'BAD_ARGUMENT' } }, 'an inbound message holds no entry')
  t.equal(fine.status, 'fulfilled', 'the other steps of the batch are written')
  t.same((await store.listOutbox()).map(e => e.id), ['o1'])
})

t.test('each conversation\'s lowest held seq follows removals in any order; the scan at open starts there', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  let store = await openStore(dir, key)
  await send(store, 'dave', 6, 'd')
  await send(store, 'erin', 2, 'e')
  await store.removeOutboxMany(['d1', 'd3'])
  await store.removeOutbox('e2')
  await store.close()
  await consistent(t, dir, key) // checks convs.o is exactly the lowest held seq: dave 2, erin 1
  store = await openStore(dir, key)
  t.same((await store.listOutbox()).map(e => e.id).sort(), ['d2', 'd4', 'd5', 'd6', 'e1'])
  await store.removeOutboxMany(['d2', 'e1'])
  await store.removeOutboxMany(['d5'])
  await store.close()
  await consistent(t, dir, key)
  const raw = new RawStore(key)
  const convs = sub(await readAll(dir), 'convs')
  const low = (p: string): number | undefined => raw.open<{ o?: number }>('convs', raw.tag('conversation', p), convs.get(raw.tag('conversation', p)) as Uint8Array).o
  t.same([low('dave'), low('erin')], [4, undefined])
  store = await openStore(dir, key)
  t.same((await store.listOutbox()).map(e => e.id), ['d4', 'd6'])
  await store.close()
})

t.test('an entry held by a message does not change its msgindex entry\'s size class', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const peer = 'q'.repeat(47) // a fingerprint's length (src/crypto/fingerprint.ts)
  const [m1, m2] = [msg(peer, { id: 'f'.repeat(32), direction: 'out' }), msg(peer, { id: 'e'.repeat(32), direction: 'out' })]
  await store.addMessages([m1, m2])
  // the largest a held entry gets: every counter at its widest, a status past the record's
  await store.putOutbox({ ...held(m1.id, peer, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER), createdAt: Number.MAX_SAFE_INTEGER })
  await store.setStatus(m1.id, 'sent')
  await store.setStatus(m2.id, 'sent')
  await store.close()
  const raw = new RawStore(key)
  const index = sub(await readAll(dir), 'msgindex')
  const [heldValue, plainValue] = [m1.id, m2.id].map(id => index.get(raw.tag('message-id', id)) as Uint8Array)
  t.ok(raw.open<{ a?: number }>('msgindex', raw.tag('message-id', m1.id), heldValue as Uint8Array).a !== undefined, 'the first holds an entry')
  t.equal(heldValue?.length, plainValue?.length, 'both in one size class')
  t.equal(plainValue?.length, 24 + 96 + 16, 'the 96-byte floor (storage.md §Padding)')
})
