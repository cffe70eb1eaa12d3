// Strict validation of an Ed25519 public key, in plain BigInt arithmetic. node:crypto has no
// point decoding, and importing a whole curve library for this one check cost ~10 MiB of RSS in
// every process that runs a handshake (docs/performance.md §1). The check is the one crypto-policy.md
// §1.2 asks for: the 32 bytes decode as a point per RFC 8032 §5.1.3 (canonical y < p, x recovered,
// x = 0 with the sign bit set refused), and the point does not have small order (8·P ≠ identity),
// since under a small-order key the signature (R = identity, S = 0) verifies for every message.
// Not constant time: it runs on public keys only.

const P = (1n << 255n) - 19n
/** d = −121665/121666 mod p (RFC 8032 §5.1) */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n
/** √−1 = 2^((p−1)/4) mod p (RFC 8032 §5.1.3 step 3) */
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n
const KEY_BYTES = 32

function mod (a: bigint): bigint {
  const r = a % P
  return r >= 0n ? r : r + P
}

/** x^(2^k) mod p: k squarings */
function sqrN (x: bigint, k: number): bigint {
  let r = x
  for (let i = 0; i < k; i++) r = r * r % P
  return r
}

/**
 * x^((p−5)/8) = x^(2^252 − 3) by an addition chain (each bN is x^(2^N − 1)): 251 squarings and
 * 11 multiplications, against ~250 extra multiplications for plain square-and-multiply.
 */
function powP58 (x: bigint): bigint {
  const b2 = x * x % P * x % P
  const b4 = sqrN(b2, 2) * b2 % P
  const b5 = sqrN(b4, 1) * x % P
  const b10 = sqrN(b5, 5) * b5 % P
  const b20 = sqrN(b10, 10) * b10 % P
  const b40 = sqrN(b20, 20) * b20 % P
  const b80 = sqrN(b40, 40) * b40 % P
  const b160 = sqrN(b80, 80) * b80 % P
  const b240 = sqrN(b160, 80) * b80 % P
  const b250 = sqrN(b240, 10) * b10 % P
  return sqrN(b250, 2) * x % P
}

/** RFC 8032 §5.1.3: the affine point the encoding names, or null if it names none. */
export function decodeEd25519Point (bytes: Uint8Array): { x: bigint, y: bigint } | null {
  if (bytes.length !== KEY_BYTES) return null
  let y = 0n
  for (let i = KEY_BYTES - 1; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i] ?? 0)
  const sign = y >> 255n
  y &= (1n << 255n) - 1n
  if (y >= P) return null // step 1: non-canonical y
  // step 2: x² = u/v with u = y² − 1, v = d·y² + 1; candidate x = u·v³·(u·v⁷)^((p−5)/8)
  const y2 = y * y % P
  const u = mod(y2 - 1n)
  const v = mod(D * y2 + 1n)
  const v3 = v * v % P * v % P
  let x = u * v3 % P * powP58(u * v3 % P * v3 % P * v % P) % P
  // step 3: accept x, x·√−1, or nothing
  const vx2 = v * x % P * x % P
  if (vx2 === mod(-u)) x = x * SQRT_M1 % P
  else if (vx2 !== u) return null
  // step 4: the sign bit picks x or p − x; x = 0 has no negative
  if (x === 0n && sign === 1n) return null
  if ((x & 1n) !== sign) x = P - x
  return { x, y }
}

/**
 * True when 8·(x, y) is the identity. Three doublings in projective coordinates (X:Y:Z) on
 * −x² + y² = 1 + d·x²·y² (the "dbl-2008-bbjlp" formulas with a = −1). They hold for every point
 * of this curve: F = y² − x² = 1 + d·x²·y² and J = F − 2 = d·x²·y² − 1 would be 0 only if d were
 * a square times −1 or 1, and d is not a square while −1 is (p ≡ 1 mod 4).
 */
export function hasSmallOrder (pt: { x: bigint, y: bigint }): boolean {
  let X = pt.x
  let Y = pt.y
  let Z = 1n
  for (let i = 0; i < 3; i++) {
    const B = (X + Y) * (X + Y) % P
    const C = X * X % P
    const Dy = Y * Y % P
    const E = mod(-C)
    const F = mod(E + Dy)
    const H = Z * Z % P
    const J = mod(F - 2n * H)
    X = mod(B - C - Dy) * J % P
    Y = F * mod(E - Dy) % P
    Z = F * J % P
  }
  return X === 0n && Y === Z
}

/** crypto-policy.md §1.2: a canonical encoding of a point that is not of small order. */
export function isStrictEd25519PublicKey (bytes: Uint8Array): boolean {
  const pt = decodeEd25519Point(bytes)
  return pt !== null && !hasSmallOrder(pt)
}

/**
 * The y coordinates of the eight points of small order (RFC 7748 §6.1's list, as libsodium's
 * ge25519_has_small_order keeps it): 1 (the identity), p − 1 (order 2), 0 (order 4, both x), and
 * ±y₈ (order 8, both x); little-endian, sign bit clear.
 */
const SMALL_ORDER_Y = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'
].map(h => Uint8Array.from(Buffer.from(h, 'hex')))

/** y ≥ p with the sign bit masked: 2^255 − 19 … 2^255 − 1 (RFC 8032 §5.1.3 step 1). */
function nonCanonicalY (b: Uint8Array): boolean {
  if ((b[31]! & 0x7f) !== 0x7f || b[0]! < 0xed) return false
  for (let i = 1; i < 31; i++) if (b[i] !== 0xff) return false
  return true
}

/**
 * isStrictEd25519PublicKey without the square root, for a key that is about to verify a signature
 * through OpenSSL: a canonical y, and not the encoding of a small-order point (either sign bit;
 * with y = ±1 the sign-bit-set encodings decode to nothing and are refused here too). What it does
 * not check — that y names a point at all — is step 1 of the verification that follows (RFC 8032
 * §5.1.7: decoding A fails, the signature is invalid; OpenSSL's ossl_ed25519_verify does so), so
 * `isStrictEd25519Encoding(k) && verify(sig, msg, k)` is `isStrictEd25519PublicKey(k) && verify(sig, msg, k)`
 * at a fraction of the cost (test/crypto/ed25519-point.test.ts checks the two agree on every key that decodes).
 * Not constant time: public keys only.
 */
export function isStrictEd25519Encoding (bytes: Uint8Array): boolean {
  if (bytes.length !== KEY_BYTES || nonCanonicalY(bytes)) return false
  return !SMALL_ORDER_Y.some(y => {
    for (let i = 0; i < 31; i++) if (bytes[i] !== y[i]) return false
    return (bytes[31]! & 0x7f) === y[31]
  })
}
