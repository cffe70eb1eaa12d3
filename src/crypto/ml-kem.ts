// ML-KEM-768 (FIPS 203): in C in the native addon when it is built (native/ml-kem768.c, loaded
// by native-aead.ts; 5–6x less CPU, docs/performance.md §8.1), else the TypeScript below;
// `mlKem768` is whichever this process uses and `mlKemImplementation()` names it. Byte-identical
// outputs and the same errors either way (test/crypto/ml-kem-native.test.ts), so two peers never
// need to agree on it.
//
// The TypeScript implementation has its hashes on node:crypto. Node 20's OpenSSL 3.0 has SHA3-256,
// SHA3-512, SHAKE128 and SHAKE256 but no ML-KEM; @noble/post-quantum runs Keccak in JavaScript,
// which was half of its time per operation. This is the same algorithm (FIPS 203 Algorithms
// 6–18) over the same hash functions, so its outputs are byte-identical: checked against NIST
// ACVP vectors (test/pqxdh/ml-kem-acvp.test.ts) and against @noble/post-quantum on random
// inputs (test/crypto/ml-kem.test.ts).
//
// Deterministic inputs only (FIPS 203 Algorithms 16 and 17 take d ‖ z and m): the callers draw
// the randomness. Secret-dependent branches: none in the arithmetic; Compress divides by q with a
// multiplication (no division on secret data), and the ciphertext comparison of implicit
// rejection is constant-time. The modular reductions are still `%` on small integers, which V8
// may compile to an integer division whose time can depend on its operands: the C in the addon
// (Barrett reduction, checked under valgrind by test/crypto/ml-kem-constant-time.test.ts) is the
// constant-time path, and this one the fallback for a machine without a C compiler.
import { createHash, timingSafeEqual } from 'node:crypto'
import { processNativeAddon, type NativeMlKem768 } from './native-aead.js'

const N = 256
const Q = 3329
const K = 3 // η1 = η2 = 2 (Table 2): sampleCbd2
const DU = 10
const DV = 4
/** 128⁻¹ mod q (FIPS 203 Algorithm 10's final scaling) */
const F_INV = 3303

const POLY_BYTES = 384 // ByteEncode12 of one polynomial
export const MLKEM768 = {
  publicKey: POLY_BYTES * K + 32, // 1184
  secretKey: 2 * POLY_BYTES * K + 96, // 2400
  cipherText: 32 * (DU * K + DV), // 1088
  seed: 64,
  msg: 32
} as const

/** ζ^BitRev7(i) mod q, i = 0..127 (FIPS 203 §4.3), and γ_i = ζ^(2·BitRev7(i)+1) (Algorithm 11). */
const ZETAS = new Int32Array(128)
const GAMMAS = new Int32Array(128)
{
  const pow = (b: number, e: number): number => { let r = 1; for (let i = 0; i < e; i++) r = (r * b) % Q; return r }
  const brv7 = (i: number): number => { let r = 0; for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b); return r }
  for (let i = 0; i < 128; i++) { ZETAS[i] = pow(17, brv7(i)); GAMMAS[i] = pow(17, 2 * brv7(i) + 1) }
}

type Poly = Int32Array

const sha3 = (alg: 'sha3-256' | 'sha3-512', ...parts: Uint8Array[]): Uint8Array => {
  const h = createHash(alg)
  for (const p of parts) h.update(p)
  return h.digest()
}
const shake256 = (len: number, ...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('shake256', { outputLength: len })
  for (const p of parts) h.update(p)
  return h.digest()
}

/** Algorithm 9, in place; coefficients in [0, q). */
function ntt (f: Poly): Poly {
  let k = 1
  for (let len = 128; len >= 2; len >>= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k++]!
      for (let j = start; j < start + len; j++) {
        const t = (zeta * f[j + len]!) % Q
        const a = f[j]!
        f[j + len] = a >= t ? a - t : a - t + Q
        const s = a + t
        f[j] = s >= Q ? s - Q : s
      }
    }
  }
  return f
}

/** Algorithm 10, in place. */
function nttInverse (f: Poly): Poly {
  let k = 127
  for (let len = 2; len <= 128; len <<= 1) {
    for (let start = 0; start < N; start += 2 * len) {
      const zeta = ZETAS[k--]!
      for (let j = start; j < start + len; j++) {
        const t = f[j]!
        const b = f[j + len]!
        const s = t + b
        f[j] = s >= Q ? s - Q : s
        f[j + len] = (zeta * (b >= t ? b - t : b - t + Q)) % Q
      }
    }
  }
  for (let j = 0; j < N; j++) f[j] = (f[j]! * F_INV) % Q
  return f
}

/** acc += f ∘ g (Algorithms 11 and 12), every coefficient kept in [0, q). */
function mulAdd (acc: Poly, f: Poly, g: Poly): void {
  for (let i = 0; i < 128; i++) {
    const a0 = f[2 * i]!; const a1 = f[2 * i + 1]!
    const b0 = g[2 * i]!; const b1 = g[2 * i + 1]!
    acc[2 * i] = (acc[2 * i]! + a0 * b0 + ((a1 * b1) % Q) * GAMMAS[i]!) % Q
    acc[2 * i + 1] = (acc[2 * i + 1]! + a0 * b1 + a1 * b0) % Q
  }
}

function add (f: Poly, g: Poly): void {
  for (let j = 0; j < N; j++) { const s = f[j]! + g[j]!; f[j] = s >= Q ? s - Q : s }
}

/**
 * Algorithm 7 on SHAKE128(ρ ‖ x ‖ y). Three blocks (336 candidates, each accepted with
 * probability q/4096) hold 256 accepted values for all but ~0.8% of matrix entries (the binomial
 * tail P[X < 256], X ~ B(336, q/4096); so ~7% of operations, nine entries each, take one longer
 * squeeze); that squeeze reads the same stream further (SHAKE's output of n bytes is a prefix of
 * its output of more). The C (native/ml-kem768.c) squeezes block by block instead.
 * `firstBlocks` is for the test of that path.
 */
export function sampleNtt (rho: Uint8Array, x: number, y: number, firstBlocks = 3): Poly {
  const seed = new Uint8Array(34)
  seed.set(rho); seed[32] = x; seed[33] = y
  for (let blocks = firstBlocks; ; blocks += 2) {
    const b = createHash('shake128', { outputLength: 168 * blocks }).update(seed).digest()
    const a = new Int32Array(N)
    let j = 0
    for (let i = 0; i + 3 <= b.length && j < N; i += 3) {
      const d1 = b[i]! | ((b[i + 1]! & 0x0f) << 8)
      const d2 = (b[i + 1]! >> 4) | (b[i + 2]! << 4)
      if (d1 < Q) a[j++] = d1
      if (d2 < Q && j < N) a[j++] = d2
    }
    if (j === N) return a
  }
}

/** Algorithm 8 for η = 2 on PRF_η(s, b) = SHAKE256(s ‖ b, 64η). */
function sampleCbd2 (s: Uint8Array, b: number): Poly {
  const bytes = shake256(64 * 2, s, Uint8Array.of(b))
  const f = new Int32Array(N)
  for (let i = 0; i < N / 2; i++) {
    const t = bytes[i]!
    // two coefficients per byte: bits (0,1)-(2,3) and (4,5)-(6,7)
    const x0 = (t & 1) + ((t >> 1) & 1); const y0 = ((t >> 2) & 1) + ((t >> 3) & 1)
    const x1 = ((t >> 4) & 1) + ((t >> 5) & 1); const y1 = ((t >> 6) & 1) + ((t >> 7) & 1)
    f[2 * i] = x0 - y0 + Q * +(x0 < y0)
    f[2 * i + 1] = x1 - y1 + Q * +(x1 < y1)
  }
  return f
}

/** ByteEncode_d (Algorithm 5) of d-bit values, little-endian bit order, into out. */
function encode (f: Poly, d: number, out: Uint8Array, at: number): void {
  let acc = 0; let bits = 0; let o = at
  for (let i = 0; i < N; i++) {
    acc |= f[i]! << bits
    bits += d
    while (bits >= 8) { out[o++] = acc & 0xff; acc >>>= 8; bits -= 8 }
  }
}

/** ByteDecode_d (Algorithm 6); for d = 12 the values are reduced mod q. */
function decode (b: Uint8Array, at: number, d: number): Poly {
  const f = new Int32Array(N)
  const mask = (1 << d) - 1
  let acc = 0; let bits = 0; let o = at
  for (let i = 0; i < N; i++) {
    while (bits < d) { acc |= b[o++]! << bits; bits += 8 }
    const v = acc & mask
    f[i] = d === 12 && v >= Q ? v - Q : v
    acc >>>= d; bits -= d
  }
  return f
}

/** ⌈2^35 / q⌉: ⌊x / q⌋ = ⌊x · COMPRESS_M / 2^35⌋ for every x < 2^23 (as native/ml-kem768.c) */
const COMPRESS_M = 10321340
const TWO_POW_MINUS_35 = 2 ** -35

/**
 * Compress_d in place: round(2^d·x / q) mod 2^d (§4.2.1; q odd, so no ties). The division by q
 * is a multiplication and an exact scaling by 2^-35 (x · M < 2^47, exact in a double), not a
 * division whose time can depend on the secret dividend (the "KyberSlash" timing leak).
 */
function compress (f: Poly, d: number): Poly {
  const mask = (1 << d) - 1
  for (let i = 0; i < N; i++) f[i] = Math.floor(((f[i]! << d) + (Q >> 1)) * COMPRESS_M * TWO_POW_MINUS_35) & mask
  return f
}

/** Decompress_d in place: round(q·y / 2^d). */
function decompress (f: Poly, d: number): Poly {
  for (let i = 0; i < N; i++) f[i] = (f[i]! * Q + (1 << (d - 1))) >> d
  return f
}

/** K-PKE.KeyGen (Algorithm 13): ek_PKE ‖ dk_PKE written into dk at their ML-KEM places. */
function pkeKeyGen (d: Uint8Array, ek: Uint8Array): Uint8Array {
  const g = sha3('sha3-512', d, Uint8Array.of(K))
  const rho = g.subarray(0, 32)
  const sigma = g.subarray(32, 64)
  const s: Poly[] = []
  for (let i = 0; i < K; i++) s.push(ntt(sampleCbd2(sigma, i)))
  const dkPke = new Uint8Array(POLY_BYTES * K)
  for (let i = 0; i < K; i++) {
    const t = ntt(sampleCbd2(sigma, K + i))
    for (let j = 0; j < K; j++) mulAdd(t, sampleNtt(rho, j, i), s[j]!) // Â[i][j] = SampleNTT(ρ ‖ j ‖ i)
    encode(t, 12, ek, POLY_BYTES * i)
    encode(s[i]!, 12, dkPke, POLY_BYTES * i)
  }
  ek.set(rho, POLY_BYTES * K)
  for (const p of s) p.fill(0)
  g.fill(0)
  return dkPke
}

/** K-PKE.Encrypt (Algorithm 14). */
function pkeEncrypt (ek: Uint8Array, m: Uint8Array, r: Uint8Array): Uint8Array {
  const rho = ek.subarray(POLY_BYTES * K)
  const y: Poly[] = []
  for (let i = 0; i < K; i++) y.push(ntt(sampleCbd2(r, i)))
  const c = new Uint8Array(MLKEM768.cipherText)
  for (let i = 0; i < K; i++) {
    const u = new Int32Array(N)
    for (let j = 0; j < K; j++) mulAdd(u, sampleNtt(rho, i, j), y[j]!) // (Âᵀ)[i][j] = Â[j][i] = SampleNTT(ρ ‖ i ‖ j)
    nttInverse(u)
    add(u, sampleCbd2(r, K + i))
    encode(compress(u, DU), DU, c, 32 * DU * i)
  }
  const v = new Int32Array(N)
  for (let i = 0; i < K; i++) mulAdd(v, decode(ek, POLY_BYTES * i, 12), y[i]!)
  nttInverse(v)
  add(v, sampleCbd2(r, 2 * K))
  add(v, decompress(decode(m, 0, 1), 1))
  encode(compress(v, DV), DV, c, 32 * DU * K)
  for (const p of y) p.fill(0)
  v.fill(0)
  return c
}

/** K-PKE.Decrypt (Algorithm 15). */
function pkeDecrypt (dkPke: Uint8Array, c: Uint8Array): Uint8Array {
  const w = new Int32Array(N)
  for (let i = 0; i < K; i++) {
    const u = ntt(decompress(decode(c, 32 * DU * i, DU), DU))
    const s = decode(dkPke, POLY_BYTES * i, 12)
    mulAdd(w, s, u)
    s.fill(0)
  }
  nttInverse(w)
  const v = decompress(decode(c, 32 * DU * K, DV), DV)
  for (let j = 0; j < N; j++) { const d = v[j]! - w[j]!; v[j] = d < 0 ? d + Q : d }
  const m = new Uint8Array(32)
  encode(compress(v, 1), 1, m, 0)
  w.fill(0); v.fill(0)
  return m
}

function need (what: string, b: Uint8Array, n: number): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`ML-KEM-768 ${what}: expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
}

/** The FIPS 203 §7.2 modulus check: every 12-bit coefficient of t̂ in ek is below q. */
export function ekModulusOk (ek: Uint8Array): boolean {
  if (!(ek instanceof Uint8Array) || ek.length !== MLKEM768.publicKey) return false
  for (let i = 0; i < POLY_BYTES * K; i += 3) {
    const b1 = ek[i + 1]!
    if ((ek[i]! | ((b1 & 0x0f) << 8)) >= Q || ((b1 >>> 4) | (ek[i + 2]! << 4)) >= Q) return false
  }
  return true
}

/** One ML-KEM-768 implementation: FIPS 203's deterministic functions, randomness passed in. */
export interface MlKem768 {
  readonly name: 'native-addon' | 'typescript'
  readonly lengths: typeof MLKEM768
  /** ML-KEM.KeyGen_internal(d, z) (Algorithm 16), seed = d ‖ z (64 bytes). */
  keygen: (seed: Uint8Array) => { publicKey: Uint8Array, secretKey: Uint8Array }
  /** ML-KEM.Encaps_internal(ek, m) (Algorithm 17) after the §7.2 input check; throws for an ek that fails it. */
  encapsulate: (publicKey: Uint8Array, m: Uint8Array) => { cipherText: Uint8Array, sharedSecret: Uint8Array }
  /** ML-KEM.Decaps (Algorithm 18) after the §7.3 hash check of dk; a wrong ciphertext gives J(z ‖ c). */
  decapsulate: (cipherText: Uint8Array, secretKey: Uint8Array) => Uint8Array
}

const MODULUS_CHECK_FAILED = 'ML-KEM-768 encapsulate: the encapsulation key fails the modulus check'
const HASH_CHECK_FAILED = 'ML-KEM-768 decapsulate: the decapsulation key fails its hash check'

/** FIPS 203 in TypeScript over node:crypto's SHA-3 and SHAKE: the fallback without the addon. */
export const typescriptMlKem768: MlKem768 = {
  name: 'typescript',
  lengths: MLKEM768,
  /** ML-KEM.KeyGen_internal(d, z) (Algorithm 16), seed = d ‖ z. */
  keygen (seed: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array } {
    need('seed', seed, MLKEM768.seed)
    const publicKey = new Uint8Array(MLKEM768.publicKey)
    const dkPke = pkeKeyGen(seed.subarray(0, 32), publicKey)
    const secretKey = new Uint8Array(MLKEM768.secretKey)
    secretKey.set(dkPke, 0)
    secretKey.set(publicKey, POLY_BYTES * K)
    secretKey.set(sha3('sha3-256', publicKey), 2 * POLY_BYTES * K + 32)
    secretKey.set(seed.subarray(32, 64), 2 * POLY_BYTES * K + 64)
    dkPke.fill(0)
    return { publicKey, secretKey }
  },
  /** ML-KEM.Encaps_internal(ek, m) (Algorithm 17) after the §7.2 input check; throws for an ek that fails it. */
  encapsulate (publicKey: Uint8Array, m: Uint8Array): { cipherText: Uint8Array, sharedSecret: Uint8Array } {
    need('encapsulation key', publicKey, MLKEM768.publicKey)
    need('message', m, MLKEM768.msg)
    if (!ekModulusOk(publicKey)) throw new Error(MODULUS_CHECK_FAILED)
    const kr = sha3('sha3-512', m, sha3('sha3-256', publicKey))
    const cipherText = pkeEncrypt(publicKey, m, kr.subarray(32, 64))
    const sharedSecret = new Uint8Array(kr.subarray(0, 32)) // a copy (Buffer#slice would be a view)
    kr.fill(0)
    return { cipherText, sharedSecret }
  },
  /**
   * ML-KEM.Decaps (Algorithm 18) with the §7.3 hash check of dk. A wrong but well-sized
   * ciphertext gives J(z ‖ c) (implicit rejection), never an error.
   */
  decapsulate (cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    need('ciphertext', cipherText, MLKEM768.cipherText)
    need('decapsulation key', secretKey, MLKEM768.secretKey)
    const dkPke = secretKey.subarray(0, POLY_BYTES * K)
    const ek = secretKey.subarray(POLY_BYTES * K, 2 * POLY_BYTES * K + 32)
    const h = secretKey.subarray(2 * POLY_BYTES * K + 32, 2 * POLY_BYTES * K + 64)
    const z = secretKey.subarray(2 * POLY_BYTES * K + 64)
    if (!timingSafeEqual(sha3('sha3-256', ek), h)) throw new Error(HASH_CHECK_FAILED)
    const m = pkeDecrypt(dkPke, cipherText)
    const kr = sha3('sha3-512', m, h)
    const c2 = pkeEncrypt(ek, m, kr.subarray(32, 64))
    const kBar = shake256(32, z, cipherText)
    const ok = timingSafeEqual(c2, cipherText)
    // select without a branch on the secret-dependent comparison
    const mask = -(+ok) & 0xff
    const out = new Uint8Array(32)
    for (let i = 0; i < 32; i++) out[i] = (kr[i]! & mask) | (kBar[i]! & ~mask)
    kr.fill(0); m.fill(0); kBar.fill(0)
    return out
  }
}

/**
 * The addon's ML-KEM-768 (native/ml-kem768.c): the same sizes checked here first, so a wrong call
 * throws the same error as the TypeScript one; the C checks them again.
 */
export function nativeMlKem768 (addon: NativeMlKem768): MlKem768 {
  return {
    name: 'native-addon',
    lengths: MLKEM768,
    keygen (seed) {
      need('seed', seed, MLKEM768.seed)
      const publicKey = new Uint8Array(MLKEM768.publicKey)
      const secretKey = new Uint8Array(MLKEM768.secretKey)
      addon.mlkem768Keygen(seed, publicKey, secretKey)
      return { publicKey, secretKey }
    },
    encapsulate (publicKey, m) {
      need('encapsulation key', publicKey, MLKEM768.publicKey)
      need('message', m, MLKEM768.msg)
      const cipherText = new Uint8Array(MLKEM768.cipherText)
      const sharedSecret = new Uint8Array(32)
      if (!addon.mlkem768Encapsulate(publicKey, m, cipherText, sharedSecret)) throw new Error(MODULUS_CHECK_FAILED)
      return { cipherText, sharedSecret }
    },
    decapsulate (cipherText, secretKey) {
      need('ciphertext', cipherText, MLKEM768.cipherText)
      need('decapsulation key', secretKey, MLKEM768.secretKey)
      const sharedSecret = new Uint8Array(32)
      if (!addon.mlkem768Decapsulate(cipherText, secretKey, sharedSecret)) throw new Error(HASH_CHECK_FAILED)
      return sharedSecret
    }
  }
}

const nativeLoad = processNativeAddon()

/** The ML-KEM-768 this process uses: the addon's when it loads (DMESS_NATIVE=off keeps TypeScript). */
export const mlKem768: MlKem768 = nativeLoad.ok ? nativeMlKem768(nativeLoad.addon) : typescriptMlKem768

/** Which ML-KEM-768 this process uses, and why not the native one (benchmarks, status). */
export function mlKemImplementation (): { name: MlKem768['name'], fallbackReason?: string } {
  return nativeLoad.ok ? { name: mlKem768.name } : { name: mlKem768.name, fallbackReason: nativeLoad.reason }
}
