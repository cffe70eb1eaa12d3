// Writes test/store/fixtures/v3-store/: a schema-v3 store made by the v3 code (commit 5b3b084),
// and test/store/fixtures/v4-store/ the same from the v4 code (commit 78c25f3),
// and what that code read from it (expected.json), for test/store/migration.test.ts to open with
// the current code. Run once, from a checkout of that code:
//   npx tsx scripts/make-v3-store-fixture.ts <out dir>
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '../src/store/index.js'
import type { NewMessage } from '../src/store/index.js'

const out = process.argv[2] ?? 'test/store/fixtures/v3-store'
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 3)
const T0 = 1_700_000_000_000
const alice = 'a1ice'
const bob = 'b0b'

const m = (id: string, peer: string, i: number, over: Partial<NewMessage> = {}): NewMessage =>
  ({ id, peer, direction: 'in', text: `text ${id} ${'é'.repeat(i % 3)}`, timestamp: T0 + i, receivedAt: T0 + 100 + i, status: 'received', read: false, ...over })

mkdirSync(join(out, 'db'), { recursive: true })
const store = await openStore(join(out, 'db'), KEY)
await store.putContact({ fingerprint: alice, name: 'Alice', verified: true, addedAt: T0 })
await store.putContact({ fingerprint: bob, verified: false, addedAt: T0 + 1 })
const out1 = (id: string, peer: string, i: number): NewMessage => m(id, peer, i, { direction: 'out', status: 'sending', read: false })
await store.addMessages([m('a1', alice, 1), out1('a2', alice, 2), m('a3', alice, 3), out1('a4', alice, 4), m('a5', alice, 5), out1('a6', alice, 6), m('a7', alice, 7), out1('a8', alice, 8)])
await store.addMessages([m('b1', bob, 9), m('b2', bob, 10, { read: true }), out1('b3', bob, 11), m('b4', bob, 12), m('b5', bob, 13)])
await store.setStatuses(['a2', 'a4', 'b3'], 'sent')
await store.setStatuses(['a2', 'b3'], 'delivered')
await store.setStatus('a2', 'read')
await store.markRead(alice, 3) // a1, a3 read; a5, a7 unread
await store.putOutbox({ id: 'a6', peer: alice, payload: new Uint8Array([1, 2, 3]), attempts: 1, nextAttemptAt: T0 + 5000, createdAt: T0 + 6 })
await store.putOutbox({ id: 'a8', peer: alice, payload: new Uint8Array([4, 5]), attempts: 0, nextAttemptAt: T0 + 4000, createdAt: T0 + 8 })
await store.block('ma11ory', T0 + 9)

const expected = {
  historyAlice: await store.history(alice, { limit: 100 }),
  historyBob: await store.history(bob, { limit: 100 }),
  unread: { [alice]: await store.unreadCount(alice), [bob]: await store.unreadCount(bob) },
  conversations: await store.conversations(),
  search: await store.search('text a'),
  get: { a4: await store.getMessage('a4'), b2: await store.getMessage('b2') },
  outbox: (await store.listOutbox()).map(e => ({ ...e, payload: [...e.payload] })),
  contacts: await store.listContacts(),
  blocked: await store.listBlocked(),
  lastSeq: { [alice]: await store.lastSeq(alice), [bob]: await store.lastSeq(bob) }
}
await store.close()
writeFileSync(join(out, 'expected.json'), JSON.stringify(expected, null, 1) + '\n')
console.log(`wrote ${out}`)
