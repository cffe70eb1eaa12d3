// The link-up start rule of proto-spec/envelope.md §8.3 and the PRESENCE frame of
// proto-spec/messaging.md §7, between whole simulated nodes that keep prekeys: two new contacts
// writing at once make one PQXDH start, the smaller fingerprint's; one that alone has messages
// waiting at the link-up starts it itself, whichever fingerprint is the smaller, so its first
// message is not held back for the other's start; the smaller one starts even with nothing to
// send when neither has anything waiting; a smaller one gone right after the link came up costs
// the larger one's message no more than the wait; and a node from before the frame still learns
// its contact's caps.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { START_WAIT_MS } from '../../src/messaging/ratchet-sessions.js'
import { conversation, receipted, testnet } from './helpers.js'

const counters = (n: TestNode): TestNode['messaging']['ctx']['counters'] => n.messaging.ctx.counters

/** The two contacts, ordered by fingerprint (the rule's roles), befriended. */
async function pair (t: Parameters<typeof testnet>[0], seed: number, opts: Parameters<typeof testnet>[3] = {}): Promise<{ net: Awaited<ReturnType<typeof testnet>>, small: TestNode, large: TestNode }> {
  const net = await testnet(t, 3, seed, { prekeys: true, ...opts })
  const [, x, y] = net.nodes as [TestNode, TestNode, TestNode]
  const [small, large] = x.fingerprint < y.fingerprint ? [x, y] : [y, x]
  await net.befriend(small, large)
  return { net, small, large }
}

t.test('both write at once at their first link-up: one session start, the smaller fingerprint\'s, and nothing lost', async t => {
  const { net, small, large } = await pair(t, 61)
  const [a, b] = await net.drive(Promise.all([small.actions.send(large.fingerprint, 'from the smaller'), large.actions.send(small.fingerprint, 'from the larger')]))
  await net.until(() => receipted(small, a.id) && receipted(large, b.id), 120_000, 'both delivered')
  t.equal(counters(small).sessionsStarted, 1, 'the smaller fingerprint started a session')
  t.equal(counters(large).sessionsStarted, 0, 'the larger one did not')
  t.equal(counters(large).sessionsAnswered, 1, 'it answered the smaller one\'s')
  t.equal(counters(large).startWaits, 1, 'having waited for it')
  t.equal(counters(large).startWaitsExpired, 0, 'not in vain')
  t.equal(small.messaging.sessions.book?.sessionCount(large.fingerprint), 1, 'one session on each side')
  t.equal(large.messaging.sessions.book?.sessionCount(small.fingerprint), 1)
  t.equal(large.messaging.sessions.activeBase(small.fingerprint), small.messaging.sessions.activeBase(large.fingerprint), 'the same one')
  for (const n of [small, large]) {
    t.equal(counters(n).envelopesByType['PRESENCE v1'] ?? 0, 0, 'no PRESENCE envelope: it went as a frame')
    t.ok(counters(n).presenceFramesOut >= 1)
    t.same(counters(n).rejected, {}, 'nothing refused')
  }
  t.equal((await conversation(small, large)).length, 2, 'each has both messages')
  t.equal((await conversation(large, small)).length, 2)
})

t.test('only the larger fingerprint has a message waiting at the link-up: it starts the session with that message, and the smaller one waits', async t => {
  const { net, small, large } = await pair(t, 62)
  const m = await net.drive(large.actions.send(small.fingerprint, 'only from the larger'))
  await net.until(() => small.actions.peers().some(p => p.fingerprint === large.fingerprint && p.state === 'online'), 120_000, 'linked')
  const linked = net.sim!.now
  await net.until(() => small.messaging.ctx.counters.ratchetIn > 0, 120_000, 'the text opened')
  t.comment(`the smaller one's link up → the text opened there: ${net.sim!.now - linked} ms simulated`)
  await net.until(() => receipted(large, m.id), 120_000, 'delivered')
  t.equal(counters(large).sessionsStarted, 1, 'the larger one started the session')
  t.equal(counters(large).envelopesByType['TEXT v2'], 1, 'its text carried the start')
  t.equal(counters(large).startWaits, 0, 'it waited for nothing')
  t.equal(counters(small).sessionsStarted, 0, 'the smaller one started none')
  t.equal(counters(small).envelopesByType['PRESENCE v2'] ?? 0, 0, 'no PRESENCE envelope with a start of its own ahead of the text')
  t.equal(counters(small).startWaits, 1, 'it waited for the larger one\'s start')
  t.equal(counters(small).startWaitsExpired, 0, 'not in vain')
  t.equal(counters(small).sessionsAnswered, 1, 'and answered it')
  t.equal(small.messaging.sessions.book?.sessionCount(large.fingerprint), 1, 'one session on each side')
  t.same(counters(small).rejected, {}, 'nothing refused')
})

t.test('neither has a message waiting at the link-up: the smaller fingerprint starts the session with a PRESENCE, and a message written then is not held back', async t => {
  const { net, small, large } = await pair(t, 65)
  await net.until(() => small.actions.peers().some(p => p.fingerprint === large.fingerprint && p.state === 'online'), 120_000, 'linked')
  await net.until(() => large.messaging.sessions.holds(small.fingerprint), 120_000, 'the smaller one\'s start opened at the larger one')
  t.equal(counters(small).sessionsStarted, 1, 'the smaller one started a session though it had nothing to send')
  const m = await net.drive(large.actions.send(small.fingerprint, 'written after the link-up'))
  await net.until(() => receipted(large, m.id), 120_000, 'delivered')
  t.equal(counters(small).envelopesByType['PRESENCE v2'], 1, 'a PRESENCE envelope carried the start')
  t.equal(counters(large).sessionsStarted, 0, 'the larger one started none')
  t.equal(counters(large).startWaitsExpired, 0, 'no wait ran out')
  t.equal(counters(large).envelopesByType['TEXT v2'], 1, 'the text went on the smaller one\'s session')
})

t.test('the smaller fingerprint stops right after the link came up: the larger one\'s message arrives once it is back', async t => {
  const { net, small, large } = await pair(t, 63)
  // both have a message waiting, so the smaller one starts
  const [m] = await net.drive(Promise.all([large.actions.send(small.fingerprint, 'to a peer that goes away'), small.actions.send(large.fingerprint, 'from the smaller')]))
  // the larger one holds the smaller one's bundle and waits for its start: the smaller one goes then
  await net.until(() => counters(large).startWaits === 1, 120_000, 'the larger one waits for the start')
  await net.drive(net.stop(small.index))
  await net.advance(START_WAIT_MS + 1000)
  t.notOk(receipted(large, m.id), 'not delivered while the smaller one is away')
  const back = await net.drive(net.restart(small.index))
  await net.until(() => receipted(large, m.id), 300_000, 'delivered after the restart')
  t.same((await conversation(back, large)).map(x => x.text).filter(x => x === 'to a peer that goes away'), ['to a peer that goes away'], 'once')
  t.same(counters(back).rejected, {}, 'nothing refused')
})

t.test('a node from before the PRESENCE frame: each end learns the other\'s caps, and texts go through', async t => {
  const { net, small, large } = await pair(t, 64, { legacyPresence: i => i === 1 })
  const [old, current] = small.index === 1 ? [small, large] : [large, small]
  const [a, b] = await net.drive(Promise.all([old.actions.send(current.fingerprint, 'from the old one'), current.actions.send(old.fingerprint, 'from the current one')]))
  await net.until(() => receipted(old, a.id) && receipted(current, b.id), 120_000, 'both delivered')
  t.ok((counters(old).envelopesByType['PRESENCE v1'] ?? 0) >= 1, 'the old node sent its PRESENCE as an envelope')
  t.ok((counters(current).envelopesByType['PRESENCE v1'] ?? 0) + (counters(current).envelopesByType['PRESENCE v2'] ?? 0) >= 1, 'and was answered with one')
  t.ok(counters(old).malformed >= 1, 'it dropped the PRESENCE frame as an unknown frame')
  t.equal(counters(current).startWaits, 0, 'no one waited for a start the old node does not promise')
  // both open BATCH now: texts queued together go as one
  const ids = (await net.drive(old.actions.sendMany(current.fingerprint, ['batched 0', 'batched 1', 'batched 2']))).map(m => m.id)
  await net.until(() => ids.every(id => receipted(old, id)), 120_000, 'batched texts delivered')
  t.ok((counters(old).envelopesByType['BATCH v2'] ?? 0) >= 1, 'the old node learned the current one opens BATCH')
})
