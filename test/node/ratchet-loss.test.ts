// Ratchet sessions that lose state on one side (proto-spec/envelope.md §8.6): detected, reset with a
// notice to both users, and nothing the user sent is silently dropped.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { PREKEY_GRACE_MS } from '../../src/pqxdh/index.js'
import { conversation, receipted, talkingPair, testnet } from './helpers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

const reset = (n: TestNode, peer: TestNode): boolean => n.seen.some(e => e.type === 'contact' && e.action === 'session-reset' && (e.contact as { fingerprint?: string }).fingerprint === peer.fingerprint)

t.test('only the session record lost (the bundle kept): both users told, a new session, every message arrives once', async t => {
  const { net, alice, bob } = await talkingPair(t, 61, { prekeys: true }, 'before', 'delivered before')
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

t.test('a session start older than the peer keeps its prekeys is not sent again: the session starts again from the current bundle', async t => {
  for (const away of ['10 days', '23 days'] as const) {
    const late = away === '23 days'
    const net = await testnet(t, 3, 62, { prekeys: true })
    // Alice's fingerprint sorts first: a start of Bob's does not replace her own (envelope.md §8.3)
    const [alice, bob] = (net.nodes.slice(1) as TestNode[]).sort((x, y) => x.fingerprint < y.fingerprint ? -1 : 1) as [TestNode, TestNode]
    const sim = net.sim!
    const t0 = sim.now
    /** simulated time to `ms` after the start, while every node is stopped (event by event, then a jump) */
    const runTo = async (ms: number): Promise<void> => {
      for (const n of net.nodes) await n.stop()
      for (let n = 0; sim.now < t0 + ms && n < 100_000; n++) {
        sim.clock.run({ until: t0 + ms, maxEvents: 1 })
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    await net.befriend(alice, bob)
    await net.until(() => alice.messaging.prekeyExchange.cached(bob.fingerprint) !== undefined, 120_000, "Alice holds Bob's bundle")
    await net.drive(net.stop(bob.index))
    // Bob is away: Alice's first message starts a session from his bundle and waits in her outbox
    const m = await net.drive(alice.actions.send(bob.fingerprint, 'sent while you were away'))
    const first = alice.messaging.sessions.activeBase(bob.fingerprint)
    t.ok(first !== null, `${away}: Alice started a session`)
    // Bob's restarts retire the pair Alice used (day 8) and, past 22 days, delete it (PREKEY_GRACE_MS later)
    await runTo(8 * DAY)
    await net.drive(net.restart(bob.index))
    await runTo(late ? 8 * DAY + PREKEY_GRACE_MS + HOUR : 10 * DAY)
    const bob2 = await net.drive(net.restart(bob.index))
    t.equal(bob2.prekeys!.ring.sets.some(s => s.id === 1), !late, `${away}: Bob ${late ? 'no longer holds' : 'still holds'} the pair Alice started from`)
    const alice2 = await net.drive(net.restart(alice.index))
    await net.until(() => receipted(alice2, m.id), 300_000, 'delivered')
    t.equal(bob2.messaging.ctx.counters.rejected['v2-bad-initial'], undefined, `${away}: Bob refused no start`)
    t.equal(alice2.messaging.ctx.counters.staleStarts, late ? 1 : 0, `${away}: ${late ? 'the start Bob could no longer open was dropped, not sent again' : 'the start was kept'}`)
    const now = alice2.messaging.sessions.activeBase(bob.fingerprint)
    if (late) t.ok(now !== null && now !== first, `${away}: Alice started a new session from Bob's current bundle`)
    else t.equal(now, first, `${away}: on the session she started`)
    t.equal(bob2.messaging.sessions.activeBase(alice.fingerprint), now, `${away}: both talk on it`)
    t.same((await conversation(bob2, alice2)).filter(x => x.direction === 'in').map(x => x.text), ['sent while you were away'], `${away}: the message arrived once`)
    await net.destroy()
  }
})

t.test('a contact removed and added again starts a new session; its messages in between are held as a request', async t => {
  const { net, alice, bob } = await talkingPair(t, 63, { prekeys: true }, 'hello', 'delivered while contacts')
  const old = bob.messaging.sessions.activeBase(alice.fingerprint)
  t.ok(old !== null, 'Bob sends on a session with Alice')
  await net.drive(bob.store.removeContact(alice.fingerprint))
  bob.events.emit({ type: 'contact', action: 'removed', contact: { fingerprint: alice.fingerprint } })
  await net.until(() => !bob.messaging.ctx.contacts.has(alice.fingerprint), 10_000, 'Bob removed Alice')
  t.equal(bob.messaging.sessions.book?.sessionCount(alice.fingerprint), 0, 'Bob holds no session with Alice')
  t.same((await bob.store.listSessions()).filter(s => s.peer === alice.fingerprint), [], 'none stored')
  t.same((await bob.store.listBundles()).filter(s => s.peer === alice.fingerprint), [], 'nor her bundle')
  const b = await net.drive(alice.actions.send(bob.fingerprint, 'are you there?'))
  await net.until(() => receipted(alice, b.id), 120_000, 'receipted by Bob')
  t.ok(bob.seen.some(e => e.type === 'request' && (e.request as { fingerprint?: string }).fingerprint === alice.fingerprint), 'Bob sees a request from Alice')
  const between = bob.messaging.sessions.activeBase(alice.fingerprint)
  t.ok(between !== null && between !== old, 'on a new session, which Bob started')
  t.ok(reset(alice, bob), 'Alice is told the session was reset')
  // added again (after restarting: what is stored is all there is)
  await net.drive(net.stop(bob.index))
  const bob2 = await net.drive(net.restart(bob.index))
  await net.drive(net.addContact(bob2, alice))
  const c = await net.drive(bob2.actions.send(alice.fingerprint, 'welcome back'))
  await net.until(() => receipted(bob2, c.id), 300_000, 'delivered after adding again')
  t.same((await conversation(alice, bob2)).filter(m => m.direction === 'in').map(m => m.text), ['welcome back'], 'Alice got it once')
})
