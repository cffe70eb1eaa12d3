// Two relays for one pair converge on one (proto-spec/traversal.md §7.6): Alice and Bob sit behind
// symmetric NATs, add each other and write at the same simulated moment, so both daemons allocate
// a relay at once (relay first, §7.1) and each offers its allocation to the other. Both must end
// on the same relay path — the allocation of the side with the smaller fingerprint — with the
// other allocation released, and the conversation runs over it both ways.
import t from 'tap'
import { DIAL_TIMEOUT_MS } from '../../src/messaging/peer-connector.js'
import { receipted, testnetSeed } from '../node/helpers.js'
import { row, symmetricPair } from './sim-pair.js'

/** The symmetric pair of sim-pair.ts, each holding the other as a contact. */
async function contactPair (t: Parameters<typeof symmetricPair>[0], seed: number): Promise<Awaited<ReturnType<typeof symmetricPair>>> {
  const pair = await symmetricPair(t, seed)
  await pair.net.addContact(pair.alice, pair.bob, 'bob', 'fingerprint')
  await pair.net.addContact(pair.bob, pair.alice, 'alice', 'fingerprint')
  return pair
}

t.test('sim: both sides allocate a relay at once; they converge on the smaller fingerprint\'s', async t => {
  const { net, alice, bob } = await contactPair(t, 91)
  const [ma, mb] = await Promise.all([net.drive(alice.actions.send(bob.fingerprint, 'from alice')), net.drive(bob.actions.send(alice.fingerprint, 'from bob'))])
  await net.until(() => receipted(alice, ma.id) && receipted(bob, mb.id), 600_000, 'both messages delivered')
  const allocated = alice.autoRelay!.stats.allocated + bob.autoRelay!.stats.allocated
  t.comment(`allocations made: alice ${alice.autoRelay!.stats.allocated}, bob ${bob.autoRelay!.stats.allocated}`)
  t.ok(allocated >= 1, `at least one allocation (${allocated})`)
  const relayed = alice.autoRelay!.stats.relayedSessions + bob.autoRelay!.stats.relayedSessions
  t.equal(relayed, 1, 'one Noise handshake through a relay, not one per allocation')
  t.ok(alice.autoRelay!.stats.tieBroken + bob.autoRelay!.stats.tieBroken >= 1, 'the tie-break ran')
  const low = alice.fingerprint < bob.fingerprint ? alice : bob
  const high = low === alice ? bob : alice
  const viaA = row(alice, bob)?.path
  const viaB = row(bob, alice)?.path
  t.equal(viaA?.via, 'relayed', `Alice relayed: ${JSON.stringify(viaA)}`)
  t.equal(viaB?.via, 'relayed', `Bob relayed: ${JSON.stringify(viaB)}`)
  t.same(viaA?.via === 'relayed' ? viaA.relay : null, viaB?.via === 'relayed' ? viaB.relay : undefined, 'one relay for the pair, seen by both')
  const live = net.nodes.slice(0, 2).reduce((n, x) => n + (x.relay.service?.stats().allocations ?? 0), 0)
  t.equal(live, 1, 'one allocation left on the relays')
  t.same(low.autoRelay!.report().map(r => r.role), ['dialer'], 'the smaller fingerprint dials through its own allocation')
  t.same(high.autoRelay!.report().map(r => r.role), ['answerer'], 'the other joined it and let its own go')
  await net.advance(40_000) // past the unused-path sweep (traversal.md §7.4): the pair's path stays
  t.equal(net.nodes.slice(0, 2).reduce((n, x) => n + (x.relay.service?.stats().allocations ?? 0), 0), 1, 'and it is still there later')
  const m = await net.drive(high.actions.send(low.fingerprint, 'after'))
  await net.until(() => receipted(high, m.id), 120_000, 'a message after the tie-break')
})

t.test('sim: an allocation that carried a session before does not win the tie-break: a restarted peer\'s new offer is joined', async t => {
  const { net, alice, bob } = await contactPair(t, 94)
  const m = await net.drive(alice.actions.send(bob.fingerprint, 'before'))
  await net.until(() => receipted(alice, m.id), 600_000, 'the first message delivered')
  // kill -9 the side that joined; the allocator still holds its path (and the session, until it times out)
  const joiner = alice.autoRelay!.report()[0]?.role === 'answerer' ? alice : bob
  const holder = joiner === alice ? bob : alice
  t.same(holder.autoRelay!.report().map(r => r.role), ['dialer'], 'the survivor holds the allocation')
  await net.crash(joiner.index)
  const again = await net.restart(joiner.index)
  const started = net.sim!.now
  // simulated time: within one dial timeout, not after the old path's 30 s unused sweep and a retry
  await net.until(() => row(again, holder)?.state === 'online' && row(holder, again)?.state === 'online', DIAL_TIMEOUT_MS, 'the restarted node and its contact reach each other')
  t.comment(JSON.stringify({ metric: 'sim-relay-rejoin-ms', value: net.sim!.now - started, unit: 'simulated ms', seed: testnetSeed(94) }))
  t.equal(row(again, holder)?.path?.via, 'relayed', 'relayed again')
  const sent = await net.drive(again.actions.send(holder.fingerprint, 'after the restart'))
  await net.until(() => receipted(again, sent.id), 120_000, 'a message after the restart delivered')
})
