// The strict Ed25519 public-key check (crypto-policy.md §2.2) against an independent
// implementation (@noble/curves, a test-only reference here): same verdict on every input class
// that matters — random bytes (about half decode), real keys, the eight small-order points with
// both sign bits, real points plus a torsion component (valid: not small order), non-canonical y.
// And the cheap form for keys about to verify (isStrictEd25519Encoding): the same verdict on every
// encoding that decodes, and never a yes for one the full check refuses.
import t from 'tap'
import { ed25519 as noble } from '@noble/curves/ed25519.js'
import { createRng } from '../../src/sim/rng.js'
import { decodeEd25519Point, hasSmallOrder, isStrictEd25519Encoding, isStrictEd25519PublicKey } from '../../src/crypto/ed25519-point.js'
import { ed25519 } from '../../src/crypto/primitives.js'

function reference (b: Uint8Array): boolean {
  try {
    return !noble.Point.fromBytes(b).isSmallOrder()
  } catch {
    return false
  }
}

/** A point of order 8 (generates the torsion subgroup). */
const T8 = noble.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa')

t.test('agrees with the reference on 3,000 random encodings and 500 real keys', async t => {
  const rng = createRng(2026)
  let disagree = 0
  let valid = 0
  for (let i = 0; i < 3000; i++) {
    const b = rng.bytes(32)
    const mine = isStrictEd25519PublicKey(b)
    if (mine) valid++
    if (mine !== reference(b)) disagree++
  }
  t.equal(disagree, 0, 'no disagreement on random bytes')
  t.ok(valid > 1200 && valid < 1800, `about half of random encodings are points (${valid})`)
  for (let i = 0; i < 500; i++) {
    const pk = noble.getPublicKey(rng.bytes(32))
    if (!isStrictEd25519PublicKey(pk)) disagree++
    if (!ed25519.isValidPublicKey(pk)) disagree++
  }
  t.equal(disagree, 0, 'every real key is accepted (also through primitives)')
})

t.test('small-order points are refused; a real point plus torsion is not small order', async t => {
  let q = noble.Point.ZERO
  const seen = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const enc = q.toBytes()
    seen.add(Buffer.from(enc).toString('hex'))
    t.notOk(isStrictEd25519PublicKey(enc), `torsion point ${i} refused`)
    const pt = decodeEd25519Point(enc)
    t.ok(pt !== null && hasSmallOrder(pt), `it decodes and 8·P is the identity (${i})`)
    const flipped = Uint8Array.from(enc)
    flipped[31] = (flipped[31] ?? 0) ^ 0x80
    t.equal(isStrictEd25519PublicKey(flipped), reference(flipped), `sign-flipped torsion point ${i} as the reference says`)
    q = q.add(T8)
  }
  t.equal(seen.size, 8, 'all eight small-order points were tried')
  for (let i = 1; i <= 100; i++) {
    const k = noble.Point.BASE.multiply(BigInt(i) * 7919n)
    const mixed = k.add(T8).toBytes()
    t.equal(isStrictEd25519PublicKey(mixed), reference(mixed))
  }
  t.ok(isStrictEd25519PublicKey(noble.Point.BASE.add(T8).toBytes()), 'B + T8 is a valid (mixed-order) key, as the policy defines it')
})

t.test('non-canonical y (p ≤ y < 2^255) never decodes, either sign', async t => {
  for (let v = 0; v < 19; v++) {
    for (const sign of [0, 0x80]) {
      const b = new Uint8Array(32).fill(0xff)
      b[0] = 0xed + v
      b[31] = 0x7f | sign
      t.equal(decodeEd25519Point(b), null, `y = p + ${v}, sign ${sign >> 7}`)
      t.equal(reference(b), false)
    }
  }
  t.equal(decodeEd25519Point(new Uint8Array(31)), null, 'wrong length')
  const minusZero = new Uint8Array(32)
  minusZero[0] = 1
  minusZero[31] = 0x80 // y = 1 (x = 0) with the sign bit: RFC 8032 §5.1.3 step 4 refuses
  t.equal(decodeEd25519Point(minusZero), null, 'x = 0 with the sign bit set')
})

t.test('isStrictEd25519Encoding: the strict check\'s verdict on every encoding that decodes; no yes it refuses', async t => {
  const rng = createRng(2027)
  const inputs: Uint8Array[] = []
  for (let i = 0; i < 5000; i++) inputs.push(rng.bytes(32))
  for (let i = 1; i <= 300; i++) inputs.push(noble.Point.BASE.multiply(BigInt(i) * 104_729n).toBytes())
  let q = noble.Point.ZERO
  for (let i = 0; i < 8; i++) {
    const enc = q.toBytes()
    const flipped = Uint8Array.from(enc)
    flipped[31] = (flipped[31] ?? 0) ^ 0x80
    inputs.push(enc, flipped, noble.Point.BASE.add(q).toBytes())
    q = q.add(T8)
  }
  for (let v = 0; v < 19; v++) {
    for (const sign of [0, 0x80]) {
      const b = new Uint8Array(32).fill(0xff)
      b[0] = 0xed + v
      b[31] = 0x7f | sign
      inputs.push(b)
    }
  }
  let decoded = 0
  let differ = 0
  let looser = 0
  for (const b of inputs) {
    const strict = isStrictEd25519PublicKey(b)
    const cheap = isStrictEd25519Encoding(b)
    if (decodeEd25519Point(b) !== null) {
      decoded++
      if (strict !== cheap) differ++
    } else if (cheap) {
      looser++ // names no point: the verify that follows refuses it (RFC 8032 §5.1.7)
    }
    if (strict && !cheap) differ++
  }
  t.equal(differ, 0, `the same verdict on all ${decoded} encodings that decode`)
  t.ok(looser > 1000, `encodings that name no point are left to the verify (${looser})`)
  t.notOk(isStrictEd25519Encoding(new Uint8Array(31)), 'wrong length')
  // an encoding that names no point, with a signature: the verify (OpenSSL) refuses it
  const kp = ed25519.generateKeyPair()
  const msg = new Uint8Array([1, 2, 3])
  const sig = ed25519.sign(msg, kp.secretKey)
  const undecodable = inputs.find(b => decodeEd25519Point(b) === null && isStrictEd25519Encoding(b))!
  t.notOk(ed25519.verify(sig, msg, undecodable), 'a key that names no point verifies nothing')
})
