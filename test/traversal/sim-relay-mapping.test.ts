// A port mapping that appears while two users talk through a relay moves them direct
// (proto-spec/traversal.md §7.3, relay.md §8): Alice and Bob sit behind symmetric NATs and talk
// relayed; then Bob's router starts answering PCP (its service was off), Bob's node maps its port
// (portmap.md §4), its record lists the mapped address, and the relayed session moves to a direct
// one. `dmess peers --json` tells the truth on both sides throughout: relayed (with the relay)
// while it is, direct (at the mapped address) after.
import t, { type Test } from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import { SimPcpGateway } from '../../src/node/sim-gateway.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { receipted, testnet, testnetSeed } from '../node/helpers.js'
import { row, PUBLIC } from './sim-pair.js'



async function talk (t: Test, net: Testnet, from: TestNode, to: TestNode, text: string): Promise<void> {
  const m = await net.drive(from.actions.send(to.fingerprint, text))
  await net.until(() => receipted(from, m.id), 300_000, `"${text}" delivered`)
  t.pass(`"${text}" delivered`)
}

t.test('sim: a PCP mapping that appears mid-relay moves the session direct', async t => {
  let gw: SimPcpGateway | null = null
  const seed = testnetSeed(2) // a seed where Bob's LAN address comes first in his record: it must be tried last
  const net = await testnet(t, 4, seed, {
    host: i => PUBLIC[i] ?? '192.168.1.2',
    relay: i => i < PUBLIC.length,
    behind: (i, sim) => {
      if (i < PUBLIC.length) return null
      const nat = sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.symmetric })
      if (i === 3) gw = new SimPcpGateway(nat, '192.168.1.1', sim.clock, { answering: false })
      return nat
    },
    // Bob's node asks his router for a mapping, and again every 20 s while it has none
    portmap: i => i === 3 ? { findGateway: async () => gw!.gatewayFor('192.168.1.2'), tuning: { retryMs: 20_000 } } : undefined
  })
  const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  for (const n of [alice, bob]) {
    await net.until(() => (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, `node ${n.index} registered`)
    await net.until(() => n.traversal!.recordFields()!.natKind === 'address-dependent', 120_000, `node ${n.index} knows its NAT is symmetric`)
  }
  t.equal(bob.mappedAddress(), null, 'no mapping yet: the router does not answer PCP')
  await net.addContact(alice, bob, 'bob', 'fingerprint')
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  await talk(t, net, alice, bob, 'relayed first')
  const before = row(alice, bob)?.path
  t.equal(before?.via, 'relayed', `Alice's link is relayed: ${JSON.stringify(before)}`)
  t.equal(row(bob, alice)?.path?.via, 'relayed', 'and Bob says so too')

  gw!.answering = true
  const started = net.sim!.now
  await net.until(() => bob.mappedAddress() !== null, 60_000, 'Bob has a mapping')
  const mapped = bob.mappedAddress()!
  t.equal(mapped.host, '203.0.113.3', `mapped on his router's address (${mapped.host}:${mapped.port})`)
  t.ok(bob.traversal!.service!.candidates().some(c => c.kind === 'mapped'), 'his candidates list it')
  await net.until(() => row(alice, bob)?.path?.via === 'direct' && row(bob, alice)?.path?.via === 'direct', 300_000, 'both links direct')
  t.comment(JSON.stringify({ metric: 'sim-relay-to-direct-after-mapping-ms', value: net.sim!.now - started, unit: 'simulated ms', seed }))
  t.ok(alice.autoRelay!.stats.movedDirect + bob.autoRelay!.stats.movedDirect >= 1, 'the relayed session moved direct')
  t.equal(row(alice, bob)?.address, `${mapped.host}:${mapped.port}`, 'Alice talks to Bob\'s mapped address')
  t.notOk(row(bob, alice)?.address?.startsWith('198.51.100.'), `Bob's link to Alice is not at a relay (${row(bob, alice)?.address})`)
  await talk(t, net, bob, alice, 'direct now')
  await talk(t, net, alice, bob, 'and back')
  await net.until(() => net.nodes.slice(0, 2).every(n => (n.relay.service?.stats().allocations ?? 0) === 0), 120_000, 'the relay allocation released')
  // the side that did not release learns it from the sweep (traversal.md §7.4) or its unanswered refresh
  await net.until(() => alice.autoRelay!.report().length === 0 && bob.autoRelay!.report().length === 0, 120_000, 'no relay path in use on either side')
  t.equal(row(alice, bob)?.path?.via, 'direct', 'still direct')
})
