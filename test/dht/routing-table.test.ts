// Routing table: XOR ordering, bucket splitting on our side only, least-recently-seen order,
// replacement cache, subnet cap.
import t from 'tap'
import { RoutingTable } from '../../src/dht/routing-table.js'
import { compareDistance, commonPrefixLength, randomIdInBucket, xorDistance, nodeIdOf } from '../../src/dht/ids.js'
import { createRng } from '../../src/sim/rng.js'

const rng = createRng(7)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
let ipCounter = 0
const freshAddr = (): string => { ipCounter++; return `10.${(ipCounter >> 8) & 255}.${ipCounter & 255}.1:4000` }

/** An id sharing exactly `cpl` leading bits with `self`. */
const idAt = (self: Uint8Array, cpl: number): Uint8Array => randomIdInBucket(self, cpl, (n) => rng.bytes(n))

t.test('node ids hash the DHT public key; XOR distance orders ids', async t => {
  const pk = rng.bytes(32)
  t.equal(nodeIdOf(pk).length, 32)
  t.same(nodeIdOf(pk), nodeIdOf(pk.slice()), 'deterministic')
  t.not(hex(nodeIdOf(pk)), hex(pk), 'not the key itself')
  const target = rng.bytes(32)
  const ids = Array.from({ length: 200 }, () => rng.bytes(32))
  const sorted = [...ids].sort((a, b) => compareDistance(a, b, target))
  for (let i = 1; i < sorted.length; i++) {
    t.ok(Buffer.compare(xorDistance(sorted[i - 1]!, target), xorDistance(sorted[i]!, target)) < 0, 'ascending XOR distance')
  }
  t.equal(compareDistance(target, ids[0]!, target) < 0, true, 'the target itself is closest')
  for (let cpl = 0; cpl < 256; cpl += 17) t.equal(commonPrefixLength(target, idAt(target, cpl)), cpl, `randomIdInBucket(${cpl})`)
})

t.test('closest() returns exactly the n nearest contacts, nearest first', async t => {
  const self = rng.bytes(32)
  const table = new RoutingTable(self, { k: 20, maxPerSubnet: 1000 })
  for (let i = 0; i < 3000; i++) table.add(rng.bytes(32), freshAddr(), i)
  const all = table.all()
  t.ok(all.length > 100, `${all.length} contacts kept`)
  for (let trial = 0; trial < 50; trial++) {
    const target = trial % 2 ? rng.bytes(32) : idAt(self, trial)
    const want = [...all].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, 20).map(c => hex(c.id))
    t.same(table.closest(target, 20).map(c => hex(c.id)), want)
  }
})

t.test('only the bucket holding our own id splits; far buckets stay at k', async t => {
  const self = rng.bytes(32)
  const table = new RoutingTable(self, { k: 4, maxPerSubnet: 1000 })
  t.equal(table.bucketCount, 1)
  for (let i = 0; i < 4; i++) t.equal(table.add(idAt(self, 0), freshAddr(), 0).status, 'added')
  t.equal(table.bucketCount, 1, 'four far contacts fit the single bucket')
  t.equal(table.add(idAt(self, 3), freshAddr(), 0).status, 'added', 'a fifth, nearer contact splits it')
  t.ok(table.bucketCount >= 2)
  t.equal(table.bucket(0).length, 4, 'the far half keeps its four')
  const r = table.add(idAt(self, 0), freshAddr(), 0)
  t.equal(r.status, 'full', 'bucket 0 does not split again (it does not hold our id)')
  t.equal(table.replacements(0).length, 1, 'the newcomer waits in the replacement cache')
  for (let d = 1; d < 12; d++) for (let i = 0; i < 4; i++) table.add(idAt(self, d), freshAddr(), 0)
  t.equal(table.bucketCount, 12, 'splits follow our id down')
  for (let i = 0; i < table.bucketCount - 1; i++) {
    t.ok(table.bucket(i).every(c => commonPrefixLength(self, c.id) === i), `bucket ${i} holds only prefix length ${i}`)
  }
  t.equal(table.add(self, freshAddr(), 0).status, 'self')
})

t.test('least recently seen first; a failure evicts in favour of a waiting replacement', async t => {
  const self = rng.bytes(32)
  const table = new RoutingTable(self, { k: 3, maxPerSubnet: 1000, maxFailures: 2 })
  table.add(idAt(self, 5), freshAddr(), 0) // forces splits so bucket 0 is a far bucket
  const far = [idAt(self, 0), idAt(self, 0), idAt(self, 0)]
  far.forEach((id, i) => table.add(id, freshAddr(), 10 + i))
  t.same(table.bucket(0).map(c => hex(c.id)), far.map(hex))
  table.seen(far[0]!, 50)
  t.same(table.bucket(0).map(c => hex(c.id)), [far[1], far[2], far[0]].map(x => hex(x!)), 'seen moves to the tail')
  const r = table.add(idAt(self, 0), freshAddr(), 60)
  t.equal(r.status, 'full')
  t.equal(r.status === 'full' && hex(r.oldest.id), hex(far[1]!), 'oldest is offered for a ping')
  t.ok(table.fail(far[1]!), 'one failure evicts when a replacement waits')
  t.equal(table.bucket(0).length, 3, 'replacement promoted')
  t.notOk(table.get(far[1]!))
  t.notOk(table.fail(far[2]!), 'no replacement left: first failure is tolerated')
  t.ok(table.fail(far[2]!), 'second consecutive failure evicts')
})

t.test('a known id at a new address is not taken while the old one answers', async t => {
  const self = rng.bytes(32)
  const table = new RoutingTable(self)
  const id = rng.bytes(32)
  // private addresses: exempt from id placement (dht.md §1.1), so one id may move between them
  table.add(id, '10.0.2.1:1000', 0)
  t.equal(table.add(id, '10.0.2.99:1000', 1).status, 'conflict')
  t.equal(table.get(id)?.addr, '10.0.2.1:1000')
  table.fail(id)
  t.equal(table.add(id, '10.0.2.99:1000', 2).status, 'updated', 'after a failure the new address wins')
})

t.test('stale buckets are reported for refresh until a lookup touches them', async t => {
  const self = rng.bytes(32)
  const table = new RoutingTable(self, {}, 0)
  t.same(table.staleBuckets(3_600_000, 3_600_000), [0])
  table.markLookup(rng.bytes(32), 3_000_000)
  t.same(table.staleBuckets(3_600_000, 3_600_000), [])
})
