// Inbound admission (proto-spec/messaging.md §6): the fair queue and the gate, as pure cores.
import t from 'tap'
import { FairQueue } from '../../src/messaging/fair-queue.js'
import { InboundGate } from '../../src/messaging/inbound-gate.js'

t.test('round robin: a peer with 1,000 queued items delays another peer by one item', async t => {
  const q = new FairQueue<string>({ perKey: 2000, total: 5000 })
  for (let i = 0; i < 1000; i++) q.push('flood', `f${i}`)
  q.push('friend', 'hello')
  q.push('friend', 'again')
  const order = [q.shift(), q.shift(), q.shift(), q.shift()].map(x => x?.item)
  t.same(order, ['f0', 'hello', 'f1', 'again'])
  t.equal(q.size, 998)
  let n = 0
  while (q.shift() !== undefined) n++
  t.equal(n, 998)
  t.equal(q.shift(), undefined)
})

t.test('items of one key stay in order; keys that come and go keep their turns', async t => {
  const q = new FairQueue<number>({ perKey: 10, total: 100 })
  q.push('a', 1); q.push('b', 10); q.push('a', 2)
  t.same(q.shift(), { key: 'a', item: 1 })
  q.push('c', 100)
  t.same([q.shift(), q.shift(), q.shift()].map(x => x?.item), [10, 100, 2], 'a joins the end of the round')
  t.equal(q.size, 0)
})

t.test('bounds: per key and in total; clear() forgets a key', async t => {
  const q = new FairQueue<number>({ perKey: 3, total: 5 })
  t.same([1, 2, 3, 4].map(i => q.push('a', i)), [true, true, true, false], 'per-key bound')
  t.same([1, 2, 3].map(i => q.push('b', i)), [true, true, false], 'total bound')
  t.equal(q.clear('a'), 3)
  t.equal(q.size, 2)
  t.ok(q.push('a', 9), 'room again')
  t.same([q.shift(), q.shift(), q.shift(), q.shift()].map(x => x?.item), [1, 9, 2, undefined], 'a cleared key re-added gets one turn per round')
})

t.test('the gate: blocked first, then per-peer buckets (contacts generous, strangers a trickle)', async t => {
  const g = new InboundGate({ contact: { ratePerS: 100, burst: 10 }, stranger: { ratePerS: 1, burst: 2 } })
  g.setBlocked(['evil'])
  t.equal(g.admit('evil', true, 0), 'blocked', 'blocked even as a contact')
  t.same([0, 0, 0].map(() => g.admit('stranger', false, 0)), ['ok', 'ok', 'rate-limited'])
  t.equal(g.admit('stranger', false, 1000), 'ok', 'one token per second refills')
  let ok = 0
  for (let i = 0; i < 20; i++) if (g.admit('friend', true, 0) === 'ok') ok++
  t.equal(ok, 10, 'a contact gets its burst')
  t.equal(g.admit('other', false, 0), 'ok', 'one stranger\'s flood does not use up another\'s bucket')
  t.same(g.counts('stranger'), { admitted: 3, blocked: 0, rateLimited: 1 })
  t.same(g.totals, { admitted: 14, blocked: 1, rateLimited: 11 })
  g.unblock('evil')
  t.equal(g.admit('evil', true, 0), 'ok')
  g.block('x')
  t.ok(g.isBlocked('x'))
  g.prune(10_000)
})

t.test('10,000 requests a second from one stranger: almost all refused, at a constant cost', async t => {
  const g = new InboundGate()
  let ok = 0
  for (let i = 0; i < 30_000; i++) if (g.admit('flood', false, i / 10) === 'ok') ok++ // 3 s at 10,000/s
  t.ok(ok <= 10 + 3 * 2 + 1, `admitted ${ok}: the burst plus 2 per second`)
  t.equal(g.admit('friend', true, 3000), 'ok', 'a contact is not affected')
})
