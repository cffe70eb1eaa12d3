// TEXT and BATCH bodies written directly (src/wire/text-bodies.ts) are byte for byte what the
// general path (wire map, validator, msgpackr) writes, for seeded random texts of every shape and
// at each boundary; inputs outside the common case take the general path and fail as it does.
import t from 'tap'
import { encodePayload, encodePayloadGeneral, decodePayload } from '../../src/wire/payloads.js'
import { encodeBatchBody, encodeTextBody } from '../../src/wire/text-bodies.js'
import { PayloadType, TEXT_MAX_BYTES, BATCH_MAX_MESSAGES, BATCH_MAX_TEXT_BYTES, TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS } from '../../src/wire/constants.js'
import { testRng } from '../helpers/seed.js'

const rng = testRng(t, 0x7e47b0d1)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A random string: ASCII, Latin-1, BMP, astral, and now and then a lone surrogate. */
function randomText (maxChars: number): string {
  const n = 1 + rng.int(maxChars)
  let s = ''
  for (let i = 0; i < n; i++) {
    const k = rng.int(10)
    if (k < 5) s += String.fromCharCode(0x20 + rng.int(0x5f))
    else if (k < 7) s += String.fromCharCode(0xa0 + rng.int(0x60))
    else if (k < 8) s += String.fromCharCode(0x800 + rng.int(0xd000 - 0x800))
    else if (k < 9) s += String.fromCodePoint(0x1f300 + rng.int(0x300))
    else s += String.fromCharCode(0xd800 + rng.int(0x800))
  }
  return s
}

t.test('TEXT: the same bytes as the general path', async t => {
  const texts = ['a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'é'.repeat(128), 'x'.repeat(65535), 'x'.repeat(TEXT_MAX_BYTES), '\ud800', 'hello 👋']
  for (let i = 0; i < 2000; i++) texts.push(randomText(i % 10 === 0 ? 3000 : 120))
  let differ = 0
  for (const text of texts) {
    const direct = encodeTextBody({ text })
    if (direct === undefined || hex(direct) !== hex(encodePayloadGeneral(PayloadType.TEXT, { text }))) differ++
  }
  t.equal(differ, 0, `${texts.length} texts`)
})

t.test('TEXT: outside the common case, the general path and its error', async t => {
  t.equal(encodeTextBody({ text: '' }), undefined)
  t.equal(encodeTextBody({ text: 'x'.repeat(TEXT_MAX_BYTES + 1) }), undefined)
  t.equal(encodeTextBody({ text: 'x', extra: 1 } as { text: string }), undefined)
  t.throws(() => encodePayload(PayloadType.TEXT, { text: '' }), { code: 'WIRE_ENCODE' })
  t.throws(() => encodePayload(PayloadType.TEXT, { text: 'x'.repeat(TEXT_MAX_BYTES + 1) }), { code: 'WIRE_ENCODE' })
})

function randomBatch (n: number): { messages: Array<{ id: Uint8Array, timestamp: number, text: string }> } {
  const per = Math.floor(BATCH_MAX_TEXT_BYTES / n / 4)
  return {
    messages: Array.from({ length: n }, () => ({
      id: rng.bytes(16),
      timestamp: TIMESTAMP_MIN_MS + rng.int(TIMESTAMP_MAX_MS - TIMESTAMP_MIN_MS),
      text: randomText(Math.max(1, per))
    }))
  }
}

t.test('BATCH: the same bytes as the general path, and it decodes to what went in', async t => {
  const sizes = [1, 2, 15, 16, BATCH_MAX_MESSAGES]
  for (let i = 0; i < 300; i++) sizes.push(1 + rng.int(BATCH_MAX_MESSAGES))
  let differ = 0
  for (const n of sizes) {
    const p = randomBatch(n)
    const direct = encodeBatchBody(p)
    if (direct === undefined || hex(direct) !== hex(encodePayloadGeneral(PayloadType.BATCH, p))) differ++
  }
  t.equal(differ, 0, `${sizes.length} batches`)
  const edge = { messages: [{ id: new Uint8Array(16), timestamp: TIMESTAMP_MAX_MS, text: 'x'.repeat(BATCH_MAX_TEXT_BYTES) }] }
  t.equal(hex(encodePayload(PayloadType.BATCH, edge)), hex(encodePayloadGeneral(PayloadType.BATCH, edge)))
  const p = randomBatch(20)
  const d = decodePayload(PayloadType.BATCH, encodePayload(PayloadType.BATCH, p))
  t.ok(d.ok)
  if (d.ok && d.type === PayloadType.BATCH) t.same(d.payload.messages.map(m => [hex(m.id), m.timestamp]), p.messages.map(m => [hex(m.id), m.timestamp]))
})

t.test('BATCH: outside the common case, the general path and its error', async t => {
  const one = (over: Record<string, unknown>): { messages: never[] } => ({ messages: [{ id: new Uint8Array(16), timestamp: TIMESTAMP_MIN_MS, text: 'x', ...over }] as never[] })
  const id = new Uint8Array(16)
  const bad = [
    { messages: [] },
    one({ id: new Uint8Array(15) }),
    one({ timestamp: TIMESTAMP_MIN_MS - 1 }),
    one({ timestamp: TIMESTAMP_MAX_MS + 1 }),
    one({ text: '' }),
    one({ text: 'x'.repeat(BATCH_MAX_TEXT_BYTES + 1) }),
    { messages: [{ id, timestamp: TIMESTAMP_MIN_MS, text: 'a' }, { id, timestamp: TIMESTAMP_MIN_MS, text: 'b' }] },
    { messages: Array.from({ length: BATCH_MAX_MESSAGES + 1 }, () => ({ id: rng.bytes(16), timestamp: TIMESTAMP_MIN_MS, text: 'x' })) }
  ]
  for (const p of bad) {
    t.equal(encodeBatchBody(p), undefined)
    t.throws(() => encodePayload(PayloadType.BATCH, p as never), { code: 'WIRE_ENCODE' })
  }
})
