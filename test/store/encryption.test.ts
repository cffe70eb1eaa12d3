// At-rest encryption: bodies, names and outbox payloads never reach disk in plaintext; the wrong
// key is refused at open; a sealed field moved to another record does not open.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pack, unpack } from 'msgpackr'
import { openStore } from '../../src/store/index.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { msg, newKey, tempStoreDir } from './fixtures/helpers.js'
import { includesBytes, rawPut, readAll, sub } from './fixtures/raw.js'

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
  await store.putOutbox({ id: 'o1', peer: 'alice', payload: PAYLOAD, attempts: 0, nextAttemptAt: 1, createdAt: 1 })
  await store.close()

  const all = await readAll(dir)
  for (const [what, needle] of [['body', utf8.encode(BODY)], ['body fragment', utf8.encode('PLUGH')], ['name', utf8.encode(NAME)], ['payload', PAYLOAD]] as const) {
    t.notOk(all.some(([k, v]) => includesBytes(v, needle) || k.includes(utf8.decode(needle))), `no raw key or value holds the ${what}`)
    t.same(await filesContain(dir, needle), [], `no LevelDB file holds the ${what}`)
  }
  const messages = [...sub(all, 'messages').values()].map((v) => unpack(v) as { b: Uint8Array })
  t.equal(messages.length, 2)
  t.notSame(messages[0]?.b, messages[1]?.b, 'the same text seals differently (random nonce)')
  t.not(a.message.id, b.message.id)
  // what is plaintext on purpose (proto-spec/storage.md §Encryption): ids, times, status
  t.ok(all.some(([, v]) => includesBytes(v, utf8.encode(a.message.id))), 'message ids are plaintext (documented)')
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

t.test('a sealed field moved to another record does not open', async (t) => {
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
  const msgs = sub(all, 'messages')
  const contacts = sub(all, 'contacts')
  const k1 = 'alice!0000000000000001'
  const k2 = 'alice!0000000000000002'
  const k3 = 'bob!0000000000000001'
  const v1 = unpack(msgs.get(k1) as Uint8Array) as Record<string, unknown>
  const v2 = unpack(msgs.get(k2) as Uint8Array) as Record<string, unknown>
  const v3 = unpack(msgs.get(k3) as Uint8Array) as Record<string, unknown>
  const ca = unpack(contacts.get('alice') as Uint8Array) as Record<string, unknown>
  const cb = unpack(contacts.get('bob') as Uint8Array) as Record<string, unknown>
  await rawPut(dir, [
    [`!messages!${k2}`, pack({ ...v2, b: v1.b })], // body of seq 1 into seq 2, same conversation
    [`!messages!${k3}`, pack({ ...v3, b: v1.b, i: v1.i })], // into another conversation, id and all
    [`!contacts!bob`, pack({ ...cb, n: ca.n })]
  ])
  const again = await openStore(dir, key)
  t.teardown(async () => { await again.close() })
  t.equal((await again.getMessage(m1.id))?.text, 'first', 'the untouched record still opens')
  await t.rejects(again.getMessage(m2.id), { code: 'STORE_CORRUPT' }, 'swapped within a conversation')
  await t.rejects(again.history('bob'), { code: 'STORE_CORRUPT' }, 'moved to another conversation')
  await t.rejects(again.getContact('bob'), { code: 'STORE_CORRUPT' }, 'contact name moved to another contact')
  await t.rejects(again.search('first', { peer: 'alice' }), { code: 'STORE_CORRUPT' }, 'search authenticates what it returns')
  t.same((await again.search('second')).map((m) => m.id), [], 'the displaced body is gone, not silently shown')
  t.equal((await again.getContact('alice'))?.name, 'Alice')
  t.ok(m3.id)
})
