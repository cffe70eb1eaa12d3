// Strangers flooding a node with held messages (proto-spec/messaging.md §3.2, §10.2), on the
// simulated testnet: 40 stranger identities, each on its own /24, each send texts of 60 KB at the
// stranger rate (a burst of STRANGER_BURST, then under STRANGER_RATE_PER_S), sealed and signed for
// real over a Noise session and a reliable channel, while a contact sends the node a message every
// 100 ms. The contact's delivery times are protocol time (simulated, so no machine's load is in
// them): its p99 during the flood stays within twice its p99 without the flood, every message
// arrives once, and the held spam stays within its byte budget, the excess dropped and counted.
// What the same flood costs a real daemon process in memory is test/attacks/held-flood.test.ts.
import t from 'tap'
import { type Stranger, type Testnet, type TestNode } from '../../src/node/testnet.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { sealEnvelope } from '../../src/wire/seal.js'
import { PayloadType } from '../../src/wire/constants.js'
import { encodeEnvelopeFrame } from '../../src/messaging/frames.js'
import { MAX_HELD_BYTES_TOTAL, RECONNECT_INITIAL_MS, RECONNECT_MAX_MS, STRANGER_BURST, STRANGER_RATE_PER_S } from '../../src/messaging/constants.js'
import { conversation, receipted, testnet } from './helpers.js'

const STRANGERS = 40
const MESSAGES = 12 // each: 40 × 12 × 60 KB is past the held budget, so some are dropped
const TEXT_BYTES = 60_000
const CONTACT_EVERY_MS = 100
const QUIET_MS = 3_000 // simulated
const FLOOD_MS = 6_000 // simulated: the strangers' burst, then their rate for the rest

interface RequestCounts { heldBytes: number, heldDropped: number }

interface StrangerRun { sent: () => number, sessions: () => number, cutOff: () => number }

/**
 * The stranger's texts, at the rate a node allows strangers (a burst, then STRANGER_RATE_PER_S ·
 * 0.9), over a Noise session and a reliable channel. A session the node closes (it cuts off a
 * sender past its budget) is dialled again after RECONNECT_INITIAL_MS, doubling up to
 * RECONNECT_MAX_MS, as a dmess node redials (messaging.md §5). Stops after FLOOD_MS.
 */
async function strangerFlood (net: Testnet, s: Stranger, target: TestNode): Promise<StrangerRun> {
  const recipient = { fingerprint: target.fingerprint, dhPublic: target.identity.dhPublic }
  const clock = s.world.scheduler
  const startedAt = clock.now()
  const filler = 'x'.repeat(TEXT_BYTES)
  let sent = 0
  let sessions = 0
  let cutOff = 0
  let rs: ReliableSession | null = null
  const dial = async (): Promise<void> => {
    sessions++
    const session = await s.endpoint.connect(target.address, { expectFingerprint: target.fingerprint })
    const r = new ReliableSession(session, { scheduler: clock })
    r.on('error', () => {})
    r.once('close', () => {
      rs = null
      cutOff++
      if (clock.now() - startedAt < FLOOD_MS) clock.setTimer(Math.min(RECONNECT_MAX_MS, RECONNECT_INITIAL_MS * 2 ** (cutOff - 1)), () => { dial().catch(() => {}) })
    })
    rs = r
  }
  await net.drive(dial())
  const tick = (): void => {
    if (sent >= MESSAGES || clock.now() - startedAt > FLOOD_MS) return
    const due = Math.min(MESSAGES, STRANGER_BURST + Math.floor((clock.now() - startedAt) / 1000 * STRANGER_RATE_PER_S * 0.9))
    while (sent < due && rs !== null && rs.closed === null) {
      const env = sealEnvelope({ sender: s.identity, recipient, type: PayloadType.TEXT, timestamp: Math.floor(clock.wallNow()), payload: { text: `${sent} ${filler}` } })
      if (!rs.trySend(encodeEnvelopeFrame(env.bytes))) break
      sent++
    }
    clock.setTimer(50, tick)
  }
  tick()
  return { sent: () => sent, sessions: () => sessions, cutOff: () => cutOff }
}

/**
 * Alice sends Bob a message every CONTACT_EVERY_MS for `ms` of simulated time; resolves with each
 * message's time from send to Alice's delivery receipt, once all are receipted.
 */
async function contactTraffic (net: Testnet, alice: TestNode, bob: TestNode, tag: string, ms: number): Promise<number[]> {
  const clock = alice.opts.world.scheduler
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  const off = alice.events.on(ev => {
    if (ev.type !== 'receipt' || ev.direction !== 'out') return
    for (const id of ev.ids as string[]) {
      const at = sentAt.get(id)
      if (at !== undefined) { latencies.push(clock.now() - at); sentAt.delete(id) }
    }
  })
  const count = ms / CONTACT_EVERY_MS
  const ids: string[] = []
  const sends: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    const t0 = clock.now()
    sends.push(alice.actions.send(bob.fingerprint, `${tag} ${i}`).then(r => { ids.push(r.id); if (!receipted(alice, r.id)) sentAt.set(r.id, t0) }))
    await net.advance(CONTACT_EVERY_MS)
  }
  await net.drive(Promise.all(sends))
  await net.until(() => ids.every(id => receipted(alice, id)), 120_000, `Alice's ${count} messages ${tag}`)
  off()
  return latencies.sort((x, y) => x - y)
}

const p99 = (sorted: number[]): number => sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] ?? Infinity

t.test(`${STRANGERS} strangers × ${MESSAGES} × 60 KB held texts: a contact's messages keep their pace, the held budget holds`, async t => {
  const net = await testnet(t, 3, 0x4e1d)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const warm = await net.drive(alice.actions.send(bob.fingerprint, 'warm up'))
  await net.until(() => receipted(alice, warm.id), 60_000, 'warm-up delivered')
  const quiet = await contactTraffic(net, alice, bob, 'before the flood', QUIET_MS)

  const floods = []
  for (let i = 0; i < STRANGERS; i++) floods.push(await strangerFlood(net, await net.stranger(), bob))
  const during = await contactTraffic(net, alice, bob, 'during the flood', FLOOD_MS)
  const sent = floods.reduce((n, f) => n + f.sent(), 0)
  await net.advance(5_000) // what is still on its way lands, or is dropped
  const counts = bob.actions.stats().requestBook as RequestCounts

  t.comment(JSON.stringify({ metric: 'held-flood-sim.contact-p99-quiet', value: p99(quiet), unit: 'ms (simulated)' }))
  t.comment(JSON.stringify({ metric: 'held-flood-sim.contact-p99-flood', value: p99(during), unit: 'ms (simulated)' }))
  t.comment(JSON.stringify({ metric: 'held-flood-sim.stranger-texts', value: sent, unit: 'envelopes' }))
  t.comment(JSON.stringify({ metric: 'held-flood-sim.stranger-sessions', value: floods.reduce((n, f) => n + f.sessions(), 0), unit: 'sessions' }))
  t.comment(JSON.stringify({ metric: 'held-flood-sim.stranger-cut-off', value: floods.reduce((n, f) => n + f.cutOff(), 0), unit: 'sessions' }))
  t.ok(sent >= STRANGERS * STRANGER_BURST, `the strangers sent ${sent} texts of 60 KB`)
  t.equal(during.length, FLOOD_MS / CONTACT_EVERY_MS, 'every message the contact sent during the flood was delivered')
  t.ok(p99(during) <= 2 * p99(quiet), `the contact's p99 is ${p99(during)} ms of protocol time during the flood (${p99(quiet)} ms without it)`)
  t.ok(counts.heldBytes <= MAX_HELD_BYTES_TOTAL, `held: ${counts.heldBytes} bytes, within the ${MAX_HELD_BYTES_TOTAL} budget`)
  t.ok(counts.heldDropped > 0, `${counts.heldDropped} held messages past the budgets were dropped and counted`)
  const stored = (await conversation(bob, alice)).filter(m => m.text.startsWith('during the flood')).length
  t.equal(stored, FLOOD_MS / CONTACT_EVERY_MS, 'Bob stored each of the contact\'s messages once')
})
