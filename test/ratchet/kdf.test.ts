// The ratchet's HKDF (src/ratchet/kdf.ts) against RFC 5869 and node's hkdfSync; the known answers of
// every ratchet KDF are in proto-spec/ratchet.md §8 and checked by test/ratchet/vectors.test.ts.
import t from 'tap'
import { hkdf } from '../../src/ratchet/kdf.js'
import { hkdfSha256 } from '../../src/crypto/primitives.js'
import { toHex } from './helpers.js'
import { testRng } from '../helpers/seed.js'

const range = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('RFC 5869 A.1–A.3', async t => {
  t.equal(toHex(hkdf(new Uint8Array(22).fill(0x0b), range(0, 12), range(0xf0, 0xf9), 42)),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
  t.equal(toHex(hkdf(range(0, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82)),
    'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87')
  t.equal(toHex(hkdf(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42)),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8')
})

t.test('the same bytes as node:crypto hkdfSync for random inputs and lengths', async t => {
  const rng = testRng(t, 0x4bdf)
  for (let i = 0; i < 200; i++) {
    const ikm = rng.bytes(rng.int(100)); const salt = rng.bytes(rng.int(3) === 0 ? 0 : 32); const info = rng.bytes(rng.int(40))
    const len = 1 + rng.int(200)
    if (toHex(hkdf(ikm, salt, info, len)) !== toHex(hkdfSha256(ikm, salt, info, len))) t.fail(`case ${i} differs`)
  }
  t.pass('200 cases agree')
})
