// PQXDH bundles over the session (proto-spec/pqxdh.md §8, messaging.md §2) between whole simulated
// nodes that keep prekeys: Alice asks Bob's node with PREKEY_REQUEST, gets his current bundle as
// PREKEY_BUNDLE, opened against the fingerprint the session proved, and a session start made
// from it is answered by Bob's prekey service. A node that keeps no prekeys answers nothing.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { openBundle, initiate } from '../../src/pqxdh/index.js'
import { testnet } from './helpers.js'

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

t.test('a node that keeps no prekeys answers no request: the fetch times out', async t => {
  const net = await testnet(t, 3, 42)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  t.equal(bob.prekeys, null)
  await net.befriend(alice, bob)
  await net.until(() => alice.messaging.network.link(bob.fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  await t.rejects(net.drive(alice.messaging.prekeyExchange.fetch(alice.messaging.network.link(bob.fingerprint)!, 5_000)), { code: 'WAIT_TIMEOUT' })
})
