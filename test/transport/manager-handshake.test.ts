// Pure tests of the session manager's handshakes (proto-spec/session.md §2–§3, §6): XX and IK,
// lost messages retransmitted, giving up, IK → XX fallback, key substitution, cookies, per-IP
// limits, replayed initiations, version negotiation. Injected clock, no sockets.
import t from 'tap'
import { Pump, establish } from './fixtures/pump.js'
import { PacketType, HandshakePattern, HANDSHAKE_MAX_ATTEMPTS } from '../../src/wire/constants.js'
import { decodePacket, encodeHandshakeInitiation, encodeHandshakeResponse } from '../../src/wire/packet.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { InitiatorHandshake } from '../../src/transport/handshake.js'
import { mac1Key, sealMac1 } from '../../src/wire/mac1.js'

const SID = new Uint8Array(8).fill(0x5a)

const types = (p: Pump, from: string): number[] => p.log.filter(d => d.from.host === p.node(from).address.host).map(Pump.type)

t.test('XX: three handshake messages, then both sides hold a session naming the other', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  t.same(types(p, 'a').slice(0, 2), [PacketType.HANDSHAKE_INITIATION, PacketType.HANDSHAKE_FINAL])
  t.same(types(p, 'b'), [PacketType.HANDSHAKE_RESPONSE, PacketType.TRANSPORT_DATA], 'response, then a keepalive that stops FINAL retries')
  t.equal(decodePacket(p.log[0]!.bytes)?.kind === 'handshake-initiation' && p.log[0]!.bytes[6], HandshakePattern.XX)
  t.equal(sa.remoteFingerprint, b.identity.fingerprint)
  t.equal(sb.remoteFingerprint, a.identity.fingerprint)
  t.equal(p.events(b, 'session').length, 1, 'the responder announces an inbound session')
  t.ok(p.send(a, sa, 'hello b'))
  t.ok(p.send(b, sb, 'hello a'))
  p.flush()
  t.same(b.data.map(d => d.text), ['hello b'])
  t.same(a.data.map(d => d.text), ['hello a'])
  t.equal(sa.pendingFinal, null, 'FINAL acknowledged by the keepalive')
})

t.test('IK: two messages; the responder waits for key confirmation before it has a session', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  p.connect(a, b, { expectFingerprint: b.identity.fingerprint, remoteStatic: b.identity.dhPublic })
  p.filter = d => Pump.type(d) !== PacketType.TRANSPORT_DATA // hold back a's confirming keepalive
  p.flush()
  t.equal(p.events(a, 'connected').length, 1, 'the initiator is done after one round trip')
  t.equal(b.manager.sessions().length, 0, 'no session at the responder before confirmation')
  t.same(p.log.map(Pump.type), [PacketType.HANDSHAKE_INITIATION, PacketType.HANDSHAKE_RESPONSE, PacketType.TRANSPORT_DATA])
  t.equal(p.log[0]!.bytes[6], HandshakePattern.IK)
  p.filter = () => true
  p.queue.push(p.log[2]!)
  p.flush()
  t.equal(b.manager.sessions().length, 1)
  t.equal(p.events(b, 'session')[0]?.session.remoteFingerprint, a.identity.fingerprint)
})

t.test('lost initiation, response and FINAL are retransmitted with backoff', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  let lostInit = 2
  let lostResp = 1
  let lostFinal = 1
  p.filter = d => {
    const ty = Pump.type(d)
    if (ty === PacketType.HANDSHAKE_INITIATION && lostInit > 0) return lostInit-- < 0
    if (ty === PacketType.HANDSHAKE_RESPONSE && lostResp > 0) return lostResp-- < 0
    if (ty === PacketType.HANDSHAKE_FINAL && lostFinal > 0) return lostFinal-- < 0
    return true
  }
  const t0 = p.now
  p.connect(a, b, { expectFingerprint: b.identity.fingerprint })
  p.advance(20_000)
  const inits = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION)
  const gaps = inits.slice(1).map((d, i) => d.at - inits[i]!.at)
  t.equal(inits.length, 4, 'two lost, one answered (response lost), one answered from the cache')
  t.ok(gaps[0]! >= 900 && gaps[0]! <= 1100 && gaps[1]! >= 1800 && gaps[1]! <= 2200 && gaps[2]! >= 3600 && gaps[2]! <= 4400, `1 s, 2 s, 4 s ± 10%: ${gaps.join(', ')}`)
  t.ok(inits.every(d => Buffer.from(d.bytes).equals(Buffer.from(inits[0]!.bytes))), 'a retransmission is the same datagram')
  const responses = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_RESPONSE)
  t.equal(responses.length, 2)
  t.same(responses[1]!.bytes, responses[0]!.bytes, 'the duplicate initiation got the cached response')
  t.equal(b.manager.stats().dropped.duplicate, 1)
  const finals = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_FINAL)
  t.equal(finals.length, 2, 'FINAL resent once after it was lost')
  t.equal(p.events(a, 'connected').length, 1)
  t.equal(b.manager.sessions().length, 1)
  t.ok(p.now - t0 >= 20_000)
  t.equal(a.manager.sessions()[0]?.pendingFinal, null)
})

t.test('an unanswered dial gives up after HANDSHAKE_MAX_ATTEMPTS sends (≈ 31 s) with HANDSHAKE_TIMEOUT', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  p.filter = () => false
  const dialId = p.connect(a, b)
  p.advance(60_000)
  const failed = p.events(a, 'connect-failed')
  t.equal(failed.length, 1)
  t.equal(failed[0]?.dialId, dialId)
  t.equal(failed[0]?.error.code, 'HANDSHAKE_TIMEOUT')
  const sends = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION)
  t.equal(sends.length, HANDSHAKE_MAX_ATTEMPTS)
  t.equal(a.manager.stats().dials, 0)
  t.equal(a.manager.nextDeadline, Infinity, 'nothing left to do')
})

t.test('IK toward a stale static key falls back to XX and still checks the fingerprint', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const stale = generateIdentity().dhPublic
  p.connect(a, b, { expectFingerprint: b.identity.fingerprint, remoteStatic: stale })
  p.advance(15_000)
  const patterns = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION).map(d => d.bytes[6])
  t.same(patterns.slice(0, 3), [HandshakePattern.IK, HandshakePattern.IK, HandshakePattern.IK])
  t.equal(patterns[3], HandshakePattern.XX)
  t.equal(b.manager.stats().dropped['decrypt-failed'], 3, 'the responder dropped each IK message 1 silently')
  t.equal(p.events(a, 'connected')[0]?.session.remoteFingerprint, b.identity.fingerprint)
})

t.test('an honest node of the wrong identity does not answer at all: the dial never learns who is there', async t => {
  const p = new Pump()
  const a = p.add('a')
  const m = p.add('other')
  const wanted = generateIdentity()
  for (const remoteStatic of [m.identity.dhPublic, undefined]) p.connect(a, m, { expectFingerprint: wanted.fingerprint, remoteStatic })
  p.flush()
  t.equal(p.log.filter(d => d.from.host === m.address.host).length, 0, 'not one datagram back')
  t.equal(m.manager.stats().dropped['bad-mac1'], 2, 'both initiations counted as bad-mac1')
  p.advance(60_000)
  t.same(p.events(a, 'connect-failed').map(e => e.error.code), ['HANDSHAKE_TIMEOUT', 'HANDSHAKE_TIMEOUT'])
  t.equal(m.manager.stats().halfOpen + m.manager.sessions().length, 0, 'no state on the silent side')
})

t.test('key substitution: IK to a real key of the wrong identity fails, and no session appears anywhere', async t => {
  const p = new Pump()
  const a = p.add('a')
  const m = p.add('mallory', { ignoresMac1: true })
  const wanted = generateIdentity()
  p.connect(a, m, { expectFingerprint: wanted.fingerprint, remoteStatic: m.identity.dhPublic })
  p.flush()
  const failed = p.events(a, 'connect-failed')
  t.equal(failed[0]?.error.code, 'FINGERPRINT_MISMATCH')
  t.match(failed[0]?.error.message, wanted.fingerprint)
  t.equal(a.manager.sessions().length, 0)
  t.equal(a.manager.stats().dropped['fingerprint-mismatch'], 1)
  p.advance(40_000)
  t.equal(m.manager.sessions().length, 0, 'the IK responder was never confirmed')
  t.equal(m.manager.stats().halfOpen, 0, 'and forgot the half-open handshake')
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.TRANSPORT_DATA).length, 0, 'a sent nothing on the keys')
})

t.test('XX to the wrong identity fails with FINGERPRINT_MISMATCH before a sends its own identity', async t => {
  const p = new Pump()
  const a = p.add('a')
  const m = p.add('mallory', { ignoresMac1: true })
  p.connect(a, m, { expectFingerprint: generateIdentity().fingerprint })
  p.flush()
  t.equal(p.events(a, 'connect-failed')[0]?.error.code, 'FINGERPRINT_MISMATCH')
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_FINAL).length, 0, 'no FINAL: our identity stays hidden')
  t.equal(m.manager.sessions().length, 0)
})

t.test('a replayed initiation never creates a second session', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b, true)
  const init = p.log[0]!
  // replayed later from another address: its timestamp is not newer, so nothing (session.md §6.4)
  const before = p.log.length
  p.inject(b, init.bytes, { host: '10.9.9.9', port: 1 })
  p.flush()
  t.equal(p.log.length, before, 'no response to the replay')
  t.equal(b.manager.stats().dropped['ik-replay'], 1, 'counted')
  t.equal(b.manager.sessions().length, 1)
  t.equal(b.manager.stats().halfOpen, 0, 'no half-open state either')
  p.advance(40_000)
  t.equal(b.manager.session(a.identity.fingerprint), sb, 'the existing session is untouched')
  t.equal(p.events(b, 'session').length, 1)
  t.ok(p.send(a, sa, 'still here'))
  p.flush()
  t.same(b.data.map(d => d.text), ['still here'])
})

t.test('under load, initiations without a cookie get a COOKIE_REPLY and cost no Noise; the cookie round trip works', async t => {
  const p = new Pump()
  const b = p.add('b', { tuning: { underLoadHalfOpen: 4 } })
  const a = p.add('a')
  // four spoofed XX initiations from different IPs fill the half-open table to the threshold
  for (let i = 0; i < 4; i++) {
    const hs = new InitiatorHandshake({ identity: generateIdentity(), localIndex: 100 + i }, null, SID, mac1Key(b.identity.fingerprint))
    p.inject(b, hs.initiation(), { host: `192.0.2.${i + 1}`, port: 9 })
  }
  p.queue = []
  t.equal(b.manager.stats().halfOpen, 4)
  const before = p.log.length
  p.connect(a, b, { expectFingerprint: b.identity.fingerprint })
  p.flush()
  t.same(p.log.slice(before).map(Pump.type), [
    PacketType.HANDSHAKE_INITIATION, PacketType.COOKIE_REPLY, PacketType.HANDSHAKE_INITIATION,
    PacketType.HANDSHAKE_RESPONSE, PacketType.HANDSHAKE_FINAL, PacketType.TRANSPORT_DATA
  ])
  t.equal(b.manager.stats().cookieRepliesSent, 1)
  const withCookie = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION && d.bytes[7] === 16)
  t.equal(withCookie.length, 1, 'the initiation was repeated once, with the cookie')
  t.equal(p.events(a, 'connected').length, 1)
  // a forged cookie does not pass
  const hs = new InitiatorHandshake({ identity: generateIdentity(), localIndex: 555 }, null, SID, mac1Key(b.identity.fingerprint))
  p.inject(b, hs.initiation(new Uint8Array(16).fill(7)), { host: '192.0.2.77', port: 9 })
  t.equal(b.manager.stats().cookieRepliesSent, 2)
})

t.test('per-IP token bucket: a burst from one address is cut off, other addresses are not', async t => {
  const p = new Pump()
  const b = p.add('b', { tuning: { initiationBurstPerIp: 5, initiationsPerIpPerS: 1, underLoadHalfOpen: 1000 } })
  const send = (host: string, i: number): void => {
    const hs = new InitiatorHandshake({ identity: b.identity, localIndex: 1 + i }, null, SID, mac1Key(b.identity.fingerprint))
    p.inject(b, hs.initiation(), { host, port: 1000 + i })
  }
  for (let i = 0; i < 8; i++) send('198.51.100.1', i)
  t.equal(b.manager.stats().dropped['rate-limited'], 3)
  send('198.51.100.2', 50)
  t.equal(b.manager.stats().dropped['rate-limited'], 3, 'another IP has its own bucket')
  p.now += 2000
  send('198.51.100.1', 60)
  t.equal(b.manager.stats().dropped['rate-limited'], 3, 'the bucket refills')
})

t.test('version negotiation: an initiation in an unknown version is answered; a dial told "v2 only" fails', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const hs = new InitiatorHandshake({ identity: a.identity, localIndex: 42 }, null, SID)
  const v2 = hs.initiation()
  v2[0] = 0xc2
  p.inject(b, v2, a.address)
  t.equal(p.queue.length, 0, 'without a mac1 for b even version negotiation stays silent (wire.md §4.1.1)')
  t.equal(b.manager.stats().dropped['bad-mac1'], 1)
  p.inject(b, sealMac1(v2, mac1Key(b.identity.fingerprint)), a.address)
  const vn = p.queue.pop()
  t.equal(vn?.bytes[0], 0xc0, 'VERSION_NEGOTIATION is version 0')
  t.ok(vn !== undefined && vn.bytes.length <= v2.length, 'never larger than what it answers')
  const dialId = p.connect(a, b)
  p.queue = []
  const index = new DataView(p.log.at(-1)!.bytes.buffer).getUint32(2)
  p.inject(a, Uint8Array.from([0xc0, 0x05, index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255, 2, 2, 1]), b.address)
  t.equal(p.events(a, 'connect-failed').length, 0, 'a list that includes v1 is ignored')
  p.inject(a, Uint8Array.from([0xc0, 0x05, index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255, 1, 3]), b.address)
  const failed = p.events(a, 'connect-failed')
  t.equal(failed[0]?.dialId, dialId)
  t.equal(failed[0]?.error.code, 'HANDSHAKE_FAILED')
})

t.test('simultaneous open: both sides keep the same one session (opened by the smaller fingerprint)', async t => {
  for (let round = 0; round < 4; round++) {
    const p = new Pump()
    const a = p.add('a')
    const b = p.add('b')
    const aFirst = round % 2 === 0
    if (aFirst) { p.connect(a, b); p.connect(b, a) } else { p.connect(b, a); p.connect(a, b) }
    p.advance(1000)
    t.equal(a.manager.sessions().length, 1, `round ${round}: one session at a`)
    t.equal(b.manager.sessions().length, 1, `round ${round}: one session at b`)
    const sa = a.manager.sessions()[0]!
    const sb = b.manager.sessions()[0]!
    t.same(sa.sessionId, sb.sessionId, 'the same session on both ends')
    const smaller = a.identity.fingerprint < b.identity.fingerprint ? 'a' : 'b'
    t.equal(sa.outbound, smaller === 'a', 'opened by the smaller fingerprint')
    // each connect resolved with the survivor, or with a session that was then replaced by it
    // (its 'closed' says 'replaced' and the survivor arrives as an inbound 'session')
    for (const [node, s] of [[a, sa], [b, sb]] as const) {
      const got = p.events(node, 'connected')[0]!.session
      const ok = got === s || (got.closed === 'replaced' && p.events(node, 'session').some(e => e.session === s))
      t.ok(ok, `${node.name}: connect → survivor, or replaced → survivor announced`)
    }
    t.ok(p.send(a, sa, 'x') && p.send(b, sb, 'y'))
    p.flush()
    t.same([a.data.map(d => d.text), b.data.map(d => d.text)], [['y'], ['x']])
    p.advance(120_000)
    t.equal(sa.closed, null, 'and it stays up')
  }
})

t.test('crossed IK initiations: only the dial that would win is answered, and both connects resolve with its one session', async t => {
  for (let round = 0; round < 4; round++) {
    const p = new Pump()
    const a = p.add('a')
    const b = p.add('b')
    const ik = (to: typeof a): { remoteStatic: Uint8Array } => ({ remoteStatic: to.identity.dhPublic })
    const dials = round % 2 === 0 ? [p.connect(a, b, ik(b)), p.connect(b, a, ik(a))] : [p.connect(b, a, ik(a)), p.connect(a, b, ik(b))].reverse()
    p.flush()
    const [small, large] = a.identity.fingerprint < b.identity.fingerprint ? [a, b] : [b, a]
    const responses = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_RESPONSE)
    t.same([small.manager.stats().handshakes.responsesSent, large.manager.stats().handshakes.responsesSent], [0, 1], `round ${round}: one response computed, by the larger fingerprint, to the smaller's dial`)
    // the smaller sent its message 1 again in place of an answer; the larger's copy of its response answers that
    t.same(new Set(responses.map(d => `${d.from.host} ${Buffer.from(d.bytes).toString('hex')}`)).size, 1, 'any other response is that one, from its cache')
    t.equal(small.manager.stats().dropped.crossed, 1, 'the smaller left the crossing message 1 unanswered')
    t.equal(p.log.filter(d => Pump.type(d) === PacketType.SESSION_CLOSE).length, 0, 'no session to close')
    for (const node of [a, b]) t.same(p.events(node, 'closed'), [], `${node.name}: nothing replaced`)
    const sa = a.manager.sessions()
    const sb = b.manager.sessions()
    t.equal(sa.length + sb.length, 2)
    t.same(sa[0]!.sessionId, sb[0]!.sessionId, 'the same session on both ends')
    t.ok(small.manager.sessions()[0]!.outbound, 'opened by the smaller fingerprint')
    t.same(p.events(a, 'connected').map(e => [e.dialId, e.session]), [[dials[0], sa[0]]], 'a: its connect resolved with it')
    t.same(p.events(b, 'connected').map(e => [e.dialId, e.session]), [[dials[1], sb[0]]], 'b: its connect resolved with it')
    t.equal(large.manager.stats().dials + small.manager.stats().dials, 0, 'no dial left retransmitting')
    t.ok(p.send(a, sa[0]!, 'x') && p.send(b, sb[0]!, 'y'))
    p.flush()
    t.same([a.data.map(d => d.text), b.data.map(d => d.text)], [['y'], ['x']])
  }
})

t.test('an answered initiation: a connect to its initiator waits for its key confirmation instead of a second handshake', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  p.connect(a, b, { expectFingerprint: b.identity.fingerprint, remoteStatic: b.identity.dhPublic })
  p.filter = d => Pump.type(d) !== PacketType.TRANSPORT_DATA // a's confirming keepalive is on its way
  p.flush()
  const keepalive = p.log[2]!
  // b, meanwhile, dials a too (a punch of its own found the path: traversal.md §6.2)
  const dial = p.connect(b, a, { expectFingerprint: a.identity.fingerprint, remoteStatic: a.identity.dhPublic })
  p.flush()
  t.same(types(p, 'b'), [PacketType.HANDSHAKE_RESPONSE], 'no message 1 from b: the session a\'s handshake makes will do')
  t.equal(b.manager.stats().handshakes.held, 1)
  p.filter = () => true
  p.queue.push(keepalive)
  p.flush()
  t.same(p.events(b, 'connected').map(e => [e.dialId, e.session.remoteFingerprint]), [[dial, a.identity.fingerprint]], 'b\'s connect resolves with it')
  t.equal(b.manager.stats().dials, 0, 'and its dial is gone')
  p.advance(5000)
  t.same(types(p, 'b').filter(x => x === PacketType.HANDSHAKE_INITIATION), [], 'never sent')
  t.equal(a.manager.sessions().length + b.manager.sessions().length, 2, 'one session, on both ends')
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.SESSION_CLOSE).length, 0)

  // the confirmation never comes: the held message 1 goes at the first retry delay
  const q = new Pump()
  const c = q.add('c')
  const d = q.add('d')
  q.connect(c, d, { expectFingerprint: d.identity.fingerprint, remoteStatic: d.identity.dhPublic })
  q.filter = x => Pump.type(x) !== PacketType.TRANSPORT_DATA // c's confirmation is lost
  q.flush()
  q.connect(d, c, { expectFingerprint: c.identity.fingerprint, remoteStatic: c.identity.dhPublic })
  q.flush()
  t.same(types(q, 'd').filter(x => x === PacketType.HANDSHAKE_INITIATION), [], 'held')
  q.advance(1200)
  t.equal(types(q, 'd').filter(x => x === PacketType.HANDSHAKE_INITIATION).length, 1, 'sent after the first retry delay')
})

t.test('crossed IK initiations when the winning one was lost: it is sent again at once, not a retransmission later', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const [small, large] = a.identity.fingerprint < b.identity.fingerprint ? [a, b] : [b, a]
  let lost = false
  p.filter = d => {
    // the smaller's first message 1 does not arrive (a NAT on the larger's side not yet open to it)
    if (lost || Pump.type(d) !== PacketType.HANDSHAKE_INITIATION || d.from.host !== small.address.host) return true
    lost = true
    return false
  }
  p.connect(small, large, { remoteStatic: large.identity.dhPublic })
  p.connect(large, small, { remoteStatic: small.identity.dhPublic })
  const t0 = p.now
  p.flush()
  t.equal(p.now, t0, 'no time passed')
  t.equal(p.events(small, 'connected').length, 1)
  t.equal(p.events(large, 'connected').length, 1)
  t.equal(small.manager.sessions()[0]?.outbound, true)
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION && d.from.host === small.address.host).length, 2, 'the lost one and its resend')
})

t.test('a peer that restarted and dials again gets a new session, which replaces the old one', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sb } = establish(p, a, b)
  p.advance(20_000)
  const a2 = p.add('a-restarted', { identity: a.identity })
  a2.address = { ...a.address, port: a.address.port + 1 }
  p.nodes.delete('a')
  const dialId = p.connect(a2, b, { expectFingerprint: b.identity.fingerprint })
  p.flush()
  t.ok(p.events(a2, 'connected').some(e => e.dialId === dialId))
  const inbound = p.events(b, 'session')
  t.equal(inbound.length, 2, 'a second inbound session, not a rekey of the old one')
  t.equal(sb.closed, 'replaced')
  t.same(p.events(b, 'closed').map(e => [e.session, e.reason]), [[sb, 'replaced']])
  t.same(b.manager.sessions(), [inbound[1]!.session])
})

t.test('dialling a peer we already have a session with (no expectation) replaces it on both ends', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b', { ignoresMac1: true }) // answers a dial that names no fingerprint
  const { sa, sb } = establish(p, a, b)
  p.advance(20_000)
  p.connect(a, b, { expectFingerprint: undefined })
  p.flush()
  t.equal(sa.closed, 'replaced')
  t.equal(sb.closed, 'peer', 'the old session got a CLOSE')
  t.equal(a.manager.sessions().length, 1)
  t.equal(b.manager.sessions().length, 1)
  t.same(a.manager.sessions()[0]!.sessionId, b.manager.sessions()[0]!.sessionId)
})

t.test('connect checks its arguments', async t => {
  const p = new Pump()
  const a = p.add('a')
  t.throws(() => a.manager.connect({ host: 'x', port: 1 }, { remoteStatic: new Uint8Array(31) }, p.now), { code: 'BAD_ARGUMENT' })
  t.throws(() => a.manager.connect({ host: 'x', port: 1 }, { expectFingerprint: 'nope' }, p.now), { code: 'BAD_FINGERPRINT' })
  t.equal(a.manager.stats().dials, 0, 'nothing left behind')
})

t.test('hostile handshake messages with low-order keys are counted, never thrown', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const lowOrder = [new Uint8Array(32), Uint8Array.from([1, ...new Array<number>(31).fill(0)])]
  for (const e of lowOrder) {
    for (const pattern of [HandshakePattern.XX, HandshakePattern.IK]) {
      const message = new Uint8Array(pattern === HandshakePattern.XX ? 32 : 193)
      message.set(e)
      const bytes = sealMac1(encodeHandshakeInitiation({ senderIndex: 77, pattern, cookie: null, message }), mac1Key(b.identity.fingerprint))
      t.doesNotThrow(() => { p.inject(b, bytes, a.address) })
    }
  }
  t.equal(b.manager.stats().dropped['handshake-failed'] + b.manager.stats().dropped['decrypt-failed'], 4)
  t.equal(b.manager.stats().halfOpen, 0)
  // a response with a low-order ephemeral to a real dial
  p.filter = () => false
  p.connect(a, b)
  const index = new DataView(p.log.at(-1)!.bytes.buffer).getUint32(2)
  const msg = new Uint8Array(48 + 97)
  t.doesNotThrow(() => { p.inject(a, encodeHandshakeResponse({ senderIndex: 5, receiverIndex: index, message: msg }), b.address) })
  t.equal(a.manager.stats().dropped['handshake-failed'] + a.manager.stats().dropped['decrypt-failed'], 1)
  t.equal(a.manager.stats().dials, 1, 'the dial survives a forged response and retries afresh')
})
