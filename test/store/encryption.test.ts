// At-rest encryption: bodies, names, payloads and message ids never reach disk in plaintext; the
// wrong key is refused at open; a sealed record moved to another key does not open.
// (What a copy of the database shows of fingerprints, times and lengths: test/attacks/db-copy.test.ts.)
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openStore } from '../../src/store/index.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'
import { includesBytes, rawPut, RawStore, readAll, sub } from './fixtures/raw.js'

const BODY = 'the launch code is PLUGH-42'
const NAME = 'Zebulon Quatermass'
const PAYLOAD = utf8.encode('outbox payload XYZZY')

async function filesContain (dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for (const f of await readdir(dir)) {
    if (includesBytes(await readFile(join(dir, f)), needle)) hits.push(f)
  }
  return hits
}

t.test('plaintext bodies, names and payloads are not on disk', async (t) => {
  const dir = await tempStoreDir(t)
  const store = await openStore(dir, newKey())
  const a = await store.addMessage(msg('alice', { text: BODY }))
  const b = await store.addMessage(msg('alice', { text: BODY }))
  await store.putContact({ fingerprint: 'alice', name: NAME, verified: false, addedAt: 1 })
  await store.putOutbox({ id: 'outbox-entry-o1', peer: 'alice', payload: PAYLOAD, attempts: 0, nextAttemptAt: 1, createdAt: 1 })
  await store.close()

  const all = await readAll(dir)
  for (const [what, needle] of [['body', utf8.encode(BODY)], ['body fragment', utf8.encode('PLUGH')], ['name', utf8.encode(NAME)], ['payload', PAYLOAD]] as const) {
    t.notOk(all.some(([k, v]) => includesBytes(v, needle) || k.includes(utf8.decode(needle))), `no raw key or value holds the ${what}`)
    t.same(await filesContain(dir, needle), [], `no LevelDB file holds the ${what}`)
  }
  const messages = [...sub(all, 'messages').values()]
  t.equal(messages.length, 2)
  t.notSame(messages[0], messages[1], 'the same text seals differently (random nonce)')
  t.equal(messages[0]?.length, messages[1]?.length, 'and to the same length')
  t.not(a.message.id, b.message.id)
  for (const id of [a.message.id, b.message.id, 'outbox-entry-o1']) {
    t.notOk(all.some(([k, v]) => includesBytes(v, utf8.encode(id)) || k.includes(id)), `id ${id} is in no key or value (proto-spec/storage.md §Keys)`)
  }
})

t.test('the wrong store key is refused at open and changes nothing', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  await store.addMessage(msg('alice', { text: BODY }))
  await store.close()
  const before = await readAll(dir)
  await t.rejects(openStore(dir, newKey()), { code: 'STORE_KEY_MISMATCH' })
  t.same(await readAll(dir), before, 'store untouched')
  await t.rejects(openStore(dir, new Uint8Array(16)), { code: 'BAD_ARGUMENT' }, 'a key of the wrong size')
  const again = await openStore(dir, key)
  t.equal((await again.history('alice'))[0]?.text, BODY, 'the right key still reads it')
  await again.close()
})

t.test('a sealed record moved to another key does not open', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const store = await openStore(dir, key)
  const m1 = (await store.addMessage(msg('alice', { text: 'first' }))).message
  const m2 = (await store.addMessage(msg('alice', { text: 'second' }))).message
  const m3 = (await store.addMessage(msg('bob', { text: 'third' }))).message
  await store.putContact({ fingerprint: 'alice', name: 'Alice', verified: false, addedAt: 1 })
  await store.putContact({ fingerprint: 'bob', name: 'Bob', verified: false, addedAt: 1 })
  await store.close()

  const all = await readAll(dir)
  const raw = new RawStore(key)
  const msgs = sub(all, 'messages')
  const contacts = sub(all, 'contacts')
  const k1 = raw.messageKey('alice', 1)
  const k2 = raw.messageKey('alice', 2)
  const k3 = raw.messageKey('bob', 1)
  t.same(raw.open('messages', k1, msgs.get(k1) as Uint8Array).x, 'first', 'the spec opens the record')
  await rawPut(dir, [
    [`!messages!${k2}`, msgs.get(k1) as Uint8Array], // record of seq 1 into seq 2, same conversation
    [`!messages!${k3}`, msgs.get(k1) as Uint8Array], // into another conversation
    [`!contacts!${raw.tag('contact', 'bob')}`, contacts.get(raw.tag('contact', 'alice')) as Uint8Array]
  ])
  const again = await openStore(dir, key)
  t.teardown(async () => { await again.close() })
  t.equal((await again.getMessage(m1.id))?.text, 'first', 'the untouched record still opens')
  await t.rejects(again.getMessage(m2.id), { code: 'STORE_CORRUPT' }, 'swapped within a conversation')
  await t.rejects(again.history('bob'), { code: 'STORE_CORRUPT' }, 'moved to another conversation')
  await t.rejects(again.getContact('bob'), { code: 'STORE_CORRUPT' }, 'contact record moved to another contact')
  await t.rejects(again.search('first', { peer: 'alice' }), { code: 'STORE_CORRUPT' }, 'search authenticates what it returns')
  t.same((await again.search('second')).map((m) => m.id), [], 'the displaced body is gone, not silently shown')
  t.equal((await again.getContact('alice'))?.name, 'Alice')
  t.ok(m3.id)
})
