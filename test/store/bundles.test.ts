// The `bundles` sublevel (proto-spec/storage.md §Bundles, pqxdh.md §8): a contact's last prekey
// bundle is kept across a reopen, one record per peer (a newer one replaces it), sealed like
// every record (neither the bundle nor the fingerprint is readable in the database files), and
// removable; a store from before the sublevel opens with none.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openStore } from '../../src/store/index.js'
import { newKey, tempStoreDir } from './fixtures/helpers.js'

const PEER = 'p'.repeat(47)
const OTHER = 'q'.repeat(47)
/** a recognisable 1483-byte stand-in (the store does not parse bundles) */
const bundle = (n: number): Uint8Array => new Uint8Array(1483).fill(n).map((b, i) => i % 7 === 0 ? 0x42 : b)

t.test('bundles are kept per peer across a reopen, replaced by a newer one, and removed', async t => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const s = await openStore(dir, key.slice())
  t.same(await s.listBundles(), [], 'none at first')
  await s.putBundle({ peer: PEER, bundle: bundle(1), receivedAt: 1_000 })
  await s.putBundle({ peer: OTHER, bundle: bundle(2), receivedAt: 2_000 })
  await s.putBundle({ peer: PEER, bundle: bundle(3), receivedAt: 3_000 })
  await s.close()
  const again = await openStore(dir, key.slice())
  t.teardown(async () => { await again.close() })
  const list = (await again.listBundles()).sort((a, b) => a.receivedAt - b.receivedAt)
  t.same(list.map(x => [x.peer, x.receivedAt, Buffer.from(x.bundle).equals(Buffer.from(bundle(x.peer === PEER ? 3 : 2)))]),
    [[OTHER, 2_000, true], [PEER, 3_000, true]], 'one record per peer, the newest, after a reopen')
  await again.removeBundle(PEER)
  t.same((await again.listBundles()).map(x => x.peer), [OTHER], 'removed')
})

t.test('a bundle record is sealed at rest', async t => {
  const dir = await tempStoreDir(t)
  const s = await openStore(dir, newKey())
  await s.putBundle({ peer: PEER, bundle: bundle(9), receivedAt: 5_000 })
  await s.close()
  const needle = Buffer.from(bundle(9).subarray(0, 64))
  for (const f of await readdir(dir)) {
    const raw = await readFile(join(dir, f))
    t.notOk(raw.includes(needle), `${f} holds no bundle bytes`)
    t.notOk(raw.includes(Buffer.from(PEER)), `${f} holds no fingerprint`)
  }
})

t.test('bad input is refused with a clear error', async t => {
  const dir = await tempStoreDir(t)
  const s = await openStore(dir, newKey())
  t.teardown(async () => { await s.close() })
  await t.rejects(s.putBundle({ peer: 'Not A Fingerprint', bundle: bundle(1), receivedAt: 1 }), { code: 'BAD_FINGERPRINT' })
  await t.rejects(s.putBundle({ peer: PEER, bundle: bundle(1), receivedAt: -1 }), { code: 'BAD_ARGUMENT' })
})
