// ML-KEM-768 (FIPS 203) for PQXDH's pqkem (proto-spec/pqxdh.md §2): src/crypto/ml-kem.ts, since
// Node 20's crypto has no ML-KEM (its SHA-3 and SHAKE are used). Randomness is passed in, so a run with fixed inputs is a
// known-answer test (FIPS 203 Algorithms 16 and 17 take d, z and m as inputs). Checked against
// NIST ACVP vectors in test/pqxdh/ml-kem-acvp.test.ts.
import { mlKem768 } from '../crypto/ml-kem.js'
import { errors } from '../errors.js'
import {
  MLKEM768_PUBLIC_BYTES, MLKEM768_SECRET_BYTES, MLKEM768_CIPHERTEXT_BYTES, MLKEM768_SEED_BYTES,
  MLKEM768_ENCAPS_RANDOM_BYTES
} from './constants.js'

const Q = 3329
/** ek = ByteEncode12(t̂) (384·k bytes, k = 3) ‖ ρ (32 bytes), FIPS 203 Algorithm 13. */
const T_HAT_BYTES = 384 * 3

function need (what: string, b: Uint8Array, n: number): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw errors.CRYPTO(`ml-kem-768 ${what}: expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
  }
}

/**
 * FIPS 203 §7.2 encapsulation key check: the right length, and every 12-bit coefficient of t̂
 * below q (so ByteEncode12(ByteDecode12(t̂)) = t̂). Never throws.
 */
export function isValidKemPublicKey (ek: Uint8Array): boolean {
  if (!(ek instanceof Uint8Array) || ek.length !== MLKEM768_PUBLIC_BYTES) return false
  for (let i = 0; i < T_HAT_BYTES; i += 3) {
    const b0 = ek[i]!
    const b1 = ek[i + 1]!
    const b2 = ek[i + 2]!
    // ByteDecode12: little-endian bits, two coefficients per three bytes
    if ((b0 | ((b1 & 0x0f) << 8)) >= Q || ((b1 >>> 4) | (b2 << 4)) >= Q) return false
  }
  return true
}

export interface KemKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

export const mlkem768 = {
  /** ML-KEM.KeyGen_internal(d, z) with seed = d ‖ z (64 bytes). */
  keygen (seed: Uint8Array): KemKeyPair {
    need('seed', seed, MLKEM768_SEED_BYTES)
    const { publicKey, secretKey } = mlKem768.keygen(seed)
    return { publicKey, secretKey }
  },
  /** ML-KEM.Encaps_internal(ek, m); throws CRYPTO for an ek that fails the §7.2 check. */
  encapsulate (ek: Uint8Array, m: Uint8Array): { cipherText: Uint8Array, sharedSecret: Uint8Array } {
    if (!isValidKemPublicKey(ek)) throw errors.CRYPTO('ml-kem-768: encapsulation key fails the FIPS 203 §7.2 check')
    need('encapsulation randomness', m, MLKEM768_ENCAPS_RANDOM_BYTES)
    const { cipherText, sharedSecret } = mlKem768.encapsulate(ek, m)
    return { cipherText, sharedSecret }
  },
  /**
   * ML-KEM.Decaps(dk, c). A wrong but well-sized ciphertext gives a pseudorandom key (implicit
   * rejection, FIPS 203 Algorithm 18), never an error: the AEAD that follows fails instead.
   */
  decapsulate (c: Uint8Array, dk: Uint8Array): Uint8Array {
    need('ciphertext', c, MLKEM768_CIPHERTEXT_BYTES)
    need('decapsulation key', dk, MLKEM768_SECRET_BYTES)
    return mlKem768.decapsulate(c, dk)
  }
}
