// The answerer's early dial (proto-spec/traversal.md §5.3) on whole nodes behind simulated
// port-restricted cone NATs, 10 ms one way per link (src/node/testnet.ts): Bob holds Alice as a
// contact and waits; Alice adds him by fingerprint. Her offer reaches him through the rendezvous
// (two trips), he answers it and dials her at once with Noise IK: her first probes, sent with the
// offer, have opened her NAT toward him, so his message 1 gets in (one trip) and her message 2 is
// his first authenticated byte (one trip). Her own dial of the path, which a probe of his makes,
// waits for that session instead of making a second (session.md §3.1, an answered initiation).
// Simulated time counts the trips, not this machine's load.
import t from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import { nodeCounts, type TestNode } from '../../src/node/testnet.js'
import { testnet } from '../node/helpers.js'

const PUBLIC = '198.51.100.1'
const ONE_WAY_MS = 10

t.test('sim: a contact\'s offer is answered with a dial: Bob\'s first authenticated byte four trips after her offer leaves, one handshake', async t => {
  // two public nodes at two IPs: each side learns its NAT kind (traversal.md §2), so a record
  // says to punch, not to dial as well (§5.3: a NAT of unknown kind is dialled at once)
  const net = await testnet(t, 4, 83, {
    host: i => i < 2 ? `${PUBLIC}${i}` : '192.168.1.2',
    behind: (i, sim) => i < 2 ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.portRestrictedCone })
  })
  const [, , alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  const registered = (n: TestNode): boolean => (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0
  const known = (n: TestNode): boolean => n.traversal?.service?.natKind() === 'endpoint-independent'
  await net.until(() => registered(alice) && registered(bob) && known(alice) && known(bob), 60_000, 'both registered, their NAT kinds known')
  await net.advance(2000) // their records, saying so, stored in the DHT
  // Bob adds Alice first: his own punch toward her, a stranger's to her, goes unanswered (§5.4:
  // no relay here) and gives up; from then on he waits for her
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  await net.until(() => (bob.traversal?.service?.puncher.stats.failed ?? 0) >= 1, 60_000, 'Bob\'s own attempt given up')
  const online = (n: TestNode, of: TestNode): boolean => n.actions.peers().some(p => p.fingerprint === of.fingerprint && p.state === 'online')
  t.notOk(online(bob, alice), 'no session yet')
  const before = [alice, bob].map(n => nodeCounts(n).endpoint.handshakes)
  const t0 = net.sim!.now
  let offerAt = NaN
  const offers = (): number => alice.traversal?.service?.puncher.stats.offers ?? 0
  await net.addContact(alice, bob, 'bob', 'fingerprint')
  await net.until(() => {
    if (Number.isNaN(offerAt) && offers() > 0) offerAt = net.sim!.now
    return online(bob, alice)
  }, 60_000, 'Bob sees Alice online')
  const firstByte = net.sim!.now - offerAt
  t.comment(`add → Bob's first authenticated byte ${net.sim!.now - t0} ms; Alice's offer → it ${firstByte} ms (${ONE_WAY_MS} ms one way)`)
  t.ok(firstByte <= 4 * ONE_WAY_MS + 2, `offer, forward, message 1, message 2: ${firstByte} ms`)
  await net.until(() => online(alice, bob), 60_000, 'Alice sees Bob online')
  await net.advance(3000) // any second handshake would have been made and settled by now
  const after = [alice, bob].map(n => nodeCounts(n).endpoint.handshakes)
  const d = (i: number, k: 'started' | 'responsesSent' | 'sessionsReplaced' | 'held'): number => after[i]![k] - before[i]![k]
  t.same([d(1, 'started'), d(0, 'responsesSent')], [1, 1], 'Bob dialled, Alice answered')
  t.equal(d(0, 'held'), 1, 'Alice\'s own dial of the path held its message 1 for that session')
  t.same([d(0, 'started') - d(0, 'held'), d(1, 'responsesSent')], [0, 0], 'and never sent it: one handshake in all')
  t.same([d(0, 'sessionsReplaced'), d(1, 'sessionsReplaced')], [0, 0], 'no session replaced')
  t.equal(bob.udp.endpoint.sessions().length, 1)
})
