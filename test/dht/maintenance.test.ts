// Upkeep over time: the publisher re-announces (reaching nodes that joined since), stops when
// unpublished or when the record would be expired; storers drop expired records; quiet buckets
// are refreshed; PONGs tell a node its address.
import t from 'tap'
import { SimDht } from '../../src/dht/sim/index.js'
import { createRng } from '../../src/sim/rng.js'
import { makeNet, makeRecord, seededIdentity } from './helpers.js'

t.test('republish, unpublish, expiry, refresh, observed address', async t => {
  const net = makeNet(9)
  const settings = { republishMs: 60_000, maintenanceMs: 10_000, refreshMs: 120_000 }
  const dht = new SimDht({ net, seed: 9, node: settings })
  dht.grow(40, { intervalMs: 20 })
  const nodes = dht.nodes.map(s => s.node)
  const alice = seededIdentity(createRng(90))
  const rec = makeRecord(alice, { expiresAt: Math.floor(net.now) + 10 * 60_000 })
  const publisher = nodes[0]!
  const first = publisher.publish(rec.bytes, rec.key)
  net.run({ until: net.now + 5000 })
  const r = await first
  t.equal(r.stored + r.alreadyHeld, 20, 'stored at the 20 closest')
  const holders = (): number => dht.nodes.filter(s => s.alive && s.node.internals.store.get(rec.key, net.now)).length
  t.equal(holders(), 20)

  // 30 newcomers join; a republish reaches any that became one of the 20 closest.
  for (let i = 0; i < 30; i++) dht.add()
  for (const s of dht.nodes.slice(40)) { s.node.start(); s.node.join([dht.nodes[0]!.addr], () => {}) }
  net.run({ until: net.now + 5000 })
  t.equal(holders(), 20, 'nobody new holds it before the republish')
  net.run({ until: net.now + 61_000 })
  t.ok(holders() > 20, `after a republish ${holders()} nodes hold it (new closest ones included)`)
  t.same(publisher.stats().records, publisher.internals.store.size)

  t.ok(publisher.unpublish(rec.key))
  t.notOk(publisher.unpublish(rec.key), 'already gone')
  net.run({ until: net.now + 20 * 60_000 }) // its expiry is rounded up to 10 minutes (dht.md §5.2)
  t.equal(holders(), 0, 'expired everywhere; nothing re-announced it')

  const lastLookup = publisher.table.staleBuckets(net.now, 120_000)
  t.same(lastLookup, [], 'maintenance refreshed every quiet bucket')
  t.match(nodes[5]!.observedAddress(), /^\d+\.\d+\.\d+\.\d+:\d+$/, 'PONGs reported our address')
  t.equal(nodes[5]!.observedAddress(), dht.nodes[5]!.addr)
  nodes[5]!.stop()
  t.notOk(nodes[5]!.running)
  t.equal(nodes[5]!.stats().pendingRpcs, 0)
})
