// ML-KEM-768 on node:crypto's SHA-3 (src/crypto/ml-kem.ts) against @noble/post-quantum, the
// implementation it replaced, on seeded random inputs: the same keys, ciphertexts and shared
// secrets byte for byte, implicit rejection included. NIST's ACVP vectors run through it in
// test/pqxdh/ml-kem-acvp.test.ts.
import t from 'tap'
import { ml_kem768, __tests } from '@noble/post-quantum/ml-kem.js'
import { mlKem768, sampleNtt, ekModulusOk, MLKEM768 } from '../../src/crypto/ml-kem.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const rng = testRng(t, 0x6d6c6b)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('keygen, encapsulation and decapsulation match @noble/post-quantum', async t => {
  for (let i = 0; i < 40; i++) {
    const seed = rng.bytes(64)
    const m = rng.bytes(32)
    const ours = mlKem768.keygen(seed)
    const ref = ml_kem768.keygen(seed)
    t.equal(hex(ours.publicKey), hex(ref.publicKey), `case ${i}: ek`)
    t.equal(hex(ours.secretKey), hex(ref.secretKey), `case ${i}: dk`)
    const enc = mlKem768.encapsulate(ours.publicKey, m)
    const encRef = ml_kem768.encapsulate(ref.publicKey, m)
    t.equal(hex(enc.cipherText), hex(encRef.cipherText), `case ${i}: c`)
    t.equal(hex(enc.sharedSecret), hex(encRef.sharedSecret), `case ${i}: K`)
    t.equal(hex(mlKem768.decapsulate(enc.cipherText, ours.secretKey)), hex(enc.sharedSecret), `case ${i}: Decaps(dk, c) = K`)
    const bad = enc.cipherText.slice()
    bad[rng.int(bad.length)]! ^= 1 << rng.int(8)
    const rejected = mlKem768.decapsulate(bad, ours.secretKey)
    t.not(hex(rejected), hex(enc.sharedSecret), `case ${i}: a modified c does not give K`)
    t.equal(hex(rejected), hex(ml_kem768.decapsulate(bad, ref.secretKey)), `case ${i}: it gives the implicit-rejection key J(z ‖ c)`)
  }
})

t.test('SampleNTT reads further into the SHAKE128 stream when its first squeeze is short', async t => {
  for (let i = 0; i < 20; i++) {
    const b = rng.bytes(34)
    const ref = __tests.SampleNTT(b)
    // one block (112 candidates) never holds 256 values: every case takes the longer squeeze
    t.same(Array.from(sampleNtt(b.subarray(0, 32), b[32]!, b[33]!, 1)), Array.from(ref), `case ${i}, from one block`)
    t.same(Array.from(sampleNtt(b.subarray(0, 32), b[32]!, b[33]!)), Array.from(ref), `case ${i}`)
  }
})

t.test('bad inputs: a wrong length or an ek that fails the §7.2 modulus check throws; a tampered dk fails its hash check', async t => {
  const { publicKey, secretKey } = mlKem768.keygen(rng.bytes(64))
  t.throws(() => mlKem768.keygen(rng.bytes(63)), /seed: expected 64 bytes/)
  t.throws(() => mlKem768.encapsulate(publicKey.subarray(1), rng.bytes(32)), /expected 1184 bytes/)
  t.throws(() => mlKem768.encapsulate(publicKey, rng.bytes(31)), /expected 32 bytes/)
  const high = publicKey.slice()
  high[0] = 0xff; high[1] = high[1]! | 0x0f // first coefficient 4095 ≥ q
  t.notOk(ekModulusOk(high))
  t.throws(() => mlKem768.encapsulate(high, rng.bytes(32)), /modulus check/)
  t.throws(() => ml_kem768.encapsulate(high, rng.bytes(32)), 'the reference refuses it too')
  t.throws(() => mlKem768.decapsulate(rng.bytes(MLKEM768.cipherText - 1), secretKey), /expected 1088 bytes/)
  const tampered = secretKey.slice()
  tampered[1200]! ^= 1 // inside the copy of ek that H(ek) covers
  t.throws(() => mlKem768.decapsulate(rng.bytes(MLKEM768.cipherText), tampered), /hash check/)
})
