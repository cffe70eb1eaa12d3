import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  hpkeSeal, hpkeOpen, hpkeDeriveKeyPair, hpkeKeySchedule, hpkeNonce, hpkeExport, hkdfExtract, hkdfExpand
} from '../../src/crypto/hpke.js'
import { x25519, chacha20poly1305, hkdfSha256 } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x4a9e).bytes

interface Vector {
  setup: Record<string, string | number>
  encryptions: Array<{ sequence_number: number, pt: string, aad: string, nonce: string, ct: string }>
  exports: Array<{ exporter_context: string, L: number, exported_value: string }>
}
const vec = JSON.parse(readFileSync(new URL('../vectors/hpke/rfc9180-a2-1.json', import.meta.url), 'utf8')) as Vector
const hex = (s: string | number | undefined): Uint8Array => Uint8Array.from(Buffer.from(String(s), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const s = vec.setup

t.test('vector file is the suite we implement (RFC 9180 A.2.1)', async t => {
  t.same([s.mode, s.kem_id, s.kdf_id, s.aead_id], [0, 0x20, 1, 3])
})

t.test('DeriveKeyPair reproduces the vector key pairs (§7.1.3)', async t => {
  const e = hpkeDeriveKeyPair(hex(s.ikmE))
  t.equal(toHex(e.secretKey), s.skEm)
  t.equal(toHex(e.publicKey), s.pkEm)
  const r = hpkeDeriveKeyPair(hex(s.ikmR))
  t.equal(toHex(r.secretKey), s.skRm)
  t.equal(toHex(r.publicKey), s.pkRm)
})

t.test('key schedule matches key, base_nonce, exporter_secret and exports', async t => {
  const ctx = hpkeKeySchedule(hex(s.shared_secret), hex(s.info))
  t.equal(toHex(ctx.key), s.key)
  t.equal(toHex(ctx.baseNonce), s.base_nonce)
  t.equal(toHex(ctx.exporterSecret), s.exporter_secret)
  for (const x of vec.exports) {
    t.equal(toHex(hpkeExport(ctx.exporterSecret, hex(x.exporter_context), x.L)), x.exported_value)
  }
})

t.test('every listed encryption (nonce per sequence number, §5.2)', async t => {
  const ctx = hpkeKeySchedule(hex(s.shared_secret), hex(s.info))
  t.equal(vec.encryptions.length, 6)
  for (const e of vec.encryptions) {
    const nonce = hpkeNonce(ctx.baseNonce, e.sequence_number)
    t.equal(toHex(nonce), e.nonce, `nonce seq ${e.sequence_number}`)
    t.equal(toHex(chacha20poly1305.seal(ctx.key, nonce, hex(e.pt), hex(e.aad))), e.ct, `ct seq ${e.sequence_number}`)
  }
})

t.test('single-shot seal with the vector ephemeral is byte-exact; open recovers it', async t => {
  const first = vec.encryptions[0]!
  const sealed = hpkeSeal(hex(s.pkRm), hex(s.info), hex(first.aad), hex(first.pt), { ephemeralSecretForTests: hex(s.skEm) })
  t.equal(toHex(sealed.enc), s.enc)
  t.equal(toHex(sealed.ciphertext), first.ct)
  t.same(hpkeOpen(hex(s.skRm), hex(s.enc), hex(s.info), hex(first.aad), hex(first.ct)), hex(first.pt))
})

t.test('injected ephemeral secret is left untouched (caller owns it)', async t => {
  const sk = hex(s.skEm)
  hpkeSeal(hex(s.pkRm), hex(s.info), new Uint8Array(0), new Uint8Array(1), { ephemeralSecretForTests: sk })
  t.equal(toHex(sk), s.skEm)
})

t.test('HKDF extract+expand agrees with the one-shot hkdfSha256 (RFC 5869)', async t => {
  for (const len of [1, 32, 33, 64, 100]) {
    const ikm = randomBytes(40)
    const salt = randomBytes(len % 2 === 0 ? 0 : 16)
    const info = randomBytes(7)
    t.same(hkdfExpand(hkdfExtract(salt, ikm), info, len), hkdfSha256(ikm, salt, info, len))
  }
  t.throws(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1), { code: 'CRYPTO' })
})

t.test('random round trips; wrong key, info, aad, enc or ciphertext fail with null', async t => {
  const r = x25519.generateKeyPair()
  const other = x25519.generateKeyPair()
  const info = randomBytes(10)
  const aad = randomBytes(20)
  const pt = randomBytes(1000)
  const { enc, ciphertext } = hpkeSeal(r.publicKey, info, aad, pt)
  t.same(hpkeOpen(r.secretKey, enc, info, aad, ciphertext), pt)
  t.same(hpkeOpen(r.secretKey, enc, info, aad, ciphertext, { recipientDhPublic: r.publicKey }), pt)
  t.equal(hpkeOpen(r.secretKey, enc, info, aad, ciphertext, { recipientDhPublic: other.publicKey }), null, 'wrong pkR')
  t.equal(hpkeOpen(other.secretKey, enc, info, aad, ciphertext), null)
  t.equal(hpkeOpen(r.secretKey, enc, randomBytes(10), aad, ciphertext), null)
  t.equal(hpkeOpen(r.secretKey, enc, info, randomBytes(20), ciphertext), null)
  t.equal(hpkeOpen(r.secretKey, enc.subarray(1), info, aad, ciphertext), null)
  t.equal(hpkeOpen(r.secretKey, new Uint8Array(32), info, aad, ciphertext), null, 'low-order enc')
  t.equal(hpkeOpen(r.secretKey, enc, info, aad, ciphertext.subarray(0, 15)), null)
  const bad = ciphertext.slice()
  bad[bad.length - 1]! ^= 1
  t.equal(hpkeOpen(r.secretKey, enc, info, aad, bad), null)
  // fresh ephemeral each time: same input, different output
  t.not(toHex(hpkeSeal(r.publicKey, info, aad, pt).enc), toHex(enc))
})

t.test('sealing to a low-order recipient key is local misuse and throws', async t => {
  t.throws(() => hpkeSeal(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), new Uint8Array(1)), { code: 'CRYPTO' })
})

t.test('hpkeOpen never throws on 20,000 random and mutated (enc, ciphertext) inputs', async t => {
  const r = x25519.generateKeyPair()
  const info = new Uint8Array([1])
  const aad = new Uint8Array([2])
  const good = hpkeSeal(r.publicKey, info, aad, randomBytes(64))
  let opened = 0
  for (let i = 0; i < 20_000; i++) {
    const enc = i % 2 === 0 ? good.enc.slice() : randomBytes(i % 7 === 0 ? (i % 40) : 32)
    const ct = i % 3 === 0 ? randomBytes(i % 100) : good.ciphertext.slice()
    if (enc.length > 0 && i % 5 === 0) enc[i % enc.length]! ^= 1 << (i % 8)
    if (ct.length > 0 && i % 4 === 0) ct[i % ct.length]! ^= 1 << (i % 8)
    if (hpkeOpen(r.secretKey, enc, info, aad, ct, { recipientDhPublic: r.publicKey }) !== null) opened++
  }
  // only unmodified (enc, ct) pairs may open: i%2==0, i%3!=0, i%5!=0, i%4!=0
  let expected = 0
  for (let i = 0; i < 20_000; i++) if (i % 2 === 0 && i % 3 !== 0 && i % 5 !== 0 && i % 4 !== 0) expected++
  t.equal(opened, expected)
})
