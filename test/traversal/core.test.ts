// The pure parts of NAT traversal (proto-spec/traversal.md): the rendezvous table and its limits
// (§3.2), registration and keepalive (§3.1), and the punch state machine (§5–§7), driven by hand
// with `now` — no sockets. Attack figures are printed as JSON lines.
import t from 'tap'
import { RendezvousServer } from '../../src/traversal/rendezvous.js'
import { Registrar } from '../../src/traversal/registrar.js'
import { Puncher, type PunchEvent } from '../../src/traversal/punch.js'
import { encodeTraversal, decodeTraversal, type TraversalMessage } from '../../src/traversal/messages.js'
import { TraversalType, KEEPALIVE_MS, REGISTRATION_TTL_MS, PUNCH_TIMEOUT_MS, PUNCH_SEALED_BYTES } from '../../src/traversal/constants.js'
import { generateIdentity, type Identity } from '../../src/crypto/identity.js'
import type { Candidate, NatKind } from '../../src/traversal/candidates.js'
import type { RelayOffer } from '../../src/relay/client.js'
import { openPunch } from '../../src/traversal/punch-seal.js'
import { testRng } from '../helpers/seed.js'

const tag = (n: number): Uint8Array => new Uint8Array(16).fill(n)
const msg = (bytes: Uint8Array): TraversalMessage => decodeTraversal(bytes)!
const register = (n: number, txid = 1): TraversalMessage => ({ type: TraversalType.REGISTER, txid, tag: tag(n) })
const sealed = new Uint8Array(PUNCH_SEALED_BYTES).fill(7)

t.test('rendezvous: forwards only to a registered address, never more bytes than it got', async t => {
  const rng = testRng(t, 0xa11)
  const r = new RendezvousServer({ random: n => rng.bytes(n) })
  const [reg] = r.receive(register(1), '203.0.113.1:5000', 0)
  const ok = msg(reg!.bytes)
  t.match(ok, { type: TraversalType.REGISTERED, status: 0, lifetimeS: REGISTRATION_TTL_MS / 1000, observed: '203.0.113.1:5000' }, 'REGISTERED says where it saw us')
  t.ok(reg!.bytes.length <= 40)
  const request = encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: tag(1), sealed })
  const [fwd] = r.receive(msg(request), '198.51.100.9:7000', 10)
  t.equal(fwd!.to, '203.0.113.1:5000', 'forwarded to the registered address')
  t.equal(fwd!.bytes.length, request.length, 'same size as the request')
  const unknown = r.receive(msg(encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: tag(2), sealed })), '198.51.100.9:7000', 20)
  t.same(unknown.map(o => [o.to, o.bytes.length]), [['198.51.100.9:7000', 18]], 'an unknown tag: a small PUNCH_UNKNOWN back to the asker only')
  const handle = (msg(fwd!.bytes) as { handle: Uint8Array }).handle
  const reply = (from: string): ReturnType<RendezvousServer['receive']> => r.receive({ type: TraversalType.PUNCH_REPLY, handle, sealed }, from, 30)
  t.same(reply('192.0.2.66:1'), [], 'an answer from anyone but the target is dropped')
  const [answer] = reply('203.0.113.1:5000')
  t.equal(answer!.to, '198.51.100.9:7000', 'the answer goes to the requester')
  t.same(reply('203.0.113.1:5000'), [], 'once')
  t.same(r.receive(register(1), '203.0.113.1:5000', REGISTRATION_TTL_MS + 10).length, 1)
  t.same(r.receive(msg(request), '198.51.100.9:7000', 3 * REGISTRATION_TTL_MS).map(o => o.bytes.length), [18], 'a registration not refreshed expires')
})

t.test('rendezvous under abuse: caps per network and address, rate limits, no amplification', async t => {
  const rng = testRng(t, 0xa12)
  const r = new RendezvousServer({ random: n => rng.bytes(n), maxPerNetwork: 8, maxPerAddress: 2 })
  let refused = 0
  for (let i = 0; i < 50; i++) {
    const [a] = r.receive(register(10 + i), `203.0.113.7:${1000 + (i % 10)}`, 0)
    if (msg(a!.bytes).type === TraversalType.REGISTERED && (msg(a!.bytes) as { status: number }).status !== 0) refused++
  }
  t.equal(r.size, 8, 'one /24 holds at most maxPerNetwork registrations')
  t.equal(refused, 42)
  r.receive(register(99), '198.51.100.1:1', 0)
  t.equal(r.receive(register(98), '198.51.100.1:1', 0).length, 1)
  t.equal(msg(r.receive(register(97), '198.51.100.1:1', 0)[0]!.bytes).type, TraversalType.REGISTERED)
  t.equal(r.size, 10, 'maxPerAddress: a third tag from one address is refused')
  let bytesIn = 0
  let bytesOut = 0
  let forwarded = 0
  const request = encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: tag(10), sealed })
  for (let i = 0; i < 1000; i++) {
    bytesIn += request.length
    const out = r.receive(msg(request), `192.0.2.${i % 200}:${4000 + i}`, i) // 1000 requests in 1 s from one /24
    for (const o of out) { bytesOut += o.bytes.length; forwarded++ }
  }
  t.ok(forwarded <= 10, `a flood toward one tag is cut to its rate (${forwarded} forwarded of 1000)`)
  t.ok(bytesOut <= bytesIn, 'never more bytes out than in')
  t.comment(JSON.stringify({ metric: 'rendezvous_flood_forwarded', value: forwarded, unit: 'datagrams of 1000' }))
  t.comment(JSON.stringify({ metric: 'rendezvous_amplification', value: bytesOut / bytesIn, unit: 'bytes out / bytes in' }))
})

t.test('registrar: bound to the wildcard, a server that sees one of our interface addresses means no NAT', async t => {
  // a daemon bound to 0.0.0.0 announces its interface addresses; its rendezvous sees one of them
  const rng = testRng(t, 0xa14)
  const reg = new Registrar({ random: n => rng.bytes(n), bound: () => '0.0.0.0:5000', own: a => a === '10.2.0.2:5000' })
  reg.consider(['10.2.0.1:47400'], 0)
  const [send] = reg.tick(0)
  const m = msg(send!.bytes) as { txid: number }
  reg.receive({ type: TraversalType.REGISTERED, txid: m.txid, status: 0, lifetimeS: 60, observed: '10.2.0.2:5000' }, send!.to, 5)
  t.equal(reg.natKind(), 'open', 'seen at our own interface address: open, so readers dial instead of punching')
})

t.test('registrar: a rendezvous that did not answer is passed over for a while, then tried again', async t => {
  // a bootstrap node that was not up yet must not cost a node its only rendezvous for good
  const rng = testRng(t, 0xa15)
  const reg = new Registrar({ random: n => rng.bytes(n), bound: () => '192.168.1.2:5000' })
  const only = '198.51.100.1:47400'
  reg.consider([only], 0)
  let now = 0
  for (let i = 0; i < 10 && reg.serverCount > 0; i++) { reg.tick(now); now += 2000 }
  t.equal(reg.serverCount, 0, 'three unanswered REGISTERs: dropped')
  reg.consider([only], now)
  t.equal(reg.serverCount, 0, 'passed over at first')
  reg.consider([only], now + 30_000)
  t.equal(reg.serverCount, 1, 'and tried again 30 s later')
  t.equal(reg.tick(now + 30_000).length, 1, 'a REGISTER goes out')
})

t.test('registrar: keepalive under 25 s, NAT kind from two servers, a tag per period', async t => {
  const rng = testRng(t, 0xa13)
  const reg = new Registrar({ random: n => rng.bytes(n), bound: () => '192.168.1.2:5000' })
  reg.consider(['198.51.100.1:47400', '198.51.100.2:47400', '203.0.113.9:47400', '203.0.113.10:47400'], 0)
  t.equal(reg.serverCount, 3, 'at most 3 rendezvous')
  const sends = reg.tick(0)
  t.equal(sends.length, 3)
  const answer = (to: string, bytes: Uint8Array, observed: string, now: number): void => {
    const m = msg(bytes) as { txid: number }
    reg.receive({ type: TraversalType.REGISTERED, txid: m.txid, status: 0, lifetimeS: 60, observed }, to, now)
  }
  t.equal(reg.natKind(), 'unknown')
  answer(sends[0]!.to, sends[0]!.bytes, '203.0.113.1:5000', 5)
  t.equal(reg.natKind(), 'unknown', 'one answer says nothing about the mapping')
  answer(sends[1]!.to, sends[1]!.bytes, '203.0.113.1:5000', 5)
  t.equal(reg.natKind(), 'endpoint-independent', 'two servers, one address: endpoint-independent mapping')
  answer(sends[2]!.to, sends[2]!.bytes, '203.0.113.1:61234', 5)
  t.equal(reg.natKind(), 'address-dependent', 'another address for another server: symmetric')
  t.equal(reg.entries(10).length, 3)
  t.ok(KEEPALIVE_MS < 25_000)
  t.equal(reg.tick(KEEPALIVE_MS - 1).length, 0, 'nothing before the keepalive')
  const again = reg.tick(KEEPALIVE_MS + 5)
  t.equal(again.length, 3, 'every server refreshed within 25 s')
  const tagOf = (b: Uint8Array): string => Buffer.from((msg(b) as { tag: Uint8Array }).tag).toString('hex')
  t.equal(tagOf(again[0]!.bytes), tagOf(sends[0]!.bytes), 'the same tag within a period')
  const later = reg.tick(24 * 3600_000 + 10)
  t.not(tagOf(later[0]!.bytes), tagOf(sends[0]!.bytes), 'a new tag the next period')
  t.equal(reg.entries(24 * 3600_000 + 10).length, 0, 'listed again only once the servers confirm the new tag')
})

interface Side { id: Identity, p: Puncher, events: PunchEvent[] }

function side (id: Identity, contacts: string[], cands: Candidate[], seed: number, wall = (): number => 1_900_000_000_000, acceptStrangers = false): Side {
  const rng = testRng({ comment: () => {} }, seed)
  const p = new Puncher({ identity: id, random: n => rng.bytes(n), wallNow: wall, isContact: fp => contacts.includes(fp), candidates: () => cands, natKind: () => 'endpoint-independent', acceptStrangers })
  return { id, p, events: p.events }
}

t.test('punch: offer through the rendezvous, answer, probes; the first one heard is the path', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 1)
  const B = side(bobId, [aliceId.fingerprint], [{ kind: 'lan', host: '192.168.9.9', port: 6000 }, { kind: 'reflexive', host: '203.0.113.2', port: 6000 }], 2)
  const R = new RendezvousServer({ random: n => new Uint8Array(n).fill(3) })
  R.receive(register(5), '203.0.113.2:6000', 0)
  const out = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: '198.51.100.7:47400', tag: tag(5) }], candidates: [], natKind: 'endpoint-independent' }, 0)
  t.equal(out.length, 1)
  t.equal(out[0]!.to, '198.51.100.7:47400', 'the offer goes to the rendezvous')
  const [fwd] = R.receive(msg(out[0]!.bytes), '203.0.113.1:5000', 1)
  const bOut = B.p.receive(msg(fwd!.bytes), '198.51.100.7:47400', 2)
  t.equal(msg(bOut[0]!.bytes).type, TraversalType.PUNCH_REPLY, 'Bob answers through the rendezvous')
  t.equal(msg(bOut[1]!.bytes).type, TraversalType.PROBE, 'and probes Alice at once')
  t.equal(bOut[1]!.to, '203.0.113.1:5000')
  const [ans] = R.receive(msg(bOut[0]!.bytes), '203.0.113.2:6000', 3)
  const aOut = A.p.receive(msg(ans!.bytes), '198.51.100.7:47400', 4)
  t.same(aOut.map(o => o.to), ['192.168.9.9:6000', '203.0.113.2:6000'], 'Alice\'s first round goes to all of Bob\'s candidates at once, LAN first')
  t.same(A.p.tick(13), [], 'the next round is paced')
  const aNext = A.p.tick(14)
  t.same(aNext.map(o => o.to), ['192.168.9.9:6000'], 'one probe per 10 ms after the first round')
  t.same(A.p.tick(24).map(o => o.to), ['203.0.113.2:6000'])
  // Bob's probe reaches Alice: she acks and has her path
  const ack = A.p.receive(msg(bOut[1]!.bytes), '203.0.113.2:6000', 20)
  t.equal(msg(ack[0]!.bytes).type, TraversalType.PROBE_ACK)
  t.equal(ack[0]!.bytes.length, bOut[1]!.bytes.length, 'an ack is the size of the probe')
  t.match(A.events, [{ type: 'path', fingerprint: bobId.fingerprint, address: '203.0.113.2:6000', kind: 'reflexive', role: 'offer' }])
  t.same(A.p.tick(30), [], 'no more probes once a path is found')
  B.p.receive(msg(ack[0]!.bytes), '203.0.113.1:5000', 25)
  t.match(B.events, [{ type: 'offered', fingerprint: aliceId.fingerprint, address: '203.0.113.1:5000' }, { type: 'path', fingerprint: aliceId.fingerprint, role: 'answer' }])
})

t.test('punch: the offer and the first round of probes to the record\'s candidates leave together', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 7)
  const candidates: Candidate[] = [{ kind: 'lan', host: '192.168.9.9', port: 6000 }, { kind: 'reflexive', host: '203.0.113.2', port: 6000 }]
  const out = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: '198.51.100.7:1', tag: tag(1) }], candidates, natKind: 'endpoint-independent' }, 0)
  t.same(out.map(o => [msg(o.bytes).type, o.to]), [
    [TraversalType.PUNCH_REQUEST, '198.51.100.7:1'],
    [TraversalType.PROBE, '192.168.9.9:6000'],
    [TraversalType.PROBE, '203.0.113.2:6000']
  ], 'the offer, then one probe to each candidate in the order of §6.1, in the same call: no timer between them')
  t.same(A.p.tick(0), [], 'nothing more due at once')
  t.equal(A.p.stats.probesSent, 2)
})

t.test('punch: strangers, replays, our own probes and silence', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 3)
  const strangerB = side(bobId, [], [], 4)
  const out = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: '198.51.100.7:1', tag: tag(1) }], candidates: [{ kind: 'reflexive', host: '203.0.113.2', port: 6000 }], natKind: 'unknown' }, 0)
  const offer = msg(out[0]!.bytes) as { sealed: Uint8Array }
  const forward: TraversalMessage = { type: TraversalType.PUNCH_FORWARD, handle: tag(9), sealed: offer.sealed }
  t.same(strangerB.p.receive(forward, '198.51.100.7:1', 1), [], 'Bob does not answer someone who is not his contact')
  t.equal(strangerB.p.stats.notContact, 1)
  const B = side(bobId, [aliceId.fingerprint], [], 5)
  t.ok(B.p.receive(forward, '198.51.100.7:1', 1).length > 0, 'a contact is answered')
  t.same(B.p.receive(forward, '198.51.100.7:1', 2), [], 'the same offer again is a replay')
  t.equal(B.p.stats.replays, 1)
  const late = side(bobId, [aliceId.fingerprint], [], 6, () => 1_900_000_000_000 + 120_000)
  t.same(late.p.receive(forward, '198.51.100.7:1', 1), [], 'an offer two minutes old is refused')
  // Alice's probe to a candidate that is her own address comes back to her
  const probe = A.p.tick(0).find(o => msg(o.bytes).type === TraversalType.PROBE) ?? A.p.tick(10)[0]
  t.same(A.p.receive(msg(probe!.bytes), '203.0.113.1:5000', 11), [], 'her own probe is not the peer')
  t.same(A.events, [])
  for (let now = 20; now <= PUNCH_TIMEOUT_MS + 20; now += 500) A.p.tick(now)
  t.match(A.events, [{ type: 'failed', fingerprint: bobId.fingerprint, reason: 'no-answer' }], 'silence ends in failed: the relay hook\'s cue')
  t.ok(A.p.stats.probesSent <= 40, `probes are bounded (${A.p.stats.probesSent})`)
})

t.test('punch: an offer dropped before its sender was our contact is opened when it comes again after', async t => {
  // both users add each other at once: Bob's daemon gets Alice's offer before his add of her has
  // landed; when his own offer crosses hers, she sends hers again (traversal.md §5.3)
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 31)
  const bobContacts: string[] = []
  const B = side(bobId, bobContacts, [{ kind: 'reflexive', host: '203.0.113.2', port: 6000 }], 32, undefined, true)
  const out = A.p.start({ fingerprint: bobId.fingerprint, dhPublic: bobId.dhPublic, rendezvous: [{ address: '198.51.100.7:1', tag: tag(1) }], candidates: [], natKind: 'endpoint-independent' }, 0)
  const forward: TraversalMessage = { type: TraversalType.PUNCH_FORWARD, handle: tag(9), sealed: (msg(out[0]!.bytes) as { sealed: Uint8Array }).sealed }
  t.same(B.p.receive(forward, '198.51.100.7:1', 1).filter(o => msg(o.bytes).type !== TraversalType.PUNCH_REPLY), [], 'a stranger\'s offer: no probes, no candidates')
  bobContacts.push(aliceId.fingerprint)
  const again = B.p.receive(forward, '198.51.100.7:1', 5)
  t.equal(B.p.stats.replays, 0, 'not refused as a replay')
  t.equal(msg(again[0]!.bytes).type, TraversalType.PUNCH_REPLY, 'Bob, now her contact, answers the same offer')
  t.ok(again.some(o => msg(o.bytes).type === TraversalType.PROBE), 'and probes her')
  t.same(B.p.receive(forward, '198.51.100.7:1', 6), [], 'a third copy, from a contact, is a replay')
  t.equal(B.p.stats.replays, 1)
})

const relayOffer = (n: number): RelayOffer => ({ relay: { host: '198.51.100.7', port: 47400 }, allocationId: new Uint8Array(8).fill(n), port: 40000 + n, pairSecret: new Uint8Array(32).fill(n) })
const bobTarget = (bob: Identity, relay?: RelayOffer): Parameters<Puncher['start']>[0] => ({
  fingerprint: bob.fingerprint, dhPublic: bob.dhPublic, rendezvous: [{ address: '198.51.100.7:47400', tag: tag(5) }], candidates: [], natKind: 'address-dependent', ...(relay === undefined ? {} : { relay })
})
const forwardOf = (out: Array<{ bytes: Uint8Array }>, handle = tag(9)): TraversalMessage => ({ type: TraversalType.PUNCH_FORWARD, handle, sealed: (msg(out[0]!.bytes) as { sealed: Uint8Array }).sealed })

t.test('punch: a relay offer rides in the offer, or follows it as a role-3 message; the contact is told to join', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 11)
  const B = side(bobId, [aliceId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.2', port: 6000 }], 12)
  const first = B.p.receive(forwardOf(A.p.start(bobTarget(bobId, relayOffer(1)), 0)), '198.51.100.7:47400', 1)
  t.equal(msg(first[0]!.bytes).type, TraversalType.PUNCH_REPLY, 'Bob still answers with his candidates (a direct path may yet appear)')
  t.match(B.events, [{ type: 'relay', fingerprint: aliceId.fingerprint, dial: false, offer: { port: 40001, relay: { host: '198.51.100.7', port: 47400 } } }], 'relay-first: the offer carries the allocation')
  B.events.length = 0
  const A2 = side(aliceId, [bobId.fingerprint], [], 13)
  t.same(A2.p.sendRelay({ ...bobTarget(bobId), rendezvous: [] }, relayOffer(2)), [], 'no relay message without a rendezvous to carry it')
  A2.p.start(bobTarget(bobId), 0)
  const later = A2.p.sendRelay(bobTarget(bobId), relayOffer(2))
  t.equal(later[0]!.to, '198.51.100.7:47400', 'the race: the relay offer follows through the rendezvous')
  t.same(B.p.receive(forwardOf(later), '198.51.100.7:47400', 5), [], 'nothing to answer for a relay message')
  t.match(B.events, [{ type: 'relay', fingerprint: aliceId.fingerprint, offer: { port: 40002 } }])
  const C = side(bobId, [], [], 14, undefined, true)
  t.same(C.p.receive(forwardOf(A2.p.sendRelay(bobTarget(bobId), relayOffer(3))), '198.51.100.7:47400', 5), [], "a stranger's relay message is dropped")
  t.same(C.events, [], 'a stranger cannot make Bob bind a relay of its choosing')
  t.equal(C.p.stats.notContact, 1)
})

t.test('punch: a stranger is answered with a relay offer only; a flood of strangers is capped', async t => {
  const bobId = generateIdentity()
  const B = side(bobId, [], [{ kind: 'lan', host: '192.168.9.9', port: 6000 }, { kind: 'reflexive', host: '203.0.113.2', port: 6000 }], 21, undefined, true)
  const strangerId = generateIdentity()
  const S = side(strangerId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 22)
  const offer = S.p.start(bobTarget(bobId), 0)
  t.same(B.p.receive(forwardOf(offer), '198.51.100.7:47400', 1), [], 'no answer, no probe yet: the node allocates a relay first')
  const ev = B.events.shift() as Extract<PunchEvent, { type: 'stranger' }>
  t.equal(ev?.type, 'stranger')
  t.equal(ev.offer.fingerprint, strangerId.fingerprint)
  const reply = B.p.answerWithRelay(ev.offer, relayOffer(4))
  t.equal(reply.length, 1, 'one datagram')
  t.equal(reply[0]!.to, '198.51.100.7:47400', 'back through the rendezvous, under the handle')
  const m = msg(reply[0]!.bytes) as { type: number, sealed: Uint8Array }
  t.equal(m.type, TraversalType.PUNCH_REPLY)
  const opened = openPunch(m.sealed, strangerId)
  t.same(opened?.candidates, [], 'the stranger learns no address of Bob\'s')
  t.equal(opened?.natKind, 'unknown', 'nor his NAT kind')
  S.p.receive({ type: TraversalType.PUNCH_ANSWER, handle: tag(9), sealed: m.sealed }, '198.51.100.7:47400', 3)
  t.match(S.events, [{ type: 'relay', fingerprint: bobId.fingerprint, dial: true, offer: { port: 40004 } }], 'the stranger joins and dials through the relay')

  // the flood: 500 strangers, 5 offers each, within one minute
  const seed = 0x5f1
  const rng = testRng(t, seed)
  const flood = side(bobId, [], [], 23, undefined, true)
  const floodIds = Array.from({ length: 50 }, () => generateIdentity())
  let admitted = 0
  let sent = 0
  let answeredOrProbed = 0
  for (let i = 0; i < 500; i++) {
    const who = floodIds[rng.int(floodIds.length)]!
    const now = Math.floor(i * 60_000 / 500)
    const o = side(who, [], [], 100 + i).p.start(bobTarget(bobId), now)
    sent++
    answeredOrProbed += flood.p.receive(forwardOf(o, tag(i % 256)), '198.51.100.7:47400', now).length
    admitted += flood.events.splice(0).filter(e => e.type === 'stranger').length
  }
  const cap = 4 + Math.floor(60 * 0.2) + 1
  t.ok(admitted <= cap, `${admitted} of ${sent} stranger offers admitted in a minute (at most ${cap})`)
  t.ok(admitted >= 4, 'but some are: first contact works')
  t.equal(answeredOrProbed, 0, 'no stranger is ever answered with candidates or probed')
  t.equal(flood.p.stats.strangers, admitted)
  t.equal(flood.p.stats.strangersCapped + admitted, sent)
  console.log(JSON.stringify({ metric: 'stranger-punch-flood-admitted', value: admitted, unit: 'offers', of: sent, seconds: 60 }))
})

t.test('punch: crossed offers where ours is dropped: the answer we run instead still ends, failed and all', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const A = side(aliceId, [bobId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.1', port: 5000 }], 31)
  const B = side(bobId, [aliceId.fingerprint], [{ kind: 'reflexive', host: '203.0.113.2', port: 6000 }], 32)
  const target = (id: Identity, port: number): Parameters<Puncher['start']>[0] => ({ ...bobTarget(id), candidates: [{ kind: 'reflexive', host: '203.0.113.9', port }], natKind: 'address-dependent' })
  // both want the session at once: each offer reaches the other while its own runs
  const aOffer = A.p.start(target(bobId, 6000), 0)
  const bOffer = B.p.start(target(aliceId, 5000), 0)
  const aOut = A.p.receive(forwardOf(bOffer), '198.51.100.7:47400', 1)
  const bOut = B.p.receive(forwardOf(aOffer), '198.51.100.7:47400', 1)
  t.equal(A.p.stats.crossed + B.p.stats.crossed, 1, 'one side drops the other\'s offer (the greater punch id)')
  const [keeper, answerer, reply] = A.p.stats.crossed === 1 ? [A, B, bOut] : [B, A, aOut]
  const answer = reply.find(o => msg(o.bytes).type === TraversalType.PUNCH_REPLY)
  t.ok(answer !== undefined, 'the other answers it')
  keeper.p.receive({ type: TraversalType.PUNCH_ANSWER, handle: tag(9), sealed: (msg(answer!.bytes) as { sealed: Uint8Array }).sealed }, '198.51.100.7:47400', 2)
  t.ok(answerer.p.active(keeper.id.fingerprint), 'the answerer\'s punch runs (its own offer gave way to the answer)')
  // no probe gets through (two symmetric NATs): both punches run out
  for (let now = 10; now <= PUNCH_TIMEOUT_MS + 1000; now += 500) {
    A.p.tick(now)
    B.p.tick(now)
  }
  t.match(keeper.events.filter(e => e.type === 'failed'), [{ fingerprint: answerer.id.fingerprint, reason: 'no-path' }], 'the side whose offer was kept gives up')
  t.match(answerer.events.filter(e => e.type === 'failed'), [{ fingerprint: keeper.id.fingerprint, reason: 'no-path' }], 'so does the side whose offer was dropped: its caller falls back to a relay too')
  t.notOk(A.p.active(bobId.fingerprint) || B.p.active(aliceId.fingerprint), 'no punch left running')
  // a plain answer (we never offered) reports nothing: the offerer's relay fallback is the one
  const C = side(bobId, [aliceId.fingerprint], [], 33)
  C.p.receive(forwardOf(A.p.start(target(bobId, 6000), 20_000)), '198.51.100.7:47400', 20_001)
  for (let now = 20_010; now <= 20_000 + PUNCH_TIMEOUT_MS + 1000; now += 500) C.p.tick(now)
  t.same(C.events.filter(e => e.type === 'failed'), [], 'an answer to an offer we did not cross reports no failure')
})

t.test('punch: the replay list forgets a punch id two minutes after it, on the monotonic clock', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  // the wall clock (stamps, freshness) is far from the monotonic one (`now`), as on any real host
  let wall = 1_900_000_000_000
  const A = side(aliceId, [bobId.fingerprint], [], 41, () => wall)
  const B = side(bobId, [aliceId.fingerprint], [], 42, () => wall)
  const forward = forwardOf(A.p.start(bobTarget(bobId), 0))
  t.ok(B.p.receive(forward, '198.51.100.7:47400', 5).length > 0, 'the offer is answered')
  t.equal(B.p.remembered, 1, 'its punch id is remembered')
  wall += 60_000
  B.p.tick(60_005)
  t.same(B.p.receive(forward, '198.51.100.7:47400', 60_005), [], 'a minute later it is still a replay')
  t.equal(B.p.remembered, 1)
  wall += 60_000
  B.p.tick(120_005)
  t.equal(B.p.remembered, 0, 'two minutes later the list has let it go (the memory is bounded by time, not only by count)')
  t.same(B.p.receive(forward, '198.51.100.7:47400', 120_006), [], 'and the stale offer is still refused: its stamp is now too old')
  t.equal(B.p.stats.replays, 2)
})

t.test('punch: the answerer of a contact\'s offer dials the offerer at once (traversal.md §5.3, the early dial)', async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const bobCands: Candidate[] = [{ kind: 'lan', host: '192.168.1.2', port: 6000 }, { kind: 'reflexive', host: '203.0.113.2', port: 6000 }]
  const offerFrom = (aliceCands: Candidate[], aliceNat: NatKind, bobContacts: string[], seed: number): PunchEvent[] => {
    const rng = testRng({ comment: () => {} }, seed)
    const A = new Puncher({ identity: aliceId, random: n => rng.bytes(n), wallNow: () => 1_900_000_000_000, isContact: () => true, candidates: () => aliceCands, natKind: () => aliceNat })
    const B = side(bobId, bobContacts, bobCands, seed + 1)
    const out = A.start(bobTarget(bobId), 0)
    B.p.receive(forwardOf(out), '198.51.100.7:47400', 1)
    return B.events
  }
  const home: Candidate[] = [{ kind: 'lan', host: '192.168.1.2', port: 5000 }, { kind: 'reflexive', host: '203.0.113.1', port: 5000 }]
  t.match(offerFrom(home, 'endpoint-independent', [aliceId.fingerprint], 11), [{ type: 'offered', fingerprint: aliceId.fingerprint, address: '203.0.113.1:5000' }],
    'a contact behind a cone NAT: her reflexive address, not her LAN one (in another house it may name anyone on ours)')
  const ev = offerFrom(home, 'endpoint-independent', [aliceId.fingerprint], 13).find(e => e.type === 'offered') as Extract<PunchEvent, { type: 'offered' }>
  t.same(Buffer.from(ev.dhPublic), Buffer.from(aliceId.dhPublic), 'with the key the offer was sealed with, for IK')
  t.same(offerFrom(home, 'endpoint-independent', [], 15).filter(e => e.type === 'offered'), [], 'a stranger\'s offer gets no dial (§5.4)')
  t.same(offerFrom(home, 'address-dependent', [aliceId.fingerprint], 17).filter(e => e.type === 'offered'), [], 'nor does a symmetric NAT\'s: no candidate names the port it maps us to')
  const sameNat: Candidate[] = [{ kind: 'lan', host: '192.168.1.3', port: 5000 }, { kind: 'reflexive', host: '203.0.113.2', port: 5001 }]
  t.match(offerFrom(sameNat, 'endpoint-independent', [aliceId.fingerprint], 19), [{ type: 'offered', address: '192.168.1.3:5000' }],
    'behind our own NAT (her reflexive host is ours): her LAN address, as one NAT may not hairpin')
})
