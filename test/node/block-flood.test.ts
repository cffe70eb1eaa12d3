// Blocked peers and flooding peers on the simulated testnet (proto-spec/messaging.md §6): a
// blocked fingerprint's messages never reach the store, and do, in order, from the sender's
// outbox once unblocked; a stranger sending 10,000 contact requests a second (a bare endpoint
// speaking the real protocol: a Noise session, a reliable channel, envelopes sealed and signed
// for real; bounded in count and time) is rate-limited and counted, is one pending request, and
// a contact's messages are delivered while it runs. Moved from daemons as processes and a flood
// process (test/e2e/block-flood.test.ts); on simulated time the rate limiter's 2 per second is
// exact, where a loaded machine's clock made it a guess.
import t from 'tap'
import { type Stranger, type Testnet, type TestNode } from '../../src/node/testnet.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { sealEnvelope } from '../../src/wire/seal.js'
import { PayloadType } from '../../src/wire/constants.js'
import { encodeEnvelopeFrame } from '../../src/messaging/frames.js'
import { conversation, receipted, stats, testnet } from './helpers.js'

t.test('a blocked fingerprint\'s messages never reach the store (and do once unblocked)', async t => {
  const net = await testnet(t, 3, 31)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const hello = await net.drive(alice.actions.send(bob.fingerprint, 'before the block'))
  await net.until(() => receipted(alice, hello.id), 60_000, 'the first message delivered')

  t.match(await net.drive(bob.actions.block(alice.fingerprint)), { fingerprint: alice.fingerprint, changed: true })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await net.drive(alice.actions.send(bob.fingerprint, `while blocked ${i}`))).id)
  // Alice keeps trying (she redials Bob, a contact with messages waiting); Bob refusing her
  // again and again is the event to wait for
  await net.until(() => stats(bob).sessionsRefused + stats(bob).blocked >= 3, 600_000, 'Bob refusing Alice repeatedly')
  t.same((await conversation(bob, alice)).map(m => m.text), ['before the block'], 'nothing Alice sent while blocked is in Bob\'s store')
  const mine = await Promise.all(ids.map(async id => (await alice.store.getMessage(id))?.status))
  t.ok(mine.every(s => s !== 'delivered' && s !== 'read'), 'and none of it shows as delivered to Alice')
  t.same(bob.actions.requests(), [], 'nor is it held as a request')

  t.match(await net.drive(bob.actions.unblock(alice.fingerprint)), { fingerprint: alice.fingerprint, changed: true })
  await net.until(() => ids.every(id => receipted(alice, id)), 600_000, 'the retried messages after unblock')
  t.same((await conversation(bob, alice)).map(m => m.text), ['before the block', ...ids.map((_, i) => `while blocked ${i}`)], 'Alice\'s outbox delivered them after the unblock, in order')
})

const FLOOD_RATE = 10_000 // requests per second
const FLOOD_MAX_COUNT = 2_000_000
const FLOOD_TICK_MS = 10
/** how long the flood runs on the simulator: seconds, so the limiter's refill (2/s after a burst of 10) is measured */
const FLOOD_RUN_MS = 5_000
/**
 * On UDP (real time, in one process with its target) the flood runs until Alice's messages are
 * through, and at most this long: a loaded machine took 5 s for what takes 1 s idle, and a flood
 * of a fixed 2 s had stopped before them.
 */
const FLOOD_MAX_UDP_MS = 120_000

interface Flood { fingerprint: string, sent: number, refused: number, startedAt: number, stoppedAt: number | null, stop: () => void }

/**
 * The hostile stranger: CONTACT_REQUESTs (500 distinct, each sealed and signed, cycled) as
 * fast as the rate asks, every tick of simulated time; the target's channel window is its only
 * brake. Stops after runMs, FLOOD_MAX_COUNT or stop().
 */
async function flood (net: Testnet, s: Stranger, target: TestNode, runMs: number): Promise<Flood> {
  const me = s.identity
  const recipient = { fingerprint: target.fingerprint, dhPublic: target.identity.dhPublic }
  const frames = Array.from({ length: 500 }, (_, i) => encodeEnvelopeFrame(sealEnvelope({
    sender: me, recipient, type: PayloadType.CONTACT_REQUEST, timestamp: s.world.scheduler.wallNow(),
    payload: { signPublic: me.signPublic, dhPublic: me.dhPublic, dhSignature: me.dhSignature, name: 'flood', greeting: `let me in #${i}` }
  }).bytes))
  const session = await net.drive(s.endpoint.connect(target.address, { expectFingerprint: target.fingerprint }))
  const rs = new ReliableSession(session, net.sim === null ? {} : { scheduler: s.world.scheduler })
  const clock = s.world.scheduler
  const f: Flood = { fingerprint: me.fingerprint, sent: 0, refused: 0, startedAt: clock.now(), stoppedAt: null, stop: () => { f.stoppedAt ??= clock.now() } }
  const tick = (): void => {
    if (f.stoppedAt !== null) return
    const elapsed = clock.now() - f.startedAt
    if (elapsed >= runMs || f.sent >= FLOOD_MAX_COUNT || rs.closed !== null) { f.stop(); return }
    const due = Math.min(FLOOD_MAX_COUNT, Math.floor(elapsed * FLOOD_RATE / 1000) + 1)
    while (f.sent < due) {
      if (!rs.trySend(frames[f.sent % frames.length]!)) { f.refused++; break }
      f.sent++
    }
    clock.setTimer(FLOOD_TICK_MS, tick)
  }
  tick()
  return f
}

for (const network of ['sim', 'udp'] as const) {
  t.test(`${network}: 10,000 requests per second from a stranger do not hold up a contact's messages`, async t => {
    const net = await testnet(t, 3, 32, { network })
    const clock = net.nodes[0]!.opts.world.scheduler
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.befriend(alice, bob)
    const warm = await net.drive(alice.actions.send(bob.fingerprint, 'warm up'))
    await net.until(() => receipted(alice, warm.id), 60_000, 'warm-up delivered')
    const twenty = async (tag: string): Promise<number> => {
      const t0 = clock.now()
      const ids = await net.drive(Promise.all(Array.from({ length: 20 }, async (_, i) => (await alice.actions.send(bob.fingerprint, `${tag} ${i}`)).id)))
      await net.until(() => ids.every(id => receipted(alice, id)), 60_000, `20 messages ${tag}`)
      return Math.round(clock.now() - t0)
    }
    const quietMs = await twenty('before the flood')

    const f = await flood(net, await net.stranger(), bob, network === 'sim' ? FLOOD_RUN_MS : FLOOD_MAX_UDP_MS)
    t.teardown(() => { f.stop() })
    // the flood is on when Bob has counted a few thousand of its frames
    await net.until(() => (stats(bob, f.fingerprint).peer?.rateLimited ?? 0) > 2000, 30_000, 'the flood to reach Bob')
    const duringMs = await twenty('during the flood')
    t.equal(f.stoppedAt, null, 'the flood was still running when the last of Alice\'s messages was delivered')
    const unit = network === 'sim' ? 'ms (simulated)' : 'ms'
    t.comment(JSON.stringify({ metric: `contact_20_messages_during_flood_${network}`, value: duringMs, unit }))
    t.comment(JSON.stringify({ metric: `contact_20_messages_quiet_${network}`, value: quietMs, unit }))
    // on the simulator the time is the protocol's (no machine's CPU in it): the stranger's session
    // costs the contact's channel nothing. On UDP the figures are printed, not judged.
    if (network === 'sim') t.ok(duringMs <= 2 * quietMs, `20 messages in ${duringMs} ms of simulated time during the flood (${quietMs} ms without it)`)
    if (network === 'sim') await net.until(() => f.stoppedAt !== null, FLOOD_RUN_MS + 10_000, 'the flood to run its course')
    f.stop()
    const peer = stats(bob, f.fingerprint).peer!
    // Bob's limiter refills on Bob's clock from the flood's first frame to this count: on UDP Bob
    // may still be reading the flood's backlog after the sender stopped
    const countedSeconds = (clock.now() - f.startedAt) / 1000
    const seconds = (f.stoppedAt! - f.startedAt) / 1000
    t.comment(JSON.stringify({ metric: `flood_requests_sent_${network}`, value: f.sent, unit: `requests in ${seconds.toFixed(1)} s (${Math.round(f.sent / seconds)}/s)` }))
    t.comment(`Bob counted ${JSON.stringify(peer)}`)

    t.ok(peer.rateLimited > 10 * peer.admitted, `rate-limited (${peer.rateLimited}) far more than admitted (${peer.admitted})`)
    t.ok(peer.admitted <= 10 + Math.ceil(2 * countedSeconds) + 2, `admitted at most the stranger's burst plus 2/s (${peer.admitted} in ${countedSeconds.toFixed(1)} s)`)
    t.same(bob.actions.requests().map(r => [r.fingerprint, r.name]), [[f.fingerprint, 'flood']], 'the flood is one pending request, not thousands')
    t.equal((await conversation(bob, alice)).filter(m => m.text.startsWith('during the flood')).length, 20, 'Alice\'s messages are stored once each')
  })
}
