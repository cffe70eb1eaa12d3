// PQXDH parameters and sizes (proto-spec/pqxdh.md §2), spec constants apart from tuning constants.
// Signal's "The PQXDH Key Agreement Protocol" (Kret, Schmidt) with curve = X25519, hash = SHA-256,
// pqkem = ML-KEM-768 (FIPS 203); prekey signatures are Ed25519 by the identity's signing key
// (pqxdh.md §3.2 says why not XEdDSA).
import { utf8 } from '../crypto/primitives.js'

// ---- spec constants (changing one is a new version: pqxdh.md §9) ----

/** PQXDH §2.1 `info`, joined with curve, hash and pqkem by '_' (PQXDH §2.2, KDF). */
export const PQXDH_INFO = utf8.encode('dmess-pqxdh-v1_CURVE25519_SHA-256_ML-KEM-768')
/** PQXDH §2.2 KDF: F, 32 0xFF bytes for curve25519, before the key material. */
export const KDF_F = new Uint8Array(32).fill(0xff)
/** PQXDH §2.2 KDF: a zero salt of the hash's output length. */
export const KDF_SALT = new Uint8Array(32)

/** EncodeEC: this byte, then the 32-byte little-endian u-coordinate (RFC 7748 §5). */
export const EC_TYPE_X25519 = 0x05
/** EncodeKEM: this byte, then ML-KEM-768's 1184-byte encapsulation key (FIPS 203 §7.1). */
export const KEM_TYPE_MLKEM768 = 0x18

export const X25519_KEY_BYTES = 32
export const ENCODED_EC_BYTES = 1 + X25519_KEY_BYTES
export const MLKEM768_PUBLIC_BYTES = 1184
export const MLKEM768_SECRET_BYTES = 2400
export const MLKEM768_CIPHERTEXT_BYTES = 1088
/** ML-KEM.KeyGen_internal(d, z) seed: d (32) ‖ z (32), FIPS 203 Algorithm 16. */
export const MLKEM768_SEED_BYTES = 64
/** ML-KEM.Encaps_internal message m, FIPS 203 Algorithm 17. */
export const MLKEM768_ENCAPS_RANDOM_BYTES = 32
export const ENCODED_KEM_BYTES = 1 + MLKEM768_PUBLIC_BYTES
export const SHARED_SECRET_BYTES = 32

/** Domain strings of the two prekey signatures (crypto-policy.md §5). */
export const SPK_SIG_DOMAIN = utf8.encode('dmess-pqxdh-spk-v1\0')
export const PQSPK_SIG_DOMAIN = utf8.encode('dmess-pqxdh-pqspk-v1\0')

export const BUNDLE_VERSION = 1
export const INITIAL_VERSION = 1

// ---- tuning constants (local policy: pqxdh.md §5) ----

/** A new signed prekey pair is made when the current one is this old. */
export const PREKEY_ROTATE_MS = 7 * 24 * 3600_000
/** A retired prekey pair is kept this long for session starts still in flight, then deleted. */
export const PREKEY_GRACE_MS = 2 * PREKEY_ROTATE_MS
/** An initiator refuses a bundle older than this (it fetches a fresh one instead). */
export const BUNDLE_MAX_AGE_MS = 2 * PREKEY_ROTATE_MS
/** How far in the future a bundle's creation time may be (clocks differ). */
export const CLOCK_SKEW_MS = 3600_000
/** Initial-message ephemeral keys remembered per prekey pair (replay protection, pqxdh.md §6). */
export const MAX_SEEN_PER_PREKEY = 1024
/** Prekey pairs kept at most (current and retired); past this the oldest retired one goes early. */
export const MAX_PREKEY_SETS = 8
