import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  classifyDatagram, decodePacket, decodePacketResult, encodePacket, encodeHandshakeInitiation,
  encodeHandshakeResponse, encodeHandshakeFinal, encodeCookieReply, encodeVersionNegotiation,
  encodeTransportData, encodeTransportDataHeader, encodeDhtPacket, versionNegotiationReply, type Packet
} from '../../src/wire/packet.js'
import { DropCounter, DROP_REASONS } from '../../src/wire/drops.js'
import {
  HandshakePattern, PacketType, MAX_DATAGRAM_BYTES, MAX_TRANSPORT_DATAGRAM_BYTES, MAX_COUNTER, DHT_TYPE_FIRST, DHT_TYPE_LAST,
  MAX_TRANSPORT_PLAINTEXT_BYTES, AEAD_TAG_BYTES, HANDSHAKE_INITIATION_MIN_BYTES, NOISE_MESSAGE_MAX_BYTES, COOKIE_BYTES
} from '../../src/wire/constants.js'
import { fuzz, rng, randomBuf } from './fuzz.js'
import { testSeed } from '../helpers/seed.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const r = rng(testSeed(t, 1, 'sample bytes'))
const bytes = (n: number): Uint8Array => randomBuf(r, n)

const samples: Packet[] = [
  { kind: 'handshake-initiation', senderIndex: 1, pattern: HandshakePattern.XX, cookie: null, message: bytes(32), mac1: bytes(16) },
  { kind: 'handshake-initiation', senderIndex: 0xffffffff, pattern: HandshakePattern.IK, cookie: bytes(16), message: bytes(96), mac1: bytes(16) },
  { kind: 'handshake-initiation', senderIndex: 3, pattern: HandshakePattern.IK, cookie: null, message: bytes(NOISE_MESSAGE_MAX_BYTES + COOKIE_BYTES), mac1: bytes(16) },
  { kind: 'handshake-response', senderIndex: 7, receiverIndex: 9, message: bytes(96) },
  { kind: 'handshake-response', senderIndex: 0x80000000, receiverIndex: 1, message: bytes(48) },
  { kind: 'handshake-final', receiverIndex: 123456, message: bytes(64) },
  { kind: 'cookie-reply', receiverIndex: 42, cookie: bytes(16) },
  { kind: 'version-negotiation', receiverIndex: 5, versions: [1] },
  { kind: 'version-negotiation', receiverIndex: 5, versions: [3, 2, 1] },
  { kind: 'transport-data', receiverIndex: 77, counter: 0n, ciphertext: bytes(16) },
  { kind: 'transport-data', receiverIndex: 78, counter: MAX_COUNTER, ciphertext: bytes(MAX_TRANSPORT_PLAINTEXT_BYTES + AEAD_TAG_BYTES) },
  { kind: 'transport-data', receiverIndex: 79, counter: 2n ** 40n + 5n, ciphertext: bytes(100) },
  { kind: 'dht', type: DHT_TYPE_FIRST, body: bytes(0) },
  { kind: 'dht', type: DHT_TYPE_LAST, body: bytes(300) }
]
const encoded = samples.map(encodePacket)

t.test('every packet type round-trips, and re-encodes to the same bytes', async t => {
  for (const [i, p] of samples.entries()) {
    const buf = encoded[i]!
    t.equal(classifyDatagram(buf), 'dmess', p.kind)
    t.ok(buf.length <= (p.kind === 'transport-data' ? MAX_TRANSPORT_DATAGRAM_BYTES : MAX_DATAGRAM_BYTES))
    t.equal(buf[0]! & 0xc0, 0xc0, 'top two bits set: never STUN')
    const d = decodePacket(buf)
    t.same(d, p, p.kind)
    t.same(encodePacket(d!), buf)
  }
})

// the counter takes a plain-number path below 2^53 and a BigInt path above (both ways)
t.test('transport counters on both sides of 2^32 and 2^53 keep their exact bytes', async t => {
  const edges = [2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n + 12345n]
  for (const counter of edges) {
    const hex = counter.toString(16).padStart(16, '0')
    const buf = encodeTransportData({ receiverIndex: 9, counter, ciphertext: new Uint8Array(16) })
    t.equal(toHex(buf.subarray(6, 14)), hex, `${counter} encodes big-endian`)
    t.same(decodePacket(buf), { kind: 'transport-data', receiverIndex: 9, counter, ciphertext: new Uint8Array(16) }, `${counter} decodes`)
  }
})

t.test('byte layouts match proto-spec/wire.md §4', async t => {
  t.equal(toHex(encodeTransportDataHeader(0x01020304, 0x05060708090a0b0cn)), 'c110010203040506070809 0a0b0c'.replace(/ /g, ''))
  const init = encodeHandshakeInitiation({ senderIndex: 0xaabbccdd, pattern: HandshakePattern.IK, cookie: new Uint8Array(16).fill(0xee), message: new Uint8Array(32).fill(0x11) })
  t.equal(toHex(init.subarray(0, 8)), 'c101aabbccdd0210')
  t.equal(toHex(init.subarray(24, 26)), '0020', 'Noise message length after the cookie')
  t.equal(toHex(init.subarray(26, 58)), '11'.repeat(32))
  t.equal(init.length, HANDSHAKE_INITIATION_MIN_BYTES, 'padded to the minimum')
  t.ok(init.subarray(58, 240).every(b => b === 0), 'zero padding')
  t.ok(init.subarray(240).every(b => b === 0), 'then mac1, zero until the initiator seals it (wire.md §4.1.1)')
  const withMac = encodeHandshakeInitiation({ senderIndex: 1, pattern: HandshakePattern.XX, cookie: null, message: new Uint8Array(300), mac1: new Uint8Array(16).fill(0xab) })
  t.equal(withMac.length, 326, 'no padding past the minimum: 10 + 300 + 16')
  t.equal(toHex(withMac.subarray(310)), 'ab'.repeat(16), 'mac1 last')
  const resp = encodeHandshakeResponse({ senderIndex: 2, receiverIndex: 3, message: new Uint8Array(48) })
  t.equal(toHex(resp.subarray(0, 10)), 'c1020000000200000003')
  t.equal(toHex(encodeHandshakeFinal({ receiverIndex: 4, message: new Uint8Array(64) }).subarray(0, 6)), 'c10300000004')
  t.equal(toHex(encodeCookieReply({ receiverIndex: 5, cookie: new Uint8Array(16).fill(1) })), 'c10400000005' + '01'.repeat(16))
  t.equal(toHex(encodeVersionNegotiation({ receiverIndex: 6, versions: [2, 1] })), 'c005000000060202' + '01')
  t.equal(toHex(encodeDhtPacket({ type: 0x21, body: new Uint8Array([9]) })), 'c12109')
})

t.test('RFC 5769 STUN samples are classified as STUN and never decoded as dmess', async t => {
  const vec = JSON.parse(readFileSync(new URL('../vectors/stun/rfc5769.json', import.meta.url), 'utf8')) as { vectors: Array<{ name: string, hex: string }> }
  t.equal(vec.vectors.length, 4)
  for (const v of vec.vectors) {
    const buf = hex(v.hex)
    t.equal(classifyDatagram(buf), 'stun', v.name)
    t.same(decodePacketResult(buf), { ok: false, reason: 'not-dmess' })
    t.equal(versionNegotiationReply(buf), null)
    const noCookie = buf.slice()
    noCookie[4]! ^= 0xff
    // without the cookie only a Binding request is STUN: RFC 3489's classic form (wire.md §1)
    t.equal(classifyDatagram(noCookie), v.name.includes('request') ? 'stun' : 'unknown', `${v.name} without the magic cookie`)
    t.equal(classifyDatagram(buf.subarray(0, buf.length - 4)), 'unknown', `${v.name} with a length mismatch`)
  }
})

t.test('classifyDatagram on short and foreign datagrams', async t => {
  t.equal(classifyDatagram(new Uint8Array(0)), 'unknown')
  t.equal(classifyDatagram(new Uint8Array([0xc1])), 'unknown', 'a marker alone is no packet')
  t.equal(classifyDatagram(new Uint8Array([0x80, 0x01, 0, 0])), 'unknown', 'RTP range')
  t.equal(classifyDatagram(new Uint8Array([0x16, 0xfe, 0xfd])), 'unknown', 'DTLS range')
})

t.test('drop reasons: empty, too large, unknown version, unknown type, truncated, bad field', async t => {
  const reason = (b: Uint8Array): string | undefined => { const d = decodePacketResult(b); return d.ok ? undefined : d.reason }
  t.equal(reason(new Uint8Array(0)), 'empty')
  t.equal(reason(new Uint8Array([0x41, 1, 2, 3])), 'not-dmess')
  const big = new Uint8Array(MAX_DATAGRAM_BYTES + 1); big[0] = 0xc1; big[1] = 0x21
  t.equal(reason(big), 'too-large')
  // wire.md §3: only TRANSPORT_DATA may exceed 1400 bytes (a path MTU probe or a confirmed size), up to 65,507
  const bigHandshake = new Uint8Array(MAX_DATAGRAM_BYTES + 1); bigHandshake[0] = 0xc1; bigHandshake[1] = PacketType.HANDSHAKE_INITIATION
  t.equal(reason(bigHandshake), 'too-large')
  const ct = bytes(9000)
  const jumbo = encodeTransportData({ receiverIndex: 9, counter: 1n, ciphertext: ct })
  t.same(decodePacket(jumbo), { kind: 'transport-data', receiverIndex: 9, counter: 1n, ciphertext: ct }, 'a 9 KB TRANSPORT_DATA decodes')
  const tooJumbo = new Uint8Array(MAX_TRANSPORT_DATAGRAM_BYTES + 1); tooJumbo.set(jumbo.subarray(0, 14))
  t.equal(reason(tooJumbo), 'too-large', 'above 65,507 even TRANSPORT_DATA is too large')
  t.equal(reason(Uint8Array.from([0xc2, ...encoded[0]!.subarray(1)])), 'unsupported-version')
  t.equal(reason(Uint8Array.from([0xff, 0x01, 0, 0])), 'unsupported-version')
  for (const type of [0x00, 0x06, 0x0f, 0x11, 0x40, 0x5f, 0x60, 0xff]) t.equal(reason(new Uint8Array([0xc1, type, 0, 0, 0, 1])), 'unknown-type', `type 0x${type.toString(16)}`)
  t.equal(reason(new Uint8Array([0xc0, 0x01, 0, 0, 0, 1, 1, 1])), 'unknown-type', 'version 0 has only VERSION_NEGOTIATION')
  t.equal(reason(Uint8Array.from([0xc1, 0x05, ...encoded[7]!.subarray(2)])), 'unknown-type', 'VERSION_NEGOTIATION only in version 0')
  const cut = (i: number, len: number): Uint8Array => encoded[i]!.subarray(0, len)
  t.equal(reason(cut(0, HANDSHAKE_INITIATION_MIN_BYTES - 1)), 'truncated', 'initiation below the padded minimum')
  t.equal(reason(cut(2, 500)), 'truncated', 'Noise message longer than the datagram')
  const initWith = (f: (b: Uint8Array) => void, i = 0): Uint8Array => { const b = encoded[i]!.slice(); f(b); return b }
  t.equal(reason(initWith(b => { b[239] = 1 })), 'bad-field', 'non-zero padding')
  t.equal(reason(Uint8Array.from([...encoded[0]!, 0])), 'bad-field', 'padding past the minimum')
  t.equal(reason(initWith(b => { b[9] = 31 })), 'bad-field', 'Noise message shorter than 32')
  t.equal(reason(cut(3, 10 + 47)), 'truncated', 'response')
  t.equal(reason(cut(5, 6 + 63)), 'truncated', 'final')
  t.equal(reason(cut(6, 21)), 'truncated', 'cookie reply')
  t.equal(reason(cut(7, 7)), 'truncated', 'version negotiation without versions')
  t.equal(reason(cut(8, 9)), 'truncated', 'version list shorter than its count')
  t.equal(reason(cut(9, 14 + 15)), 'truncated', 'transport data shorter than a tag')
  const zeroIndex = encoded[9]!.slice(); zeroIndex.fill(0, 2, 6)
  t.equal(reason(zeroIndex), 'bad-field', 'session index 0')
  const badPattern = encoded[0]!.slice(); badPattern[6] = 3
  t.equal(reason(badPattern), 'bad-field', 'unknown handshake pattern')
  const badCookieLen = encoded[1]!.slice(); badCookieLen[7] = 15
  t.equal(reason(badCookieLen), 'bad-field', 'cookie length must be 0 or 16')
  const reservedCounter = encodeTransportData({ receiverIndex: 1, counter: 0n, ciphertext: new Uint8Array(16) }); reservedCounter.fill(0xff, 6, 14)
  t.equal(reason(reservedCounter), 'bad-field', 'counter 2^64-1 is reserved (Noise §5.1)')
  t.equal(reason(Uint8Array.from([...encoded[6]!, 0])), 'bad-field', 'cookie reply has a fixed size')
  t.equal(reason(Uint8Array.from([...encoded[7]!, 1])), 'bad-field', 'version list longer than its count')
  t.equal(reason(hex('c005000000050100')), 'bad-field', 'version 0 in a version list')
  t.equal(reason(hex('c00500000005000000')), 'bad-field', 'empty version list')
})

t.test('a node that does not speak a version answers its initiations with VERSION_NEGOTIATION', async t => {
  const v2init = encoded[0]!.slice(); v2init[0] = 0xc2
  const reply = versionNegotiationReply(v2init)
  t.ok(reply)
  t.ok(reply!.length <= v2init.length, 'no amplification')
  t.same(decodePacket(reply!), { kind: 'version-negotiation', receiverIndex: 1, versions: [1] })
  t.equal(versionNegotiationReply(encoded[0]!), null, 'supported version: no reply')
  t.equal(versionNegotiationReply(v2init.subarray(0, HANDSHAKE_INITIATION_MIN_BYTES - 1)), null, 'too short to answer without amplification')
  const v2data = encoded[9]!.slice(); v2data[0] = 0xc2
  t.equal(versionNegotiationReply(v2data), null, 'only initiations get a reply')
  const zero = v2init.slice(); zero.fill(0, 2, 6)
  t.equal(versionNegotiationReply(zero), null)
  t.equal(versionNegotiationReply(encoded[7]!), null, 'never answer a version-0 packet')
})

t.test('encoders refuse what the wire forbids', async t => {
  const code = { code: 'WIRE_ENCODE' }
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 0, pattern: HandshakePattern.XX, cookie: null, message: bytes(32) }), code)
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 2 ** 32, pattern: HandshakePattern.XX, cookie: null, message: bytes(32) }), code)
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 1, pattern: 9 as HandshakePattern, cookie: null, message: bytes(32) }), code)
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 1, pattern: HandshakePattern.XX, cookie: bytes(8), message: bytes(32) }), code)
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 1, pattern: HandshakePattern.XX, cookie: null, message: bytes(31) }), code)
  t.throws(() => encodeHandshakeInitiation({ senderIndex: 1, pattern: HandshakePattern.XX, cookie: null, message: bytes(MAX_DATAGRAM_BYTES) }), code)
  t.throws(() => encodeHandshakeResponse({ senderIndex: 1, receiverIndex: 1, message: bytes(47) }), code)
  t.throws(() => encodeHandshakeFinal({ receiverIndex: 1, message: bytes(63) }), code)
  t.throws(() => encodeCookieReply({ receiverIndex: 1, cookie: bytes(17) }), code)
  t.throws(() => encodeVersionNegotiation({ receiverIndex: 1, versions: [] }), code)
  t.throws(() => encodeVersionNegotiation({ receiverIndex: 1, versions: [64] }), code)
  t.throws(() => encodeTransportData({ receiverIndex: 1, counter: MAX_COUNTER + 1n, ciphertext: bytes(16) }), code)
  t.throws(() => encodeTransportData({ receiverIndex: 1, counter: -1n, ciphertext: bytes(16) }), code)
  t.throws(() => encodeTransportData({ receiverIndex: 1, counter: 0n, ciphertext: bytes(15) }), code)
  t.throws(() => encodeTransportData({ receiverIndex: 1, counter: 0n, ciphertext: bytes(MAX_TRANSPORT_DATAGRAM_BYTES - 13) }), code)
  t.throws(() => encodeDhtPacket({ type: 0x40, body: bytes(1) }), code)
  t.throws(() => encodeDhtPacket({ type: 0x21, body: bytes(MAX_DATAGRAM_BYTES - 1) }), code)
})

t.test('DropCounter counts per reason', async t => {
  const c = new DropCounter()
  for (const b of [new Uint8Array(0), new Uint8Array([0xc9, 1, 0]), new Uint8Array([0xc9, 1, 0]), new Uint8Array([0xc1, 0x77])]) {
    const d = decodePacketResult(b)
    if (!d.ok) c.count(d.reason)
  }
  t.equal(c.get('unsupported-version'), 2)
  t.equal(c.get('empty'), 1)
  t.equal(c.get('unknown-type'), 1)
  t.equal(c.total, 4)
  t.same(Object.keys(c.snapshot()), DROP_REASONS)
})

t.test('fuzz: 2 × 20,000 random and mutated datagrams never throw; accepted ones are canonical', async t => {
  let accepted = 0
  let total = 0
  const counter = new DropCounter()
  fuzz(testSeed(t, 0xd0e55, 'datagram fuzz'), 20_000, encoded, buf => {
    total++
    const cls = classifyDatagram(buf)
    const d = decodePacketResult(buf)
    versionNegotiationReply(buf)
    if (d.ok) {
      accepted++
      if (cls !== 'dmess') throw new Error('decoded a non-dmess datagram')
      const again = encodePacket(d.packet)
      if (toHex(again) !== toHex(buf)) throw new Error(`not canonical: ${toHex(buf)}`)
    } else {
      counter.count(d.reason)
    }
  }, [[0xc1, 0x01], [0xc1, 0x02], [0xc1, 0x03], [0xc1, 0x04], [0xc0, 0x05], [0xc1, 0x10], [0xc1, 0x20], [0xc2, 0x01]])
  t.equal(total, 40_000)
  t.ok(accepted > 1000, `some inputs decode (${accepted})`)
  t.ok(counter.total > 1000, `most are dropped and counted (${counter.total})`)
  t.equal(accepted + counter.total, total)
})
