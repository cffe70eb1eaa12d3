// Whole nodes behind simulated NATs (src/sim/nat.ts) reach each other by hole punching
// (proto-spec/traversal.md): node 0 is a public bootstrap node (and so everyone's rendezvous),
// Alice and Bob sit behind NATs, each added the other by fingerprint only, so the only way in is
// Bob's sealed presence record: his reflexive address, NAT kind and rendezvous entries. The
// session must end direct (no relay exists here), and the conversation must continue.
import t, { type Test } from 'tap'
import { NAT_PRESETS, type NatPresetName, type SimNat } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { receipted, conversation, stats, testnet } from '../node/helpers.js'

const PUBLIC = '198.51.100.7'

interface Layout { host: (i: number) => string, behind: NonNullable<Parameters<typeof testnet>[3]>['behind'] }

/** Node 0 public; nodes 1 and 2 each behind their own NAT of the given kinds. */
function twoHomes (a: NatPresetName, b: NatPresetName, extra: Partial<SimNat['behaviour']> = {}): Layout {
  const kinds = [null, a, b]
  return {
    host: i => i === 0 ? PUBLIC : '192.168.1.2',
    behind: (i, sim) => {
      const kind = kinds[i]
      return kind == null ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS[kind], ...extra })
    }
  }
}

async function talk (t: Test, net: Testnet, alice: TestNode, bob: TestNode, text: string): Promise<void> {
  const m = await net.drive(alice.actions.send(bob.fingerprint, text))
  await net.until(() => receipted(alice, m.id), 600_000, `"${text}" delivered`)
  t.ok((await conversation(bob, alice)).some(x => x.direction === 'in' && x.text === text), `Bob has "${text}"`)
}

/** The winning candidate kind, from whichever side's punch made the session (both punch: both want the other). */
function winner (a: TestNode, b: TestNode): string | null {
  const candidate = (n: TestNode, of: TestNode): string | null => {
    const path = n.actions.peers().find(p => p.fingerprint === of.fingerprint)?.path
    return path?.via === 'direct' ? path.candidate : null
  }
  return candidate(a, b) ?? candidate(b, a)
}

async function befriendByFingerprint (net: Testnet, a: TestNode, b: TestNode): Promise<void> {
  await net.addContact(a, b, 'b', 'fingerprint')
  await net.addContact(b, a, 'a', 'fingerprint')
}

for (const [a, b] of [['portRestrictedCone', 'portRestrictedCone'], ['restrictedCone', 'fullCone']] as Array<[NatPresetName, NatPresetName]>) {
  t.test(`sim: ${a} ↔ ${b}: a direct session through a hole punch`, async t => {
    const net = await testnet(t, 3, 71, twoHomes(a, b))
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered with a rendezvous')
    const fields = bob.traversal!.recordFields()!
    t.ok(fields.candidates.some(c => c.kind === 'reflexive' && c.host === '203.0.113.2'), 'Bob knows his reflexive address')
    await befriendByFingerprint(net, alice, bob)
    await talk(t, net, alice, bob, 'through the NATs')
    const row = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
    t.equal(row?.state, 'online')
    t.equal(row?.address?.startsWith('203.0.113.2:'), true, `Alice talks to Bob's NAT (${row?.address})`)
    t.same(row?.path?.via, 'direct')
    const won = winner(alice, bob)
    t.ok(won === 'reflexive' || won === 'peer-reflexive', `the winning candidate: ${won}`)
    const punch = [alice, bob].map(n => n.traversal!.service!.puncher.stats)
    t.ok(punch.some(p => p.offers >= 1 && p.answersReceived >= 1 && p.paths >= 1), `offer answered, path found (${JSON.stringify(punch)})`)
    t.equal(net.nodes[0]!.traversal!.service!.server.stats.forwarded >= 1, true, 'the rendezvous passed the offer on')
  })
}

t.test('sim: a stranger\'s request reaches a user behind a full cone of unknown kind: the dial gets in where no punch is answered', async t => {
  // Alice is public and the only other node: Bob registers with one rendezvous, so his NAT kind stays unknown (traversal.md §2)
  const net = await testnet(t, 2, 78, {
    host: i => i === 0 ? PUBLIC : '192.168.1.2',
    behind: (i, sim) => i === 0 ? null : sim.createNat({ externalIps: ['203.0.113.2'], ...NAT_PRESETS.fullCone })
  })
  const [alice, bob] = net.nodes as [TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await net.addContact(alice, bob, 'b', 'fingerprint') // Bob has not added Alice: he answers no offer of hers
  const m = await net.drive(alice.actions.send(bob.fingerprint, 'hello, stranger'))
  await net.until(() => receipted(alice, m.id), 120_000, 'the request delivered')
  t.equal(bob.traversal!.recordFields()!.natKind, 'unknown', 'Bob\'s NAT kind is unknown')
  t.same(bob.actions.requests().map(r => [r.fingerprint, r.text]), [[alice.fingerprint, 'hello, stranger']], 'Bob sees Alice\'s request')
  t.equal(bob.traversal!.service!.puncher.stats.forwardsOpened, 0, 'no punch answered: the dial of his record did it')
  t.equal(alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.address?.startsWith('203.0.113.2:'), true, 'at his NAT\'s address')
})

t.test('sim: both behind one NAT without hairpinning: the LAN candidate wins', async t => {
  let home: SimNat | null = null
  const net = await testnet(t, 3, 72, {
    host: i => i === 0 ? PUBLIC : `192.168.1.${i + 1}`,
    behind: (i, sim) => i === 0 ? null : (home ??= sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.portRestrictedCone, hairpinning: false }))
  })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await befriendByFingerprint(net, alice, bob)
  await talk(t, net, alice, bob, 'same house')
  const row = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
  t.equal(row?.address, `192.168.1.3:${bob.address.port}`, 'Alice reaches Bob at his LAN address')
  t.equal(winner(alice, bob), 'lan')
})

t.test('sim: double NAT (a home NAT behind a carrier-grade NAT) on one side', async t => {
  const net = await testnet(t, 3, 73, {
    host: i => i === 0 ? PUBLIC : i === 1 ? '192.168.1.2' : '192.168.7.2',
    behind: (i, sim) => {
      if (i === 0) return null
      if (i === 1) return sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.portRestrictedCone })
      const cgn = sim.createNat({ externalIps: ['203.0.113.100'], ...NAT_PRESETS.restrictedCone })
      return cgn.createNat({ externalIps: ['100.64.0.7'], ...NAT_PRESETS.portRestrictedCone })
    }
  })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await befriendByFingerprint(net, alice, bob)
  await talk(t, net, alice, bob, 'through two NATs')
  const row = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
  t.equal(row?.address?.startsWith('203.0.113.100:'), true, `Alice talks to the carrier NAT's address (${row?.address})`)
  t.same(row?.path?.via, 'direct')
})

t.test('sim: idle for 10 minutes behind NATs that forget mappings after 30 s, then a message gets through', async t => {
  const net = await testnet(t, 3, 74, twoHomes('portRestrictedCone', 'portRestrictedCone', { mappingTimeoutMs: 30_000 }))
  const [zero, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await befriendByFingerprint(net, alice, bob)
  await talk(t, net, alice, bob, 'before the pause')
  const forwardedBefore = zero.traversal!.service!.server.stats.forwarded
  await net.advance(600_000)
  t.ok(bob.traversal!.service!.registrar.entries(net.sim!.now).length > 0, 'Bob is still registered: his keepalives held the mapping open')
  await talk(t, net, alice, bob, 'after ten quiet minutes')
  t.comment(`punch offers forwarded during the pause: ${zero.traversal!.service!.server.stats.forwarded - forwardedBefore}`)
})

t.test('sim: Bob\'s NAT reboots mid-chat and his address changes; the conversation continues', async t => {
  let bobsNat: SimNat | null = null
  const layout = twoHomes('portRestrictedCone', 'portRestrictedCone')
  const net = await testnet(t, 3, 75, {
    host: layout.host,
    behind: (i, sim) => {
      const nat = i === 0 ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.portRestrictedCone, portAssignment: 'random' })
      if (i === 2) bobsNat = nat
      return nat
    }
  })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await befriendByFingerprint(net, alice, bob)
  await talk(t, net, alice, bob, 'before the reboot')
  const before = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.address
  bobsNat!.reboot()
  await talk(t, net, alice, bob, 'after the reboot')
  const m = await net.drive(bob.actions.send(alice.fingerprint, 'and back'))
  await net.until(() => receipted(bob, m.id), 600_000, 'Bob\'s reply delivered')
  const after = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.address
  t.not(after, before, `Bob's address changed (${before} → ${after})`)
  t.equal(after?.startsWith('203.0.113.2:'), true, 'still his NAT, another port: the new mapping')
})

t.test('sim: restrictedCone ↔ symmetric: the cone\'s filter admits the symmetric side, the session is direct', async t => {
  const net = await testnet(t, 3, 76, twoHomes('restrictedCone', 'symmetric'))
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  await befriendByFingerprint(net, alice, bob)
  await talk(t, net, alice, bob, 'to the symmetric side')
  t.same(alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)?.path?.via ?? bob.actions.peers().find(p => p.fingerprint === alice.fingerprint)?.path?.via, 'direct')
})

t.test('sim: symmetric ↔ symmetric: punching gives up (the relay hook\'s cue), the dial fails too, no session', async t => {
  const net = await testnet(t, 3, 77, twoHomes('symmetric', 'symmetric'))
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 60_000, 'Bob registered')
  // one rendezvous cannot tell a NAT's kind (traversal.md §2): Bob's record says 'unknown', so Alice dials it as well as punching
  t.equal(bob.traversal!.recordFields()!.natKind, 'unknown', 'Bob\'s NAT kind is unknown')
  await befriendByFingerprint(net, alice, bob)
  const m = await net.drive(alice.actions.send(bob.fingerprint, 'no way through'))
  const punch = [alice, bob].map(n => n.traversal!.service!.puncher.stats)
  // both want the other: whoever offered first gives up, and that is what NodeOptions.onPunchGiveUp (traversal.md §7) is called with
  await net.until(() => punch.some(p => p.failed > 0), 120_000, 'a punch that gives up')
  await net.until(() => stats(alice).dialsFailed > 0, 120_000, 'Alice\'s dial of Bob\'s record fails')
  t.ok(punch.some(p => p.offers >= 1) && punch.every(p => p.paths === 0), `offered, no path (${JSON.stringify(punch)})`)
  for (const [a, b] of [[alice, bob], [bob, alice]] as const) {
    const state = a.actions.peers().find(p => p.fingerprint === b.fingerprint)?.state ?? 'offline'
    t.ok(state === 'offline' || state === 'connecting', `no session: a relay is needed (${state})`)
    t.equal(a.messaging.network.link(b.fingerprint), undefined, 'no link')
  }
  t.notOk(receipted(alice, m.id), 'the message waits in the outbox')
})
