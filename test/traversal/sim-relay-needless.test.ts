// A relay a stranger's first contact set up must not replace a direct session (proto-spec/
// traversal.md §5.4, §7.2; session.md §3.1): Alice sits behind a port-restricted cone, Bob behind a
// router that maps his port (PCP), so his record is directly reachable. Bob adds Alice first: his
// node punches her (her record says cone), and she, not yet holding him as a contact, answers the
// stranger with a relay allocation. Then she adds him and dials his mapped address directly.
// Whatever the order of the two, the link must end direct at once: a relay handshake must not
// replace a direct session, and a relayed first contact moves direct when she adds him.
import t from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import { SimPcpGateway } from '../../src/node/sim-gateway.js'
import type { TestNode } from '../../src/node/testnet.js'
import { receipted, testnet, testnetSeed } from '../node/helpers.js'
import { row, PUBLIC } from './sim-pair.js'



for (const gap of [0, 20, 40, 60, 80, 120]) {
  t.test(`sim: Bob (mapped) adds Alice (cone) ${gap} ms before she adds him: the link ends direct at once`, async t => {
    let gw: SimPcpGateway | null = null
    const net = await testnet(t, 4, testnetSeed(40 + gap), {
      host: i => PUBLIC[i] ?? '192.168.1.2',
      relay: i => i < PUBLIC.length,
      behind: (i, sim) => {
        if (i < PUBLIC.length) return null
        const nat = sim.createNat({ externalIps: [`203.0.113.${i}`], ...(i === 3 ? NAT_PRESETS.symmetric : NAT_PRESETS.portRestrictedCone) })
        if (i === 3) gw = new SimPcpGateway(nat, '192.168.1.1', sim.clock)
        return nat
      },
      portmap: i => i === 3 ? { findGateway: async () => gw!.gatewayFor('192.168.1.2') } : undefined
    })
    const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
    await net.until(() => (alice.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, 'Alice registered')
    await net.until(() => alice.traversal!.recordFields()!.natKind === 'endpoint-independent', 120_000, 'Alice knows her NAT is a cone')
    await net.until(() => bob.mappedAddress() !== null && bob.traversal!.recordFields()!.candidates.some(c => c.kind === 'mapped'), 120_000, 'Bob has a mapping in his record')
    await net.advance(5_000) // the records republished with what each now knows
    await net.addContact(bob, alice, 'alice', 'fingerprint')
    await net.advance(gap)
    await net.addContact(alice, bob, 'bob', 'fingerprint')
    const added = net.sim!.now
    const m = await net.drive(alice.actions.send(bob.fingerprint, 'hello'))
    await net.until(() => receipted(alice, m.id), 60_000, 'delivered')
    // a relayed session of the first contact goes direct at once (traversal.md §7.3), within one sweep at most
    await net.until(() => row(alice, bob)?.path?.via === "direct" && row(bob, alice)?.path?.via === "direct", 10_000, "both links direct").catch(() => {})
    const mapped = bob.mappedAddress()!
    t.equal(row(alice, bob)?.path?.via, 'direct', `Alice's link is direct: ${JSON.stringify(row(alice, bob))}`)
    t.equal(row(bob, alice)?.path?.via, 'direct', `and Bob's: ${JSON.stringify(row(bob, alice))}`)
    // a relay may carry the first session (her stranger's answer, or his race while she was not yet
    // his contact); it moves direct as soon as she has added him, not at the first re-punch 10 s on
    const relayed = alice.autoRelay!.stats.relayedSessions + bob.autoRelay!.stats.relayedSessions
    if (relayed > 0) t.ok(alice.autoRelay!.stats.movedDirect + bob.autoRelay!.stats.movedDirect >= 1, 'the relayed session moved direct')
    t.ok(net.sim!.now - added < 5_000, `direct within ${net.sim!.now - added} ms of her adding him`)
    t.comment(JSON.stringify({ gap, mapped: `${mapped.host}:${mapped.port}`, alice: alice.autoRelay!.stats, bob: bob.autoRelay!.stats }))
  })
}
