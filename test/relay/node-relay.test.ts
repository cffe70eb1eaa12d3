// The relay inside whole nodes (src/node/node.ts, proto-spec/relay.md §1–§2): a node that serves
// as a relay carries a session between two others, on the simulator and on loopback UDP, and a
// node that does not serve never answers an ALLOCATE.
import t from 'tap'
import { createNodes } from '../../src/node/testnet.js'
import type { Session } from '../../src/transport/index.js'

for (const network of ['sim', 'udp'] as const) {
  t.test(`${network}: node 0 relays a session from node 1 to node 2`, async t => {
    const net = await createNodes(3, { network, seed: 21, relay: i => i === 0 })
    t.teardown(async () => { await net.destroy() })
    const [relay, a, b] = net.nodes as [typeof net.nodes[0], typeof net.nodes[0], typeof net.nodes[0]]
    t.ok(relay.relay.service !== null && a.relay.service === null, 'only node 0 serves')
    const { path, offer } = await net.drive(a.relay.client!.allocate(relay.address), 10_000, 'allocate')
    await net.drive(b.relay.client!.join(offer), 10_000, 'join')
    await net.drive(path.ready(), 10_000, 'forwarding')
    const inbound = new Promise<Session>(resolve => b.udp.endpoint.once('session', resolve))
    const sa = await net.drive(a.udp.endpoint.connect(path.address, { expectFingerprint: b.fingerprint }), 20_000, 'handshake')
    const sb = await net.drive(inbound, 5_000, 'inbound session')
    t.equal(sb.remoteFingerprint, a.fingerprint)
    t.same(sa.remoteAddress, path.address, "a's session runs to the relay's port")
    t.same(path.info, { path: 'relayed', via: `${relay.address.host}:${relay.address.port}` }, 'what peers --json shows')
    t.ok(relay.relay.service!.stats().forwardedPackets >= 3)
    // a node that does not serve never answers an ALLOCATE: the client times out and moves on
    // (on the simulator only: on UDP that is 5 s of real time)
    if (network === 'sim') await t.rejects(net.drive(a.relay.client!.allocate(b.address), 10_000, 'allocate on a non-relay'), { code: 'RELAY_TIMEOUT' })
  })
}
