// The outbox's retry logic (proto-spec/messaging.md §4), driven by hand: no store, no network.
import t from 'tap'
import { OutboxScheduler, type OutboxAction, type OutboxItem } from '../../src/messaging/outbox-scheduler.js'
import { backoffDelay } from '../../src/messaging/backoff.js'

const item = (id: string, peer: string, createdAt: number, ack: OutboxItem['ack'] = 'receipt'): OutboxItem =>
  ({ id, peer, attempts: 0, nextAttemptAt: createdAt, createdAt, ack })
const sends = (a: OutboxAction[]): string[] => a.flatMap(x => x.type === 'send' ? [x.id] : [])
const sched = (): OutboxScheduler => new OutboxScheduler({ random: () => 0.5, retry: { initialMs: 1000, maxMs: 60_000, jitter: 0 }, receiptWaitMs: 10_000 })

t.test('backoff doubles, caps and spreads by jitter', async t => {
  const p = { initialMs: 1000, maxMs: 8000, jitter: 0.2 }
  t.same([0, 1, 2, 3, 4, 10].map(f => backoffDelay(f, p, 0.5)), [1000, 2000, 4000, 8000, 8000, 8000])
  t.equal(backoffDelay(0, p, 0), 800, '−20% at random 0')
  t.equal(backoffDelay(0, p, 0.999999), 1200, '+20% near random 1')
})

t.test('an entry for an offline peer asks for a connection, then goes out when the peer comes up', async t => {
  const s = sched()
  t.same(s.add(item('a', 'bob', 100), 100), [{ type: 'connect', peer: 'bob' }])
  t.same(s.tick(100), [], 'not due again at once')
  const again = s.tick(100 + 1000)
  t.same(again, [{ type: 'connect', peer: 'bob' }], 'asks again after a backoff')
  const up = s.peerUp('bob', 2000)
  t.same(up, [{ type: 'send', id: 'a', peer: 'bob', attempt: 1 }])
})

t.test('a peer\'s entries go out in creation order, whatever order they were added in', async t => {
  const s = sched()
  s.load([item('c', 'bob', 30), item('a', 'bob', 10), item('x', 'eve', 5), item('b', 'bob', 20)], 0)
  t.same(sends(s.peerUp('bob', 100)), ['a', 'b', 'c'])
  t.same(sends(s.peerUp('eve', 100)), ['x'])
})

t.test('a peer taken up again on the same link (it became a contact, its bundle came) does not get again what is on its way on it', async t => {
  const s = sched()
  const link = {}
  s.peerUp('bob', 0, link)
  t.same(sends(s.add(item('a', 'bob', 0), 0)), ['a'], 'sent at once: bob is up')
  s.add(item('b', 'bob', 1), 1)
  s.sent('b', 1, 2) // b's channel took it; a is still on its way
  s.peerDown('eve', 3)
  t.same(sends(s.peerUp('bob', 5, link)), [], 'neither is sent twice on the link it went on')
  t.same(sends(s.peerUp('bob', 6, {})), ['a', 'b'], 'a new link: both again (the receiver de-duplicates)')
  t.same(s.item('a')?.attempts, 2)
})

t.test('a transport-acked entry waits for its receipt, then is resent with a doubling wait', async t => {
  const s = sched()
  s.peerUp('bob', 0)
  t.same(sends(s.add(item('a', 'bob', 0), 0)), ['a'])
  t.same(s.sent('a', 1, 5), [], 'first send needs no write')
  t.ok(s.nextDeadline <= 10_005, 'nextDeadline is a lower bound')
  t.same(s.tick(10_004), [])
  const retry = s.tick(10_005)
  t.same(sends(retry), ['a'], 'resent after RECEIPT_WAIT')
  t.same(s.sent('a', 2, 10_010), [{ type: 'save', item: { id: 'a', peer: 'bob', attempts: 2, nextAttemptAt: 30_010, createdAt: 0, ack: 'receipt' } }], 'a retry is persisted; the wait doubled')
  t.same(s.acknowledged('a'), [{ type: 'remove', id: 'a', peer: 'bob' }])
  t.equal(s.size, 0)
  t.same(s.acknowledged('a'), [], 'a second receipt changes nothing')
})

t.test('a transport-acked READ_RECEIPT entry is done (receipts are not receipted)', async t => {
  const s = sched()
  s.peerUp('bob', 0)
  s.add(item('r', 'bob', 0, 'transport'), 0)
  t.same(s.sent('r', 1, 1), [{ type: 'remove', id: 'r', peer: 'bob' }])
})

t.test('stale outcomes are ignored; a failed send retries after a backoff', async t => {
  const s = sched()
  s.peerUp('bob', 0)
  s.add(item('a', 'bob', 0), 0)
  s.peerUp('bob', 1) // a new link: attempt 2 replaces attempt 1
  t.same(s.sent('a', 1, 2), [], 'the outcome of attempt 1 no longer counts')
  t.same(s.sendFailed('a', 1, 2), [])
  t.same(s.sendFailed('a', 2, 3), [], 'attempt 2 failed')
  t.equal(s.nextDeadline, 3 + 4000, 'backoff after 2 attempts: 1 s · 2²')
  t.same(sends(s.tick(4003)), ['a'])
})

t.test('a link going down forgets what was in flight; nothing is sent until it is back', async t => {
  const s = sched()
  s.peerUp('bob', 0)
  s.add(item('a', 'bob', 0), 0)
  s.peerDown('bob', 10)
  t.notOk(s.isOnline('bob'))
  t.same(s.tick(10_000), [{ type: 'connect', peer: 'bob' }])
  t.same(sends(s.peerUp('bob', 20_000)), ['a'])
})

t.test('an attempt with no outcome at all (a hung link) is retried when its time comes', async t => {
  const s = sched()
  s.peerUp('bob', 0)
  s.add(item('a', 'bob', 0), 0)
  t.same(sends(s.tick(10_000)), ['a'])
  t.equal(s.peerOf('a'), 'bob')
})

t.test('many entries: nextDeadline stays a lower bound and ticks find everything due', async t => {
  const s = sched()
  for (let i = 0; i < 1000; i++) s.add(item(`m${i}`, `p${i % 10}`, i), i)
  let asked = 0
  for (let now = 0; now < 5000; now = Math.max(now + 1, s.nextDeadline)) asked += s.tick(now).length
  t.ok(asked >= 10, 'every offline peer was asked for')
  t.equal(s.size, 1000)
})

t.test('early: the head of the outbox goes on a link before the peer is up, and is not sent again on that link', async t => {
  const s = sched()
  const linkA = {}
  const linkB = {}
  s.load([item('req', 'bob', 10), item('text', 'bob', 20), item('req2', 'bob', 30)], 0)
  const isReq = (id: string): boolean => id.startsWith('req')
  t.same(sends(s.early('bob', 100, linkA, isReq)), ['req'], 'only the prefix: req2 waits behind text, so the order holds')
  t.same(sends(s.early('bob', 100, linkA, isReq)), [], 'not twice on one link')
  t.same(s.sent('req', 1, 105), [])
  t.same(s.peerUp('bob', 110, linkA), [{ type: 'send', id: 'text', peer: 'bob', attempt: 1 }, { type: 'send', id: 'req2', peer: 'bob', attempt: 1 }], 'peerUp sends the rest, not req again')
  t.same(sends(s.early('bob', 120, linkB, isReq)), [], 'nothing early while the peer is up')
  // the link goes; on the next one the head goes early again, and a failed early send goes at peerUp
  s.peerDown('bob', 200)
  t.same(s.early('bob', 300, linkB, isReq), [{ type: 'send', id: 'req', peer: 'bob', attempt: 2 }])
  s.sendFailed('req', 2, 301)
  t.same(sends(s.peerUp('bob', 310, linkB)), ['req', 'text', 'req2'], 'what failed early is sent again at peerUp')
  // a link that replaced the one req went early on (no peerDown between): peerUp on the new one sends it again
  s.peerDown('bob', 400)
  s.early('bob', 410, linkA, isReq)
  t.same(sends(s.peerUp('bob', 420, linkB)), ['req', 'text', 'req2'])
})

t.test('underway: sent on the current link with no failure, early or not, or taken by the peer\'s channel; not once it failed or was never sent', async t => {
  const s = sched()
  s.add(item('a', 'bob', 0), 0)
  t.notOk(s.underway('a'), 'bob offline: only a connect was asked for')
  const link = {}
  t.same(sends(s.early('bob', 10, link, () => true)), ['a'])
  t.ok(s.underway('a'), 'sent early on the link coming up')
  s.peerUp('bob', 20, link)
  t.ok(s.underway('a'), 'still on its way once the peer is up')
  s.sendFailed('a', 1, 30)
  t.notOk(s.underway('a'), 'its send failed')
  t.same(sends(s.tick(60_000)), ['a'], 'retried')
  t.ok(s.underway('a'))
  s.sent('a', 2, 60_010)
  t.ok(s.underway('a'), 'the peer\'s channel took it')
  s.peerDown('bob', 60_020)
  t.ok(s.underway('a'), 'and the peer has it, link or not')
  s.add(item('b', 'bob', 60_030), 60_030)
  s.peerUp('bob', 60_040)
  s.peerDown('bob', 60_050)
  t.notOk(s.underway('b'), 'in flight on a link that went down: presumed lost')
  t.notOk(s.underway('nope'), 'an unknown entry')
})
