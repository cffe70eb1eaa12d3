// Fingerprints (proto-spec/identity.md §2, §3): the text form, what parsing forgives, and that
// every single-character typo and adjacent swap is caught, checked exhaustively over a sample.
import t, { type Test } from 'tap'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import {
  generateIdentity, fingerprintOf, parseFingerprint, isFingerprint, isCanonicalFingerprint,
  formatFingerprintGrouped, fingerprintBytes, FINGERPRINT_CHARS
} from '../../src/crypto/identity.js'
import { encodeInvite } from '../../src/crypto/invite.js'
import { BASE32_ALPHABET, base32Encode, base32Decode, bech32m } from '../../src/crypto/fingerprint.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xf1e6).bytes

const SAMPLE = Array.from({ length: 12 }, () => generateIdentity().fingerprint)
const fp = SAMPLE[0] as string

function badFingerprint (t: Test, text: string, why: RegExp, label: string): void {
  t.throws(() => parseFingerprint(text), { code: 'BAD_FINGERPRINT', message: why }, label)
  t.notOk(isFingerprint(text), `${label}: isFingerprint is false`)
}

t.test('canonical text: 47 lowercase characters from the bech32 set, version p first', async t => {
  for (const f of SAMPLE) {
    t.equal(f.length, FINGERPRINT_CHARS)
    t.match(f, /^p[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{46}$/)
    t.ok(isCanonicalFingerprint(f))
    t.equal(parseFingerprint(f), f)
  }
  t.equal(new Set(SAMPLE).size, SAMPLE.length)
  t.notOk(/[1bio]/.test(SAMPLE.join('')), 'no 1, b, i or o anywhere')
})

t.test('the hash is SHA-256 over the domain string and both keys, first 25 bytes', async t => {
  const id = generateIdentity()
  // recomputed with a second SHA-256 implementation (@noble/hashes instead of node:crypto)
  const expected = nobleSha256(new Uint8Array([...utf8.encode('dmess-fingerprint-v1\0'), ...id.signPublic, ...id.dhPublic])).subarray(0, 25)
  t.same(fingerprintBytes(id.fingerprint), expected)
  t.same(fingerprintBytes(formatFingerprintGrouped(id.fingerprint).toUpperCase()), expected)
  t.ok(bech32m.verifyString(`dmess1${id.fingerprint}`), '"dmess1" + fingerprint is a valid bech32m string')
  t.not(fingerprintOf({ ...id, dhPublic: generateIdentity().dhPublic }), id.fingerprint, 'the X25519 key is covered')
  t.not(fingerprintOf({ ...id, signPublic: generateIdentity().signPublic }), id.fingerprint, 'the Ed25519 key is covered')
  t.equal(fingerprintOf({ ...id, dhSignature: new Uint8Array(64) }), id.fingerprint, 'the signature is not')
  t.throws(() => fingerprintOf({ ...id, signPublic: new Uint8Array(31) }), { code: 'CRYPTO' })
})

t.test('the checksum is BIP-350 bech32m (its published valid and invalid strings)', async t => {
  const valid = ['A1LQFN3A', 'a1lqfn3a', 'an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6',
    'abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx', '11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8',
    'split1checkupstagehandshakeupstreamerranterredcaperredlc445v', '?1v759aa']
  for (const s of valid) t.ok(bech32m.verifyString(s), s)
  // bech32 (not bech32m) strings and BIP-350's wrong-checksum examples must fail
  const invalid = ['A12UEL5L', 'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'M1VUXWEZ', 'qyrz8wqd2c9m', 'li1dgmt3', 'a1lqfn3A']
  for (const s of invalid) t.notOk(bech32m.verifyString(s), s)
})

t.test('parsing forgives case, whitespace and grouping; display groups by 4', async t => {
  const grouped = formatFingerprintGrouped(fp)
  t.match(grouped, /^([a-z0-9]{4} ){11}[a-z0-9]{3}$/)
  for (const pasted of [grouped, grouped.toUpperCase(), `  ${fp}\n`, grouped.replaceAll(' ', '-'),
    fp.toUpperCase(), `\t${grouped.replaceAll(' ', ' - ')} `, fp.slice(0, 20) + '\n' + fp.slice(20)]) {
    t.equal(parseFingerprint(pasted), fp, JSON.stringify(pasted))
    t.ok(isFingerprint(pasted))
    t.equal(isCanonicalFingerprint(pasted), pasted === fp)
  }
  t.equal(formatFingerprintGrouped(grouped.toUpperCase()), grouped)
})

t.test('errors say whether the length, a character, the checksum or the version is wrong', async t => {
  badFingerprint(t, fp.slice(0, -1), /has 47 characters, got 46/, 'one character short')
  badFingerprint(t, fp + 'q', /has 47 characters, got 48/, 'one character long')
  badFingerprint(t, '', /got 0/, 'empty')
  badFingerprint(t, 'x'.repeat(100_000), /got 100000/, 'huge input')
  badFingerprint(t, fp.slice(0, 10) + 'o' + fp.slice(11), /character 'o' at position 11 cannot be in a fingerprint/, 'o for 0')
  badFingerprint(t, fp.slice(0, 5) + '1' + fp.slice(6), /character '1' at position 6/, '1 for l')
  badFingerprint(t, fp.slice(0, 5) + 'é' + fp.slice(6), /character 'é' at position 6|character "é" at position 6/, 'non-ASCII')
  badFingerprint(t, fp.slice(0, 5) + '\u0007' + fp.slice(6), /"\\u0007" at position 6/, 'control character shown escaped')
  const swapped = fp.slice(0, 7) + (fp[8] ?? '') + (fp[7] ?? '') + fp.slice(9)
  if (swapped !== fp) badFingerprint(t, swapped, /checksum does not match/, 'two characters swapped')
  // a correctly checksummed fingerprint of an unknown version
  const words = [...fp].map(c => BASE32_ALPHABET.indexOf(c)).slice(0, 41)
  words[0] = 2
  const v2 = [...words, ...bech32m.checksum('dmess', words)].map(w => BASE32_ALPHABET[w]).join('')
  badFingerprint(t, v2, /version 'z' is not supported/, 'version 2')
  badFingerprint(t, encodeInvite(generateIdentity()), /that is an invite/, 'an invite')
  t.throws(() => formatFingerprintGrouped('nope'), { code: 'BAD_FINGERPRINT' })
  t.throws(() => fingerprintBytes(fp.toUpperCase().slice(1)), { code: 'BAD_FINGERPRINT' })
  t.throws(() => parseFingerprint(42 as unknown as string), { code: 'BAD_FINGERPRINT', message: /must be text/ })
  try {
    parseFingerprint(fp.slice(0, 46) + (fp[46] === 'q' ? 'p' : 'q'))
  } catch (err) {
    t.notMatch((err as Error).message, /\n/, 'one-line message')
  }
})

t.test('every single-character substitution and adjacent transposition is detected (exhaustive, 12 fingerprints)', async t => {
  let substitutions = 0
  let transpositions = 0
  const missed: string[] = []
  for (const f of SAMPLE) {
    for (let i = 0; i < f.length; i++) {
      for (const c of BASE32_ALPHABET) {
        if (c === f[i]) continue
        substitutions++
        const typo = f.slice(0, i) + c + f.slice(i + 1)
        if (isFingerprint(typo)) missed.push(typo)
      }
      if (i + 1 < f.length && f[i] !== f[i + 1]) {
        transpositions++
        const swap = f.slice(0, i) + (f[i + 1] ?? '') + (f[i] ?? '') + f.slice(i + 2)
        if (isFingerprint(swap)) missed.push(swap)
      }
    }
  }
  t.same(missed, [], 'no typo parses as a fingerprint')
  t.equal(substitutions, SAMPLE.length * 47 * 31)
  t.comment(`${substitutions} substitutions and ${transpositions} transpositions, all detected`)
})

t.test('random errors in 2 to 4 characters are detected too (BIP-173 guarantee, 20000 trials)', async t => {
  let missed = 0
  for (let trial = 0; trial < 20_000; trial++) {
    const f = [...(SAMPLE[trial % SAMPLE.length] as string)]
    const r = randomBytes(8)
    const count = 2 + ((r[0] ?? 0) % 3)
    for (let k = 0; k < count; k++) {
      const pos = (r[1 + 2 * k] ?? 0) % f.length
      const shift = 1 + ((r[2 + 2 * k] ?? 0) % 31)
      f[pos] = BASE32_ALPHABET[(BASE32_ALPHABET.indexOf(f[pos] ?? 'q') + shift) % 32] ?? 'q'
    }
    const text = f.join('')
    if (text !== SAMPLE[trial % SAMPLE.length] && isFingerprint(text)) missed++
  }
  t.equal(missed, 0)
})

t.test('base32 codec: round trip and canonical decoding only', async t => {
  for (let n = 0; n < 40; n++) {
    const b = randomBytes(n)
    t.same(base32Decode(base32Encode(b)), b, `${n} bytes`)
  }
  t.equal(base32Encode(new Uint8Array([0xff])), 'lu', '8 bits: 2 characters, zero padding')
  t.same(base32Decode('lu'), new Uint8Array([0xff]))
  t.equal(base32Decode('l7'), null, 'non-zero padding bits')
  t.equal(base32Decode('luq'), null, 'a whole spare character')
  t.equal(base32Decode('lb'), null, 'character outside the alphabet')
  t.same(base32Decode(''), new Uint8Array(0))
})
