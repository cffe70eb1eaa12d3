// Envelope version 2's layout (proto-spec/envelope.md §8): the vectors of §8.8, read from the
// document, the sizes shared with src/pqxdh and src/ratchet, and the decoder's refusals.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { encodeV2Clear, encodeV2Inner, decodeV2Inner, decodeEnvelopeV2, encodeEnvelopeV2 } from '../../src/wire/envelope-v2.js'
import { PayloadType, V2_INITIAL_MESSAGE_BYTES, V2_ENC_HEADER_BYTES, CAP_BATCH, CAP_STARTS_FIRST, CAP_WAITING_STARTS, CAP_MESSAGES_WAITING } from '../../src/wire/constants.js'
import { decodeFrame, encodePresenceFrame, FrameType } from '../../src/messaging/frames.js'
import { encodePayload } from '../../src/wire/payloads.js'
import { INITIAL_MESSAGE_BYTES } from '../../src/pqxdh/index.js'
import { ratchetConstants } from '../../src/ratchet/index.js'

const spec = readFileSync(new URL('../../proto-spec/envelope.md', import.meta.url), 'utf8')
const section = spec.slice(spec.indexOf('### 8.8'))
const vectors = [...section.matchAll(/^ {4}([0-9a-f]+)$/gm)].map(m => m[1] as string)
const id = Uint8Array.from({ length: 16 }, (_, i) => i)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('§8.8 vectors, from the document', async t => {
  t.equal(vectors.length, 2, 'two vectors in §8.8')
  t.equal(hex(encodeV2Clear(id, null)), vectors[0])
  const inner = encodeV2Inner({ type: PayloadType.TEXT, payload: { text: 'hello, bob' } }, 1_700_000_000_000)
  t.equal(hex(inner), vectors[1])
  t.match(decodeV2Inner(inner), { ok: true, type: PayloadType.TEXT, payload: { text: 'hello, bob' }, timestamp: 1_700_000_000_000 })
})

t.test('§3.6 and §3.7 vectors (PRESENCE caps, BATCH), from the document', async t => {
  const part = spec.slice(spec.indexOf('### 3.6'), spec.indexOf('## 4.'))
  const [presence, presenceNow, body, inner] = [...part.matchAll(/^ {4}([0-9a-f]+)$/gm)].map(m => m[1] as string)
  t.equal(hex(encodePayload(PayloadType.PRESENCE, { state: 'online', caps: CAP_BATCH })), presence, 'PRESENCE { state: online, caps: 1 }')
  const linkUp = CAP_BATCH | CAP_STARTS_FIRST | CAP_WAITING_STARTS | CAP_MESSAGES_WAITING
  t.equal(hex(encodePayload(PayloadType.PRESENCE, { state: 'online', caps: linkUp })), presenceNow, 'PRESENCE { state: online, caps: 15 }')
  // the same body as a PRESENCE frame of the link (messaging.md §2, type 0x30)
  const frame = encodePresenceFrame({ state: 'online', caps: linkUp })
  t.equal(hex(frame), '30' + (presenceNow ?? ''), 'the PRESENCE frame: type 0x30 and that body')
  t.same(decodeFrame(frame), { type: FrameType.PRESENCE, presence: { state: 'online', caps: 15 } }, 'and it decodes')
  t.equal(decodeFrame(Uint8Array.of(0x30, 0x81, 0xa5, 0x73, 0x74, 0x61, 0x74, 0x65, 0x09)), null, 'a body that breaks §3.6 (state 9) is no frame')
  const id2 = Uint8Array.from({ length: 16 }, (_, i) => 16 + i)
  const batch = { messages: [{ id, timestamp: 1_700_000_000_000, text: 'hello, bob' }, { id: id2, timestamp: 1_700_000_000_001, text: 'second' }] }
  t.equal(hex(encodePayload(PayloadType.BATCH, batch)), body, 'the BATCH body')
  const encoded = encodeV2Inner({ type: PayloadType.BATCH, payload: batch }, 1_700_000_000_000)
  t.equal(hex(encoded), inner, 'its inner plaintext')
  t.same(decodeV2Inner(Buffer.from(inner ?? '', 'hex')), { ok: true, type: PayloadType.BATCH, payload: batch, timestamp: 1_700_000_000_000 }, 'decodes to the two texts')
})

t.test('BATCH is a v2 payload only: v1 refuses to seal it and rejects it on receipt', async t => {
  const { sealEnvelope } = await import('../../src/wire/seal.js')
  const { decodeEnvelope } = await import('../../src/wire/envelope.js')
  const { generateIdentity } = await import('../../src/crypto/identity.js')
  const a = generateIdentity()
  const b = generateIdentity()
  const args = {
    sender: { fingerprint: a.fingerprint, signSecret: a.signSecret },
    recipient: { fingerprint: b.fingerprint, dhPublic: b.dhPublic },
    payload: { text: 'x' },
    id,
    timestamp: 1_700_000_000_000
  }
  t.throws(() => sealEnvelope({ ...args, type: PayloadType.BATCH, payload: { messages: [{ id, timestamp: 1_700_000_000_000, text: 'x' }] } } as never), { code: 'WIRE_ENCODE' })
  const text = sealEnvelope({ ...args, type: PayloadType.TEXT } as never).bytes
  const S = text[17] as number
  const at = 27 + S + (text[18 + S] as number) // the type byte (§2)
  t.equal(text[at], PayloadType.TEXT)
  text[at] = PayloadType.BATCH
  t.match(decodeEnvelope(text), { ok: false, reason: 'unknown-payload-type' })
})

t.test('sizes agree with the PQXDH and ratchet modules', async t => {
  t.equal(V2_INITIAL_MESSAGE_BYTES, INITIAL_MESSAGE_BYTES)
  t.equal(V2_ENC_HEADER_BYTES, ratchetConstants.ENC_HEADER_BYTES)
})

t.test('layout round trip and refusals', async t => {
  const ratchet = new Uint8Array(V2_ENC_HEADER_BYTES + 9 + 1 + 16).fill(7)
  const initial = new Uint8Array(V2_INITIAL_MESSAGE_BYTES).fill(9)
  for (const im of [null, initial]) {
    const bytes = encodeEnvelopeV2(encodeV2Clear(id, im), ratchet)
    const d = decodeEnvelopeV2(bytes)
    t.ok(d !== null)
    t.same([...d!.id], [...id])
    t.equal(d!.initial === null, im === null)
    t.same([...d!.ratchet], [...ratchet])
    t.equal(decodeEnvelopeV2(bytes.subarray(0, bytes.length - 1)), null, 'one byte short')
    const flags = bytes.slice(); flags[1] = 0x02
    t.equal(decodeEnvelopeV2(flags), null, 'an unknown flag')
    const v = bytes.slice(); v[0] = 1
    t.equal(decodeEnvelopeV2(v), null, 'another version')
  }
  t.throws(() => encodeEnvelopeV2(encodeV2Clear(id, null), new Uint8Array(10)), { code: 'WIRE_ENCODE' })
  t.match(decodeV2Inner(Uint8Array.of(0x7f, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0, 0x80)), { ok: false, reason: 'unknown-payload-type' })
  t.match(decodeV2Inner(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0x80)), { ok: false, reason: 'malformed' })
  t.match(decodeV2Inner(Uint8Array.of(1, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0, 0x80)), { ok: false, reason: 'bad-payload' })
})
