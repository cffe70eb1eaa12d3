// Identity: an Ed25519 signing key and an X25519 key-agreement key, the X25519 public key signed
// by the Ed25519 key (proto-spec/identity.md §1). The fingerprint of both public keys is the
// user's address (fingerprint.ts), a contact is verified by a safety number (safety-number.ts)
// and added from an invite (invite.ts, which builds on this module); this module re-exports the
// first two.
import { ed25519, x25519, wipe, utf8, KEY_BYTES, ED25519_SIGNATURE_BYTES } from './primitives.js'
import { fingerprintOf } from './fingerprint.js'
import { errors } from '../errors.js'

export interface PublicIdentity {
  /** Ed25519 public key (RFC 8032), 32 bytes */
  signPublic: Uint8Array
  /** X25519 public key (RFC 7748), 32 bytes */
  dhPublic: Uint8Array
  /** Ed25519 signature by signPublic over IDENTITY_SIG_DOMAIN || dhPublic, 64 bytes */
  dhSignature: Uint8Array
}

export interface Identity extends PublicIdentity {
  /** Ed25519 secret seed, 32 bytes */
  signSecret: Uint8Array
  /** X25519 secret scalar, 32 bytes */
  dhSecret: Uint8Array
  /** canonical fingerprint of the public keys (fingerprint.ts) */
  fingerprint: string
}

/** identity.md §1: the domain string, NUL-terminated, that the dhPublic binding signs. */
export const IDENTITY_SIG_DOMAIN = utf8.encode('dmess-identity-v1\0')
/** signPublic || dhPublic || dhSignature */
export const PUBLIC_IDENTITY_BYTES = 2 * KEY_BYTES + ED25519_SIGNATURE_BYTES

/** Names of the keystore entries this module reads and writes (identity.md §5). */
export const IDENTITY_SECRET_NAMES = { sign: 'identity.ed25519', dh: 'identity.x25519' } as const

function bindingMessage (dhPublic: Uint8Array): Uint8Array {
  const msg = new Uint8Array(IDENTITY_SIG_DOMAIN.length + dhPublic.length)
  msg.set(IDENTITY_SIG_DOMAIN, 0)
  msg.set(dhPublic, IDENTITY_SIG_DOMAIN.length)
  return msg
}

function assemble (signSecret: Uint8Array, signPublic: Uint8Array, dhSecret: Uint8Array, dhPublic: Uint8Array): Identity {
  const dhSignature = ed25519.sign(bindingMessage(dhPublic), signSecret)
  const pub = { signPublic, dhPublic, dhSignature }
  return { ...pub, signSecret, dhSecret, fingerprint: fingerprintOf(pub) }
}

/** A fresh identity from the OS random source. */
export function generateIdentity (): Identity {
  const sign = ed25519.generateKeyPair()
  const dh = x25519.generateKeyPair()
  return assemble(sign.secretKey, sign.publicKey, dh.secretKey, dh.publicKey)
}

function isBytes (v: unknown, n: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === n
}

/**
 * True when both public keys are acceptable identity keys (canonical, not of small order:
 * crypto-policy.md §1.2, §2.2) and dhSignature binds dhPublic to signPublic. Never throws.
 */
export function verifyPublicIdentity (p: PublicIdentity): boolean {
  if (typeof p !== 'object' || p === null) return false
  if (!isBytes(p.signPublic, KEY_BYTES) || !isBytes(p.dhPublic, KEY_BYTES) ||
      !isBytes(p.dhSignature, ED25519_SIGNATURE_BYTES)) return false
  const id = latin1(p.signPublic) + latin1(p.dhPublic) + latin1(p.dhSignature)
  if (verifiedIdentities.has(id)) {
    verifiedIdentities.delete(id) // re-inserted below: Map order is the recency order
  } else {
    const ok = ed25519.isValidPublicKey(p.signPublic) && x25519.isValidPublicKey(p.dhPublic) &&
      ed25519.verify(p.dhSignature, bindingMessage(p.dhPublic), p.signPublic)
    if (!ok) return false
    if (verifiedIdentities.size >= VERIFIED_IDENTITY_CACHE_SIZE) verifiedIdentities.delete(verifiedIdentities.keys().next().value!)
  }
  verifiedIdentities.add(id)
  return true
}

// The same few identities are verified again and again: a contact's in every presence record
// its lookups open and every CONTACT_REQUEST it sends, each check costing a point decoding, a
// low-order probe DH and a signature verify. The result is a pure function of the 128 bytes, so
// the identities that passed are remembered, the most recently used 256 (as primitives.ts keeps
// Ed25519 public keys): any other bytes are checked afresh, and failures are never kept.
const VERIFIED_IDENTITY_CACHE_SIZE = 256
const verifiedIdentities = new Set<string>()

function latin1 (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')
}

/** The public half, as fresh copies (safe to hand out, store or send). */
export function publicIdentityOf (id: PublicIdentity): PublicIdentity {
  return { signPublic: id.signPublic.slice(), dhPublic: id.dhPublic.slice(), dhSignature: id.dhSignature.slice() }
}

/** identity.md §4: signPublic || dhPublic || dhSignature, 128 bytes. */
export function encodePublicIdentity (p: PublicIdentity): Uint8Array {
  if (!isBytes(p.signPublic, KEY_BYTES) || !isBytes(p.dhPublic, KEY_BYTES) ||
      !isBytes(p.dhSignature, ED25519_SIGNATURE_BYTES)) {
    throw errors.CRYPTO('public identity: expected 32-byte keys and a 64-byte signature')
  }
  const out = new Uint8Array(PUBLIC_IDENTITY_BYTES)
  out.set(p.signPublic, 0)
  out.set(p.dhPublic, KEY_BYTES)
  out.set(p.dhSignature, 2 * KEY_BYTES)
  return out
}

/** Decodes and verifies 128 bytes from the network; null (never a throw) when anything is wrong. */
export function decodePublicIdentity (bytes: Uint8Array): PublicIdentity | null {
  if (!isBytes(bytes, PUBLIC_IDENTITY_BYTES)) return null
  const p = {
    signPublic: bytes.slice(0, KEY_BYTES),
    dhPublic: bytes.slice(KEY_BYTES, 2 * KEY_BYTES),
    dhSignature: bytes.slice(2 * KEY_BYTES)
  }
  return verifyPublicIdentity(p) ? p : null
}

/**
 * The keystore entries for this identity (copies: the caller wipes them after sealing).
 * Public keys and the signature are derived again on load, so only the two secrets are stored.
 */
export function identityToSecrets (id: Identity): Record<string, Uint8Array> {
  return {
    [IDENTITY_SECRET_NAMES.sign]: id.signSecret.slice(),
    [IDENTITY_SECRET_NAMES.dh]: id.dhSecret.slice()
  }
}

function secretEntry (map: Record<string, Uint8Array>, name: string): Uint8Array {
  const v: unknown = Object.hasOwn(map, name) ? map[name] : undefined
  if (v === undefined) throw errors.KEYSTORE_CORRUPT(`keystore entry '${name}' is missing`)
  if (!isBytes(v, KEY_BYTES)) {
    const got = v instanceof Uint8Array ? `${v.length} bytes` : typeof v
    throw errors.KEYSTORE_CORRUPT(`keystore entry '${name}' should be ${KEY_BYTES} bytes, got ${got}`)
  }
  return v.slice()
}

/**
 * Rebuilds the identity from keystore entries; other entries (such as 'storeKey') are ignored.
 * Copies what it reads, so the caller may wipe the map afterwards.
 */
export function identityFromSecrets (map: Record<string, Uint8Array>): Identity {
  const names = Object.values(IDENTITY_SECRET_NAMES)
  if (names.every(n => !Object.hasOwn(map, n))) throw errors.NO_IDENTITY('the keystore holds no identity')
  const signSecret = secretEntry(map, IDENTITY_SECRET_NAMES.sign)
  const dhSecret = secretEntry(map, IDENTITY_SECRET_NAMES.dh)
  return assemble(signSecret, ed25519.publicFromSecret(signSecret), dhSecret, x25519.publicFromSecret(dhSecret))
}

/** Overwrites the secret keys in place (best effort, see primitives.wipe). */
export function wipeIdentity (id: Identity): void {
  wipe(id.signSecret, id.dhSecret)
}

export {
  fingerprintOf, parseFingerprint, isFingerprint, isCanonicalFingerprint, formatFingerprintGrouped,
  fingerprintBytes, FINGERPRINT_CHARS, FINGERPRINT_VERSION
} from './fingerprint.js'
export { safetyNumber, SAFETY_NUMBER_ITERATIONS } from './safety-number.js'
