// PQXDH bundles over the session (proto-spec/pqxdh.md §8, messaging.md §2) between whole simulated
// nodes that keep prekeys: Alice asks Bob's node with PREKEY_REQUEST, gets his current bundle as
// PREKEY_BUNDLE, opened against the fingerprint the session proved, and a session start made
// from it is answered by Bob's prekey service. A node that gives no bundle (it keeps no prekeys,
// or the asker is not its contact) says so with PREKEY_NONE, once per link (messaging.md §2). A
// contact gets the bundle unasked at link-up when there is no session yet (pqxdh.md §8.2); a
// contact request does not wait for the peer's bundle, what follows it does (messaging.md §4.2),
// and only a peer that says nothing (an older version) makes it wait BUNDLE_GATE_MS.
import t from 'tap'
import { type Testnet, type TestNode } from '../../src/node/testnet.js'
import { openBundle, initiate } from '../../src/pqxdh/index.js'
import { BUNDLE_GATE_MS } from '../../src/messaging/ratchet-sessions.js'
import { receipted, testnet } from './helpers.js'

/**
 * Alice (who keeps prekeys) adds Bob, who has not added her, and writes to him: her message's id
 * and the simulated time her link to him came up. Bob keeps prekeys or not; `silent`: he answers
 * no prekey frame at all, as a version before PREKEY_NONE (envelope.md §8.7).
 */
async function firstMessageToStranger (t: Parameters<typeof testnet>[0], seed: number, bobIs: { prekeys: boolean, silent: boolean }): Promise<{ net: Testnet, alice: TestNode, bob: TestNode, id: string, upAt: number }> {
  const net = await testnet(t, 3, seed, { prekeys: true })
  if (!bobIs.prekeys) await net.stop(2)
  const bob = bobIs.prekeys ? net.nodes[2]! : await net.drive(net.restart(2, { prekeys: false }))
  if (bobIs.silent) bob.messaging.prekeyExchange.onFrame = () => {}
  const alice = net.nodes[1]!
  await net.addContact(alice, bob)
  const { id } = await net.drive(alice.actions.send(bob.fingerprint, 'hello, Bob'))
  await net.until(() => alice.messaging.network.link(bob.fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  return { net, alice, bob, id, upAt: net.sim!.now }
}

t.test("Alice fetches Bob's bundle over their session and starts PQXDH with it", async t => {
  const net = await testnet(t, 3, 41, { prekeys: true })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  await net.until(() => alice.messaging.network.link(bob.fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  const link = alice.messaging.network.link(bob.fingerprint)!
  const bundle = await net.drive(alice.messaging.prekeyExchange.fetch(link))
  const now = alice.opts.world.scheduler.wallNow()
  const opened = openBundle(bundle, bob.fingerprint, now)
  t.ok(opened.ok, 'the bundle opens under the fingerprint Bob proved')
  t.same([...bundle], [...bob.prekeys!.bundle()], "it is Bob's current bundle")
  t.same([...(alice.messaging.prekeyExchange.cached(bob.fingerprint)?.bundle ?? [])], [...bundle], 'and Alice keeps it for later')
  const i = initiate(alice.opts.identity, bundle, bob.fingerprint, now)
  if (!i.ok) throw i.error
  const r = bob.prekeys!.respond(i.value.initialMessage)
  if (!r.ok) throw r.error
  t.same([...r.value.sk], [...i.value.sk], "Bob's prekey service derives the same SK")
  t.equal(r.value.initiatorFingerprint, alice.fingerprint)
  t.ok(await bob.prekeys!.commitStart(r.value), 'and commits the start')
})

t.test('a node that keeps no prekeys says so: the fetch ends at once with NO_BUNDLE', async t => {
  const net = await testnet(t, 3, 42)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  t.equal(bob.prekeys, null)
  await net.befriend(alice, bob)
  await net.until(() => alice.messaging.network.link(bob.fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  const askedAt = net.sim!.now
  await t.rejects(net.drive(alice.messaging.prekeyExchange.fetch(alice.messaging.network.link(bob.fingerprint)!, 5_000)), { code: 'NO_BUNDLE', message: /keeps no prekeys/ })
  t.ok(net.sim!.now - askedAt < 1_000, `answered in ${Math.round(net.sim!.now - askedAt)} ms, not at the timeout`)
})

t.test('a stranger asking for a bundle is told once per link that it gets none', async t => {
  const net = await testnet(t, 3, 45, { prekeys: true })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.addContact(alice, bob)
  await net.drive(alice.actions.send(bob.fingerprint, 'hello, Bob'))
  await net.until(() => alice.messaging.network.link(bob.fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  const link = alice.messaging.network.link(bob.fingerprint)!
  await t.rejects(net.drive(alice.messaging.prekeyExchange.fetch(link, 5_000)), { code: /NO_BUNDLE|WAIT_TIMEOUT/ }, 'the link-up question was answered already')
  await t.rejects(net.drive(alice.messaging.prekeyExchange.fetch(link, 5_000)), { code: 'WAIT_TIMEOUT' }, 'asking again on the same link gets no second answer')
  t.equal(alice.messaging.prekeyExchange.cached(bob.fingerprint), undefined, 'and never a bundle')
})

t.test("Bob pushes his bundle at link-up to a contact he has no session with, unasked; a stranger gets none", async t => {
  const net = await testnet(t, 3, 43, { prekeys: true })
  // Alice keeps no prekeys: she never asks (no PREKEY_REQUEST), so a bundle she holds was pushed
  await net.stop(1)
  const alice = await net.drive(net.restart(1, { prekeys: false }))
  const bob = net.nodes[2]!
  t.equal(alice.prekeys, null)
  await net.addContact(alice, bob)
  const { id } = await net.drive(alice.actions.send(bob.fingerprint, 'hello, stranger'))
  // Bob's push would be his first frame on the link, ahead of the receipt for Alice's message
  await net.until(() => receipted(alice, id), 120_000, "Bob's receipt for Alice's message (held as a request)")
  t.equal(alice.messaging.prekeyExchange.cached(bob.fingerprint), undefined, 'Bob pushes nothing to a stranger')
  await net.addContact(bob, alice)
  await net.until(() => alice.messaging.prekeyExchange.cached(bob.fingerprint) !== undefined, 120_000, "Bob's pushed bundle at Alice")
  t.same([...alice.messaging.prekeyExchange.cached(bob.fingerprint)!.bundle], [...bob.prekeys!.bundle()], "once Alice is his contact, Bob's current bundle comes unasked")
  t.equal(alice.messaging.ctx.counters.malformed, 0, 'and opens under the fingerprint his session proved')
})

t.test('a contact request goes at link-up; what follows it waits only for a peer that says nothing (messaging.md §4.2)', async t => {
  // Bob runs a version that ignores a request for his bundle (drops it as malformed, envelope.md
  // §8.7): neither a bundle nor PREKEY_NONE comes, and Alice's outbox waits BUNDLE_GATE_MS for it
  const { net, alice, bob, id, upAt } = await firstMessageToStranger(t, 44, { prekeys: false, silent: true })
  const sim = net.sim!
  await net.until(() => bob.messaging.requests.get(alice.fingerprint)?.introduced === true, 120_000, "Alice's request at Bob")
  t.ok(sim.now - upAt < BUNDLE_GATE_MS, `the request came ${Math.round(sim.now - upAt)} ms after the link, not after the wait`)
  t.equal(bob.messaging.requests.get(alice.fingerprint)?.held.length, 0, 'the message behind it waits')
  await net.until(() => receipted(alice, id), 120_000, "Alice's message delivered (held with her request)")
  t.ok(sim.now - upAt >= BUNDLE_GATE_MS, 'the message went once the wait for the bundle ended')
  t.equal(bob.messaging.requests.get(alice.fingerprint)?.held.length, 1, 'Bob holds it with the request, once')
  t.equal(alice.messaging.ctx.counters.ratchetOut, 0, 'as envelope v1: Bob opens no v2')
})

for (const bobKeepsPrekeys of [true, false]) {
  t.test(`a first message to someone who has not added us goes without the wait (Bob ${bobKeepsPrekeys ? 'keeps prekeys: not his contact' : 'keeps no prekeys'})`, async t => {
    const { net, alice, bob, id, upAt } = await firstMessageToStranger(t, bobKeepsPrekeys ? 46 : 47, { prekeys: bobKeepsPrekeys, silent: false })
    const sim = net.sim!
    await net.until(() => receipted(alice, id), 120_000, "Alice's message delivered (held with her request)")
    t.ok(sim.now - upAt < BUNDLE_GATE_MS, `delivered ${Math.round(sim.now - upAt)} ms after the link: Bob said at once that no bundle comes`)
    t.equal(bob.messaging.requests.get(alice.fingerprint)?.held.length, 1, 'Bob holds it with her request')
    t.equal(alice.messaging.ctx.counters.ratchetOut, 0, 'as envelope v1: no session without his bundle')
    t.equal(alice.messaging.ctx.counters.malformed, 0, 'and the answer is a frame Alice reads')
  })
}

t.test('at a first link-up between two nodes with prekeys, each bundle goes once: pushed, and the link-up request it answers is not answered again (pqxdh.md §8.2)', async t => {
  const net = await testnet(t, 3, 45, { prekeys: true })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const { id } = await net.drive(alice.actions.send(bob.fingerprint, 'hello, Bob'))
  await net.until(() => receipted(alice, id), 120_000, "Alice's message receipted")
  for (const [me, peer] of [[alice, bob], [bob, alice]] as const) {
    t.same([...me.messaging.prekeyExchange.cached(peer.fingerprint)!.bundle], [...peer.prekeys!.bundle()], `${me === alice ? 'Alice' : 'Bob'} holds the other's current bundle`)
    t.equal(me.messaging.ctx.counters.prekeyFramesOut, 2, 'after sending two prekey frames: its bundle, pushed, and its own request')
  }
  t.ok(alice.messaging.ctx.counters.ratchetOut > 0, 'the message went as envelope v2')
  // a request later on the same link is answered (envelope.md §8.6: a peer that lost its state asks again)
  const link = alice.messaging.network.link(bob.fingerprint)!
  const bundle = await net.drive(alice.messaging.prekeyExchange.fetch(link, 5_000))
  t.same([...bundle], [...bob.prekeys!.bundle()], 'a second request on the link gets the bundle')
})
