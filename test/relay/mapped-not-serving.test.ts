// A daemon reachable only through a port its home router forwards does not serve relays
// (proto-spec/relay.md §1): the router forwards the node's one socket, and an allocation's two
// fresh ports would have no mapping. Bob sits behind a simulated router that answers PCP
// (src/node/sim-gateway.ts) and serves relays 'when-public', as a daemon does; his node maps its
// port and is publicly reachable through it, yet an ALLOCATE sent to that port gets no answer and
// opens no ports, and `relay.serving` says false.
import t from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import { SimPcpGateway } from '../../src/node/sim-gateway.js'
import type { TestNode } from '../../src/node/testnet.js'
import { testnet } from '../node/helpers.js'

t.test('sim: a node reachable through a PCP mapping only drops ALLOCATEs', async t => {
  let gw: SimPcpGateway | null = null
  const net = await testnet(t, 2, 95, {
    host: i => i === 0 ? '198.51.100.7' : '192.168.1.2',
    relay: i => i === 0 ? true : 'when-public',
    behind: (i, sim) => {
      if (i === 0) return null
      const nat = sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.portRestrictedCone })
      gw = new SimPcpGateway(nat, '192.168.1.1', sim.clock)
      return nat
    },
    portmap: i => i === 1 ? { findGateway: async () => gw!.gatewayFor('192.168.1.2') } : undefined
  })
  const [carol, bob] = net.nodes as [TestNode, TestNode]
  await net.until(() => bob.mappedAddress() !== null, 60_000, 'Bob has a mapping')
  const mapped = bob.mappedAddress()!
  t.equal(bob.publiclyReachable(), true, `reachable through ${mapped.host}:${mapped.port}`)
  t.equal(bob.relay.service !== null, true, 'Bob runs the relay service (a daemon serves when public)')
  t.equal(bob.servesRelays(), false, 'but takes no allocations through a mapping')
  const outcome = await net.drive(carol.relay.client!.allocate(mapped).then(() => 'allocated', (err: Error) => err.message), 60_000, 'the ALLOCATE to Bob')
  t.match(outcome, /no answer in \d+ ms/, `Carol's ALLOCATE to the mapped port gets no answer (${outcome})`)
  t.equal(bob.relay.service!.stats().allocationsCreated, 0, 'and opens no ports')
  // the mapping itself works: Carol's own relay answers the same request from Bob
  const bobAsks = await net.drive(bob.relay.client!.allocate(carol.address).then(r => { r.path.release(); return 'allocated' }, (err: Error) => err.message), 60_000, 'Bob\'s ALLOCATE to Carol')
  t.equal(bobAsks, 'allocated', 'a public node serves Bob')
})
