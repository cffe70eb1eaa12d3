import t from 'tap'
import { Packr } from 'msgpackr'
import { encodePayload, decodePayload, type TypedPayload, type ContactRequestPayload } from '../../src/wire/payloads.js'
import {
  PayloadType, TEXT_MAX_BYTES, FILE_CHUNK_BYTES, CONTACT_NAME_MAX_BYTES, GREETING_MAX_BYTES,
  RECEIPT_MAX_IDS, PRESENCE_MAX_ADDRESSES, FILE_NAME_MAX_BYTES, MAX_PAYLOAD_BYTES, BATCH_MAX_MESSAGES, BATCH_MAX_TEXT_BYTES
} from '../../src/wire/constants.js'
import { sha256 } from '../../src/crypto/primitives.js'
import { fuzz } from './fuzz.js'
import { testRng, testSeed } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x9a70).bytes

const packr = new Packr({ useRecords: false, variableMapSize: true })
const wire = (entries: Array<[unknown, unknown]>): Uint8Array => new Uint8Array(packr.pack(new Map(entries)))
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const reasonOf = (type: number, body: Uint8Array): string => {
  const d = decodePayload(type, body)
  return d.ok ? 'ok' : d.reason
}

const fileData = randomBytes(FILE_CHUNK_BYTES + 100)
const samples: TypedPayload[] = [
  { type: PayloadType.TEXT, payload: { text: 'hello 👋, ünïcode' } },
  { type: PayloadType.TEXT, payload: { text: 'x'.repeat(TEXT_MAX_BYTES) } },
  { type: PayloadType.FILE, payload: { name: 'photo.jpg', size: fileData.length, sha256: sha256(fileData), index: 0, data: fileData.subarray(0, FILE_CHUNK_BYTES) } },
  { type: PayloadType.FILE, payload: { name: 'photo.jpg', size: fileData.length, sha256: sha256(fileData), index: 1, data: fileData.subarray(FILE_CHUNK_BYTES) } },
  { type: PayloadType.FILE, payload: { name: 'empty', size: 0, sha256: sha256(new Uint8Array(0)), index: 0, data: new Uint8Array(0) } },
  { type: PayloadType.FILE, payload: { name: 'huge.iso', size: 2 ** 40 + 7, sha256: new Uint8Array(32), index: 2 ** 25, data: new Uint8Array(7) } },
  { type: PayloadType.TYPING, payload: { typing: true } },
  { type: PayloadType.TYPING, payload: { typing: false } },
  { type: PayloadType.READ_RECEIPT, payload: { ids: [randomBytes(16)] } },
  { type: PayloadType.DELIVERY_RECEIPT, payload: { ids: Array.from({ length: RECEIPT_MAX_IDS }, () => randomBytes(16)) } },
  { type: PayloadType.CONTACT_REQUEST, payload: { signPublic: randomBytes(32), dhPublic: randomBytes(32), dhSignature: randomBytes(64) } },
  { type: PayloadType.CONTACT_REQUEST, payload: { signPublic: randomBytes(32), dhPublic: randomBytes(32), dhSignature: randomBytes(64), name: 'Zoë', greeting: 'hi, it is me from the conference' } },
  { type: PayloadType.PRESENCE, payload: { state: 'online', addresses: [{ host: '203.0.113.5', port: 4242 }, { host: '2001:db8::1', port: 65535 }] } },
  { type: PayloadType.PRESENCE, payload: { state: 'away' } },
  { type: PayloadType.PRESENCE, payload: { state: 'offline', addresses: [] } },
  { type: PayloadType.PRESENCE, payload: { state: 'online', caps: 1 } },
  { type: PayloadType.BATCH, payload: { messages: [{ id: randomBytes(16), timestamp: 1_700_000_000_000, text: 'one' }, { id: randomBytes(16), timestamp: 1_700_000_000_001, text: 'two ✓' }] } },
  { type: PayloadType.BATCH, payload: { messages: Array.from({ length: BATCH_MAX_MESSAGES }, (_, i) => ({ id: randomBytes(16), timestamp: 1_700_000_000_000 + i, text: 'z'.repeat(BATCH_MAX_TEXT_BYTES / BATCH_MAX_MESSAGES) })) } }
]

t.test('every payload type round-trips', async t => {
  for (const s of samples) {
    const body = encodePayload(s.type, s.payload)
    t.ok(body.length <= MAX_PAYLOAD_BYTES)
    const d = decodePayload(s.type, body)
    t.same(d, { ok: true, ...s }, `type 0x${s.type.toString(16)}`)
  }
})

t.test('the wire body is a msgpack map with the documented keys (envelope.md §3)', async t => {
  t.equal(Buffer.from(encodePayload(PayloadType.TEXT, { text: 'hi' })).toString('hex'), '81a474657874c4026869')
  t.equal(Buffer.from(encodePayload(PayloadType.TYPING, { typing: true })).toString('hex'), '81a6747970696e67c3')
  t.equal(reasonOf(PayloadType.PRESENCE, wire([['state', 2]])), 'ok')
})

t.test('unknown fields are ignored (forward compatibility)', async t => {
  const d = decodePayload(PayloadType.TEXT, wire([['text', enc('hi')], ['replyTo', randomBytes(16)], [7, 'x'], ['emoji', { a: 1 }]]))
  t.same(d, { ok: true, type: PayloadType.TEXT, payload: { text: 'hi' } })
  const p = decodePayload(PayloadType.PRESENCE, wire([['state', 1], ['addresses', [new Map<string, unknown>([['host', enc('10.0.0.1')], ['port', 1], ['via', 'relay']])]]]))
  t.same(p, { ok: true, type: PayloadType.PRESENCE, payload: { state: 'online', addresses: [{ host: '10.0.0.1', port: 1 }] } })
})

t.test('size limits per field: at the limit passes, one byte over is rejected both ways', async t => {
  const over = [
    [PayloadType.TEXT, { text: 'x'.repeat(TEXT_MAX_BYTES + 1) }, 'text'],
    [PayloadType.TEXT, { text: 'é'.repeat(TEXT_MAX_BYTES / 2) + 'x' }, 'text: expected 1..65536 bytes, got 65537'],
    [PayloadType.CONTACT_REQUEST, { ...samples[10]!.payload, name: 'n'.repeat(CONTACT_NAME_MAX_BYTES + 1) }, 'name'],
    [PayloadType.CONTACT_REQUEST, { ...samples[10]!.payload, greeting: 'g'.repeat(GREETING_MAX_BYTES + 1) }, 'greeting'],
    [PayloadType.FILE, { ...samples[2]!.payload, name: 'f'.repeat(FILE_NAME_MAX_BYTES + 1) }, 'name'],
    [PayloadType.READ_RECEIPT, { ids: Array.from({ length: RECEIPT_MAX_IDS + 1 }, () => randomBytes(16)) }, 'ids'],
    [PayloadType.PRESENCE, { state: 'online', addresses: Array.from({ length: PRESENCE_MAX_ADDRESSES + 1 }, () => ({ host: '::1', port: 1 })) }, 'addresses']
  ] as const
  for (const [type, payload, why] of over) {
    t.throws(() => encodePayload(type, payload as never), { code: 'WIRE_ENCODE', message: new RegExp(why.split(':')[0]!) }, why)
    const raw = new Uint8Array(packr.pack(payloadToWire(payload as Record<string, unknown>)))
    const r = reasonOf(type, raw)
    t.match(r, why, `decoder: ${r}`)
  }
  t.equal(reasonOf(PayloadType.CONTACT_REQUEST, new Uint8Array(packr.pack(payloadToWire({ ...samples[10]!.payload, name: 'n'.repeat(CONTACT_NAME_MAX_BYTES) })))), 'ok')
  t.equal(reasonOf(PayloadType.TEXT, new Uint8Array(MAX_PAYLOAD_BYTES + 1)), `payload: ${MAX_PAYLOAD_BYTES + 1} bytes, limit ${MAX_PAYLOAD_BYTES}`)
})

t.test('a contact request whose name or greeting holds terminal controls or bidi tricks is malformed', async t => {
  const base = samples[10]!.payload as ContactRequestPayload
  const evil = ['Bob\u001b]0;pwned\u0007', 'Bob\u001b[2J', 'Bob\r', 'bo\u202eb', 'b\u200bob', 'Bob\u0085', 'a\nb', 'x\u2066y\u2069']
  for (const bad of evil) {
    for (const key of ['name', 'greeting'] as const) {
      const raw = new Uint8Array(packr.pack(payloadToWire({ ...base, [key]: bad })))
      t.match(reasonOf(PayloadType.CONTACT_REQUEST, raw), `${key}: holds a control or invisible formatting character`, `${key} ${JSON.stringify(bad)} refused`)
      t.throws(() => encodePayload(PayloadType.CONTACT_REQUEST, { ...base, [key]: bad }), { code: 'WIRE_ENCODE' }, 'and never sent')
    }
  }
  for (const good of ['Zoë', '李小龍', 'Ana 👩‍💻', 'שלום', 'مرحبا']) {
    t.equal(reasonOf(PayloadType.CONTACT_REQUEST, new Uint8Array(packr.pack(payloadToWire({ ...base, name: good, greeting: good })))), 'ok', `${good} accepted`)
  }
})

/** The same mapping encodePayload uses, without its validation: lets us put bad values on the wire. */
function payloadToWire (p: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>()
  for (const [k, v] of Object.entries(p)) {
    if (typeof v === 'string' && k !== 'state') m.set(k, enc(v))
    else if (k === 'state') m.set(k, { online: 1, away: 2, offline: 3 }[v as string])
    else if (k === 'addresses') m.set(k, (v as Array<{ host: string, port: number }>).map(a => new Map<string, unknown>([['host', enc(a.host)], ['port', a.port]])))
    else m.set(k, v)
  }
  return m
}

t.test('strict validation of field types and values', async t => {
  const cases: Array<[number, Array<[unknown, unknown]>, string]> = [
    [PayloadType.TEXT, [], 'text: missing'],
    [PayloadType.TEXT, [['text', 'a str, not bin']], 'text: expected bytes'],
    [PayloadType.TEXT, [['text', new Uint8Array(0)]], 'text: expected 1..'],
    [PayloadType.TEXT, [['text', Uint8Array.from([0xc3, 0x28])]], 'text: not valid UTF-8'],
    [PayloadType.TEXT, [['text', Uint8Array.from([0xed, 0xa0, 0x80])]], 'text: not valid UTF-8'],
    [PayloadType.TYPING, [['typing', 1]], 'typing: expected a boolean'],
    [PayloadType.READ_RECEIPT, [['ids', []]], 'ids: expected 1..'],
    [PayloadType.READ_RECEIPT, [['ids', [randomBytes(15)]]], 'ids[]: expected 16 bytes, got 15'],
    [PayloadType.DELIVERY_RECEIPT, [['ids', randomBytes(16)]], 'ids: expected an array'],
    [PayloadType.CONTACT_REQUEST, [['signPublic', randomBytes(32)], ['dhPublic', randomBytes(31)], ['dhSignature', randomBytes(64)]], 'dhPublic: expected 32 bytes'],
    [PayloadType.CONTACT_REQUEST, [['signPublic', randomBytes(32)], ['dhPublic', randomBytes(32)]], 'dhSignature: missing'],
    [PayloadType.PRESENCE, [['state', 4]], 'state: unknown'],
    [PayloadType.PRESENCE, [['state', 'online']], 'state: unknown'],
    [PayloadType.PRESENCE, [['state', 1], ['addresses', [new Map<string, unknown>([['host', enc('example.org')], ['port', 1]])]]], 'host: not an IP'],
    [PayloadType.PRESENCE, [['state', 1], ['addresses', [new Map<string, unknown>([['host', enc('::1')], ['port', 0]])]]], 'port'],
    [PayloadType.PRESENCE, [['state', 1], ['addresses', [new Map<string, unknown>([['host', enc('::1')], ['port', 70000]])]]], 'port'],
    [PayloadType.PRESENCE, [['state', 1], ['addresses', ['::1:80']]], 'addresses[]: expected a map']
  ]
  const item = (id: unknown, ts: unknown, text: unknown): Map<string, unknown> => new Map<string, unknown>([['id', id], ['ts', ts], ['text', text]])
  const same = randomBytes(16)
  cases.push(
    [PayloadType.PRESENCE, [['state', 1], ['caps', -1]], 'caps: expected an integer'],
    [PayloadType.PRESENCE, [['state', 1], ['caps', 2 ** 32]], 'caps: expected an integer'],
    [PayloadType.BATCH, [['msgs', []]], 'msgs: expected 1..64'],
    [PayloadType.BATCH, [['msgs', Array.from({ length: BATCH_MAX_MESSAGES + 1 }, () => item(randomBytes(16), 1_700_000_000_000, enc('a')))]], 'msgs: expected 1..64'],
    [PayloadType.BATCH, [['msgs', [item(randomBytes(15), 1_700_000_000_000, enc('a'))]]], 'msgs[].id: expected 16 bytes'],
    [PayloadType.BATCH, [['msgs', [item(same, 1_700_000_000_000, enc('a')), item(same, 1_700_000_000_000, enc('b'))]]], 'msgs[].id: repeated'],
    [PayloadType.BATCH, [['msgs', [item(randomBytes(16), 1_000, enc('a'))]]], 'msgs[].ts: expected ms'],
    [PayloadType.BATCH, [['msgs', [item(randomBytes(16), 1_700_000_000_000, new Uint8Array(0))]]], 'msgs[].text: expected 1..'],
    [PayloadType.BATCH, [['msgs', [item(randomBytes(16), 1_700_000_000_000, Uint8Array.from([0xc3, 0x28]))]]], 'msgs[].text: not valid UTF-8'],
    [PayloadType.BATCH, [['msgs', [item(randomBytes(16), 1_700_000_000_000, enc('x'.repeat(BATCH_MAX_TEXT_BYTES))), item(randomBytes(16), 1_700_000_000_000, enc('y'))]]], `msgs: ${BATCH_MAX_TEXT_BYTES + 1} bytes of text, limit`],
    [PayloadType.BATCH, [['msgs', ['not a map']]], 'msgs[]: expected a map']
  )
  for (const [type, entries, why] of cases) t.match(reasonOf(type, wire(entries)), why, why)
  t.equal(reasonOf(0x7f, wire([])), 'unknown payload type 127')
  t.equal(reasonOf(PayloadType.TEXT, Uint8Array.from([0x92, 1, 2])), 'payload: expected a msgpack map')
  t.equal(reasonOf(PayloadType.TEXT, Uint8Array.from([0x81, 0xa4])), 'payload: not a single well-formed msgpack value')
  t.equal(reasonOf(PayloadType.TEXT, Uint8Array.from([...wire([['text', enc('a')]]), 0])), 'payload: not a single well-formed msgpack value', 'trailing bytes')
  t.throws(() => encodePayload(0x7f as PayloadType, { text: 'x' } as never), { code: 'WIRE_ENCODE' })
})

t.test('file chunks: names, sizes and chunk lengths are checked against each other', async t => {
  const base = samples[2]!.payload as unknown as Record<string, unknown>
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ ...base, name: '../etc/passwd' }, 'name: not a plain file name'],
    [{ ...base, name: 'a\\b' }, 'name: not a plain file name'],
    [{ ...base, name: '..' }, 'name: not a plain file name'],
    [{ ...base, name: 'bell\u0007' }, 'name: not a plain file name'],
    [{ ...base, index: 2 }, 'index: expected an integer in 0..1'],
    [{ ...base, index: -1 }, 'index'],
    [{ ...base, index: 0.5 }, 'index'],
    [{ ...base, data: (base.data as Uint8Array).subarray(1) }, `data: expected ${FILE_CHUNK_BYTES} bytes`],
    [{ ...base, index: 1, data: (base.data as Uint8Array).subarray(0, 99) }, 'data: expected 100 bytes, got 99'],
    [{ ...base, size: 2 ** 53 }, 'size'],
    [{ ...base, sha256: randomBytes(31) }, 'sha256: expected 32 bytes']
  ]
  for (const [p, why] of bad) {
    t.match(reasonOf(PayloadType.FILE, new Uint8Array(packr.pack(payloadToWire(p)))), why, why)
    t.throws(() => encodePayload(PayloadType.FILE, p as never), { code: 'WIRE_ENCODE' })
  }
  // another implementation may send sizes as uint64: accepted while they are safe integers
  const u64 = (size: bigint): Uint8Array => wire([['name', enc('a')], ['size', size], ['sha256', new Uint8Array(32)], ['index', 0n], ['data', new Uint8Array(3)]])
  t.ok(Buffer.from(u64(3n)).includes(0xcf) || Buffer.from(u64(3n)).includes(0xd3), 'sent as a 64-bit integer')
  t.equal(reasonOf(PayloadType.FILE, u64(3n)), 'ok')
  t.match(reasonOf(PayloadType.FILE, u64(2n ** 60n)), 'size')
})

t.test('fuzz: decodePayload never throws, for every type, on 2 × 20,000 inputs each', async t => {
  const seed = testSeed(t, 0x9a71, 'decodePayload fuzz, plus the type')
  const types = [...new Set(samples.map(s => s.type))]
  for (const type of types) {
    // small samples only: mutating 32 KiB chunks 20,000 times tests nothing more, just slower
    const pool = samples.filter(s => s.type === type).map(s => encodePayload(s.type, s.payload)).filter(b => b.length < 8192)
    if (type === PayloadType.TEXT) pool.push(encodePayload(type, { text: 'short text for mutation' }))
    if (type === PayloadType.FILE) pool.push(encodePayload(type, { name: 'n.txt', size: 40, sha256: new Uint8Array(32), index: 0, data: new Uint8Array(40) }))
    let ok = 0
    let n = 0
    fuzz(seed + type, 20_000, pool, input => {
      n++
      const d = decodePayload(type, input)
      if (d.ok) {
        ok++
        if (d.type !== type) throw new Error('type changed')
      } else if (typeof d.reason !== 'string' || d.reason.length === 0) throw new Error('no reason')
    }, [[0x81], [0x82], [0x83], [0x85]])
    t.equal(n, 40_000, `type 0x${type.toString(16)}: ${ok} accepted`)
  }
})
