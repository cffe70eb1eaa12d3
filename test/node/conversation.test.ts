// Two contacts talking on the simulated testnet (proto-spec/messaging.md §4, §7, §9): 100
// messages each way at once all reach `delivered`, then `read` after the other side reads; both
// histories hold the same messages, mirrored, each direction in the order it was sent; search
// finds a received message; the peer list shows the link with an RTT. Clocks minutes apart do
// not reorder a conversation. Moved from two daemon processes driven through 200+ CLI calls
// (test/e2e/two-daemons.test.ts) and in-process daemons (test/messaging/service.test.ts).
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import type { StoredMessage } from '../../src/store/index.js'
import { conversation, receipted, received, stats, testnet } from './helpers.js'

const N = 100

t.test('100 messages each way at once: delivered, read, identical histories in send order', async t => {
  const net = await testnet(t, 3, 21)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)

  const text = (from: string, i: number): string => `${from} #${i} ${'·'.repeat(i % 7)}`
  const sendAll = async (from: TestNode, to: TestNode, name: string): Promise<string[]> => {
    const ids: string[] = []
    for (let i = 0; i < N; i++) ids.push((await from.actions.send(to.fingerprint, text(name, i))).id)
    return ids
  }
  // both directions at once: the sends interleave with the traffic they start
  const [aIds, bIds] = await net.drive(Promise.all([sendAll(alice, bob, 'alice'), sendAll(bob, alice, 'bob')]))
  t.equal(new Set([...aIds, ...bIds]).size, 2 * N, 'every send got its own id')
  await net.until(() => aIds.every(id => receipted(alice, id)) && bIds.every(id => receipted(bob, id)), 300_000, 'all delivered')
  const statuses = async (n: TestNode, ids: string[]): Promise<string[]> => await Promise.all(ids.map(async id => (await n.store.getMessage(id))?.status ?? 'missing'))
  t.ok((await statuses(alice, aIds)).every(s => s === 'delivered'), `all ${N} of Alice's reached delivered`)
  t.ok((await statuses(bob, bIds)).every(s => s === 'delivered'), `and all ${N} of Bob's`)

  t.equal((await net.drive(bob.actions.markRead(alice.fingerprint))).marked, N)
  t.equal((await net.drive(alice.actions.markRead(bob.fingerprint))).marked, N)
  await net.until(() => aIds.every(id => receipted(alice, id, 'read')) && bIds.every(id => receipted(bob, id, 'read')), 120_000, 'all read')

  const ha = await conversation(alice, bob)
  const hb = await conversation(bob, alice)
  t.equal(ha.length, 2 * N)
  t.equal(hb.length, 2 * N)
  const mirror = (m: StoredMessage): string => `${m.id}|${m.direction === 'in' ? 'out' : 'in'}|${m.text}|${m.timestamp}`
  t.same(new Set(hb.map(m => `${m.id}|${m.direction}|${m.text}|${m.timestamp}`)), new Set(ha.map(mirror)), 'same ids, texts and timestamps; directions mirrored')
  const order = (h: StoredMessage[], dir: 'in' | 'out'): string[] => h.filter(m => m.direction === dir).map(m => m.id)
  t.same(order(hb, 'in'), aIds, 'Bob has Alice\'s messages in the order she sent them')
  t.same(order(ha, 'in'), bIds, 'and Alice has Bob\'s in his order')
  t.ok(ha.filter(m => m.direction === 'out').every(m => m.status === 'read'), 'every message shows as read on Alice\'s side')
  t.ok(hb.filter(m => m.direction === 'out').every(m => m.status === 'read'), 'and on Bob\'s')

  const found = await alice.store.search('bob #42')
  t.same(found.map(f => [f.peer, f.text]), [[bob.fingerprint, 'bob #42 ']], 'search finds a received message')
  const peers = alice.actions.peers()
  t.match(peers, [{ fingerprint: bob.fingerprint, address: `${bob.address.host}:${bob.address.port}`, source: /dht|inbound/, state: 'online' }])
  t.type(peers[0]?.rtt, 'number', 'a link that carried messages has an RTT')
})

t.test('a burst sent in one call: delivered in order, acknowledged by a few receipt envelopes', async t => {
  const net = await testnet(t, 3, 23)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const M = 600
  const texts = Array.from({ length: M }, (_, i) => `burst #${i}`)
  await t.rejects(net.drive(alice.actions.sendMany(bob.fingerprint, ['fine', ''])), { code: 'BAD_ARGUMENT' }, 'one empty text refuses the whole call')
  t.equal((await conversation(alice, bob)).length, 0, 'and nothing of it was stored')

  const receiptsBefore = stats(alice).receiptsIn
  const sent = await net.drive(alice.actions.sendMany(bob.fingerprint, texts))
  t.same(sent.map(r => r.status), texts.map(() => 'sending'))
  const ids = sent.map(r => r.id)
  await net.until(() => ids.every(id => receipted(alice, id)), 300_000, 'the burst delivered')
  t.same((await conversation(bob, alice)).map(m => m.id), ids, 'Bob has them once each, in the order sent')
  const receipts = stats(alice).receiptsIn - receiptsBefore
  t.comment(JSON.stringify({ metric: 'burst_receipt_envelopes', value: receipts, params: { messages: M } }))
  // one envelope carries at most 256 ids (envelope.md): the fewest possible is ⌈M / 256⌉ = 3
  t.ok(receipts <= M / 20, `${M} messages acknowledged by ${receipts} receipt envelopes (not one per message)`)
})

// (envelope.md §6 rejects envelopes dated more than 5 min in the receiver's future, so clocks
// further apart than that do not get messages through at all: messaging.md §4.3)
t.test('clocks that disagree by minutes do not reorder a conversation: order is arrival, timestamps are shown', async t => {
  const skewMs = 4 * 60_000 // Alice's clock is four minutes behind
  const net = await testnet(t, 3, 22, { wallSkewMs: i => i === 1 ? -skewMs : 0 })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const ids: string[] = []
  for (const [from, to, text] of [[alice, bob, 'one (Alice, behind)'], [bob, alice, 'two (Bob)'], [alice, bob, 'three (Alice, behind)']] as const) {
    const r = await net.drive(from.actions.send(to.fingerprint, text))
    await net.until(() => receipted(from, r.id) && received(to, text), 60_000, `"${text}" delivered`)
    ids.push(r.id)
  }
  for (const [n, peer] of [[alice, bob], [bob, alice]] as const) {
    const h = await conversation(n, peer)
    t.same(h.map(m => m.id), ids, 'arrival order on both sides')
    t.ok((h[1]?.timestamp ?? 0) - (h[2]?.timestamp ?? 0) > skewMs - 60_000, 'although the third carries a timestamp minutes before the second')
  }
})
