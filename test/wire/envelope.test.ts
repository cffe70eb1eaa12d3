import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  encodeEnvelope, decodeEnvelope, signEnvelope, verifyEnvelope, encodeEnvelopeHeader, type Envelope
} from '../../src/wire/envelope.js'
import { sealEnvelope, openEnvelope, type OpenOptions, type PublicIdentityLike } from '../../src/wire/seal.js'
import { PayloadType, TEXT_MAX_BYTES, ENVELOPE_MAX_FUTURE_SKEW_MS, MAX_PAYLOAD_BYTES } from '../../src/wire/constants.js'
import { sha256 } from '../../src/crypto/primitives.js'
import { generateIdentity, identityFromSecrets, verifyPublicIdentity, fingerprintOf as identityFingerprint, type Identity } from '../../src/crypto/identity.js'
import { fuzz } from './fuzz.js'
import { testRng, testSeed } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xe2e1).bytes

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const NOW = 1_700_000_000_000

// ---- the proto-spec/envelope.md §7 test vector ----
const secrets = (sign: string, dh: string): Record<string, Uint8Array> => ({ 'identity.ed25519': hex(sign), 'identity.x25519': hex(dh) })
// RFC 8032 §7.1 TEST 1 / TEST 2 seeds; RFC 7748 §6.1 Bob's / Alice's X25519 secrets
const vAlice = identityFromSecrets(secrets('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
const vBob = identityFromSecrets(secrets('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
const V_EPHEMERAL = 'f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600' // RFC 9180 A.2.1 skEm
const vectorBytes = hex(`
    01000102030405060708090a0b0c0d0e0f2f70727237746e7436777336736363
    78387a61373664336778337276357977733036683677637938396c6d70646874
    632f70646b3366793266726365396168376c32376d6e7676707a7a6376353275
    343577786a667a763572373530346a34770000018bcfe56800011afa08d3dec0
    47a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a00000022519d
    6791b2feb9854c6178a27328a898fafd5a7646f2301dec8dbf8a96c437d10e21
    89cb7cc42a51b461b6b719afeb578b99756c75230c5a3f1e0d25f21fb70dc398
    440f66d5df4e75813c4fc9dc028b51a9bb7a7e83f79a03285c34b404f22fb409`)

function sealVector (): Uint8Array {
  return sealEnvelope({
    sender: vAlice,
    recipient: vBob,
    type: PayloadType.TEXT,
    payload: { text: 'hello, bob' },
    id: hex('000102030405060708090a0b0c0d0e0f'),
    timestamp: NOW,
    ephemeralSecretForTests: hex(V_EPHEMERAL)
  }).bytes
}

const vectorOpen: OpenOptions = {
  recipientDhSecret: vBob.dhSecret,
  recipientFingerprint: vBob.fingerprint,
  lookupSender: fp => fp === vAlice.fingerprint ? vAlice.signPublic : undefined,
  now: NOW
}

t.test('test vector: sealing is byte-for-byte the one in proto-spec/envelope.md', async t => {
  t.equal(toHex(sealVector()), toHex(vectorBytes))
  const spec = readFileSync(new URL('../../proto-spec/envelope.md', import.meta.url), 'utf8').replace(/\s/g, '')
  t.ok(spec.includes(toHex(vectorBytes)), 'the spec carries the same hex')
  t.equal(vAlice.fingerprint, 'prr7tnt6ws6sccx8za76d3gx3rv5yws06h6wcy89lmpdhtc', 'fingerprints per identity.md §3')
  t.equal(vBob.fingerprint, 'pdk3fy2frce9ah7l27mnvvpzzcv52u45wxjfzv5r7504j4w')
})

t.test('test vector opens to the TEXT payload', async t => {
  const r = openEnvelope(vectorBytes, vectorOpen)
  t.ok(r.ok)
  if (!r.ok || r.type !== PayloadType.TEXT) return
  t.equal(r.payload.text, 'hello, bob')
  t.equal(r.envelope.sender, vAlice.fingerprint)
  t.equal(r.envelope.timestamp, NOW)
  t.equal(toHex(r.envelope.id), '000102030405060708090a0b0c0d0e0f')
})

t.test('a tampered byte anywhere is rejected', async t => {
  const reasons = new Set<string>()
  for (let i = 0; i < vectorBytes.length; i++) {
    for (const bit of [0, 7]) {
      const b = vectorBytes.slice()
      b[i]! ^= 1 << bit
      const r = openEnvelope(b, vectorOpen)
      if (r.ok) t.fail(`byte ${i} bit ${bit} accepted`)
      else reasons.add(r.reason)
    }
  }
  t.pass(`all ${vectorBytes.length * 2} single-bit changes rejected`)
  t.ok(reasons.has('bad-signature') && reasons.has('malformed'), [...reasons].join(', '))
  t.notOk(openEnvelope(vectorBytes.subarray(0, vectorBytes.length - 1), vectorOpen).ok, 'truncated')
  t.notOk(openEnvelope(Uint8Array.from([...vectorBytes, 0]), vectorOpen).ok, 'extended')
})

// ---- identities for the behavioural tests: the real identity module ----
type TestIdentity = Identity
/** The adaptor a caller passes as OpenOptions.fingerprintOf (envelope.md §6). */
const fingerprintOf = (id: PublicIdentityLike): string | undefined => verifyPublicIdentity(id) ? identityFingerprint(id) : undefined
const makeIdentity = generateIdentity
const alice = makeIdentity()
const bob = makeIdentity()
const carol = makeIdentity()
const mallory = makeIdentity()
const contacts = new Map([alice, bob, carol].map(i => [i.fingerprint, i.signPublic]))
const opts = (me: TestIdentity, extra: Partial<OpenOptions> = {}): OpenOptions => ({
  recipientDhSecret: me.dhSecret, recipientDhPublic: me.dhPublic, recipientFingerprint: me.fingerprint,
  lookupSender: fp => contacts.get(fp), fingerprintOf, now: NOW, ...extra
})
const text = (from: TestIdentity, to: TestIdentity, body = 'hi', extra = {}): Uint8Array =>
  sealEnvelope({ sender: from, recipient: to, type: PayloadType.TEXT, payload: { text: body }, timestamp: NOW, ...extra }).bytes
const reasonOf = (bytes: Uint8Array, o: OpenOptions): string => { const r = openEnvelope(bytes, o); return r.ok ? 'ok' : r.reason }

t.test('every payload type travels sealed and opens for its recipient', async t => {
  const sends = [
    { type: PayloadType.TEXT, payload: { text: 'x'.repeat(TEXT_MAX_BYTES) } },
    { type: PayloadType.FILE, payload: { name: 'a.txt', size: 3, sha256: sha256(Uint8Array.from([1, 2, 3])), index: 0, data: Uint8Array.from([1, 2, 3]) } },
    { type: PayloadType.TYPING, payload: { typing: true } },
    { type: PayloadType.READ_RECEIPT, payload: { ids: [randomBytes(16), randomBytes(16)] } },
    { type: PayloadType.DELIVERY_RECEIPT, payload: { ids: [randomBytes(16)] } },
    { type: PayloadType.CONTACT_REQUEST, payload: { signPublic: alice.signPublic, dhPublic: alice.dhPublic, dhSignature: alice.dhSignature, name: 'Alice' } },
    { type: PayloadType.PRESENCE, payload: { state: 'away' as const, addresses: [{ host: '127.0.0.1', port: 9000 }] } }
  ]
  for (const s of sends) {
    const sealed = sealEnvelope({ sender: alice, recipient: bob, type: s.type, payload: s.payload as never, timestamp: NOW })
    t.equal(sealed.id.length, 16)
    const r = openEnvelope(sealed.bytes, opts(bob))
    t.same(r.ok ? { type: r.type, payload: r.payload, id: r.envelope.id } : r, { type: s.type, payload: s.payload, id: sealed.id }, `type 0x${s.type.toString(16)}`)
  }
})

t.test('wrong recipient, wrong key, foreign signature and moved ciphertext are rejected', async t => {
  const toBob = text(alice, bob)
  t.equal(reasonOf(toBob, opts(carol)), 'wrong-recipient')
  t.equal(reasonOf(toBob, opts(carol, { recipientFingerprint: bob.fingerprint })), 'decrypt-failed', "carol's key cannot open bob's envelope")
  const forged = text({ ...alice, signSecret: mallory.signSecret }, bob)
  t.equal(reasonOf(forged, opts(bob)), 'bad-signature', "mallory signs as alice")
  // The sender re-signs alice's ciphertext under another header: AAD binding makes it fail.
  const a = decodeEnvelope(toBob)
  if (!a.ok) throw new Error('decode')
  for (const change of [{ id: randomBytes(16) }, { timestamp: NOW - 1 }, { type: PayloadType.TYPING }, { sender: carol.fingerprint }]) {
    const moved = encodeEnvelope(signEnvelope({ ...a.envelope, ...change }, change.sender !== undefined ? carol.signSecret : alice.signSecret))
    t.equal(reasonOf(moved, opts(bob)), 'decrypt-failed', `header change ${Object.keys(change)[0]!}`)
  }
  t.equal(reasonOf(text(alice, bob), opts(bob, { lookupSender: () => carol.signPublic })), 'bad-signature', 'verified under the wrong key')
})

t.test('strangers may only send a CONTACT_REQUEST that names their own key', async t => {
  const req = (from: TestIdentity, enclosed: PublicIdentityLike, fp = from.fingerprint): Uint8Array => sealEnvelope({
    sender: { fingerprint: fp, signSecret: from.signSecret }, recipient: bob, type: PayloadType.CONTACT_REQUEST,
    payload: { signPublic: enclosed.signPublic, dhPublic: enclosed.dhPublic, dhSignature: enclosed.dhSignature, greeting: 'hello?' }, timestamp: NOW
  }).bytes
  const r = openEnvelope(req(mallory, mallory), opts(bob))
  t.ok(r.ok, 'a stranger introducing itself is accepted')
  if (r.ok) t.same(r.senderSignPublic, mallory.signPublic)
  t.equal(reasonOf(req(mallory, mallory), opts(bob, { fingerprintOf: undefined })), 'unknown-sender', 'no fingerprintOf: strangers refused')
  t.equal(reasonOf(text(mallory, bob), opts(bob)), 'unknown-sender', 'a stranger cannot just write')
  t.equal(reasonOf(req(mallory, carol, mallory.fingerprint), opts(bob, { lookupSender: () => undefined })), 'sender-mismatch', "mallory encloses carol's identity under her own fingerprint")
  t.equal(reasonOf(req(mallory, alice, alice.fingerprint), opts(bob, { lookupSender: () => undefined })), 'bad-signature', "mallory claims to be alice with alice's public identity")
  const badDhSig = { ...mallory, dhSignature: randomBytes(64) }
  t.equal(reasonOf(req(mallory, badDhSig), opts(bob)), 'sender-mismatch', 'identity with an invalid dhSignature')
  t.equal(reasonOf(req(alice, mallory, alice.fingerprint), opts(bob)), 'sender-mismatch', 'known sender enclosing another key')
  t.equal(reasonOf(req(alice, alice), opts(bob)), 'ok', 'known sender re-sending its own identity')
})

t.test('timestamps: sane range, and not too far in the receiver\'s future', async t => {
  t.equal(reasonOf(text(alice, bob, 'hi', { timestamp: NOW + ENVELOPE_MAX_FUTURE_SKEW_MS }), opts(bob)), 'ok')
  t.equal(reasonOf(text(alice, bob, 'hi', { timestamp: NOW + ENVELOPE_MAX_FUTURE_SKEW_MS + 1 }), opts(bob)), 'timestamp-in-future')
  t.equal(reasonOf(text(alice, bob, 'hi', { timestamp: NOW - 30 * 86_400_000 }), opts(bob)), 'ok', 'old envelopes (mailboxes) are fine here')
  t.throws(() => text(alice, bob, 'hi', { timestamp: 1_000 }), { code: 'WIRE_ENCODE' })
  t.throws(() => text(alice, bob, 'hi', { timestamp: 5_000_000_000_000 }), { code: 'WIRE_ENCODE' })
  t.throws(() => text(alice, bob, 'hi', { timestamp: NOW + 0.5 }), { code: 'WIRE_ENCODE' })
  const early = vectorBytes.slice(); early.fill(0, 113, 121)
  t.same(decodeEnvelope(early), { ok: false, reason: 'malformed', detail: 'timestamp 0' })
})

t.test('oversize and malformed fields are rejected (decoder) and refused (encoder)', async t => {
  const base = decodeEnvelope(vectorBytes)
  if (!base.ok) throw new Error('decode')
  const e = base.envelope
  const code = { code: 'WIRE_ENCODE' }
  t.throws(() => encodeEnvelope({ ...e, sender: 'a'.repeat(65) }), code)
  t.throws(() => encodeEnvelope({ ...e, recipient: 'Bob' }), code, 'upper case is not a fingerprint')
  t.throws(() => encodeEnvelope({ ...e, recipient: '' }), code)
  t.throws(() => encodeEnvelope({ ...e, id: randomBytes(15) }), code)
  t.throws(() => encodeEnvelope({ ...e, enc: randomBytes(31) }), code)
  t.throws(() => encodeEnvelope({ ...e, signature: randomBytes(63) }), code)
  t.throws(() => encodeEnvelope({ ...e, version: 2 }), code)
  t.throws(() => encodeEnvelope({ ...e, type: 0x7f as Envelope['type'] }), code)
  t.throws(() => encodeEnvelope({ ...e, ciphertext: new Uint8Array(MAX_PAYLOAD_BYTES + 17) }), code)
  t.throws(() => text(alice, bob, 'x'.repeat(TEXT_MAX_BYTES + 1)), code)
  const reason = (b: Uint8Array): string => { const d = decodeEnvelope(b); return d.ok ? 'ok' : d.reason }
  const mut = (f: (b: Uint8Array) => void): Uint8Array => { const b = vectorBytes.slice(); f(b); return b }
  t.equal(reason(new Uint8Array(0)), 'malformed')
  t.equal(reason(mut(b => { b[0] = 2 })), 'unsupported-version')
  t.equal(reason(mut(b => { b[17] = 65 })), 'malformed', 'sender length 65')
  t.equal(reason(mut(b => { b[17] = 0 })), 'malformed', 'empty sender')
  t.equal(reason(mut(b => { b[18] = 0x41 })), 'malformed', "'A' in a fingerprint")
  t.equal(reason(mut(b => { b[121] = 0x7f })), 'unknown-payload-type')
  t.equal(reason(mut(b => { b[154] = 0x02 })), 'malformed', 'ciphertext length beyond the limit')
  t.equal(reason(mut(b => { b[157] = 0x10 })), 'malformed', 'ciphertext shorter than a tag + 1')
  t.equal(reason(vectorBytes.subarray(0, 125)), 'malformed', 'truncated header')
  t.notOk(verifyEnvelope({ ...e, enc: randomBytes(3) }, vAlice.signPublic), 'verify never throws')
  t.ok(verifyEnvelope(e, vAlice.signPublic))
  t.same(encodeEnvelopeHeader(e), vectorBytes.subarray(0, 122), 'header = AAD = bytes 0..122 of the vector')
})

t.test('fuzz: decodeEnvelope on 2 × 20,000 inputs never throws; accepted ones re-encode identically', async t => {
  const pool = [vectorBytes, text(alice, bob), text(bob, carol, 'longer text '.repeat(20))]
  let ok = 0
  fuzz(testSeed(t, 0xe7e1, 'decodeEnvelope fuzz'), 20_000, pool, input => {
    const d = decodeEnvelope(input)
    if (!d.ok) return
    ok++
    if (toHex(encodeEnvelope(d.envelope)) !== toHex(input)) throw new Error(`not canonical: ${toHex(input)}`)
  }, [[1], [1, ...vectorBytes.subarray(1, 122)]])
  t.ok(ok > 0, `${ok} structurally valid`)
})

t.test('fuzz: openEnvelope on 2 × 20,000 inputs never throws and opens only the untouched envelope', async t => {
  let opened = 0
  fuzz(testSeed(t, 0x0e9e, 'openEnvelope fuzz'), 20_000, [vectorBytes], input => {
    const r = openEnvelope(input, vectorOpen)
    if (r.ok) {
      opened++
      if (toHex(input) !== toHex(vectorBytes)) throw new Error(`forgery accepted: ${toHex(input)}`)
    }
  }, [[1, ...vectorBytes.subarray(1, 122)]])
  t.pass(`${opened} unchanged copies opened, no forgery`)
})
