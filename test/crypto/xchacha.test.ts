// XChaCha20-Poly1305 built from HChaCha20 + node:crypto's ChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha-03 §2.3): the draft's HChaCha20 and AEAD vectors, agreement with an
// independent implementation (@noble/ciphers, test-only here) on random inputs, and the
// unauthenticated keystream peek. Wycheproof's XChaCha file runs in wycheproof.test.ts.
import t from 'tap'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hchacha20 } from '../../src/crypto/hchacha.js'
import { xchacha } from '../../src/crypto/primitives.js'
import { createRng } from '../../src/sim/rng.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const seq = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => from + i)

t.test('HChaCha20 test vector (draft-irtf-cfrg-xchacha-03 §2.2.1)', async t => {
  const sub = hchacha20(seq(32), hex('000000090000004a0000000031415927'))
  t.equal(Buffer.from(sub).toString('hex'), '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc')
  t.throws(() => hchacha20(seq(31), seq(16)), RangeError)
})

t.test('AEAD test vector (draft-irtf-cfrg-xchacha-03 §A.3.1)', async t => {
  const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
  const aad = hex('50515253c0c1c2c3c4c5c6c7')
  const key = seq(32, 0x80)
  const nonce = seq(24, 0x40)
  const ct = xchacha.seal(key, nonce, pt, aad)
  t.equal(Buffer.from(ct.subarray(ct.length - 16)).toString('hex'), 'c0875924c1c7987947deafd8780acf49', 'tag')
  t.equal(Buffer.from(ct.subarray(0, 16)).toString('hex'), 'bd6d179d3e83d43b9576579493c0e939', 'first ciphertext block')
  t.same(Buffer.from(xchacha.open(key, nonce, ct, aad) ?? []), pt, 'opens')
  t.same(Buffer.from(xchacha.peekUnauthenticated(key, nonce, ct) ?? []), pt, 'the keystream peek gives the plaintext too')
})

t.test('agrees with @noble/ciphers on 300 random cases; tampering is refused', async t => {
  const rng = createRng(77)
  let same = 0
  for (let i = 0; i < 300; i++) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const pt = rng.bytes(i * 7 % 700)
    const aad = i % 3 === 0 ? undefined : rng.bytes(i % 40)
    const mine = xchacha.seal(key, nonce, pt, aad)
    if (Buffer.compare(Buffer.from(mine), Buffer.from(xchacha20poly1305(key, nonce, aad).encrypt(pt))) === 0) same++
    if (i % 10 === 0 && mine.length > 0) {
      const bad = Uint8Array.from(mine)
      bad[i % bad.length] = (bad[i % bad.length] ?? 0) ^ 1
      t.equal(xchacha.open(key, nonce, bad, aad), null, `flipped byte ${i % bad.length} refused`)
    }
  }
  t.equal(same, 300, 'byte-identical output')
})
