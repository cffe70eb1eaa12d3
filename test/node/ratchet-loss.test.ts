// Ratchet sessions that lose state on one side (proto-spec/envelope.md §8.6): detected, reset with a
// notice to both users, and nothing the user sent is silently dropped.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { conversation, receipted, testnet } from './helpers.js'

const reset = (n: TestNode, peer: TestNode): boolean => n.seen.some(e => e.type === 'contact' && e.action === 'session-reset' && (e.contact as { fingerprint?: string }).fingerprint === peer.fingerprint)

t.test('only the session record lost (the bundle kept): both users told, a new session, every message arrives once', async t => {
  const net = await testnet(t, 3, 61, { prekeys: true })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const a = await net.drive(alice.actions.send(bob.fingerprint, 'before'))
  await net.until(() => receipted(alice, a.id), 120_000, 'delivered before')
  const old = alice.messaging.sessions.activeBase(bob.fingerprint)
  t.equal((await bob.store.listBundles()).filter(b => b.peer === alice.fingerprint).length, 1, 'Bob keeps Alice\'s bundle')
  await net.drive(bob.store.removeSession(alice.fingerprint))
  await net.drive(net.stop(bob.index))
  const bob2 = await net.drive(net.restart(bob.index))
  t.equal(bob2.messaging.sessions.book?.sessionCount(alice.fingerprint), 0, 'Bob holds no session with Alice')
  // Bob, back, starts a session from the bundle he kept (his link-up presence) before Alice's next
  // envelopes, which he cannot open: they are re-sent by Alice from her outbox on the new session
  const sent: string[] = []
  for (const text of ['after the loss 1', 'after the loss 2', 'after the loss 3']) sent.push((await net.drive(alice.actions.send(bob.fingerprint, text))).id)
  await net.until(() => sent.every(id => receipted(alice, id)), 300_000, 'delivered after the loss')
  t.ok((bob2.messaging.ctx.counters.rejected['v2-no-session'] ?? 0) >= 1, 'Bob saw envelopes on a session he no longer holds')
  t.ok(reset(alice, bob2), 'Alice is told the session was reset')
  t.ok(reset(bob2, alice), 'and so is Bob')
  const now = alice.messaging.sessions.activeBase(bob.fingerprint)
  t.not(now, old, 'they talk on a new session')
  t.equal(bob2.messaging.sessions.activeBase(alice.fingerprint), now, 'the same one on both sides')
  t.same((await conversation(bob2, alice)).filter(m => m.direction === 'in').map(m => m.text), ['before', 'after the loss 1', 'after the loss 2', 'after the loss 3'], 'nothing dropped, nothing twice')
})
