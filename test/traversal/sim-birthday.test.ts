// Birthday punching between whole nodes behind simulated NATs (proto-spec/traversal.md §6.3–§6.4):
// Alice sits behind a home router (endpoint-independent mapping, address-and-port-dependent
// filtering: a plain punch toward a symmetric NAT fails there), Bob behind a symmetric NAT that
// gives every destination a random port. Two public nodes at different IPs let each learn its
// NAT kind from its rendezvous registrations (§2). The session must end direct, carried by the
// side socket of Bob's that won, within the attempt's bounds; the other side sockets must close.
import t, { type Test } from 'tap'
import { NAT_PRESETS, type NatPresetName, type SimNat } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { BIRTHDAY_MAX_PROBES, BIRTHDAY_SOCKETS } from '../../src/traversal/constants.js'
import { SIDE_SOCKETS_MAX } from '../../src/transport/side-sockets.js'
import { receipted, conversation, testnet } from '../node/helpers.js'

/** Nodes 0 and 1 public (two IPs: two rendezvous, so NAT kinds are known); 2 (Alice) and 3 (Bob) behind NATs of the given kinds. */
function layout (alice: NatPresetName, bob: NatPresetName): Parameters<typeof testnet>[3] {
  const kinds: Array<NatPresetName | null> = [null, null, alice, bob]
  return {
    host: i => i < 2 ? `198.51.100.${7 + i}` : '192.168.1.2',
    behind: (i, sim): SimNat | null => {
      const kind = kinds[i]
      return kind == null ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS[kind] })
    }
  }
}

async function ready (net: Testnet, n: TestNode, kind: string): Promise<void> {
  await net.until(() => n.traversal?.service?.natKind() === kind && (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, `node ${n.index} knows its NAT is ${kind} and is registered`)
}

async function deliver (t: Test, net: Testnet, from: TestNode, to: TestNode, text: string): Promise<void> {
  const m = await net.drive(from.actions.send(to.fingerprint, text))
  await net.until(() => receipted(from, m.id), 600_000, `"${text}" delivered`)
  t.ok((await conversation(to, from)).some(x => x.direction === 'in' && x.text === text), `the message "${text}" arrived`)
}

for (const seed of [81, 82, 83, 84, 85, 86, 87, 88, 89]) {
  t.test(`sim: portRestrictedCone ↔ symmetric: a birthday punch ends direct (seed ${seed})`, async t => {
    const net = await testnet(t, 4, seed, layout('portRestrictedCone', 'symmetric'))
    const [, , alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
    await ready(net, alice, 'endpoint-independent')
    await ready(net, bob, 'address-dependent')
    await net.addContact(alice, bob, 'bob', 'fingerprint')
    await net.addContact(bob, alice, 'alice', 'fingerprint')
    const sentAt = net.sim!.now
    await deliver(t, net, alice, bob, 'to the symmetric side')
    // a figure, not a threshold: simulated ms from send to receipt (lookup, punch, handshake, delivery)
    console.log(JSON.stringify({ bench: 'sim-birthday', metric: 'send_to_delivered_ms', value: net.sim!.now - sentAt, seed }))
    const row = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
    t.equal(row?.state, 'online')
    t.equal(row?.path?.via, 'direct', 'direct: no relay on the path')
    t.ok(row?.address?.startsWith('203.0.113.3:'), `Alice talks to Bob's NAT (${row?.address})`)
    const a = alice.traversal!.service!.puncher.stats
    const b = bob.traversal!.service!.puncher.stats
    t.comment(`alice ${JSON.stringify(a)}`)
    t.comment(`bob ${JSON.stringify(b)}`)
    t.ok(a.birthdayPaths + b.birthdayPaths >= 1, 'the path came from a birthday hit')
    t.ok(b.birthdaySockets >= 1 && b.birthdaySockets <= b.birthdayAttempts * BIRTHDAY_SOCKETS, `Bob opened at most ${BIRTHDAY_SOCKETS} side sockets per attempt (${b.birthdaySockets} in ${b.birthdayAttempts})`)
    const side = bob.udp.endpoint.stats().sideSockets
    t.ok(side.peak <= SIDE_SOCKETS_MAX, `at most ${SIDE_SOCKETS_MAX} open at once (${side.peak})`)
    const attempts = Math.max(1, a.offers + a.forwardsOpened - a.crossed)
    t.ok(a.birthdayProbes >= 1 && a.birthdayProbes <= attempts * BIRTHDAY_MAX_PROBES, `Alice sent at most ${BIRTHDAY_MAX_PROBES} random probes per attempt (${a.birthdayProbes})`)
    t.equal(side.carrying, 1, 'one side socket of Bob\'s carries the session')
    t.equal(side.open, 1, 'and the others are closed')
    t.equal(bob.traversal!.service!.sideSockets, 0, 'no attempt holds side sockets any more')
    // the conversation goes on both ways over that socket
    await deliver(t, net, bob, alice, 'and back')
    await net.advance(120_000)
    await deliver(t, net, alice, bob, 'two quiet minutes later')
    t.equal(bob.udp.endpoint.stats().sideSockets.carrying, 1, 'still carried by the winning socket')
  })
}

// Several seeds: Bob's own offer crosses Alice's (both want the session at once), and in some hers
// gives way to his (his punch id is lower); the answer she runs instead must still give up, or
// her relay fallback would never start (traversal.md §5.3 crossed offers, §7.2)
const keptBy = new Set<string>()
for (const seed of [81, 82, 83, 84, 85, 86, 87, 88, 89]) {
  t.test(`sim: symmetric ↔ symmetric: no birthday punch (no side sockets, no random probes), punching finds no path (a relay takes over: sim-relay.test.ts) (seed ${seed})`, async t => {
    const net = await testnet(t, 4, seed, layout('symmetric', 'symmetric'))
    const [, , alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
    await ready(net, alice, 'address-dependent')
    await ready(net, bob, 'address-dependent')
    await net.addContact(alice, bob, 'bob', 'fingerprint')
    await net.addContact(bob, alice, 'alice', 'fingerprint')
    await net.drive(alice.actions.send(bob.fingerprint, 'no way through'))
    const punch = alice.traversal!.service!.puncher.stats
    await net.until(() => punch.failed > 0, 120_000, 'a punch that gives up')
    const kept = bob.traversal!.service!.puncher.stats.crossed > 0 ? 'bob' : 'alice'
    keptBy.add(kept)
    t.comment(`crossed offers: ${kept}'s punch id was the lower one`)
    t.equal(punch.paths, 0)
    t.equal(punch.birthdaySockets + punch.birthdayProbes + bob.traversal!.service!.puncher.stats.birthdaySockets, 0, 'no birthday punch between two symmetric NATs')
    t.not(alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.path?.via, 'direct', 'no direct path')
  })
}

t.test('sim: the seeds above cover both ways crossed offers settle', async t => {
  t.ok(keptBy.has('bob'), 'a seed where Alice\'s offer gave way to Bob\'s')
  t.ok(keptBy.has('alice'), 'and one where Bob\'s gave way to hers')
})
