// A restarted node reaches its relayed contacts on its own (proto-spec/traversal.md §7.5):
// Alice and Bob sit behind symmetric NATs and talk through a relay their nodes picked; Alice's
// node stops (or dies as under kill -9, Bob's session with her still up) and starts again with
// nothing queued, and Bob's node does not redial her, so she must reach him herself. She does,
// relayed, with no message sent, sooner than one dial of the dead relay port she talked to would
// take to give up (that port is not remembered as Bob's address).
import t, { type Test } from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { DIAL_TIMEOUT_MS } from '../../src/messaging/peer-connector.js'
import { receipted, testnet, testnetSeed } from '../node/helpers.js'
import { row, PUBLIC } from './sim-pair.js'



async function registered (net: Testnet, n: TestNode): Promise<void> {
  await net.until(() => (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, `node ${n.index} registered with a rendezvous`)
}

/** Nodes 0 and 1 public relays, Alice (2) and Bob (3) behind symmetric NATs, talking relayed. */
async function relayedPair (t: Test, seed: number): Promise<{ net: Testnet, alice: TestNode, bob: TestNode }> {
  const net = await testnet(t, 4, seed, {
    host: i => PUBLIC[i] ?? '192.168.1.2',
    relay: i => i < PUBLIC.length,
    behind: (i, sim) => i < PUBLIC.length ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.symmetric })
  })
  const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  await registered(net, alice)
  await registered(net, bob)
  await net.until(() => bob.traversal!.recordFields()!.natKind === 'address-dependent', 120_000, 'Bob knows his NAT is symmetric')
  await net.addContact(alice, bob, 'bob', 'fingerprint')
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  const m = await net.drive(alice.actions.send(bob.fingerprint, 'before the restart'))
  await net.until(() => receipted(alice, m.id), 600_000, 'the first message delivered')
  t.equal(row(alice, bob)?.path?.via, 'relayed', 'talking through a relay')
  t.equal(alice.messaging.remembered.get(bob.fingerprint), undefined, 'the relay port is not remembered as where Bob is')
  bob.messaging.network.demand(alice.fingerprint, false) // Bob does not redial: Alice must reach him herself
  return { net, alice, bob }
}

async function reachesAgain (t: Test, net: Testnet, bob: TestNode, seed: number): Promise<void> {
  const again = await net.restart(2)
  await registered(net, again)
  const started = net.sim!.now
  // simulated time: sooner than one dial of a dead relay port would take to give up
  await net.until(() => row(again, bob)?.state === 'online', DIAL_TIMEOUT_MS, 'the restarted node reaches Bob')
  t.comment(JSON.stringify({ metric: 'sim-relay-redial-ms', value: net.sim!.now - started, unit: 'simulated ms', seed }))
  t.equal(row(again, bob)?.path?.via, 'relayed', `relayed again: ${JSON.stringify(row(again, bob)?.path)}`)
  t.ok(again.autoRelay!.stats.relayedSessions >= 1, 'Alice set the relayed session up herself')
  await net.until(() => row(bob, again)?.state === 'online', 60_000, 'Bob sees her online')
}

t.test('sim: a restarted node reaches its relayed contact again with nothing to send', async t => {
  const seed = testnetSeed(91)
  const { net, alice, bob } = await relayedPair(t, seed)
  await net.stop(2)
  await net.until(() => row(bob, alice)?.state === 'offline', 120_000, 'Bob sees Alice gone')
  await net.until(() => bob.autoRelay!.report().length === 0, 120_000, 'Bob let the relay path go')
  await reachesAgain(t, net, bob, seed)
})

t.test('sim: after kill -9, while Bob still holds the old relayed session, the new node reaches him', async t => {
  const seed = testnetSeed(92)
  const { net, bob } = await relayedPair(t, seed)
  await net.crash(2)
  await reachesAgain(t, net, bob, seed)
})
