// Birthday punching's pure parts (proto-spec/traversal.md §6.3): who plays which side, the random
// port draw, and the Puncher driven by hand with `now` — the symmetric side's side-socket commands
// and held offer, the cone side's paced, bounded spray, the winner kept and the rest closed, and
// crossed offers settling on one attempt. No sockets.
import t from 'tap'
import { Puncher, type PunchOutgoing, type SocketCommand } from '../../src/traversal/punch.js'
import { RendezvousServer } from '../../src/traversal/rendezvous.js'
import { decodeTraversal, type TraversalMessage } from '../../src/traversal/messages.js'
import { birthdayRole, easyTarget, hardTarget, hitProbability, PortDraw, Spray } from '../../src/traversal/birthday.js'
import {
  TraversalType, BIRTHDAY_SOCKETS, BIRTHDAY_MAX_PROBES, BIRTHDAY_PROBES_PER_TICK, BIRTHDAY_TICK_MS, BIRTHDAY_CATCH_UP_TICKS, PUNCH_TIMEOUT_MS
} from '../../src/traversal/constants.js'
import { generateIdentity, type Identity } from '../../src/crypto/identity.js'
import type { Candidate, NatKind } from '../../src/traversal/candidates.js'
import { testRng } from '../helpers/seed.js'

const msg = (bytes: Uint8Array): TraversalMessage => decodeTraversal(bytes)!
const tag = (n: number): Uint8Array => new Uint8Array(16).fill(n)
const WALL = 1_900_000_000_000
const RV = '198.51.100.7:47400'

t.test('roles follow from the two NAT kinds alone', async t => {
  t.equal(birthdayRole('address-dependent', 'endpoint-independent'), 'hard')
  t.equal(birthdayRole('endpoint-independent', 'address-dependent'), 'easy')
  for (const [a, b] of [['address-dependent', 'address-dependent'], ['endpoint-independent', 'endpoint-independent'], ['unknown', 'address-dependent'], ['address-dependent', 'unknown'], ['open', 'address-dependent']] as Array<[NatKind, NatKind]>) {
    t.equal(birthdayRole(a, b), null, `${a} ↔ ${b}: no birthday punch`)
  }
  const cands: Candidate[] = [{ kind: 'lan', host: '192.168.1.2', port: 1 }, { kind: 'reflexive', host: '203.0.113.9', port: 4000 }]
  t.equal(hardTarget(cands), '203.0.113.9:4000', 'the hard side aims at the reflexive address')
  t.equal(easyTarget(cands), '203.0.113.9', 'the easy side at the IP')
  t.equal(hardTarget(cands.slice(0, 1)), null)
  t.equal(easyTarget([]), null)
  // the figures traversal.md §6.3 gives
  t.ok(Math.abs(hitProbability(256, 175) - 0.5) < 0.01, 'half by 175 probes')
  t.ok(hitProbability(256, BIRTHDAY_MAX_PROBES) > 0.9999, 'nearly always within the cap')
})

t.test('the port draw: distinct ports, all of a small range, uniform enough, then exhausted', async t => {
  const rng = testRng(t, 0xb1)
  const small = new PortDraw(n => rng.bytes(n), 100, 163)
  const seen = new Set<number>()
  for (let i = 0; i < 64; i++) seen.add(small.next()!)
  t.equal(seen.size, 64, 'every port once')
  t.ok([...seen].every(p => p >= 100 && p <= 163))
  t.equal(small.next(), null, 'then none')
  t.equal(small.drawn, 64)
  const big = new PortDraw(n => rng.bytes(n))
  const halves = [0, 0]
  for (let i = 0; i < 4000; i++) halves[big.next()! < 1024 + 32256 ? 0 : 1]!++
  t.ok(Math.abs(halves[0]! - halves[1]!) < 400, `both halves of the range drawn alike (${halves.join('/')})`)
})

t.test('the spray keeps its rate when its timer fires late (a busy event loop), and never goes above it', async t => {
  const rng = testRng(t, 0xb2)
  const spray = new Spray('203.0.113.2', n => rng.bytes(n), 1000)
  const ports = new Set<string>()
  let now = 1000
  let calls = 0
  let ahead = 0
  // a timer that always fires 25 ms after the time asked (2.5 ticks late)
  while (spray.active && now < 1000 + 2000) {
    for (const to of spray.due(now)) ports.add(to)
    calls++
    if (spray.sent > (Math.floor((now - 1000) / BIRTHDAY_TICK_MS) + 1) * BIRTHDAY_PROBES_PER_TICK) ahead++
    now = Math.max(now, spray.nextAt) + 25
  }
  t.equal(ahead, 0, 'never ahead of the rate')
  const ticks = Math.floor((now - 25 - 1000) / BIRTHDAY_TICK_MS) + 1
  t.ok(spray.sent >= (ticks - BIRTHDAY_CATCH_UP_TICKS) * BIRTHDAY_PROBES_PER_TICK, `the probes the late timer owed were sent (${spray.sent} in ${calls} calls over ${ticks} ticks)`)
  t.equal(ports.size, spray.sent, 'each to a port of its own')
  const burst = new Spray('203.0.113.2', n => rng.bytes(n), 0)
  burst.due(0)
  t.equal(burst.due(500).length, BIRTHDAY_CATCH_UP_TICKS * BIRTHDAY_PROBES_PER_TICK, 'a long stall is caught up a bounded burst at a time')
  t.equal(burst.nextAt, 500 + BIRTHDAY_TICK_MS)
})

interface Side { id: Identity, p: Puncher, kind: NatKind }

function side (id: Identity, contact: Identity, cands: Candidate[], kind: NatKind, seed: number): Side {
  const rng = testRng({ comment: () => {} }, seed)
  const p = new Puncher({ identity: id, random: n => rng.bytes(n), wallNow: () => WALL, isContact: fp => fp === contact.fingerprint, candidates: () => cands, natKind: () => kind })
  return { id, p, kind }
}

const EASY_AT: Candidate = { kind: 'reflexive', host: '203.0.113.1', port: 5000 }
const HARD_AT: Candidate = { kind: 'reflexive', host: '203.0.113.2', port: 31337 }
const probes = (out: PunchOutgoing[]): PunchOutgoing[] => out.filter(o => msg(o.bytes).type === TraversalType.PROBE)

t.test('hard answerer, easy offerer: sockets first, then the answer; the spray is paced and bounded; the winner is kept', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, bobId, [EASY_AT], 'endpoint-independent', 11)
  const B = side(bobId, aliceId, [HARD_AT], 'address-dependent', 12)
  const R = new RendezvousServer({ random: n => new Uint8Array(n).fill(3) })
  R.receive({ type: TraversalType.REGISTER, txid: 1, tag: tag(5) }, '203.0.113.2:6000', 0)
  const offer = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: RV, tag: tag(5) }], candidates: [HARD_AT], natKind: 'address-dependent' }, 0)
  t.same(offer.map(o => msg(o.bytes).type), [TraversalType.PUNCH_REQUEST, TraversalType.PROBE], 'the cone side offers at once, its one probe to the record\'s candidate beside it (and does not guess before the hard side is ready)')
  t.same(A.p.sockets, [], 'the cone side opens no sockets')
  const [fwd] = R.receive(msg(offer[0]!.bytes), '203.0.113.1:5000', 1)
  const bOut = B.p.receive(msg(fwd!.bytes), RV, 2)
  t.notOk(bOut.some(o => msg(o.bytes).type === TraversalType.PUNCH_REPLY), 'the answer is held')
  const open = B.p.sockets.splice(0)
  t.match(open, [{ op: 'open', count: BIRTHDAY_SOCKETS }], `Bob asks for ${BIRTHDAY_SOCKETS} side sockets`)
  const attempt = (open[0] as Extract<SocketCommand, { op: 'open' }>).attempt
  t.equal(B.p.socketsOpened('00', 3, 3), null, 'an unknown attempt: close them')
  const opened = B.p.socketsOpened(attempt, 200, 3)!
  const openers = opened.filter(o => o.via !== undefined)
  t.equal(openers.length, 200, 'one PROBE from each socket that opened')
  t.ok(openers.every(o => o.to === '203.0.113.1:5000' && msg(o.bytes).type === TraversalType.PROBE), 'to the cone side\'s reflexive address')
  t.same(new Set(openers.map(o => o.via!.slot)).size, 200)
  const reply = opened.find(o => msg(o.bytes).type === TraversalType.PUNCH_REPLY)
  t.ok(reply !== undefined && opened.indexOf(reply) > openers.length - 1, 'then the answer')
  t.equal(B.p.socketsOpened(attempt, 1, 4), null, 'only once')
  t.equal(B.p.stats.birthdaySockets, 200)
  // the answer reaches Alice: she sprays
  const [ans] = R.receive(msg(reply!.bytes), '203.0.113.2:6000', 5)
  const first = probes(A.p.receive(msg(ans!.bytes), RV, 6)).filter(o => o.to.startsWith('203.0.113.2:') && o.to !== '203.0.113.2:31337')
  t.equal(first.length, BIRTHDAY_PROBES_PER_TICK, `${BIRTHDAY_PROBES_PER_TICK} random probes at once`)
  t.equal(A.p.nextDeadline <= 6 + BIRTHDAY_TICK_MS, true)
  t.same(A.p.tick(6 + BIRTHDAY_TICK_MS - 1).filter(o => o.to !== '203.0.113.2:31337').length, 0, 'nothing before the tick')
  const ports = new Set(first.map(o => o.to))
  let now = 6
  for (let i = 0; i < 100; i++) {
    now += BIRTHDAY_TICK_MS
    for (const o of probes(A.p.tick(now))) if (o.to !== '203.0.113.2:31337') ports.add(o.to)
  }
  t.equal(ports.size, 101 * BIRTHDAY_PROBES_PER_TICK, 'every random probe to a port of its own')
  // one lands on Bob's side socket 17
  const hit = [...ports][50]!
  const landed = B.p.receive(msg(first[0]!.bytes), '203.0.113.1:5000', now, { attempt, slot: 17 })
  t.match(landed, [{ to: '203.0.113.1:5000', via: { attempt, slot: 17 } }], 'Bob acks from the socket it reached')
  t.equal(msg(landed[0]!.bytes).type, TraversalType.PROBE_ACK)
  t.match(B.p.sockets, [{ op: 'close', attempt, keep: { slot: 17, peer: '203.0.113.1:5000' } }], 'the others close; socket 17 carries the session')
  t.match(B.p.events, [{ type: 'path', address: '203.0.113.1:5000', role: 'answer' }])
  t.equal(B.p.stats.birthdayPaths, 1)
  t.same(B.p.receive(msg(first[1]!.bytes), '203.0.113.1:5000', now, { attempt, slot: 18 }), [], 'a late probe on a closed socket is not answered')
  A.p.receive(msg(landed[0]!.bytes), hit, now + 5)
  t.match(A.p.events, [{ type: 'path', address: hit, kind: 'peer-reflexive', role: 'offer' }], 'Alice\'s path is the port she guessed')
  t.equal(A.p.stats.birthdayPaths, 1)
  t.same(probes(A.p.tick(now + 50)), [], 'the spray stops at the first answer')
  t.ok(A.p.stats.birthdayProbes <= BIRTHDAY_MAX_PROBES)
})

t.test('hard offerer: the offer waits for the sockets; a timeout closes them all; the spray stops at its cap', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const B = side(bobId, aliceId, [HARD_AT], 'address-dependent', 21)
  const out = B.p.start({ fingerprint: aliceId.fingerprint, dhPublic: aliceId.dhPublic, rendezvous: [{ address: RV, tag: tag(1) }], candidates: [EASY_AT], natKind: 'endpoint-independent' }, 0)
  t.same(out.filter(o => msg(o.bytes).type === TraversalType.PUNCH_REQUEST), [], 'no offer yet')
  const [open] = B.p.sockets.splice(0) as Array<Extract<SocketCommand, { op: 'open' }>>
  t.same(B.p.tick(5000).filter(o => msg(o.bytes).type === TraversalType.PUNCH_REQUEST), [], 'not even after the rendezvous retry time')
  const opened = B.p.socketsOpened(open!.attempt, BIRTHDAY_SOCKETS, 5000)!
  t.equal(opened.filter(o => msg(o.bytes).type === TraversalType.PUNCH_REQUEST).length, 1, 'the offer follows the sockets\' PROBEs')
  // a second hard attempt (another contact) while this one holds sockets: no more sockets
  const carolId = generateIdentity()
  B.p.start({ fingerprint: carolId.fingerprint, dhPublic: carolId.dhPublic, rendezvous: [{ address: RV, tag: tag(2) }], candidates: [EASY_AT], natKind: 'endpoint-independent' }, 5001)
  t.same(B.p.sockets, [], 'one attempt holds side sockets at a time')
  for (let now = 5100; now <= PUNCH_TIMEOUT_MS + 100; now += 500) B.p.tick(now)
  t.match(B.p.sockets, [{ op: 'close', attempt: open!.attempt, keep: null }], 'given up: every side socket closes')
  t.equal(B.p.stats.birthdayAttempts, 1)

  // the cone side with no answer from the symmetric side: its spray ends at the cap, then the attempt fails
  const A = side(aliceId, bobId, [EASY_AT], 'endpoint-independent', 22)
  const forward = opened.find(o => msg(o.bytes).type === TraversalType.PUNCH_REQUEST)!
  const sealed = (msg(forward.bytes) as { sealed: Uint8Array }).sealed
  const first = A.p.receive({ type: TraversalType.PUNCH_FORWARD, handle: tag(9), sealed }, RV, 0)
  t.equal(first.filter(o => o.to.startsWith('203.0.113.2:') && o.to !== '203.0.113.2:31337').length, BIRTHDAY_PROBES_PER_TICK, 'the cone answerer sprays at once')
  for (let now = BIRTHDAY_TICK_MS; now <= PUNCH_TIMEOUT_MS; now += BIRTHDAY_TICK_MS) A.p.tick(now)
  t.equal(A.p.stats.birthdayProbes, BIRTHDAY_MAX_PROBES, `exactly the cap: ${BIRTHDAY_MAX_PROBES}`)
})

t.test('crossed offers: both keep the lower punch id; the symmetric side opens one set of sockets', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, bobId, [EASY_AT], 'endpoint-independent', 31)
  const B = side(bobId, aliceId, [HARD_AT], 'address-dependent', 32)
  const aOut = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: RV, tag: tag(1) }], candidates: [HARD_AT], natKind: 'address-dependent' }, 0)
  B.p.start({ fingerprint: aliceId.fingerprint, dhPublic: aliceId.dhPublic, rendezvous: [{ address: RV, tag: tag(2) }], candidates: [EASY_AT], natKind: 'endpoint-independent' }, 0)
  const [bOpen] = B.p.sockets.splice(0) as Array<Extract<SocketCommand, { op: 'open' }>>
  const bOut = B.p.socketsOpened(bOpen!.attempt, 4, 1)!
  const bOffer = bOut.find(o => msg(o.bytes).type === TraversalType.PUNCH_REQUEST)!
  const forward = (o: PunchOutgoing): TraversalMessage => ({ type: TraversalType.PUNCH_FORWARD, handle: tag(9), sealed: (msg(o.bytes) as { sealed: Uint8Array }).sealed })
  const toA = A.p.receive(forward(bOffer), RV, 2)
  const toB = B.p.receive(forward(aOut[0]!), RV, 2)
  const answered = [toA, toB].filter(out => out.length > 0 || B.p.sockets.length > 0)
  t.equal(A.p.stats.crossed + B.p.stats.crossed, 1, 'exactly one side drops the other\'s offer')
  t.ok(answered.length >= 1, 'and the other answers')
  if (B.p.stats.crossed === 1) {
    t.same(B.p.sockets, [], 'Bob kept his attempt and its sockets')
    t.match(toB.map(o => [o.to, msg(o.bytes).type]), [[RV, TraversalType.PUNCH_REQUEST]], 'and sends his offer again (Alice may have dropped it)')
  } else {
    t.match(toA.map(o => [o.to, msg(o.bytes).type]), [[RV, TraversalType.PUNCH_REQUEST]], 'Alice sends her offer again (Bob may have dropped it)')
    t.match(B.p.sockets, [{ op: 'close', attempt: bOpen!.attempt }, { op: 'open' }], 'Bob answers Alice\'s attempt: his own sockets close, the answer\'s open')
  }
  t.equal(A.p.active(bobId.fingerprint) && B.p.active(aliceId.fingerprint), true, 'both still punch')
})
