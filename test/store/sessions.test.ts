// The `sessions` sublevel (proto-spec/storage.md §Sessions, envelope.md §8.4): a peer's ratchet
// record lands in the batch of the message or outbox entry it goes with, an older write never
// replaces a newer one however the calls interleave, and a store written before the sublevel
// existed opens with no sessions and its contacts as they were (no migration needed).
import t from 'tap'
import { openStore } from '../../src/store/index.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'

const PEER = 'p'.repeat(47)
const bytes = (n: number): Uint8Array => new Uint8Array(64).fill(n)

t.test('a store from before sessions opens: no sessions, contacts and verification kept', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const old = await openStore(dir, key.slice())
  await old.putContact({ fingerprint: PEER, name: 'bob', verified: true, addedAt: 1_700_000_000_000 })
  await old.addMessage(msg(PEER, { id: 'm1' }))
  await old.close()
  const s = await openStore(dir, key.slice())
  t.teardown(async () => { await s.close() })
  t.same(await s.listSessions(), [])
  t.match(await s.getContact(PEER), { name: 'bob', verified: true }, 'the contact keeps its verification')
  t.equal((await s.getMessage('m1'))?.peer, PEER)
})

t.test('a session record goes with its message, and only forward', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const s = await openStore(dir, key.slice())
  // issued in one turn: one batch; the older version (1) arrives after the newer (2) and is left out
  await Promise.all([
    s.addMessage(msg(PEER, { id: 'm1' }), { peer: PEER, value: bytes(2), version: 2 }),
    s.putOutboxMany([{ id: 'o1', peer: PEER, payload: bytes(9), attempts: 0, nextAttemptAt: 1, createdAt: 1 }], { peer: PEER, value: bytes(1), version: 1 })
  ])
  t.same((await s.listSessions()).map(x => [x.peer, x.value[0]]), [[PEER, 2]], 'the newer record stays')
  await s.putSession({ peer: PEER, value: bytes(3), version: 3 })
  await s.close()
  const again = await openStore(dir, key.slice())
  t.teardown(async () => { await again.close() })
  t.same((await again.listSessions()).map(x => [x.peer, [...x.value]]), [[PEER, [...bytes(3)]]], 'and is there after a reopen')
  t.equal((await again.getMessage('m1'))?.id, 'm1')
  t.equal((await again.getOutbox('o1'))?.id, 'o1')
  await again.removeSession(PEER)
  t.same(await again.listSessions(), [], 'removed')
})

t.test('a receipt\'s ratchet step lands in the one batch of the statuses it moves', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const s = await openStore(dir, key.slice())
  const m = msg(PEER, { direction: 'out', status: 'sending' })
  await s.addMessage(m)
  const before = s.writeCounts.batches
  t.same(await s.setStatuses([m.id], 'delivered', { peer: PEER, value: bytes(4), version: 4 }), [true])
  t.equal(s.writeCounts.batches - before, 1, 'one write: step and status')
  await s.close()
  const again = await openStore(dir, key.slice())
  t.teardown(async () => { await again.close() })
  t.same((await again.listSessions()).map(x => [x.peer, x.value[0]]), [[PEER, 4]], 'the step is on disk')
  t.equal((await again.getMessage(m.id))?.status, 'delivered', 'with the status')
})

t.test('a burst of ratchet steps in one batch stores the newest, even when another write of the batch fails', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const s = await openStore(dir, key.slice())
  // the store's group commit, to add a write that fails while the batch is prepared (group.ts)
  const group = (s as unknown as { ctx: { group: { run: (prepare: () => void) => Promise<void> } } }).ctx.group
  const outbox = (id: string): Parameters<typeof s.putOutboxMany>[0] => [{ id, peer: PEER, payload: bytes(9), attempts: 0, nextAttemptAt: 1, createdAt: 1 }]
  const results = await Promise.allSettled([
    s.putOutboxMany(outbox('o1'), { peer: PEER, value: bytes(1), version: 1 }),
    s.putOutboxMany(outbox('o2'), { peer: PEER, value: bytes(2), version: 2 }),
    s.putOutboxMany(outbox('o3'), { peer: PEER, value: bytes(3), version: 3 }),
    group.run(() => { throw new Error('record does not authenticate') })
  ])
  t.same(results.map(r => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'], 'the failed write fails alone')
  await s.close()
  const again = await openStore(dir, key.slice())
  t.teardown(async () => { await again.close() })
  t.same((await again.listSessions()).map(x => [x.peer, [...x.value]]), [[PEER, [...bytes(3)]]], 'the newest step of the batch is on disk with its entries')
  t.same((await again.listOutbox()).map(e => e.id).sort(), ['o1', 'o2', 'o3'])
})

t.test('removing a contact removes its sessions and bundle, and only its own; its messages stay', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const s = await openStore(dir, key.slice())
  const OTHER = 'q'.repeat(47)
  for (const [fp, version] of [[PEER, 1], [OTHER, 2]] as const) {
    await s.putContact({ fingerprint: fp, verified: false, addedAt: 1_700_000_000_000 })
    await s.addMessage(msg(fp, { id: `m-${fp[0]!}` }), { peer: fp, value: bytes(version), version })
    await s.putBundle({ peer: fp, bundle: bytes(7), receivedAt: 1_700_000_000_000 })
  }
  t.equal(await s.removeContact(PEER), true)
  t.same((await s.listSessions()).map(x => x.peer), [OTHER], 'its sessions are gone, the other contact\'s stay')
  t.same((await s.listBundles()).map(x => x.peer), [OTHER], 'and its bundle')
  t.equal(await s.removeContact(PEER), false, 'removing it again: nothing to remove')
  // added again: its new session is written as any
  await s.putContact({ fingerprint: PEER, verified: false, addedAt: 1_700_000_000_001 })
  await s.putSession({ peer: PEER, value: bytes(3), version: 3 })
  await s.close()
  const again = await openStore(dir, key.slice())
  t.teardown(async () => { await again.close() })
  t.same((await again.listSessions()).map(x => [x.peer, x.value[0]]).sort(), [[PEER, 3], [OTHER, 2]], 'after a reopen: the new session and the other\'s')
  t.same((await again.listBundles()).map(x => x.peer), [OTHER])
  t.equal((await again.getMessage('m-p'))?.peer, PEER, 'the removed contact\'s messages stay')
})
