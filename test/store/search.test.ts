// Search over sealed bodies: one conversation or all, case-insensitive, Unicode-aware, newest first.
import t from 'tap'
import { openStore } from '../../src/store/index.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'

const ALICE = 'alice'
const BOB = 'bob'

t.test('search finds substrings case-insensitively, in one conversation or all', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  const texts: Array<[string, string]> = [
    [ALICE, 'Meet me at the Station at noon'],
    [BOB, 'the station is closed today'],
    [ALICE, 'STATIONARY bike for sale'],
    [BOB, 'nothing to see here'],
    [ALICE, 'Grüße aus der Straße'],
    [BOB, 'GRÜSSE AUS DER STRASSE'],
    [ALICE, 'ΟΔΥΣΣΕΥΣ came home'],
    [BOB, '東京で会いましょう 🎉 party'],
    [ALICE, 'cafe\u0301 au lait'] // é as e + combining accent
  ]
  const ids: string[] = []
  for (const [peer, text] of texts) ids.push((await store.addMessage(msg(peer, { text }))).message.id)

  const all = await store.search('station')
  t.same(all.map((m) => m.text), ['STATIONARY bike for sale', 'the station is closed today', 'Meet me at the Station at noon'], 'all conversations, newest first')
  const alice = await store.search('StAtIoN', { peer: ALICE })
  t.same(alice.map((m) => m.id), [ids[2], ids[0]], 'one conversation, newest first')
  t.ok(alice.every((m) => m.peer === ALICE))
  t.same((await store.search('station', { limit: 1 })).map((m) => m.id), [ids[2]], 'limit keeps the newest')

  t.same((await store.search('grüße')).map((m) => m.id).sort(), [ids[4], ids[5]].sort(), 'ß matches SS, ü matches Ü')
  t.same((await store.search('straße')).length, 2)
  t.same((await store.search('οδυσσευς')).map((m) => m.id), [ids[6]], 'Greek, final sigma folds with capital sigma')
  t.same((await store.search('東京')).map((m) => m.id), [ids[7]], 'CJK')
  t.same((await store.search('🎉 PARTY')).map((m) => m.id), [ids[7]], 'emoji')
  t.same((await store.search('café')).map((m) => m.id), [ids[8]], 'composed query matches decomposed text')
  t.same(await store.search('no such words'), [])
  t.same(await store.search('station', { peer: 'carol' }), [], 'unknown conversation')
  await t.rejects(store.search(''), { code: 'BAD_ARGUMENT' })
  await t.rejects(store.search('x', { peer: 'BAD PEER' }), { code: 'BAD_FINGERPRINT' })
})

t.test('search over many messages returns exactly the matches, newest first', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  t.teardown(async () => { await store.close() })
  const batch = []
  for (let i = 0; i < 5000; i++) batch.push(msg(i % 2 ? ALICE : BOB, { text: i % 7 === 0 ? `needle #${i}` : `hay ${i}`, receivedAt: 1000 + i }))
  await store.addMessages(batch)
  const expected = batch.filter((m) => m.text.startsWith('needle')).map((m) => m.id).reverse()
  const found = await store.search('NEEDLE', { limit: 10_000 })
  t.same(found.map((m) => m.id), expected, `${expected.length} matches across conversations, newest first`)
  const top = await store.search('needle', { limit: 20 })
  t.same(top.map((m) => m.id), expected.slice(0, 20), 'a small limit still returns the newest matches')
  const aliceOnly = await store.search('needle', { peer: ALICE, limit: 10_000 })
  t.same(aliceOnly.map((m) => m.id), batch.filter((m) => m.peer === ALICE && m.text.startsWith('needle')).map((m) => m.id).reverse())
})
