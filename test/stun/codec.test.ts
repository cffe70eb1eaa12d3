// The STUN codec against RFC 5769's four sample messages (test/vectors/stun/rfc5769.json, see its
// SOURCE.md), plus round trips and the decoder's refusals. proto-spec/stun.md §2.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { decodeStun, encodeStun, attribute, messageType, splitMessageType, fingerprintOf } from '../../src/stun/codec.js'
import { decodeAddress, decodeErrorCode, decodeSoftware, decodeUnknownAttributes, encodeAddress, encodeErrorCode, encodeUnknownAttributes, xorPad } from '../../src/stun/attributes.js'
import { longTermKey, messageIntegrityValid } from '../../src/stun/integrity.js'
import { Attr, METHOD_BINDING } from '../../src/stun/constants.js'

interface Vector {
  name: string
  rfc5769_section: string
  transaction_id: string
  credentials: { mechanism: string, username?: string, password?: string, realm?: string, password_after_saslprep?: string, key_md5?: string }
  expected: Record<string, unknown>
  hex: string
}
const file = JSON.parse(readFileSync(new URL('../vectors/stun/rfc5769.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const u32hex = (b: Uint8Array): string => '0x' + toHex(b)
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

const byName = new Map(file.vectors.map(v => [v.name, v]))
const decoded = (name: string): ReturnType<typeof decodeStun> & { ok: true } => {
  const r = decodeStun(hex(byName.get(name)!.hex))
  if (!r.ok) throw new Error(`${name}: ${r.reason}`)
  return r
}

t.test('every RFC 5769 sample decodes: header, transaction id, FINGERPRINT, MESSAGE-INTEGRITY', async t => {
  t.equal(file.vectors.length, 4)
  for (const v of file.vectors) {
    const { message: m } = decoded(v.name)
    t.equal(m.legacy, false, `${v.name} carries the magic cookie`)
    t.equal(m.method, METHOD_BINDING, `${v.name}: Binding`)
    t.equal(toHex(m.transactionId), v.transaction_id, `§${v.rfc5769_section} transaction id`)
    const fp = attribute(m, Attr.FINGERPRINT)
    if (v.expected.FINGERPRINT !== undefined) t.equal(u32hex(fp!), v.expected.FINGERPRINT, `§${v.rfc5769_section} FINGERPRINT`)
    t.equal(toHex(attribute(m, Attr.MESSAGE_INTEGRITY)!), v.expected['MESSAGE-INTEGRITY'], `§${v.rfc5769_section} MESSAGE-INTEGRITY bytes`)
    const c = v.credentials
    const key = c.mechanism === 'short-term' ? enc(c.password!) : longTermKey(c.username!, c.realm!, c.password_after_saslprep!)
    if (c.key_md5 !== undefined) t.equal(toHex(key), c.key_md5, 'the long-term key is MD5(username:realm:password)')
    t.ok(messageIntegrityValid(m, key), `§${v.rfc5769_section} MESSAGE-INTEGRITY verifies with the RFC's credentials`)
    t.notOk(messageIntegrityValid(m, enc('wrong password')), 'and not with another key')
  }
})

t.test('§2.1 request: its attributes read as the RFC lists them', async t => {
  const { message: m } = decoded('sample_request')
  t.equal(m.cls, 'request')
  t.equal(decodeSoftware(attribute(m, Attr.SOFTWARE)!), 'STUN test client')
  t.equal(u32hex(attribute(m, Attr.PRIORITY)!), '0x6e0001ff')
  t.equal(u32hex(attribute(m, Attr.ICE_CONTROLLED)!), '0x932ff9b151263b36')
  t.equal(new TextDecoder().decode(attribute(m, Attr.USERNAME)), 'evtj:h6vY', 'USERNAME without its padding (0x20 in the vector)')
})

t.test('§2.2 and §2.3 responses: XOR-MAPPED-ADDRESS, IPv4 and IPv6', async t => {
  for (const [name, addr] of [['sample_ipv4_response', '192.0.2.1'], ['sample_ipv6_response', '2001:db8:1234:5678:11:2233:4455:6677']] as const) {
    const { message: m } = decoded(name)
    t.equal(m.cls, 'success')
    t.equal(decodeSoftware(attribute(m, Attr.SOFTWARE)!), 'test vector')
    t.same(decodeAddress(attribute(m, Attr.XOR_MAPPED_ADDRESS)!, xorPad(m.transactionId)), { host: addr, port: 32853 }, name)
    // and we encode the same value back
    t.equal(toHex(encodeAddress({ host: addr, port: 32853 }, xorPad(m.transactionId))!), toHex(attribute(m, Attr.XOR_MAPPED_ADDRESS)!))
  }
})

t.test('a broken byte anywhere under FINGERPRINT is refused', async t => {
  for (const name of ['sample_request', 'sample_ipv4_response', 'sample_ipv6_response']) {
    const b = hex(byName.get(name)!.hex)
    for (const at of [0, 1, 8, 20, 30, b.length - 9]) {
      const bad = b.slice()
      bad[at]! ^= 0x01
      const r = decodeStun(bad)
      t.equal(r.ok, false, `${name} with byte ${at} flipped`)
    }
    const badFp = b.slice()
    badFp[b.length - 1]! ^= 0x80
    t.same(decodeStun(badFp), { ok: false, reason: 'bad-fingerprint' })
  }
  // §2.4 has no FINGERPRINT: a flipped USERNAME byte decodes, and MESSAGE-INTEGRITY catches it
  const v = byName.get('sample_request_long_term_auth')!
  const b = hex(v.hex)
  b[25]! ^= 0x01
  const r = decodeStun(b)
  t.ok(r.ok)
  if (r.ok) t.notOk(messageIntegrityValid(r.message, hex(v.credentials.key_md5!)))
})

t.test('message type bits interleave as RFC 8489 §5 Figure 3', async t => {
  t.equal(messageType(METHOD_BINDING, 'request'), 0x0001)
  t.equal(messageType(METHOD_BINDING, 'indication'), 0x0011)
  t.equal(messageType(METHOD_BINDING, 'success'), 0x0101)
  t.equal(messageType(METHOD_BINDING, 'error'), 0x0111)
  for (const method of [0x001, 0x003, 0x00f, 0x010, 0x07f, 0x080, 0xfff]) {
    for (const cls of ['request', 'indication', 'success', 'error'] as const) t.same(splitMessageType(messageType(method, cls)), { method, cls })
  }
})

t.test('encode → decode round trip, with zero padding and FINGERPRINT', async t => {
  const transactionId = hex('0102030405060708090a0b0c')
  const bytes = encodeStun({
    method: METHOD_BINDING,
    cls: 'error',
    transactionId,
    attributes: [{ type: Attr.ERROR_CODE, value: encodeErrorCode(420, 'Unknown Attribute') }, { type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes([0x0027]) }],
    fingerprint: true
  })
  t.equal(bytes.length % 4, 0)
  const r = decodeStun(bytes)
  t.ok(r.ok)
  if (!r.ok) return
  t.equal(r.message.cls, 'error')
  t.same(decodeErrorCode(attribute(r.message, Attr.ERROR_CODE)!), { code: 420, reason: 'Unknown Attribute' })
  t.same(decodeUnknownAttributes(attribute(r.message, Attr.UNKNOWN_ATTRIBUTES)!), [0x0027])
  t.equal(fingerprintOf(bytes.subarray(0, bytes.length - 8)), new DataView(bytes.buffer).getUint32(bytes.length - 4))
})

t.test('a classic RFC 3489 message: no cookie, 16-byte transaction id, never a FINGERPRINT', async t => {
  const transactionId = hex('00112233445566778899aabbccddeeff')
  const bytes = encodeStun({ method: METHOD_BINDING, cls: 'success', transactionId, attributes: [{ type: Attr.MAPPED_ADDRESS, value: encodeAddress({ host: '198.51.100.9', port: 40000 }, null)! }], fingerprint: true })
  t.equal(bytes.length, 32, 'header and MAPPED-ADDRESS only')
  const r = decodeStun(bytes)
  t.ok(r.ok && r.message.legacy)
  if (!r.ok) return
  t.equal(toHex(r.message.transactionId), toHex(transactionId))
  t.same(decodeAddress(attribute(r.message, Attr.MAPPED_ADDRESS)!, null), { host: '198.51.100.9', port: 40000 })
})

t.test('the decoder says why it drops', async t => {
  const ok = hex(byName.get('sample_ipv4_response')!.hex)
  t.same(decodeStun(ok.subarray(0, 19)), { ok: false, reason: 'short' })
  const dmess = ok.slice(); dmess[0] = 0xc1
  t.same(decodeStun(dmess), { ok: false, reason: 'not-stun' })
  t.same(decodeStun(ok.subarray(0, ok.length - 4)), { ok: false, reason: 'bad-length' })
  const overrun = ok.slice(); overrun[23] = 0xff // SOFTWARE's length past the end
  t.same(decodeStun(overrun), { ok: false, reason: 'truncated-attribute' })
  const tail = new Uint8Array(ok.length + 8); tail.set(ok); tail[3] = ok[3]! + 8; tail[ok.length + 1] = 0x22; tail[ok.length] = 0x80
  t.same(decodeStun(tail), { ok: false, reason: 'after-fingerprint' })
  t.equal(decodeAddress(Uint8Array.of(0, 3, 0, 1, 1, 2, 3, 4), null), null, 'unknown family')
  t.equal(decodeAddress(Uint8Array.of(0, 1, 0, 1, 1, 2, 3), null), null, 'short IPv4')
  t.equal(decodeErrorCode(Uint8Array.of(0, 0, 7, 0)), null, 'class 7')
  t.equal(decodeErrorCode(Uint8Array.of(0, 0, 4, 100)), null, 'number 100')
  t.equal(decodeUnknownAttributes(Uint8Array.of(0, 1, 2)), null, 'odd length')
})

t.test('attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 §14.5)', async t => {
  const transactionId = hex('0102030405060708090a0b0c')
  const bytes = encodeStun({
    method: METHOD_BINDING,
    cls: 'request',
    transactionId,
    attributes: [{ type: Attr.MESSAGE_INTEGRITY, value: new Uint8Array(20) }, { type: Attr.RESPONSE_PORT, value: Uint8Array.of(0, 80, 0, 0) }],
    fingerprint: true
  })
  const r = decodeStun(bytes)
  t.ok(r.ok)
  if (r.ok) t.same(r.message.attributes.map(a => a.type), [Attr.MESSAGE_INTEGRITY, Attr.FINGERPRINT])
})
