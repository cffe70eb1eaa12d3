// Numbers of the Double Ratchet with header encryption and the hybrid ML-KEM-768 step
// (proto-spec/ratchet.md). Spec constants first, tuning constants after.
import { MLKEM768 } from '../crypto/ml-kem.js'

/** Serialised state format (ratchet.md §7). */
export const STATE_VERSION = 1

export const KEY_BYTES = 32
export const X25519_BYTES = 32
/** ML-KEM-768 sizes (FIPS 203 Table 3). */
export const KEM_EK_BYTES = MLKEM768.publicKey
export const KEM_DK_BYTES = MLKEM768.secretKey
export const KEM_CT_BYTES = MLKEM768.cipherText
export const KEM_SEED_BYTES = 64
export const KEM_MSG_BYTES = 32

/** Header plaintext (ratchet.md §4): dh ‖ pn ‖ n ‖ flags ‖ ek ‖ ct, always this long. */
export const HEADER_BYTES = X25519_BYTES + 4 + 4 + 1 + KEM_EK_BYTES + KEM_CT_BYTES
export const HEADER_FLAG_CT = 0x01
export const HEADER_NONCE_BYTES = 24
export const AEAD_TAG_BYTES = 16
/** Encrypted header: XChaCha20-Poly1305 nonce ‖ ciphertext ‖ tag. */
export const ENC_HEADER_BYTES = HEADER_NONCE_BYTES + HEADER_BYTES + AEAD_TAG_BYTES
/** Most bytes of session associated data (ratchet.md §7). */
export const MAX_AD_BYTES = 65_536
/** The largest counter a header can carry (n and pn are u32). */
export const MAX_COUNTER = 0xffff_ffff

// Domain strings for HKDF info (proto-spec/crypto-policy.md §5): keys derived here are never keys
// for anything else.
export const INFO_INIT = 'dmess-ratchet-init-v1\0'
export const INFO_ROOT = 'dmess-ratchet-root-v1\0'
export const INFO_MESSAGE = 'dmess-ratchet-message-v1\0'

// ---- tuning: skipped message keys (ratchet.md §6) ----
/** Most message keys skipped in one receiving chain by one message (Double Ratchet §3.5 MAX_SKIP). */
export const MAX_SKIP = 1000
/** Most skipped message keys a session keeps; past it the oldest go first. */
export const MAX_SKIPPED_KEYS = 2000
/** Most receiving chains with skipped keys kept; bounds the header decryptions an incoming message costs. */
export const MAX_SKIPPED_CHAINS = 16
/** A skipped key is dropped once this many later messages have been decrypted... */
export const SKIPPED_MAX_AGE_MESSAGES = 2000
/** ...or once this much time has passed since it was skipped (the caller's clock, passed in). */
export const SKIPPED_MAX_AGE_MS = 30 * 24 * 3600 * 1000
