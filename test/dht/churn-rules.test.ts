// The churn rules of dht.md §7.3, one at a time on the pure parts: one node per address in the
// routing table, failing contacts not handed out, the RTT-based stall time, and a lookup that
// passes over stalled candidates — unless most of them stall — and widens to k at the end; a
// join that does not wait for every bootstrap address to answer.
import t from 'tap'
import { RoutingTable } from '../../src/dht/routing-table.js'
import { Lookup } from '../../src/dht/lookup.js'
import { RttEstimator, MIN_STALL_MS } from '../../src/dht/rtt.js'
import { compareDistance } from '../../src/dht/ids.js'
import { createRng } from '../../src/sim/rng.js'
import type { JoinResult } from '../../src/dht/join.js'
import { makeNet, makeNode } from './helpers.js'

const rng = createRng(0x7c3)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const node = (i: number): { id: Uint8Array, addr: string } => ({ id: rng.bytes(32), addr: `10.${i >> 8}.${i & 255}.1:4000` })

t.test('a new id answering from a contact\'s address takes its place', async t => {
  const table = new RoutingTable(rng.bytes(32))
  const old = node(1)
  t.equal(table.add(old.id, old.addr, 10).status, 'added')
  const restarted = rng.bytes(32)
  t.ok(table.canAdd(restarted, old.addr), 'the address is taken by a node that may be gone: the newcomer may enter')
  t.equal(table.add(restarted, old.addr, 20).status, 'added')
  t.equal(table.get(old.id), undefined, 'the old id is gone at once')
  t.equal(hex(table.at(old.addr)!.id), hex(restarted))
  t.equal(table.size, 1)
})

t.test('a contact whose last request failed is not handed out until it answers again', async t => {
  const table = new RoutingTable(rng.bytes(32))
  const a = node(2)
  const b = node(3)
  table.add(a.id, a.addr, 1)
  table.add(b.id, b.addr, 1)
  t.notOk(table.fail(a.id), 'one failure, no replacement waiting: kept')
  const target = rng.bytes(32)
  t.same(table.closest(target).map(c => c.addr), [b.addr], 'left out of answers')
  t.equal(table.closest(target, 20, true).length, 2, 'still in the table')
  table.seen(a.id, 2)
  t.equal(table.closest(target).length, 2, 'an answer restores it')
  table.fail(a.id)
  t.ok(table.fail(a.id), 'the second failure in a row evicts it')
})

t.test('the stall time follows measured round trips, within bounds', async t => {
  const e = new RttEstimator()
  t.equal(e.stallMs(400), 400, 'no samples: the configured stall')
  e.add(2)
  t.equal(e.stallMs(400), MIN_STALL_MS, 'loopback: the floor')
  e.add(50)
  t.equal(e.stallMs(400), 300, 'few samples: 3 × twice the slowest')
  for (let i = 0; i < 64; i++) e.add(40 + (i % 10))
  t.equal(e.stallMs(400), 3 * 48, '3 × the 90th percentile')
  for (let i = 0; i < 64; i++) e.add(300)
  t.equal(e.stallMs(400), 400, 'never more than the configured stall')
  e.add(Number.NaN)
  e.add(-1)
  t.equal(e.samples, 64, 'nonsense is not a sample')
})

t.test('a lookup passes over a stalled node when the others answered, and waits when fewer than α did', async t => {
  const self = rng.bytes(32)
  const target = rng.bytes(32)
  const peers = Array.from({ length: 6 }, (_, i) => node(10 + i)).sort((x, y) => compareDistance(x.id, y.id, target))
  const l = new Lookup({ target, selfId: self, k: 4, alpha: 2 })
  l.add(peers, 1)
  const first = l.next()
  t.equal(first.length, 2, 'α at first')
  l.responded(first[0]!, [])
  const widened = l.next()
  t.equal(widened.length, 2, 'the closest answered: all of the k closest are asked at once (Kademlia §2.3), 3 in flight > α')
  t.equal(l.inflight, 3)
  l.stalled(first[1]!) // a dead node
  const more = l.next()
  t.equal(more.length, 1, 'the next one out takes the stalled one\'s place')
  for (const c of [...widened, ...more]) l.responded(c, [])
  t.ok(l.finished, 'finished without waiting for the dead node\'s timeout')
  t.equal(l.closest().length, 4)

  const slow = new Lookup({ target, selfId: self, k: 4, alpha: 3 })
  slow.add(peers.slice(0, 4), 1)
  const asked = slow.next()
  slow.responded(asked[0]!, [])
  for (const c of [...asked.slice(1), ...slow.next()]) slow.stalled(c)
  t.notOk(slow.finished, 'one answer, three stalled: a slow host, not dead nodes — it waits')
  slow.responded(asked[1]!, [])
  t.notOk(slow.finished, 'two answers: still fewer than α')
  slow.responded(asked[2]!, [])
  t.ok(slow.finished, 'late answers count; α answered: the last stalled one is passed over')
  t.equal(slow.closest().length, 3)
})

t.test('a join through a list that is mostly dead does not wait for the dead ones', async t => {
  const net = makeNet(5)
  const live = makeNode(net, '203.0.113.1:4000', createRng(1))
  const other = makeNode(net, '203.0.113.2:4000', createRng(2))
  other.join(['203.0.113.1:4000'], () => {})
  net.clock.run({ done: () => live.table.size > 0 && other.table.size > 0 })
  const joiner = makeNode(net, '198.51.100.9:4000', createRng(3))
  const t0 = net.clock.now
  let result: JoinResult | null = null
  joiner.join(['192.0.2.1:4000', '203.0.113.1:4000', '192.0.2.2:4000', '192.0.2.3:4000'], r => { result = r })
  net.clock.run({ done: () => result !== null })
  const ms = net.clock.now - t0
  t.equal(result!.reached, 1, 'the one live node answered')
  t.ok(result!.contacts >= 2, 'and the join went on through it')
  t.ok(ms < 500, `joined in ${ms.toFixed(0)} simulated ms (waiting on the dead pings took 2,000 before)`)
  for (const n of [live, other, joiner]) n.stop()
})

t.test('a node checks a quiet contact before handing it out, and stops handing out a dead one', async t => {
  const net = makeNet(6)
  const hub = makeNode(net, '203.0.113.10:4000', createRng(10)) // asks nobody anything, as a bootstrap node
  const gone = makeNode(net, '203.0.113.11:4000', createRng(11))
  const stays = makeNode(net, '203.0.113.12:4000', createRng(12))
  let joined = 0
  for (const n of [gone, stays]) n.join(['203.0.113.10:4000'], () => { joined++ })
  net.clock.run({ done: () => joined === 2 })
  t.ok(hub.table.get(gone.id) !== undefined, 'the hub knows the node that will go')
  gone.stop() // silently: no goodbye
  net.clock.advance(31_000)
  t.ok(hub.table.closest(gone.id).some(c => hex(c.id) === hex(gone.id)), 'quiet, not yet known dead: still handed out')
  const asker = makeNode(net, '198.51.100.20:4000', createRng(20))
  let done = false
  asker.join(['203.0.113.10:4000'], () => { done = true })
  net.clock.run({ done: () => done })
  net.clock.advance(3_000)
  t.notOk(hub.table.closest(gone.id).some(c => hex(c.id) === hex(gone.id)), 'checked when handed out: no longer handed out')
  t.ok(hub.table.closest(stays.id).some(c => hex(c.id) === hex(stays.id)), 'the live one answered its check and stays')
  for (const n of [hub, stays, asker]) n.stop()
})
