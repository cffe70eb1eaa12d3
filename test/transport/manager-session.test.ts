// Pure tests of established sessions (proto-spec/session.md §4–§5, §7): rekey by age and by
// count with an overlap for packets in flight, keepalive and idle timeout, authenticated close,
// replayed and forged data, roaming. Injected clock, no sockets.
import t from 'tap'
import { Pump, establish } from './fixtures/pump.js'
import { PacketType, REKEY_AFTER_MS, REJECT_AFTER_MS, MAX_TRANSPORT_PLAINTEXT_BYTES } from '../../src/wire/constants.js'
import { KEEPALIVE_AFTER_MS, IDLE_TIMEOUT_MS, RESPONDER_REKEY_AFTER_MS } from '../../src/transport/constants.js'

t.test('rekey after REKEY_AFTER_MS: a fresh IK handshake, traffic never stops, old keys decrypt until they expire', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  const firstKeys = sa.current!
  let n = 0
  // a and b talk every 5 s across the rekey
  for (let ms = 0; ms < REKEY_AFTER_MS + 20_000; ms += 5000) {
    p.advance(5000)
    t.ok(p.send(a, sa, `a${n}`) && p.send(b, sb, `b${n}`), `send ${n}`)
    n++
  }
  p.flush()
  t.equal(b.data.length, n, 'b got every datagram')
  t.equal(a.data.length, n, 'a got every datagram')
  const rekeys = p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION)
  t.equal(rekeys.length, 2, 'one initial handshake, one rekey')
  t.equal(rekeys[1]!.bytes[6], 0x02, 'the rekey is IK (the peer key is known)')
  t.equal(rekeys[1]!.from.host, a.address.host, 'started by the side that initiated the current keys')
  t.not(sa.current, firstKeys)
  t.equal(sa.previous, firstKeys, 'old generation kept for packets in flight')
  t.ok(p.events(a, 'rekeyed').length >= 1 && p.events(b, 'rekeyed').length >= 1)
  t.equal(sa.current?.handshakeHash.length, 64)
  // a datagram sealed on the old keys, delivered late, still decrypts
  const late = firstKeys.seal(new TextEncoder().encode('late'))
  p.inject(b, late, a.address)
  t.equal(b.data.at(-1)?.text, 'late')
  // after REJECT_AFTER_MS the old generation is gone (its index is freed)
  p.advance(REJECT_AFTER_MS)
  t.equal(sa.previous === firstKeys, false)
  p.inject(b, late, a.address)
  t.equal(b.manager.stats().dropped['unknown-session'], 1)
})

t.test('rekey after REKEY_AFTER_MESSAGES packets', async t => {
  const p = new Pump()
  const a = p.add('a', { tuning: { rekeyAfterMessages: 10n } })
  const b = p.add('b')
  const { sa } = establish(p, a, b)
  for (let i = 0; i < 12; i++) p.send(a, sa, `m${i}`)
  p.flush()
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION).length, 2)
  t.equal(b.data.length, 12)
  t.ok((sa.current?.sent ?? 0n) < 10n, 'sending continues on the new keys')
})

t.test('the responder of the current keys rekeys later than the initiator would', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sb } = establish(p, a, b)
  p.filter = d => !(d.from.host === a.address.host && Pump.type(d) === PacketType.HANDSHAKE_INITIATION)
  p.advance(REKEY_AFTER_MS + 1000)
  p.send(b, sb, 'x')
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION && d.from.host === b.address.host).length, 0)
  p.advance(RESPONDER_REKEY_AFTER_MS - REKEY_AFTER_MS)
  p.send(b, sb, 'y')
  t.equal(p.log.filter(d => Pump.type(d) === PacketType.HANDSHAKE_INITIATION && d.from.host === b.address.host).length, 1)
})

t.test('keepalive after KEEPALIVE_AFTER_MS of silence keeps an idle session open', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  const before = p.log.length
  p.advance(KEEPALIVE_AFTER_MS + 10)
  const kas = p.log.slice(before).filter(d => Pump.type(d) === PacketType.TRANSPORT_DATA)
  t.equal(kas.length, 2, 'one from each side')
  t.ok(kas.every(d => d.bytes.length === 30), 'empty plaintext: header + tag')
  t.same(a.data, [], 'keepalives are not delivered as data')
  p.advance(IDLE_TIMEOUT_MS * 3)
  t.equal(sa.closed, null)
  t.equal(sb.closed, null)
})

t.test('idle timeout: a peer that goes silent is closed after IDLE_TIMEOUT_MS', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  p.advance(1000)
  p.filter = () => false // the link dies
  const cut = p.now
  p.advance(IDLE_TIMEOUT_MS - 2000)
  t.equal(sa.closed, null)
  p.advance(3000)
  t.equal(sa.closed, 'timeout')
  t.equal(sb.closed, 'timeout')
  const closed = p.events(a, 'closed')[0]
  t.equal(closed?.reason, 'timeout')
  t.ok(p.now - cut >= IDLE_TIMEOUT_MS - 1000)
  t.equal(a.manager.sessions().length, 0)
  t.notOk(p.send(a, sa, 'x'), 'a closed session does not send')
})

t.test('close: the peer drops the session at once; replayed or forged CLOSE does nothing', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  // a forged close (right index, wrong tag) is dropped
  const forged = sb.closePacket(p.now, b.manager.tuning)!
  forged[29]! ^= 1
  p.inject(a, forged, b.address)
  t.equal(sa.closed, null)
  t.equal(a.manager.stats().dropped['decrypt-failed'], 1)
  // a DATA packet cannot be turned into a CLOSE: the type byte is authenticated
  const ka = sb.keepalive(p.now, b.manager.tuning)!
  ka[1] = PacketType.SESSION_CLOSE
  p.inject(a, ka, b.address)
  t.equal(sa.closed, null)
  t.equal(a.manager.stats().dropped['decrypt-failed'], 2)
  const before = p.log.length
  p.apply(a, a.manager.close(sa, p.now))
  const close = p.log[before]!
  t.equal(Pump.type(close), PacketType.SESSION_CLOSE)
  t.equal(close.bytes.length, 30)
  p.flush()
  t.equal(sb.closed, 'peer')
  t.equal(p.events(b, 'closed')[0]?.reason, 'peer')
  t.equal(p.events(a, 'closed')[0]?.reason, 'local')
  t.equal(b.manager.sessions().length, 0)
  p.inject(b, close.bytes, a.address)
  t.equal(b.manager.stats().dropped['unknown-session'], 1, 'replayed close: the index is gone')
  t.equal(a.manager.nextDeadline === Infinity || a.manager.sessions().length === 0, true)
})

t.test('replay: a re-sent data packet is dropped and counted, the original delivered once', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa } = establish(p, a, b)
  p.send(a, sa, 'once')
  const pkt = p.queue[0]!
  p.flush()
  for (let i = 0; i < 3; i++) p.inject(b, pkt.bytes, pkt.from)
  t.same(b.data.map(d => d.text), ['once'])
  t.equal(b.manager.stats().dropped.replay, 3)
  // a tampered copy fails authentication and does not poison the window for the real packet
  p.send(a, sa, 'second')
  const next = p.queue.shift()!
  const bad = next.bytes.slice()
  bad[20]! ^= 0x40
  p.inject(b, bad, next.from)
  t.equal(b.manager.stats().dropped['decrypt-failed'], 1)
  p.inject(b, next.bytes, next.from)
  t.same(b.data.map(d => d.text), ['once', 'second'])
})

t.test('reordered packets within the window are accepted; one older than the window is not', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa } = establish(p, a, b)
  p.filter = () => false
  for (let i = 0; i < 2100; i++) p.send(a, sa, `p${i}`)
  const sent = p.log.slice(-2100)
  p.filter = () => true
  p.inject(b, sent[2099]!.bytes, a.address)
  p.inject(b, sent[100]!.bytes, a.address)
  p.inject(b, sent[20]!.bytes, a.address)
  t.same(b.data.map(d => d.text), ['p2099', 'p100'])
  t.equal(b.manager.stats().dropped.replay, 1, 'counter 2048+ below the highest is too old')
})

t.test('roaming: the address follows authenticated packets only', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa, sb } = establish(p, a, b)
  const oldAddr = { ...a.address }
  a.address = { host: '172.16.0.9', port: 5555 } // a's NAT rebinds
  // garbage with b's index from an attacker does not move the address
  const ka = sa.keepalive(p.now, a.manager.tuning)!
  const forged = ka.slice()
  forged[25]! ^= 1
  p.inject(b, forged, { host: '203.0.113.66', port: 1 })
  t.same(sb.address, oldAddr)
  p.inject(b, ka, a.address)
  t.same(sb.address, a.address, 'moved after the first authenticated packet (a keepalive)')
  t.same(p.events(b, 'roamed')[0]?.address, a.address)
  p.send(b, sb, 'reply')
  p.flush()
  t.equal(a.data.at(-1)?.text, 'reply', 'the reply reached the new address')
  // the same packet replayed from another address is a replay: no move
  p.inject(b, ka, { host: '203.0.113.67', port: 2 })
  t.same(sb.address, a.address)
  t.equal(b.manager.stats().dropped.replay, 1)
  p.send(a, sa, 'still moving data')
  p.flush()
  t.equal(b.data.at(-1)?.text, 'still moving data')
})

t.test('send refuses datagrams over MAX_TRANSPORT_PLAINTEXT_BYTES and accepts exactly that', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const { sa } = establish(p, a, b)
  t.throws(() => a.manager.send(sa, new Uint8Array(MAX_TRANSPORT_PLAINTEXT_BYTES + 1), p.now), { code: 'BAD_ARGUMENT' })
  t.ok(a.manager.send(sa, new Uint8Array(MAX_TRANSPORT_PLAINTEXT_BYTES), p.now).sent)
})

t.test('shutdown closes every session with a CLOSE and fails pending dials', async t => {
  const p = new Pump()
  const a = p.add('a')
  const b = p.add('b')
  const c = p.add('c')
  establish(p, a, b)
  p.filter = d => d.to.host !== c.address.host
  const dialId = p.connect(a, c)
  p.apply(a, a.manager.shutdown(p.now))
  t.equal(p.events(a, 'connect-failed').find(e => e.dialId === dialId)?.error.code, 'ENDPOINT_CLOSED')
  p.flush()
  t.equal(p.events(b, 'closed')[0]?.reason, 'peer')
  t.equal(p.events(a, 'closed')[0]?.reason, 'endpoint-closed')
})
