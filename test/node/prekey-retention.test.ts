// Prekeys across restarts and weeks, between whole simulated nodes (proto-spec/pqxdh.md §5): Bob's
// prekey ring lives in his node's storage, sealed under his store key, so a restart keeps the pair
// his contacts cached; each start rotates out a pair a week old; a session start sealed to a
// retired pair (a message in flight while Bob was away) still opens within the 14-day grace
// period and is refused once the pair is deleted. Simulated time: three weeks pass in moments,
// jumped over while the nodes are stopped (a running node's timers would make it slow).
import t from 'tap'
import { SIM_WALL_BASE_MS, type TestNode } from '../../src/node/testnet.js'
import { PREKEY_GRACE_MS, decodeBundle } from '../../src/pqxdh/index.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { decodeEnvelopeV2 } from '../../src/wire/envelope-v2.js'
import { PayloadType } from '../../src/wire/constants.js'
import { SessionBook, type SealedV2 } from '../../src/session-crypto/index.js'
import { testnet } from './helpers.js'

const DAY = 86_400_000

t.test('a session start sealed to a retired prekey opens within the grace period and is refused after it', async t => {
  const net = await testnet(t, 4, 61, { prekeys: true })
  const [, alice, bob, carol] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  const sim = net.sim!
  const t0 = sim.now
  const wallNow = (): number => SIM_WALL_BASE_MS + sim.now
  /** runs simulated time to `ms` after the start: event by event while any is due, then a jump */
  const runTo = async (ms: number): Promise<void> => {
    for (let n = 0; sim.now < t0 + ms && n < 100_000; n++) {
      sim.clock.run({ until: t0 + ms, maxEvents: 1 })
      await new Promise(resolve => setImmediate(resolve))
    }
    t.ok(sim.now >= t0 + ms, `${Math.floor(ms / DAY)} days passed`)
  }
  const stopAll = async (): Promise<void> => { for (const n of net.nodes) await n.stop() } // stop is idempotent
  const ids = (n: TestNode): number[] => n.prekeys!.ring.sets.map(s => s.id)

  // Alice and Carol fetch Bob's bundle over their sessions with him (pqxdh.md §8)
  const bundles = new Map<TestNode, Uint8Array>()
  for (const who of [alice, carol]) {
    await net.befriend(who, bob)
    await net.until(() => who.messaging.network.link(bob.fingerprint) !== undefined, 120_000, `a link from node ${who.index} to Bob`)
    bundles.set(who, await net.drive(who.messaging.prekeyExchange.fetch(who.messaging.network.link(bob.fingerprint)!)))
  }
  const first = decodeBundle(bundles.get(alice)!)
  t.equal(first.ok ? first.value.prekeyId : 0, 1, 'they hold the bundle of pair 1')
  t.same(ids(bob), [1], 'Bob has one pair')

  // everyone goes away for 8 days; meanwhile Alice and Carol seal a first message to Bob from that
  // bundle (8 days old: still accepted, §3.4), which is in flight until Bob opens it
  await stopAll()
  await runTo(8 * DAY)
  const seal = (from: TestNode, text: string): SealedV2 => {
    const book = new SessionBook({ identity: from.identity, random: randomBytes })
    const started = book.start(bob.fingerprint, bundles.get(from)!, wallNow())
    if (!started.ok) throw started.error
    const s = book.seal(bob.fingerprint, { type: PayloadType.TEXT, payload: { text } }, randomBytes(16), wallNow())
    if (s === null) throw new Error('no session to seal on')
    t.ok(decodeEnvelopeV2(s.bytes)?.initial, `node ${from.index}'s envelope carries its session start`)
    return s
  }
  const fromAlice = seal(alice, 'sealed to pair 1, opened in time')
  const fromCarol = seal(carol, 'sealed to pair 1, opened too late')

  // Bob's restart finds pair 1 in his storage and, a week old, retires it
  const bob2 = await net.drive(net.restart(bob.index))
  t.same(ids(bob2), [1, 2], 'after the restart Bob holds pair 1 (retired) and pair 2 (current)')
  t.ok(bob2.prekeys!.ring.sets[0]!.retiredS * 1000 >= wallNow() - 60_000, 'pair 1 was retired at the restart')
  t.not(Buffer.from(bob2.prekeys!.bundle()).toString('hex'), Buffer.from(bundles.get(alice)!).toString('hex'), 'his bundle is now pair 2')

  // day 20: pair 2 is a week old too and goes at the next start; pair 1 is 12 days into its grace period
  await stopAll()
  await runTo(20 * DAY)
  const bob3 = await net.drive(net.restart(bob.index))
  t.same(ids(bob3), [1, 2, 3], 'the restart keeps the retired pairs and makes pair 3')
  const opened = bob3.messaging.sessions.open(alice.fingerprint, fromAlice.bytes)
  t.same(opened.ok && opened.type === PayloadType.TEXT ? opened.payload.text : opened, 'sealed to pair 1, opened in time', "Alice's start, sealed 12 days ago to pair 1, opens to her text")

  // past the grace period (pair 1 retired on day 8, kept 14 days): deleted, and the start is refused
  await stopAll()
  await runTo(8 * DAY + PREKEY_GRACE_MS + 60_000)
  const bob4 = await net.drive(net.restart(bob.index))
  t.same(ids(bob4), [2, 3], 'pair 1 is deleted once its grace period is over')
  const late = bob4.messaging.sessions.open(carol.fingerprint, fromCarol.bytes)
  t.equal(late.ok ? 'opened' : late.reason, 'bad-initial', "Carol's start, sealed to pair 1, is refused")
  const why = bob4.prekeys!.respond(decodeEnvelopeV2(fromCarol.bytes)!.initial!)
  t.equal(why.ok ? 'ok' : why.error.code, 'PQXDH_UNKNOWN_PREKEY', 'because Bob no longer holds pair 1')
})
