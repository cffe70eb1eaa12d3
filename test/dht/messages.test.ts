// The DHT codec: every message round-trips; the decoder is strict and never throws.
import t from 'tap'
import { encodeMessage, decodeMessage, isRequest, type DhtMessage } from '../../src/dht/messages.js'
import { DhtType, ValueStatus, StoreStatus, MESSAGE_HEADER_BYTES, MAX_CONTACTS, MAX_VALUE_RECORDS, RECORD_BYTES } from '../../src/dht/constants.js'
import { DHT_TYPE_FIRST, DHT_TYPE_LAST, MAX_DATAGRAM_BYTES } from '../../src/wire/constants.js'
import { decodePacketResult } from '../../src/wire/packet.js'
import { parseAddress, formatAddress, canonicalAddress, subnetOf, addressOf } from '../../src/io/address.js'
import { setInternLimit } from '../../src/dht/intern.js'
import { testRng } from '../helpers/seed.js'

const rng = testRng(t, 3, 'keys and ids')
const head = { txid: 0xdeadbeef, readOnly: false, senderKey: rng.bytes(32) }
const nodes = (n: number): Array<{ id: Uint8Array, addr: string }> =>
  Array.from({ length: n }, (_, i) => ({ id: rng.bytes(32), addr: i % 2 ? `198.51.100.${i}:${1000 + i}` : `[2001:db8::${(i + 1).toString(16)}]:${2000 + i}` }))

const samples: DhtMessage[] = [
  { ...head, type: DhtType.PING },
  { ...head, readOnly: true, type: DhtType.PONG, observed: '203.0.113.9:55555' },
  { ...head, type: DhtType.PONG, observed: '[2001:db8::1]:1' },
  { ...head, type: DhtType.FIND_NODE, target: rng.bytes(32) },
  { ...head, type: DhtType.NODES, nodes: nodes(MAX_CONTACTS) },
  { ...head, type: DhtType.NODES, nodes: [] },
  { ...head, type: DhtType.FIND_VALUE, key: rng.bytes(32), haveSeq: null },
  { ...head, type: DhtType.FIND_VALUE, key: rng.bytes(32), haveSeq: 2 ** 53 - 1 },
  { ...head, type: DhtType.VALUE, token: rng.bytes(16), status: ValueStatus.NONE, nodes: nodes(5) },
  { ...head, type: DhtType.VALUE, token: rng.bytes(16), status: ValueStatus.RECORDS, total: 1, start: 0, records: [rng.bytes(300)] },
  { ...head, type: DhtType.VALUE, token: rng.bytes(16), status: ValueStatus.NOT_NEWER, seq: 7, nodes: nodes(MAX_CONTACTS) },
  { ...head, type: DhtType.STORE, key: rng.bytes(32), token: rng.bytes(16), record: rng.bytes(200) },
  { ...head, type: DhtType.STORED, status: StoreStatus.STALE },
  { ...head, type: DhtType.FIND_VALUE, key: rng.bytes(32), haveSeq: 7, periodKey: rng.bytes(32) },
  { ...head, type: DhtType.FIND_VALUE, key: rng.bytes(32), haveSeq: null, periodKey: rng.bytes(32), start: 2 },
  { ...head, type: DhtType.VALUE, token: rng.bytes(16), status: ValueStatus.RECORDS, total: 4, start: 2, records: [rng.bytes(RECORD_BYTES), rng.bytes(RECORD_BYTES)] }
]

t.test('DHT packet types sit in the range wire.md reserves, requests even and answers odd', async t => {
  for (const v of Object.values(DhtType)) t.ok(v >= DHT_TYPE_FIRST && v <= DHT_TYPE_LAST, `0x${v.toString(16)}`)
  t.ok(isRequest(DhtType.PING) && isRequest(DhtType.STORE) && !isRequest(DhtType.PONG) && !isRequest(DhtType.VALUE))
})

t.test('every message round-trips and the wire layer classifies it as a DHT packet', async t => {
  for (const m of samples) {
    const bytes = encodeMessage(m)
    t.ok(bytes.length <= MAX_DATAGRAM_BYTES, `${bytes.length} bytes`)
    t.same(decodeMessage(bytes), m, `type 0x${m.type.toString(16)}`)
    const pkt = decodePacketResult(bytes)
    t.ok(pkt.ok && pkt.packet.kind === 'dht', 'wire demux: dht')
  }
})

t.test('VALUE carries at most MAX_VALUE_RECORDS (2) records of 498 bytes: a third would not fit a datagram', async t => {
  const token = rng.bytes(16)
  const two = encodeMessage({ ...head, type: DhtType.VALUE, token, status: ValueStatus.RECORDS, total: 4, start: 0, records: [rng.bytes(RECORD_BYTES), rng.bytes(RECORD_BYTES)] })
  t.equal(two.length, MESSAGE_HEADER_BYTES + 16 + 1 + 3 + 2 * (2 + RECORD_BYTES), `${two.length} bytes`)
  t.ok(two.length + 2 + RECORD_BYTES > MAX_DATAGRAM_BYTES, 'one more record would pass 1400 bytes')
  t.equal(MAX_VALUE_RECORDS, 2)
  const three = Array.from({ length: 3 }, () => rng.bytes(RECORD_BYTES))
  t.throws(() => encodeMessage({ ...head, type: DhtType.VALUE, token, status: ValueStatus.RECORDS, total: 4, start: 0, records: three }), { code: 'WIRE_ENCODE' })
})

t.test('the largest answer (20 IPv6 contacts) fits one datagram', async t => {
  const all6 = Array.from({ length: MAX_CONTACTS }, () => ({ id: rng.bytes(32), addr: '[2001:db8:1:2:3:4:5:6]:65535' }))
  const b = encodeMessage({ ...head, type: DhtType.VALUE, token: rng.bytes(16), status: ValueStatus.NOT_NEWER, seq: 1, nodes: all6 })
  t.ok(b.length < MAX_DATAGRAM_BYTES, `${b.length} bytes`)
})

t.test('decoder rejects every truncation, trailing bytes, bad fields — and never throws', async t => {
  for (const m of samples) {
    const bytes = encodeMessage(m)
    for (let n = 0; n < bytes.length; n++) t.equal(decodeMessage(bytes.subarray(0, n)), null, `truncated to ${n}`)
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    t.equal(decodeMessage(longer), null, 'trailing byte')
  }
  const ping = encodeMessage(samples[0]!)
  const bad = (f: (b: Uint8Array) => void, what: string): void => {
    const b = ping.slice()
    f(b)
    t.equal(decodeMessage(b), null, what)
  }
  bad(b => { b[0] = 0xc2 }, 'other wire version')
  bad(b => { b[1] = 0x28 }, 'unassigned DHT type')
  bad(b => { b[6] = 0x02 }, 'reserved flag bit')
  const fv = encodeMessage(samples[6]!)
  fv[MESSAGE_HEADER_BYTES + 32] = 0x08
  t.equal(decodeMessage(fv), null, 'FIND_VALUE reserved flag')
  const records = encodeMessage(samples[15]!)
  const at = MESSAGE_HEADER_BYTES + 16 + 1 // total, start, count
  const recordsBad = (f: (b: Uint8Array) => void, what: string): void => {
    const b = records.slice()
    f(b)
    t.equal(decodeMessage(b), null, what)
  }
  recordsBad(b => { b[at] = 3 }, 'VALUE records beyond its total')
  recordsBad(b => { b[at + 2] = 0 }, 'VALUE RECORDS with no record')
  recordsBad(b => { b[at + 2] = 3 }, 'VALUE RECORDS claiming 3')
  recordsBad(b => { b[at - 1] = 1 }, 'VALUE status 1 (version 1\'s RECORD) is retired')
  const stored = encodeMessage(samples[12]!)
  stored[stored.length - 1] = 9
  t.equal(decodeMessage(stored), null, 'unknown STORED status')
  const many = encodeMessage({ ...head, type: DhtType.NODES, nodes: [] })
  many[MESSAGE_HEADER_BYTES] = MAX_CONTACTS + 1
  t.equal(decodeMessage(many), null, 'too many contacts')
  t.equal(decodeMessage(new Uint8Array(MAX_DATAGRAM_BYTES + 1).fill(0xc1)), null, 'oversize')
  const fuzz = testRng(t, 11, 'bit flips')
  for (let i = 0; i < 3000; i++) {
    const b = samples[i % samples.length]!
    const m = encodeMessage(b)
    const at = fuzz.int(m.length)
    m[at] = (m[at] ?? 0) ^ (1 << fuzz.int(8))
    t.doesNotThrow(() => decodeMessage(m))
  }
  t.doesNotThrow(() => decodeMessage(fuzz.bytes(100)))
})

t.test('encoding mistakes are local errors', async t => {
  t.throws(() => encodeMessage({ ...head, type: DhtType.NODES, nodes: nodes(MAX_CONTACTS + 1) }), { code: 'WIRE_ENCODE' })
  t.throws(() => encodeMessage({ ...head, type: DhtType.NODES, nodes: [{ id: rng.bytes(32), addr: 'example.com:80' }] }), { code: 'WIRE_ENCODE' })
  t.throws(() => encodeMessage({ ...head, type: DhtType.FIND_NODE, target: rng.bytes(31) }), { code: 'WIRE_ENCODE' })
  t.throws(() => encodeMessage({ ...head, txid: -1, type: DhtType.PING }), { code: 'WIRE_ENCODE' })
})

t.test('addresses: canonical text, subnets, wire form', async t => {
  t.equal(canonicalAddress('[::ffff:1.2.3.4]:80'), '1.2.3.4:80', 'v4-mapped becomes IPv4')
  t.equal(canonicalAddress('[2001:DB8:0:0:0:0:0:1]:443'), '[2001:db8::1]:443', 'RFC 5952')
  t.equal(canonicalAddress('[2001:db8:0:1:0:0:1:1]:1'), '[2001:db8:0:1::1:1]:1')
  t.equal(addressOf('::1', 9), '[::1]:9')
  for (const bad of ['1.2.3:4', '1.2.3.4', '1.2.3.4:0', '1.2.3.4:65536', '01.2.3.4:5', '256.1.1.1:5', '[1::2::3]:4', '::1:5', '[::1]']) {
    t.equal(parseAddress(bad), null, bad)
  }
  t.equal(subnetOf('198.51.100.7:1'), subnetOf('198.51.100.200:9'), 'same /24')
  t.not(subnetOf('198.51.100.7:1'), subnetOf('198.51.101.7:1'))
  t.equal(subnetOf('[2001:db8:1::1]:1'), subnetOf('[2001:db8:1:ffff::2]:1'), 'same /48')
  t.not(subnetOf('[2001:db8:1::1]:1'), subnetOf('[2001:db8:2::1]:1'))
  const p = parseAddress('[2001:db8::1.2.3.4]:7')!
  t.equal(formatAddress(p.ip, p.port), '[2001:db8::102:304]:7', 'embedded IPv4 tail')
})

t.test('decoded contacts are interned: the same id and address objects each time, right values past the memo limit', async t => {
  const rng = testRng(t, 9, 'ids')
  const nodes = Array.from({ length: 5 }, (_, i) => ({ id: rng.bytes(32), addr: `198.51.100.${i + 1}:${4000 + i}` }))
  const bytes = encodeMessage({ txid: 1, readOnly: false, senderKey: rng.bytes(32), type: DhtType.NODES, nodes })
  const a = decodeMessage(bytes) as DhtMessage & { type: typeof DhtType.NODES }
  const b = decodeMessage(bytes.slice()) as DhtMessage & { type: typeof DhtType.NODES }
  t.same(a.nodes, nodes, 'decoded values are what was sent')
  for (let i = 0; i < nodes.length; i++) t.equal(b.nodes[i]!.id, a.nodes[i]!.id, `contact ${i}: one shared id array`)
  bytes.fill(0, MESSAGE_HEADER_BYTES + 1)
  t.same(a.nodes[0]!.id, nodes[0]!.id, 'an interned id does not alias the datagram')
  setInternLimit(2)
  try {
    for (let round = 0; round < 3; round++) {
      const m = decodeMessage(encodeMessage({ txid: 2, readOnly: false, senderKey: rng.bytes(32), type: DhtType.NODES, nodes })) as DhtMessage & { type: typeof DhtType.NODES }
      t.same(m.nodes, nodes, `limit 2, round ${round}: still the right values`)
    }
  } finally {
    setInternLimit()
  }
})
