// HPKE (RFC 9180), base mode, one suite only: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20-Poly1305 — (kem 0x0020, kdf 0x0001, aead 0x0003). Used to encrypt an envelope's
// payload to the recipient's X25519 identity key so relays and mailboxes can carry it
// (proto-spec/envelope.md §4). Checked against RFC 9180 Appendix A.2.1 in test/crypto/hpke.test.ts.
//
// Single-shot use (RFC 9180 §6.1): every seal makes a fresh ephemeral key, so each context
// encrypts exactly one message at sequence number 0. The ephemeral key can be injected for
// known-answer tests only; a reused ephemeral key breaks confidentiality of every message under it.
import { createHmac } from 'node:crypto'
import { x25519, chacha20poly1305, wipe, utf8 } from './primitives.js'
import { errors } from '../errors.js'
import { BoundedCache } from '../runtime/bounded-cache.js'

export const HPKE_KEM_ID = 0x0020
export const HPKE_KDF_ID = 0x0001
export const HPKE_AEAD_ID = 0x0003
const MODE_BASE = 0x00
const N_SECRET = 32 // RFC 9180 §7.1, DHKEM(X25519): Nsecret
const N_ENC = 32 // Nenc = Npk
const N_SK = 32
const N_K = 32 // §7.3 ChaCha20Poly1305: Nk
const N_N = 12 // Nn
const N_H = 32 // §7.2 HKDF-SHA256: Nh

const VERSION_LABEL = utf8.encode('HPKE-v1')
// §4.1: suite_id = "KEM" || I2OSP(kem_id, 2)
const KEM_SUITE_ID = concat(utf8.encode('KEM'), i2osp(HPKE_KEM_ID, 2))
// §5.1: suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)
const HPKE_SUITE_ID = concat(utf8.encode('HPKE'), i2osp(HPKE_KEM_ID, 2), i2osp(HPKE_KDF_ID, 2), i2osp(HPKE_AEAD_ID, 2))
const EMPTY = new Uint8Array(0)

function i2osp (n: number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = len - 1, x = n; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x & 0xff
  return out
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

function hmacSha256 (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/** RFC 5869 §2.2 HKDF-Extract. An empty salt is HashLen zeros, which HMAC's key padding gives us. */
export function hkdfExtract (salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt, ikm)
}

/** RFC 5869 §2.3 HKDF-Expand. */
export function hkdfExpand (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * N_H) throw errors.CRYPTO(`hkdf-expand: length ${length} exceeds ${255 * N_H}`)
  const out = new Uint8Array(length)
  let t: Uint8Array = EMPTY
  for (let i = 1, o = 0; o < length; i++) {
    t = hmacSha256(prk, concat(t, info, new Uint8Array([i])))
    out.set(t.subarray(0, Math.min(t.length, length - o)), o)
    o += t.length
  }
  return out
}

// §4: LabeledExtract / LabeledExpand, parameterised by the suite id of the caller (KEM or HPKE).
function labeledExtract (suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(salt, concat(VERSION_LABEL, suiteId, utf8.encode(label), ikm))
}

function labeledExpand (suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  const labeledInfo = concat(i2osp(length, 2), VERSION_LABEL, suiteId, utf8.encode(label), info)
  return hkdfExpand(prk, labeledInfo, length)
}

/** §4.1 ExtractAndExpand: turns the raw DH output into the KEM shared secret. */
function extractAndExpand (dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh)
  const secret = labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, N_SECRET)
  wipe(eaePrk)
  return secret
}

/** §7.1.3 DeriveKeyPair for X25519: the private key is used as-is (X25519 clamps on use). */
export function hpkeDeriveKeyPair (ikm: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array } {
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm)
  const secretKey = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, N_SK)
  wipe(dkpPrk)
  return { publicKey: x25519.publicFromSecret(secretKey), secretKey }
}

/** The values a base-mode context holds (§5.1). Exposed for known-answer tests. */
export interface HpkeContext {
  sharedSecret: Uint8Array
  key: Uint8Array
  baseNonce: Uint8Array
  exporterSecret: Uint8Array
}

// §5.1 key_schedule_context = mode ‖ psk_id_hash ‖ info_hash: in base mode a function of `info`
// alone (psk_id is empty), and every caller passes one constant info. Kept for the last few
// infos seen: two HMACs fewer per seal and per open.
const CONTEXT_CACHE_SIZE = 8
const contextCache = new BoundedCache<string, Uint8Array>(CONTEXT_CACHE_SIZE)

function keyScheduleContext (info: Uint8Array): Uint8Array {
  const id = Buffer.from(info.buffer, info.byteOffset, info.length).toString('latin1')
  return contextCache.getOrSet(id, () => {
    const pskIdHash = labeledExtract(HPKE_SUITE_ID, EMPTY, 'psk_id_hash', EMPTY)
    const infoHash = labeledExtract(HPKE_SUITE_ID, EMPTY, 'info_hash', info)
    return concat(new Uint8Array([MODE_BASE]), pskIdHash, infoHash)
  })
}

/** §5.1 KeySchedule, mode_base: psk and psk_id are empty. */
export function hpkeKeySchedule (sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
  const { key, baseNonce, secret, context } = keyAndNonce(sharedSecret, info)
  const exporterSecret = labeledExpand(HPKE_SUITE_ID, secret, 'exp', context, N_H)
  wipe(secret)
  return { sharedSecret, key, baseNonce, exporterSecret }
}

/**
 * The part of KeySchedule a single-shot Seal or Open uses: key and base_nonce. The exporter
 * secret, which neither uses, is not derived (one HMAC less); `secret` is the caller's to wipe.
 */
function keyAndNonce (sharedSecret: Uint8Array, info: Uint8Array): { key: Uint8Array, baseNonce: Uint8Array, secret: Uint8Array, context: Uint8Array } {
  const context = keyScheduleContext(info)
  const secret = labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', EMPTY)
  return {
    key: labeledExpand(HPKE_SUITE_ID, secret, 'key', context, N_K),
    baseNonce: labeledExpand(HPKE_SUITE_ID, secret, 'base_nonce', context, N_N),
    secret,
    context
  }
}

/** §5.3 Export: a secret of `length` bytes bound to the context and `exporterContext`. */
export function hpkeExport (exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  return labeledExpand(HPKE_SUITE_ID, exporterSecret, 'sec', exporterContext, length)
}

/** §5.2 ComputeNonce: base_nonce XOR I2OSP(seq, Nn). */
export function hpkeNonce (baseNonce: Uint8Array, seq: number): Uint8Array {
  const seqBytes = i2osp(seq, N_N)
  return baseNonce.map((b, i) => b ^ (seqBytes[i] ?? 0))
}

/**
 * §4.1 Encap: a fresh ephemeral whose private half never leaves OpenSSL, or (known-answer tests)
 * a given ephemeral secret. Returns enc and the KEM shared secret.
 */
function encap (recipientDhPublic: Uint8Array, ephemeralSecretForTests?: Uint8Array): { enc: Uint8Array, sharedSecret: Uint8Array } {
  // both throw on an all-zero result (§7.1.4)
  const { publicKey: enc, shared: dh } = ephemeralSecretForTests === undefined
    ? x25519.ephemeralDh(recipientDhPublic)
    : { publicKey: x25519.publicFromSecret(ephemeralSecretForTests), shared: x25519.dh(ephemeralSecretForTests, recipientDhPublic) }
  const sharedSecret = extractAndExpand(dh, concat(enc, recipientDhPublic))
  wipe(dh)
  return { enc, sharedSecret }
}

/** §4.1 Decap; null when enc is not a usable X25519 public key. */
function decap (recipientDhSecret: Uint8Array, enc: Uint8Array, pkR: Uint8Array | undefined): Uint8Array | null {
  if (enc.length !== N_ENC) return null
  let dh: Uint8Array
  try {
    dh = x25519.dh(recipientDhSecret, enc)
  } catch {
    return null // low-order point: all-zero DH output (§7.1.4 ValidationError)
  }
  // pkR is part of kem_context; a wrong one only makes decryption fail.
  const sharedSecret = extractAndExpand(dh, concat(enc, pkR ?? x25519.publicFromSecret(recipientDhSecret)))
  wipe(dh)
  return sharedSecret
}

export interface HpkeSealOptions {
  /** TESTS ONLY: a fixed ephemeral X25519 secret for known-answer vectors. Never in production. */
  ephemeralSecretForTests?: Uint8Array
}

/**
 * §6.1 single-shot Seal to `recipientDhPublic`. Throws CRYPTO if that key is of low order
 * (local misuse: a contact's key is validated when the contact is added).
 */
export function hpkeSeal (
  recipientDhPublic: Uint8Array, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array,
  opts: HpkeSealOptions = {}
): { enc: Uint8Array, ciphertext: Uint8Array } {
  const { enc, sharedSecret } = encap(recipientDhPublic, opts.ephemeralSecretForTests)
  const ctx = keyAndNonce(sharedSecret, info)
  const ciphertext = chacha20poly1305.seal(ctx.key, hpkeNonce(ctx.baseNonce, 0), plaintext, aad)
  wipe(sharedSecret, ctx.key, ctx.baseNonce, ctx.secret)
  return { enc, ciphertext }
}

export interface HpkeOpenOptions {
  /** The recipient's own public key, if at hand: saves deriving it from the secret each time. */
  recipientDhPublic?: Uint8Array
}

/** §6.1 single-shot Open. Returns null for any failure (bad enc, wrong key, tampered data). */
export function hpkeOpen (
  recipientDhSecret: Uint8Array, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array,
  opts: HpkeOpenOptions = {}
): Uint8Array | null {
  const sharedSecret = decap(recipientDhSecret, enc, opts.recipientDhPublic)
  if (sharedSecret === null) return null
  const ctx = keyAndNonce(sharedSecret, info)
  const plaintext = chacha20poly1305.open(ctx.key, hpkeNonce(ctx.baseNonce, 0), ciphertext, aad)
  wipe(sharedSecret, ctx.key, ctx.baseNonce, ctx.secret)
  return plaintext
}
