// A chat through simulated NATs (src/sim/nat.ts) over the lifetime of their mappings
// (RFC 4787 §4.3): whole nodes, node 0 public (bootstrap and rendezvous), Alice and Bob each
// behind a port-restricted cone that picks random ports, so a new mapping is a new public port.
//  - Bob's NAT reboots mid-chat (every mapping dropped): his public port changes, the old session
//    dies, and the messages both send after the reboot are delivered, in order, exactly once,
//    within a bound the protocol's timers set;
//  - idle for longer than the mapping lifetime: the session's keepalives (KEEPALIVE_AFTER_MS,
//    src/transport/constants.ts) hold a 30 s mapping open, so the same session carries the next
//    message at once; with a mapping that lapses between keepalives the path breaks and is found
//    again.
// Seeded and in simulated time: the bounds are protocol time, not this machine's speed.
import t, { type Test } from 'tap'
import { NAT_PRESETS, type SimNat } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { IDLE_TIMEOUT_MS, KEEPALIVE_AFTER_MS } from '../../src/transport/constants.js'
import { KEEPALIVE_MS } from '../../src/traversal/constants.js'
import { conversation, receipted, testnet } from '../node/helpers.js'

const PUBLIC = '198.51.100.7'
/**
 * After a reboot: the old session is declared dead after IDLE_TIMEOUT_MS without an answer; by
 * then Bob's next REGISTER (every KEEPALIVE_MS) has told the rendezvous his new address and he
 * has republished his record; a lookup, a punch (≤ 10 s, traversal.md §7) and an IK handshake
 * follow, and a 20 s slack for the outbox's retry backoff.
 */
const RECOVERY_BOUND_MS = IDLE_TIMEOUT_MS + KEEPALIVE_MS + 10_000 + 20_000

interface Chat { net: Testnet, alice: TestNode, bob: TestNode, nats: SimNat[] }

async function chat (t: Test, seed: number, mappingTimeoutMs?: number): Promise<Chat> {
  const nats: SimNat[] = []
  const net = await testnet(t, 3, seed, {
    host: i => i === 0 ? PUBLIC : '192.168.1.2',
    behind: (i, sim) => {
      if (i === 0) return null
      const nat = sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.portRestrictedCone, portAssignment: 'random', ...(mappingTimeoutMs === undefined ? {} : { mappingTimeoutMs }) })
      nats.push(nat)
      return nat
    }
  })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await net.addContact(alice, bob, 'bob', 'fingerprint')
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  return { net, alice, bob, nats }
}

/** Sends each text in turn (the next once the previous is handed to the outbox); their ids. */
async function sendAll (net: Testnet, from: TestNode, to: TestNode, texts: string[]): Promise<string[]> {
  const ids: string[] = []
  for (const text of texts) ids.push((await net.drive(from.actions.send(to.fingerprint, text))).id)
  return ids
}

/** What `to` holds from `from`, in the order it arrived. */
async function inbox (to: TestNode, from: TestNode): Promise<string[]> {
  return (await conversation(to, from)).filter(m => m.direction === 'in').map(m => m.text ?? '')
}

const addressOf = (a: TestNode, b: TestNode): string | null => a.actions.peers().find(p => p.fingerprint === b.fingerprint)?.address ?? null

t.test('sim: Bob\'s NAT reboots mid-chat; what both send after it arrives in order, exactly once, within the protocol\'s bound', async t => {
  const { net, alice, bob, nats } = await chat(t, 91)
  const before = await sendAll(net, alice, bob, ['one', 'two'])
  await net.until(() => before.every(id => receipted(alice, id)), 120_000, 'the chat before the reboot')
  const oldAddress = addressOf(alice, bob)
  const oldSession = alice.messaging.network.link(bob.fingerprint)
  t.ok(oldAddress?.startsWith('203.0.113.2:'), `Alice talks to Bob's NAT (${oldAddress})`)

  nats[1]!.reboot()
  const rebootAt = net.sim!.now
  const afterTexts = ['three', 'four', 'five', 'six', 'seven']
  const replies = ['eight', 'nine']
  const after = await sendAll(net, alice, bob, afterTexts)
  const back = await sendAll(net, bob, alice, replies)
  await net.until(() => after.every(id => receipted(alice, id)) && back.every(id => receipted(bob, id)), RECOVERY_BOUND_MS, 'every message after the reboot delivered')
  const took = net.sim!.now - rebootAt
  t.comment(`recovered in ${Math.round(took)} ms of protocol time (bound ${RECOVERY_BOUND_MS} ms)`)
  t.same(await inbox(bob, alice), ['one', 'two', ...afterTexts], 'Bob has Alice\'s messages in order, each once')
  t.same(await inbox(alice, bob), replies, 'Alice has Bob\'s replies in order, each once')
  const newAddress = addressOf(alice, bob)
  t.not(newAddress, oldAddress, `Bob's public port changed (${oldAddress} → ${newAddress})`)
  t.ok(newAddress?.startsWith('203.0.113.2:'), 'still his NAT: the new mapping')
  t.not(alice.messaging.network.link(bob.fingerprint), oldSession, 'a new session')
  t.same(alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.path?.via, 'direct')
})

t.test('sim: idle 10 minutes behind NATs that forget a mapping after 30 s: the session\'s keepalives hold the path', async t => {
  t.ok(KEEPALIVE_AFTER_MS < 30_000, 'the session speaks before the mapping lapses')
  const { net, alice, bob, nats } = await chat(t, 92, 30_000)
  const [first] = await sendAll(net, alice, bob, ['before the pause'])
  await net.until(() => receipted(alice, first!), 120_000, 'delivered')
  const session = alice.messaging.network.link(bob.fingerprint)
  const address = addressOf(alice, bob)
  const offers = alice.traversal!.service!.puncher.stats.offers + bob.traversal!.service!.puncher.stats.offers
  const expired = nats.map(n => n.stats.mappingsExpired)
  await net.advance(600_000)
  const [second] = await sendAll(net, alice, bob, ['after ten quiet minutes'])
  const sentAt = net.sim!.now
  await net.until(() => receipted(alice, second!), 120_000, 'delivered after the pause')
  t.ok(net.sim!.now - sentAt < 1000, `delivered at once (${Math.round(net.sim!.now - sentAt)} ms): no new lookup, punch or handshake`)
  t.equal(alice.messaging.network.link(bob.fingerprint), session, 'the same session')
  t.equal(addressOf(alice, bob), address, 'at the same address: the mapping held')
  t.equal(alice.traversal!.service!.puncher.stats.offers + bob.traversal!.service!.puncher.stats.offers, offers, 'no punch needed')
  t.comment(`mappings expired meanwhile (other flows): ${nats.map((n, i) => n.stats.mappingsExpired - expired[i]!).join(', ')}`)
  t.same(await inbox(bob, alice), ['before the pause', 'after ten quiet minutes'])
})

t.test('sim: a mapping that lapses between keepalives (5 s): the path breaks and is found again', async t => {
  t.ok(KEEPALIVE_AFTER_MS > 5000, 'the session is quiet longer than the mapping lives')
  const { net, alice, bob, nats } = await chat(t, 93, 5000)
  const [first] = await sendAll(net, alice, bob, ['before'])
  await net.until(() => receipted(alice, first!), 120_000, 'delivered')
  const expired = nats.map(n => n.stats.mappingsExpired)
  await net.advance(300_000)
  t.ok(nats.some((n, i) => n.stats.mappingsExpired > expired[i]!), 'mappings lapsed while idle')
  const [second] = await sendAll(net, alice, bob, ['after'])
  const sentAt = net.sim!.now
  await net.until(() => receipted(alice, second!), RECOVERY_BOUND_MS, 'delivered after the lapse')
  t.comment(`delivered ${Math.round(net.sim!.now - sentAt)} ms after sending`)
  t.same(await inbox(bob, alice), ['before', 'after'], 'each once, in order')
})
