// The Double Ratchet's key derivation functions (Signal, "The Double Ratchet Algorithm" §5.2,
// header-encryption variant §4.2) as dmess instantiates them: proto-spec/ratchet.md §3.
// Every function here has a known answer in ratchet.md §8.2 (test/ratchet/vectors.test.ts).
import { hkdfSha256, hmac, chacha20poly1305, xchacha, utf8 } from '../crypto/primitives.js'
import { AEAD_TAG_BYTES, HEADER_NONCE_BYTES, INFO_INIT, INFO_ROOT, INFO_MESSAGE, KEY_BYTES } from './constants.js'

const ZERO_SALT = new Uint8Array(KEY_BYTES)
const INFO_INIT_BYTES = utf8.encode(INFO_INIT)
const INFO_ROOT_BYTES = utf8.encode(INFO_ROOT)
const INFO_MESSAGE_BYTES = utf8.encode(INFO_MESSAGE)
const CK_MESSAGE = Uint8Array.of(0x01) // §5.2: 0x01 for the message key,
const CK_NEXT = Uint8Array.of(0x02) //    0x02 for the next chain key

/** ratchet.md §3.1: the root key and the two shared header keys, from PQXDH's SK. */
export function kdfInit (sk: Uint8Array): { rk: Uint8Array, hka: Uint8Array, nhkb: Uint8Array } {
  const out = hkdfSha256(sk, ZERO_SALT, INFO_INIT_BYTES, 3 * KEY_BYTES)
  return { rk: out.slice(0, 32), hka: out.slice(32, 64), nhkb: out.slice(64, 96) }
}

/**
 * KDF_RK_HE (§4.2 / ratchet.md §3.2): HKDF-SHA256 with the root key as salt and the DH output,
 * followed by the ML-KEM-768 shared secret when the step has one, as input key material.
 */
export function kdfRoot (rk: Uint8Array, dhOut: Uint8Array, kemSecret?: Uint8Array): { rk: Uint8Array, ck: Uint8Array, nhk: Uint8Array } {
  const ikm = kemSecret === undefined ? dhOut : concat(dhOut, kemSecret)
  const out = hkdfSha256(ikm, rk, INFO_ROOT_BYTES, 3 * KEY_BYTES)
  if (ikm !== dhOut) ikm.fill(0)
  return { rk: out.slice(0, 32), ck: out.slice(32, 64), nhk: out.slice(64, 96) }
}

/** KDF_CK (§5.2): HMAC-SHA256 keyed by the chain key, over 0x01 (message key) and 0x02 (next chain key). */
export function kdfChain (ck: Uint8Array): { ck: Uint8Array, mk: Uint8Array } {
  return { mk: hmac('sha256', ck, CK_MESSAGE), ck: hmac('sha256', ck, CK_NEXT) }
}

/** ratchet.md §3.4: the AEAD key and nonce of one message key (HKDF-SHA256, zero salt). */
export function messageKeys (mk: Uint8Array): { key: Uint8Array, nonce: Uint8Array } {
  const out = hkdfSha256(mk, ZERO_SALT, INFO_MESSAGE_BYTES, 44)
  return { key: out.subarray(0, 32), nonce: out.subarray(32, 44) }
}

/** ENCRYPT (§3.1 / ratchet.md §3.4): ChaCha20-Poly1305 under the message key's key and nonce. */
export function encryptBody (mk: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES)
  encryptBodyInto(mk, plaintext, aad, out)
  return out
}

/** ENCRYPT into `out` (plaintext.length + 16 bytes): the body's place in the whole message. */
export function encryptBodyInto (mk: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void {
  const { key, nonce } = messageKeys(mk)
  try {
    chacha20poly1305.sealInto(key, nonce, plaintext, aad, out)
  } finally {
    key.fill(0)
  }
}

/** DECRYPT: the plaintext, or null when authentication fails. */
export function decryptBody (mk: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null {
  const { key, nonce } = messageKeys(mk)
  try {
    return chacha20poly1305.open(key, nonce, ciphertext, aad)
  } finally {
    key.fill(0)
  }
}

/**
 * HENCRYPT (§4.1 / ratchet.md §3.5): XChaCha20-Poly1305 under the header key with a random
 * 24-byte nonce (a header key seals a whole chain of headers, so the nonce cannot be derived from
 * the key alone); output nonce ‖ ciphertext ‖ tag.
 */
export function encryptHeader (hk: Uint8Array, nonce: Uint8Array, header: Uint8Array, ad: Uint8Array): Uint8Array {
  return concat(nonce, xchacha.seal(hk, nonce, header, ad))
}

/**
 * HENCRYPT in place: `out` (ENC_HEADER_BYTES) holds the header plaintext at offset 24 (written
 * there by encodeHeaderInto); this writes the nonce before it and seals it where it lies.
 */
export function encryptHeaderInPlace (hk: Uint8Array, nonce: Uint8Array, ad: Uint8Array, out: Uint8Array): void {
  out.set(nonce, 0)
  const body = out.subarray(HEADER_NONCE_BYTES)
  xchacha.sealInto(hk, out.subarray(0, HEADER_NONCE_BYTES), body.subarray(0, body.length - AEAD_TAG_BYTES), ad, body)
}

/** HDECRYPT: the header plaintext, or null when this key does not open it. */
export function decryptHeader (hk: Uint8Array, encHeader: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (encHeader.length < 24 + 16) return null
  return xchacha.open(hk, encHeader.subarray(0, 24), encHeader.subarray(24), ad)
}

export function concat (...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
