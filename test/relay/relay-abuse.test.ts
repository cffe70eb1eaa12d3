// Automatic relays under abuse (proto-spec/relay.md §6, traversal.md §5.4), with whole nodes on the
// simulator: Alice sits behind a symmetric NAT, node 0 is the public bootstrap, rendezvous and
// relay. A stranger who read Alice's record (it has her fingerprint) tries to
//  - make her bind a relay of the stranger's choosing, pointing at a third address (a victim):
//    in an offer's relay block and in a role-3 relay message;
//  - flood her with offers from many made-up identities, to make her allocate relays without end.
// Neither works: Alice never sends a datagram to the victim, binds nothing she did not allocate,
// and allocates at most the stranger budget's worth of relays.
import t from 'tap'
import { NAT_PRESETS } from '../../src/sim/index.js'
import { simSockets } from '../../src/sim/io.js'
import type { TestNode } from '../../src/node/testnet.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { sealPunch } from '../../src/traversal/punch-seal.js'
import { encodeTraversal } from '../../src/traversal/messages.js'
import { TraversalType, STRANGER_PUNCH_BURST, STRANGER_PUNCH_RATE_PER_S } from '../../src/traversal/constants.js'
import { testnet } from '../node/helpers.js'
import { testRng } from '../helpers/seed.js'

const PUBLIC = '198.51.100.7'
const VICTIM = { host: '198.51.100.66', port: 5000 }

t.test("relay abuse: a stranger can neither point Alice's relay at a third address nor make her allocate without end", async t => {
  const net = await testnet(t, 2, 91, {
    host: i => i === 0 ? PUBLIC : '192.168.1.2',
    relay: i => i === 0,
    behind: (i, sim) => i === 0 ? null : sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.symmetric })
  })
  const [relayNode, alice] = net.nodes as [TestNode, TestNode]
  await net.until(() => (alice.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, 'Alice registered')
  const rv = alice.traversal!.recordFields()!.rendezvous[0]!
  const rendezvous = { host: rv.host, port: rv.port }

  // the victim: a third address that counts what reaches it
  const victim = await simSockets(net.sim!, VICTIM.host).bind({ port: VICTIM.port })
  let toVictim = 0
  victim.onDatagram = () => { toVictim++ }

  const stranger = await net.stranger()
  const rng = testRng(t, 0xab05e)
  const wall = (): number => stranger.world.scheduler.wallNow()
  const victimOffer = { relay: VICTIM, allocationId: rng.bytes(8), port: VICTIM.port, pairSecret: rng.bytes(32) }
  const send = (sealed: Uint8Array): void => { stranger.endpoint.sendDatagram(rendezvous, encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: rv.tag, sealed })) }
  const offerFrom = (id: ReturnType<typeof generateIdentity>, role: 'offer' | 'relay'): Uint8Array =>
    sealPunch({ role, punchId: rng.bytes(16), sentAt: wall(), natKind: 'unknown', candidates: [{ kind: 'public', host: VICTIM.host, port: VICTIM.port }], relay: victimOffer }, id, alice.identity.dhPublic)

  // 1. a relay block and a relay message naming the victim
  send(offerFrom(stranger.identity, 'offer'))
  send(offerFrom(generateIdentity(), 'relay'))
  await net.advance(20_000)
  t.equal(toVictim, 0, 'Alice sent nothing to the address the stranger named (no BIND, no probe)')
  t.equal(alice.autoRelay!.stats.joined, 0, 'she joined no relay a stranger offered')
  t.equal(alice.traversal!.service!.puncher.stats.strangers, 1, 'the stranger\'s offer was admitted under the budget…')
  t.equal(alice.autoRelay!.stats.strangersAnswered, 1, '…and answered with a relay Alice allocated')
  t.ok(alice.traversal!.service!.puncher.stats.notContact >= 1, 'the relay message from a stranger was dropped')

  // 2. a flood: 300 offers from 100 made-up identities
  const ids = Array.from({ length: 100 }, () => generateIdentity())
  const before = alice.autoRelay!.stats.allocated
  const floodStart = net.sim!.now
  for (let i = 0; i < 300; i++) {
    send(offerFrom(ids[i % ids.length]!, 'offer'))
    await net.advance(200)
  }
  await net.advance(10_000)
  const seconds = (net.sim!.now - floodStart) / 1000
  const allocated = alice.autoRelay!.stats.allocated - before
  // the simulator runs event to event, so the flood took `seconds` of simulated time: the budget is a rate
  const cap = STRANGER_PUNCH_BURST + Math.ceil(seconds * STRANGER_PUNCH_RATE_PER_S)
  t.ok(allocated <= cap, `Alice allocated ${allocated} relays for 300 stranger offers in ${seconds} s (budget: at most ${cap})`)
  t.ok(allocated < 300 / 2, 'far fewer than the offers')
  t.ok(alice.traversal!.service!.puncher.stats.strangersCapped > 0, 'the rest were capped')
  t.equal(toVictim, 0, 'still nothing to the victim')
  t.ok((relayNode.relay.service?.stats().allocations ?? 0) <= 8, 'the relay holds at most its per-network cap for Alice\'s network')
  t.equal(alice.traversal!.service!.puncher.stats.probesSent, 0, 'Alice never probed a stranger')
  console.log(JSON.stringify({ metric: 'relay-stranger-flood-allocations', value: allocated, of: 300, unit: 'allocations', cap, seconds }))
  await victim.close()
})
