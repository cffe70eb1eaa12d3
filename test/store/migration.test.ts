// Schema versions: v1 → v2 migration, a store from a newer dmess, atomic failure.
import t from 'tap'
import { pack, unpack } from 'msgpackr'
import { openStore, SCHEMA_VERSION } from '../../src/store/index.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, includesBytes, rawPut, readAll, sub } from './fixtures/raw.js'
import { writeV1Store, type V1Data, type V1Message } from './fixtures/v1.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x3197).bytes

const T0 = 1_700_000_000_000

function v1Data (): V1Data {
  const m = (id: string, peer: string, ts: number, over: Partial<V1Message> = {}): V1Message =>
    ({ id, peer, direction: 'in', text: `text of ${id}`, timestamp: ts, receivedAt: T0 + 500, status: 'received', read: false, ...over })
  return {
    messages: [
      // inserted out of timestamp order: v1 keys sort them by timestamp
      m('a3', 'alice', T0 + 30, { read: true }),
      m('a1', 'alice', T0 + 10, { text: 'Ünïcödé 🎉' }),
      m('a2', 'alice', T0 + 20, { direction: 'out', status: 'delivered', read: true }),
      m('a4', 'alice', T0 + 40),
      m('a1', 'alice', T0 + 99, { text: 'the same id again, later' }),
      m('b1', 'bob', T0 + 5),
      m('b2', 'bob', T0 + 6, { direction: 'out', status: 'sending', read: true })
    ],
    contacts: [
      { fingerprint: 'alice', name: 'Alice Liddell', signPublic: randomBytes(32), verified: true, addedAt: T0, lastSeen: T0 + 1 },
      { fingerprint: 'bob', verified: false, addedAt: T0 + 2 }
    ],
    outbox: [{ id: 'o1', peer: 'bob', payload: utf8.encode('queued'), attempts: 2, nextAttemptAt: T0 + 1000, createdAt: T0 }],
    blocked: [{ fingerprint: 'mallory', blockedAt: T0 + 3 }]
  }
}

t.test('a v1 store is migrated to v2 on open', async (t) => {
  t.equal(SCHEMA_VERSION, 2)
  const dir = await tempStoreDir(t)
  const key = newKey()
  const data = v1Data()
  await writeV1Store(dir, key, data)
  const store = await openStore(dir, key)
  t.equal(store.schemaVersion, 2)

  const alice = await store.history('alice')
  t.same(alice.map((m) => [m.seq, m.id]), [[4, 'a4'], [3, 'a3'], [2, 'a2'], [1, 'a1']], 'numbered in v1 (timestamp) order, the later duplicate dropped')
  t.equal(alice[3]?.text, 'Ünïcödé 🎉', 'bodies re-sealed and readable')
  t.same(alice.map((m) => [m.direction, m.status, m.read]), [['in', 'received', false], ['in', 'received', true], ['out', 'delivered', true], ['in', 'received', false]])
  t.equal((await store.getMessage('b2'))?.text, 'text of b2', 'ids are indexed')
  t.equal(await store.unreadCount('alice'), 2, 'unread index built')
  t.equal(await store.unreadCount('bob'), 1)
  t.same((await store.conversations()).map((c) => c.peer).sort(), ['alice', 'bob'])

  const contact = await store.getContact('alice')
  t.equal(contact?.name, 'Alice Liddell')
  t.same(contact?.signPublic, data.contacts[0]?.signPublic)
  t.equal(contact?.lastSeen, T0 + 1)
  t.equal((await store.getContact('bob'))?.name, undefined)
  t.same((await store.listOutbox()).map((e) => [e.id, utf8.decode(e.payload), e.attempts]), [['o1', 'queued', 2]], 'outbox kept')
  t.same(await store.listBlocked(), [{ fingerprint: 'mallory', blockedAt: T0 + 3 }], 'blocklist kept')
  t.equal((await store.addMessage(msg('alice'))).message.seq, 5, 'new messages continue the sequence')
  t.same(await store.markRead('alice'), ['a1', 'a4', (await store.history('alice', { limit: 1 }))[0]?.id])
  await store.close()

  const all = await readAll(dir)
  t.equal(unpack(sub(all, 'meta').get('schemaVersion') as Uint8Array), 2, 'schemaVersion bumped on disk')
  t.same(checkInvariants(all).problems, [], 'indexes consistent')
  t.notOk([...sub(all, 'messages').keys()].some((k) => k.split('!').length !== 2), 'no v1 message key left')
  t.notOk(all.some(([, v]) => includesBytes(v, utf8.encode('Alice Liddell'))), 'contact name now sealed')

  const again = await openStore(dir, key)
  t.equal((await again.history('alice')).length, 5, 'reopening does not migrate twice')
  await again.close()
})

t.test('a failing migration leaves the v1 store exactly as it was', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  await writeV1Store(dir, key, v1Data())
  const all = await readAll(dir)
  // damage one body (the last alice message in key order): the migration fails part-way through
  const [k, v] = all.filter(([key]) => key.startsWith('!messages!alice!')).at(-1) as [string, Uint8Array]
  const rec = unpack(v) as { b: Uint8Array }
  rec.b[rec.b.length - 1] = (rec.b.at(-1) as number) ^ 1
  await rawPut(dir, [[k, pack(rec)]])
  const before = await readAll(dir)
  await t.rejects(openStore(dir, key), { code: 'STORE_CORRUPT' })
  t.same(await readAll(dir), before, 'nothing of the migration was written')
  await t.rejects(openStore(dir, newKey()), { code: 'STORE_KEY_MISMATCH' }, 'the wrong key is caught before migrating')
})

t.test('a store written by a newer dmess is refused, untouched', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  await store.addMessage(msg('alice'))
  await store.close()
  await rawPut(dir, [['!meta!schemaVersion', pack(SCHEMA_VERSION + 1)]])
  const before = await readAll(dir)
  const err = await openStore(dir, key).then(() => null, (e: unknown) => e as Error & { code: string })
  t.equal(err?.code, 'STORE_TOO_NEW')
  t.match(err?.message, /schema v3.*only knows up to v2.*upgrade/, 'says which versions and what to do')
  t.same(await readAll(dir), before)
  await rawPut(dir, [['!meta!schemaVersion', pack('two')]])
  await t.rejects(openStore(dir, key), { code: 'STORE_CORRUPT' }, 'a nonsense version')
})
