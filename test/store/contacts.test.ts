// Contacts, blocklist and outbox.
import t from 'tap'
import { openStore } from '../../src/store/index.js'
import { newKey, tempStoreDir } from './fixtures/helpers.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xc0de).bytes

t.test('contacts: put, get, list, rename, verify, last seen, remove — and they persist', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const signPublic = randomBytes(32)
  const dhPublic = randomBytes(32)
  const dhSignature = randomBytes(64)
  await store.putContact({ fingerprint: 'bob', name: 'Bob', verified: false, addedAt: 100 })
  await store.putContact({ fingerprint: 'alice', name: 'Alice 🌸', signPublic, dhPublic, dhSignature, verified: false, addedAt: 50 })
  await store.putContact({ fingerprint: 'carol', verified: true, addedAt: 70 })
  t.same((await store.listContacts()).map((c) => c.fingerprint), ['alice', 'bob', 'carol'], 'listed in fingerprint order')
  const alice = await store.getContact('alice')
  t.equal(alice?.name, 'Alice 🌸')
  t.same(alice?.signPublic, signPublic, 'keys round-trip')
  t.same(alice?.dhSignature, dhSignature)
  t.equal((await store.getContact('carol'))?.name, undefined, 'no name')
  t.equal(await store.getContact('dave'), undefined)

  t.equal((await store.renameContact('alice', 'Ally')).name, 'Ally')
  t.equal((await store.renameContact('bob', undefined)).name, undefined, 'a name can be cleared')
  t.equal((await store.setVerified('alice', true)).verified, true)
  await t.rejects(store.renameContact('dave', 'x'), { code: 'CONTACT_NOT_FOUND' })
  await t.rejects(store.setVerified('dave', true), { code: 'CONTACT_NOT_FOUND' })

  t.equal(await store.touchLastSeen('alice', 1000), true)
  t.equal(await store.touchLastSeen('alice', 900), false, 'last seen never goes back')
  t.equal(await store.touchLastSeen('dave', 1000), false, 'unknown contact: ignored')
  t.equal(await store.removeContact('carol'), true)
  t.equal(await store.removeContact('carol'), false)
  await t.rejects(store.putContact({ fingerprint: 'x y', verified: false, addedAt: 1 }), { code: 'BAD_FINGERPRINT' })
  await store.close()

  const again = await openStore(dir, key)
  t.teardown(async () => { await again.close() })
  const list = await again.listContacts()
  t.same(list.map((c) => [c.fingerprint, c.name, c.verified, c.lastSeen]), [['alice', 'Ally', true, 1000], ['bob', undefined, false, undefined]])
  t.same(list[0]?.dhPublic, dhPublic)
})

t.test('contacts read back are copies, and reads racing writes miss none of them', async (t) => {
  const store = await openStore(await tempStoreDir(t), newKey())
  t.teardown(async () => { await store.close() })
  await store.putContact({ fingerprint: 'alice', name: 'Alice', verified: false, addedAt: 1 })
  const a = await store.getContact('alice')
  if (a === undefined) throw new Error('alice missing')
  a.name = 'Mallory'
  a.verified = true
  const again = await store.getContact('alice')
  t.equal(again?.name, 'Alice', 'changing a contact read back changes nothing stored')
  t.equal(again?.verified, false)
  // the first read loads every contact; writes issued around it all land in what it returns later
  const writes = Array.from({ length: 20 }, async (_, i) => { await store.putContact({ fingerprint: `c${i}`, verified: false, addedAt: i }) })
  const reads = [store.listContacts(), store.getContact('c19')]
  await Promise.all([...writes, ...reads])
  t.equal((await store.listContacts()).length, 21, 'every contact written is listed')
  t.equal((await store.getContact('c19'))?.addedAt, 19)
  t.equal(await store.removeContact('c3'), true)
  t.equal(await store.getContact('c3'), undefined, 'a removed contact is gone at once')
})

t.test('blocklist', async (t) => {
  const dir = await tempStoreDir(t)
  let clock = 5000
  const store = await openStore(dir, newKey(), { now: () => clock })
  t.teardown(async () => { await store.close() })
  t.equal(await store.isBlocked('spammer'), false)
  t.equal(await store.block('spammer'), true)
  clock = 6000
  t.equal(await store.block('spammer'), false, 'already blocked')
  t.equal(await store.block('troll', 42), true)
  t.equal(await store.isBlocked('spammer'), true)
  t.same(await store.listBlocked(), [{ fingerprint: 'spammer', blockedAt: 5000 }, { fingerprint: 'troll', blockedAt: 42 }], 'the first block time is kept')
  t.equal(await store.unblock('spammer'), true)
  t.equal(await store.unblock('spammer'), false)
  t.equal(await store.isBlocked('spammer'), false)
  await t.rejects(store.block('NOT OK'), { code: 'BAD_FINGERPRINT' })
})

t.test('outbox: ordered by next attempt, replace on retry, due filter, remove', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const entry = (id: string, nextAttemptAt: number, attempts = 0) => ({ id, peer: 'bob', payload: randomBytes(100), attempts, nextAttemptAt, createdAt: 1 })
  const a = entry('a', 300)
  await store.putOutbox(a)
  await store.putOutbox(entry('b', 100))
  await store.putOutbox(entry('c', 200))
  await store.putOutbox(entry('d', 200))
  t.same((await store.listOutbox()).map((e) => e.id), ['b', 'c', 'd', 'a'], 'by nextAttemptAt, ties by id')
  t.same((await store.listOutbox({ dueBy: 200 })).map((e) => e.id), ['b', 'c', 'd'], 'due by 200 (inclusive)')
  t.same((await store.listOutbox({ dueBy: 99 })), [])
  t.same((await store.listOutbox({ limit: 2 })).map((e) => e.id), ['b', 'c'])

  await store.putOutbox({ ...a, attempts: 1, nextAttemptAt: 50 })
  const list = await store.listOutbox()
  t.same(list.map((e) => [e.id, e.attempts]), [['a', 1], ['b', 0], ['c', 0], ['d', 0]], 'a retry replaces the entry and moves it')
  t.same(list[0]?.payload, a.payload, 'payload round-trips')
  t.equal(await store.removeOutbox('b'), true)
  t.equal(await store.removeOutbox('b'), false)
  t.equal(await store.getOutbox('b'), undefined)
  await store.close()
  const again = await openStore(dir, key)
  t.teardown(async () => { await again.close() })
  t.same((await again.listOutbox()).map((e) => e.id), ['a', 'c', 'd'], 'survives a restart')
})
