// Schema versions: v1 → … → v5, v2 → … → v5, v3 → v4 → v5 and v4 → v5 migrations, a store from a newer dmess, atomic failure.
import t, { type Test } from 'tap'
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pack, unpack } from 'msgpackr'
import { openStore, SCHEMA_VERSION, type Store } from '../../src/store/index.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { fingerprintOf } from '../../src/crypto/fingerprint.js'
import { msg, newKey, REPO_ROOT, tempStoreDir } from './fixtures/helpers.js'
import { checkInvariants, includesBytes, rawPut, readAll, sub } from './fixtures/raw.js'
import { findLeaks } from './fixtures/leaks.js'
import { writeV1Store, type V1Data, type V1Message } from './fixtures/v1.js'
import { writeV2Store, type V2Data } from './fixtures/v2.js'
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

/**
 * Flip the last bit of the sealed field `b` of the last record under `prefix` (an old-format
 * store); opening must then fail with STORE_CORRUPT and write nothing.
 */
async function failsUntouched (t: Test, dir: string, key: Uint8Array, prefix: string): Promise<void> {
  const [k, v] = (await readAll(dir)).filter(([raw]) => raw.startsWith(prefix)).at(-1) as [string, Uint8Array]
  const rec = unpack(v) as { b: Uint8Array }
  rec.b[rec.b.length - 1] = (rec.b.at(-1) as number) ^ 1
  await rawPut(dir, [[k, pack(rec)]])
  const before = await readAll(dir)
  await t.rejects(openStore(dir, key), { code: 'STORE_CORRUPT' })
  t.same(await readAll(dir), before, 'nothing of the migration was written')
}

t.test('a v1 store is migrated (through v2, v3 and v4) to v5 on open', async (t) => {
  t.equal(SCHEMA_VERSION, 5)
  const dir = await tempStoreDir(t)
  const key = newKey()
  const data = v1Data()
  await writeV1Store(dir, key, data)
  const store = await openStore(dir, key)
  t.equal(store.schemaVersion, 5)

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
  t.equal(unpack(sub(all, 'meta').get('schemaVersion') as Uint8Array), 5, 'schemaVersion bumped on disk')
  t.same(checkInvariants(all, key).problems, [], 'indexes consistent')
  t.notOk([...sub(all, 'messages').keys()].some((k) => !/^[0-9a-f]{32}![0-9a-f]{16}$/.test(k)), 'no v1 or v2 message key left')
  t.notOk(all.some(([, v]) => includesBytes(v, utf8.encode('Alice Liddell'))), 'contact name now sealed')

  const again = await openStore(dir, key)
  t.equal((await again.history('alice')).length, 5, 'reopening does not migrate twice')
  await again.close()
})

t.test('a failing migration leaves the v1 store exactly as it was', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  await writeV1Store(dir, key, v1Data())
  // damage one body (the last alice message in key order): the migration fails part-way through
  await failsUntouched(t, dir, key, '!messages!alice!')
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
  t.match(err?.message, /schema v6.*only knows up to v5.*upgrade/, 'says which versions and what to do')
  t.same(await readAll(dir), before)
  await rawPut(dir, [['!meta!schemaVersion', pack('two')]])
  await t.rejects(openStore(dir, key), { code: 'STORE_CORRUPT' }, 'a nonsense version')
})

/** A fingerprint as dmess makes them (proto-spec/identity.md §3), from seeded key bytes. */
function fingerprint (): string {
  return fingerprintOf({ signPublic: randomBytes(32), dhPublic: randomBytes(32), dhSignature: randomBytes(64) })
}

function v2Data (alice: string, bob: string, mallory: string): V2Data {
  const m = (id: string, peer: string, seq: number, over: Partial<V2Data['messages'][number]> = {}): V2Data['messages'][number] =>
    ({ id, peer, seq, direction: 'in', text: `text of ${id}`, timestamp: T0 + 100 * seq, receivedAt: T0 + 100 * seq + 7, status: 'received', read: false, ...over })
  return {
    messages: [
      m('qa1', alice, 1, { read: true }), // ids with a letter no hex has: the leak search below must not match a v3 key's hex by chance
      m('a2', alice, 2, { direction: 'out', status: 'delivered', read: true, text: 'Ünïcödé 🎉' }),
      m('a3', alice, 3),
      m('a4', alice, 4, { direction: 'out', status: 'sending', read: true }),
      m('a5', alice, 5),
      m('b1', bob, 1, { text: 'x'.repeat(3000) })
    ],
    contacts: [
      { fingerprint: alice, name: 'Alice Liddell', signPublic: randomBytes(32), verified: true, addedAt: T0 + 1, lastSeen: T0 + 2 },
      { fingerprint: bob, verified: false, addedAt: T0 + 3 }
    ],
    outbox: [
      { id: 'o1', peer: bob, payload: utf8.encode('queued one'), attempts: 2, nextAttemptAt: T0 + 5000, createdAt: T0 + 4 },
      { id: 'o2', peer: alice, payload: utf8.encode('queued two'), attempts: 0, nextAttemptAt: T0 + 4000, createdAt: T0 + 5 }
    ],
    blocked: [{ fingerprint: mallory, blockedAt: T0 + 6 }]
  }
}

t.test('a v2 store is migrated (through v3 and v4) to v5 on open: nothing lost, no fingerprint or time left in the files', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const [alice, bob, mallory] = [fingerprint(), fingerprint(), fingerprint()] as [string, string, string]
  const data = v2Data(alice, bob, mallory)
  await writeV2Store(dir, key, data)
  const store = await openStore(dir, key)
  t.equal(store.schemaVersion, 5)
  const history = await store.history(alice)
  t.same(history.map((m) => [m.seq, m.id, m.direction, m.status, m.read, m.timestamp, m.receivedAt]),
    data.messages.filter((m) => m.peer === alice).reverse().map((m) => [m.seq, m.id, m.direction, m.status, m.read, m.timestamp, m.receivedAt]),
    'every message with its seq, status, read flag and times')
  t.equal((await store.getMessage('a2'))?.text, 'Ünïcödé 🎉', 'bodies readable, ids indexed')
  t.equal((await store.getMessage('b1'))?.text.length, 3000)
  t.equal(await store.unreadCount(alice), 2, 'unread index rebuilt')
  t.same((await store.conversations()).map((c) => [c.peer, c.unread]), [[alice, 2], [bob, 1]])
  t.equal((await store.getContact(alice))?.name, 'Alice Liddell')
  t.same((await store.getContact(alice))?.signPublic, data.contacts[0]?.signPublic)
  t.equal((await store.getContact(alice))?.lastSeen, T0 + 2)
  t.same((await store.listOutbox()).map((e) => [e.id, utf8.decode(e.payload), e.attempts, e.nextAttemptAt]),
    [['o2', 'queued two', 0, T0 + 4000], ['o1', 'queued one', 2, T0 + 5000]], 'outbox kept, in due order')
  t.same((await store.listOutbox({ dueBy: T0 + 4500 })).map((e) => e.id), ['o2'])
  t.same(await store.listBlocked(), [{ fingerprint: mallory, blockedAt: T0 + 6 }])
  t.equal(await store.isBlocked(mallory), true)
  t.equal((await store.addMessage(msg(bob))).message.seq, 2, 'new messages continue the sequence')
  await store.close()

  t.same(checkInvariants(await readAll(dir), key).problems, [], 'v5 indexes consistent')
  const times = data.messages.flatMap((m) => [m.timestamp, m.receivedAt])
  const { leaks } = await findLeaks(dir, { fingerprints: [alice, bob, mallory], ids: ['qa1', 'o1'].map((id) => `!${id}`), times })
  t.same(leaks, [], 'the v2 records are gone from every LevelDB file (compacted after the migration)')
})

t.test('a failing v2 → v3 migration leaves the v2 store exactly as it was', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const [alice, bob, mallory] = [fingerprint(), fingerprint(), fingerprint()] as [string, string, string]
  await writeV2Store(dir, key, v2Data(alice, bob, mallory))
  // damage the last outbox payload: the migration fails after every message was rewritten
  await failsUntouched(t, dir, key, '!outbox!')
})

/**
 * A fixture store made and read back by an older version's code (scripts/make-v3-store-fixture.ts),
 * copied to a temporary directory and opened by this code: it must open at v5 and read back what
 * the old code read (`expected.json`), statuses, read flags, seqs, outbox and contacts alike.
 */
async function openFixture (t: Test, name: string, version: number): Promise<{ dir: string, key: Uint8Array, store: Store, alice: string, bob: string }> {
  const fixture = join(REPO_ROOT, 'test/store/fixtures', name)
  const dir = await tempStoreDir(t)
  await cp(join(fixture, 'db'), dir, { recursive: true })
  const expected = JSON.parse(await readFile(join(fixture, 'expected.json'), 'utf8')) as Record<string, unknown>
  const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 3)
  const [alice, bob] = ['a1ice', 'b0b']
  t.equal(unpack(sub(await readAll(dir), 'meta').get('schemaVersion') as Uint8Array), version, `the fixture is a v${version} store`)
  const store = await openStore(dir, key)
  t.equal(store.schemaVersion, 5)
  const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
  t.same(json(await store.history(alice, { limit: 100 })), expected.historyAlice, `history as the v${version} code read it: statuses, read flags, seqs`)
  t.same(json(await store.history(bob, { limit: 100 })), expected.historyBob)
  t.same({ [alice]: await store.unreadCount(alice), [bob]: await store.unreadCount(bob) }, expected.unread, 'unread counts')
  t.same(json(await store.conversations()), expected.conversations)
  t.same(json(await store.search('text a')), expected.search, 'search results with their statuses')
  t.same(json({ a4: await store.getMessage('a4'), b2: await store.getMessage('b2') }), expected.get)
  t.same(json((await store.listOutbox()).map(e => ({ ...e, payload: [...e.payload] }))), expected.outbox, `the v${version} outbox entries, as they were`)
  t.same(json(await store.listContacts()), expected.contacts)
  t.same(json(await store.listBlocked()), expected.blocked)
  t.same({ [alice]: await store.lastSeq(alice), [bob]: await store.lastSeq(bob) }, expected.lastSeq)
  return { dir, key, store, alice, bob }
}

t.test('a v3 store made by the v3 code opens at v5 and reads the same; statuses and reads go on from there', async (t) => {
  const { dir, key, store, alice, bob } = await openFixture(t, 'v3-store', 3)

  // on from there: statuses move forward, marking read counts down, seqs continue
  t.equal(await store.setStatus('a4', 'delivered'), true)
  t.equal(await store.setStatus('a2', 'delivered'), false, 'a2 is read already: no step back')
  t.same(await store.markRead(alice, 5), ['a5'], 'the unread message at or below the mark')
  t.equal(await store.unreadCount(alice), 1)
  t.same(await store.markRead(bob), ['b1', 'b4', 'b5'], 'b2 was read when added')
  t.equal((await store.addMessage({ id: 'a9', peer: alice, direction: 'in', text: 'new', timestamp: 1, receivedAt: 2, status: 'received', read: false })).message.seq, 9)
  await store.close()
  const all = await readAll(dir)
  t.same(checkInvariants(all, key).problems, [], 'v5 indexes consistent')
  t.equal(sub(all, 'unread').size, 0, 'no v3 unread entry left')
  const again = await openStore(dir, key)
  t.same((await again.history(alice, { limit: 100 })).map(m => [m.id, m.status, m.read]), [
    ['a9', 'received', false], ['a8', 'sending', false], ['a7', 'received', false], ['a6', 'sending', false], ['a5', 'received', true],
    ['a4', 'delivered', false], ['a3', 'received', true], ['a2', 'read', false], ['a1', 'received', true]
  ], 'after a reopen')
  t.equal(await again.unreadCount(alice), 2)
  t.same((await again.conversations()).map(c => [c.peer, c.unread]), [[bob, 0], [alice, 2]], 'most recent first (a9 came with an old clock)')
  await again.close()
})

t.test('a v4 store made by the v4 code opens at v5 and reads the same; its outbox entries can be held by their messages from there', async (t) => {
  const { dir, key, store, alice } = await openFixture(t, 'v4-store', 4)

  // a6's entry is rewritten as one its message holds (a retry's rewrite, as the daemon's); a8's delivered
  await store.putOutbox({ id: 'a6', peer: alice, payload: new Uint8Array(0), attempts: 2, nextAttemptAt: 1_700_000_009_000, createdAt: 1_700_000_000_006, ofMessage: true })
  t.same(await store.setStatuses(['a8'], 'delivered'), [true])
  t.equal(await store.removeOutbox('a8'), true)
  await store.close()
  const all = await readAll(dir)
  t.same(checkInvariants(all, key).problems, [], 'v5 indexes consistent')
  t.equal(sub(all, 'outbox').size, 0, 'no outbox record left: a6 is held by its message, a8 is gone')
  const again = await openStore(dir, key)
  t.same((await again.listOutbox()).map(e => [e.id, e.attempts, e.ofMessage]), [['a6', 2, true]], 'after a reopen')
  t.same((await again.history(alice, { limit: 2 })).map(m => [m.id, m.status]), [['a8', 'delivered'], ['a7', 'received']])
  await again.close()
})
