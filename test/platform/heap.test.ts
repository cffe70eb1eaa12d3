// The heap figure tests read to find retention (src/platform/heap.ts), and the DHT memos it
// empties first (src/dht/ids.ts clearDhtMemos).
import t from 'tap'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { heapUsedAfterGc } from '../../src/platform/heap.js'
import { clearDhtMemos, nodeIdOf } from '../../src/dht/ids.js'
import { nodeIdAt } from '../../src/dht/ids.js'
import { decodeMessage, encodeMessage, type DhtMessage } from '../../src/dht/messages.js'
import { DhtType } from '../../src/dht/constants.js'
import { testRng } from '../helpers/seed.js'

const g = globalThis as { gc?: () => void }

t.test('without --expose-gc there is no figure, and nothing is collected or emptied', async t => {
  const saved = g.gc
  delete g.gc
  t.teardown(() => { if (saved !== undefined) g.gc = saved })
  let dropped = 0
  t.equal(heapUsedAfterGc(() => { dropped++ }), undefined)
  t.equal(dropped, 0, 'the caches are left alone')
})

t.test('with gc exposed: the caches are dropped, then a full collection, then the heap in use', async t => {
  const saved = g.gc
  // what `node --expose-gc` puts on the global object
  setFlagsFromString('--expose-gc')
  const realGc = runInNewContext('gc') as () => void
  const order: string[] = []
  g.gc = () => { order.push('gc'); realGc() }
  t.teardown(() => { if (saved === undefined) delete g.gc; else g.gc = saved })

  const used = heapUsedAfterGc(() => { order.push('drop') })
  t.same(order, ['drop', 'gc'])
  t.type(used, 'number')
  t.ok(used! > 1_000_000 && used! < 4 * 2 ** 30, `${used} bytes: a plausible heap`)

  // a 40 MiB array kept alive shows in the figure; dropped, it is gone after the next collection
  const holder = new Map<string, number[]>()
  const keep = (): void => { holder.set('kept', new Array(5 * 2 ** 20).fill(1.5)) }
  keep()
  const withArray = heapUsedAfterGc()!
  t.ok(withArray - used! > 30 * 2 ** 20, `retained 40 MiB: +${((withArray - used!) / 2 ** 20).toFixed(1)} MiB`)
  holder.clear()
  const after = heapUsedAfterGc()!
  t.ok(withArray - after > 30 * 2 ** 20, `released: −${((withArray - after) / 2 ** 20).toFixed(1)} MiB`)
})

t.test('clearDhtMemos empties the id, placement and contact memos; values are unchanged', async t => {
  const rng = testRng(t, 0x3e3, 'DHT keys')
  const key = rng.bytes(32)
  const a = nodeIdOf(key)
  t.equal(nodeIdOf(key), a, 'memoised: the same array')
  const placed = nodeIdAt(key, '198.51.100.7:4000')
  t.equal(nodeIdAt(key, '198.51.100.7:4000'), placed)
  const nodes = [{ id: rng.bytes(32), addr: '198.51.100.9:1234' }]
  const msg = (): DhtMessage & { type: typeof DhtType.NODES } => decodeMessage(encodeMessage({ txid: 1, readOnly: false, senderKey: key, type: DhtType.NODES, nodes })) as DhtMessage & { type: typeof DhtType.NODES }
  const c = msg().nodes[0]!
  t.equal(msg().nodes[0], c, 'an interned contact')

  clearDhtMemos()
  const b = nodeIdOf(key)
  t.not(b, a, 'the id memo was emptied: a fresh array')
  t.same(b, a, 'with the same id')
  const placed2 = nodeIdAt(key, '198.51.100.7:4000')
  t.not(placed2, placed, 'the placement memo too')
  t.same(placed2, placed)
  const c2 = msg().nodes[0]!
  t.not(c2, c, 'and the contact memo')
  t.same(c2, c)
})

t.test('clearDhtMemos empties the presence memos too: the keys derived and the records opened', async t => {
  const { generateIdentity } = await import('../../src/crypto/identity.js')
  const { presenceKey, derivedKeysHeld } = await import('../../src/dht/presence-keys.js')
  const { openedRecordsHeld } = await import('../../src/dht/presence-lookup.js')
  const key = presenceKey(generateIdentity().fingerprint, 20_000)
  t.ok(derivedKeysHeld() >= 1, 'a derived key is kept')
  clearDhtMemos()
  t.equal(derivedKeysHeld(), 0, 'the derived keys are forgotten')
  t.equal(openedRecordsHeld(), 0, 'and the opened records')
  t.same(presenceKey(generateIdentity().fingerprint, 20_000).length, key.length, 'derivation still works')
})
