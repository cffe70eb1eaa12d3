// Whole nodes behind symmetric NATs on the simulator talk through a relay nobody configured
// (proto-spec/traversal.md §7, relay.md §7): nodes 0 and 1 are public dmess nodes (node 0 the
// bootstrap; both serve as relays, as a publicly reachable daemon does), Alice and Bob sit behind
// address-and-port-dependent NATs where no probe gets through, and add each other by fingerprint.
// Their daemons pick a relay among the public nodes, carry the offer inside the sealed punch
// messages, and the conversation runs relayed, receipts and all. Then Bob's router turns into a
// cone NAT: the relayed session moves direct. And a stranger's first contact reaches a user
// behind a symmetric NAT (traversal.md §5.4).
import t, { type Test } from 'tap'
import { NAT_PRESETS, type SimNat } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { receipted, conversation, testnet } from '../node/helpers.js'
import { row, PUBLIC } from './sim-pair.js'


interface Homes { nats: SimNat[] }

/** Nodes 0 and 1 public relays; nodes 2.. each behind its own symmetric NAT. */
async function symmetricHomes (t: Parameters<typeof testnet>[0], n: number, seed: number): Promise<{ net: Testnet, homes: Homes }> {
  const homes: Homes = { nats: [] }
  const net = await testnet(t, n, seed, {
    host: i => PUBLIC[i] ?? '192.168.1.2',
    relay: i => i < PUBLIC.length,
    behind: (i, sim) => {
      if (i < PUBLIC.length) return null
      const nat = sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.symmetric })
      homes.nats.push(nat)
      return nat
    }
  })
  return { net, homes }
}


async function talk (t: Test, net: Testnet, from: TestNode, to: TestNode, text: string): Promise<void> {
  const m = await net.drive(from.actions.send(to.fingerprint, text))
  await net.until(() => receipted(from, m.id), 600_000, `"${text}" delivered`)
  t.ok((await conversation(to, from)).some(x => x.direction === 'in' && x.text === text), `"${text}" arrived`)
}

async function registered (net: Testnet, n: TestNode): Promise<void> {
  await net.until(() => (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, `node ${n.index} registered with a rendezvous`)
}

t.test('sim: symmetric ↔ symmetric, no relay configured: the daemons pick one and talk through it', async t => {
  const { net, homes } = await symmetricHomes(t, 4, 81)
  const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  await registered(net, alice)
  await registered(net, bob)
  await net.until(() => bob.traversal!.recordFields()!.natKind === 'address-dependent', 120_000, 'Bob knows his NAT is symmetric')
  await net.addContact(alice, bob, 'bob', 'fingerprint')
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  const started = net.sim!.now
  await talk(t, net, alice, bob, 'through a relay nobody set up')
  t.comment(JSON.stringify({ metric: 'sim-relay-connect-symmetric-ms', value: net.sim!.now - started, unit: 'simulated ms', seed: 81 }))
  const mine = row(alice, bob)
  t.equal(mine?.state, 'online')
  t.equal(mine?.path?.via, 'relayed', `Alice's link to Bob is relayed: ${JSON.stringify(mine?.path)}`)
  const via = mine?.path?.via === 'relayed' ? mine.path.relay : ''
  t.ok(PUBLIC.some(ip => via.startsWith(`${ip}:`)), `through one of the public nodes (${via})`)
  t.ok(mine?.address?.startsWith(via.split(':')[0]!), `Alice's peer address is the relay's (${mine?.address})`)
  t.equal(row(bob, alice)?.path?.via, 'relayed', 'Bob sees the relay too')
  await talk(t, net, bob, alice, 'and back')
  const relays = net.nodes.slice(0, 2).map(n => n.relay.service?.stats())
  t.ok(relays.some(s => (s?.forwardedPackets ?? 0) > 0), `a public node forwarded the session (${JSON.stringify(relays.map(s => s?.forwardedPackets))})`)
  t.ok(alice.autoRelay!.stats.relayedSessions + bob.autoRelay!.stats.relayedSessions >= 1, 'a Noise session through the relay')
  t.equal(alice.autoRelay!.report().length + bob.autoRelay!.report().length >= 2, true, 'both use a relay path (dmess status: relay.using)')

  // Bob's router is replaced by a cone NAT: the relayed session keeps trying and moves direct
  Object.assign(homes.nats[1]!.behaviour, NAT_PRESETS.fullCone)
  homes.nats[1]!.reboot()
  await net.until(() => row(alice, bob)?.path?.via === 'direct' || row(bob, alice)?.path?.via === 'direct', 600_000, 'the session moved direct')
  const moved = alice.autoRelay!.stats.movedDirect + bob.autoRelay!.stats.movedDirect
  t.ok(moved >= 1, `moved direct (${moved})`)
  await talk(t, net, alice, bob, 'direct now')
  const direct = row(alice, bob)
  t.ok(direct?.address?.startsWith('203.0.113.3:'), `Alice talks to Bob's NAT now (${direct?.address})`)
})

t.test("sim: a stranger's first contact reaches a user behind a symmetric NAT, through a relay she picked", async t => {
  const { net } = await symmetricHomes(t, 4, 82)
  const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  await registered(net, alice)
  await registered(net, bob)
  // Bob adds Alice by fingerprint; she has never heard of him
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  await net.drive(bob.actions.send(alice.fingerprint, 'hello, we met at the conference'))
  await net.until(() => alice.seen.some(e => e.type === 'request' && (e.request as { fingerprint?: string }).fingerprint === bob.fingerprint), 300_000, "Bob's contact request reaches Alice")
  const punch = alice.traversal!.service!.puncher.stats
  t.ok(punch.strangers >= 1, `Alice admitted a stranger's offer (${JSON.stringify(punch)})`)
  t.equal(alice.autoRelay!.stats.strangersAnswered >= 1, true, 'and answered it with a relay of her choosing')
  t.equal(row(bob, alice)?.path?.via, 'relayed', 'Bob reached her through the relay')
  t.equal(alice.traversal!.service!.puncher.stats.probesSent, 0, 'Alice never probed the stranger')
})
