// Byte layouts of the prekey bundle and the PQXDH initial message (proto-spec/pqxdh.md §3.3, §4.2),
// the two messages signed over the prekeys (§3.2), and EncodeEC / EncodeKEM (§2). The only
// module that knows their offsets. Decoders never throw: they return a value or a typed error.
import { DmessError, errors } from '../errors.js'
import { encodePublicIdentity, PUBLIC_IDENTITY_BYTES, type PublicIdentity } from '../crypto/identity.js'
import { ED25519_SIGNATURE_BYTES } from '../crypto/primitives.js'
import {
  EC_TYPE_X25519, KEM_TYPE_MLKEM768, X25519_KEY_BYTES, ENCODED_EC_BYTES, ENCODED_KEM_BYTES,
  MLKEM768_PUBLIC_BYTES, MLKEM768_CIPHERTEXT_BYTES, SPK_SIG_DOMAIN, PQSPK_SIG_DOMAIN,
  BUNDLE_VERSION, INITIAL_VERSION
} from './constants.js'

/** What PQXDH answers to input from the network: a value, or why not (never a throw). */
export type PqxdhResult<T> = { ok: true, value: T } | { ok: false, error: DmessError }

export const ok = <T>(value: T): PqxdhResult<T> => ({ ok: true, value })
export const fail = <T>(error: DmessError): PqxdhResult<T> => ({ ok: false, error })

/** A prekey bundle as decoded: nothing in it is verified yet (bundle.ts does that). */
export interface PrekeyBundle {
  /** whose prekeys these are (identity.md §4) */
  owner: PublicIdentity
  /** names the prekey pair (SPK and PQSPK together) in the initial message */
  prekeyId: number
  /** when the owner made the pair, seconds since the Unix epoch */
  createdS: number
  /** signed X25519 prekey SPK, 32 bytes */
  spk: Uint8Array
  spkSignature: Uint8Array
  /** signed ML-KEM-768 last-resort prekey PQSPK, 1184 bytes */
  pqspk: Uint8Array
  pqspkSignature: Uint8Array
}

/** What the initiator sends ahead of its first ratchet message (PQXDH §3.3). */
export interface InitialMessage {
  initiator: PublicIdentity
  prekeyId: number
  /** EK_A, 32 bytes */
  ephemeral: Uint8Array
  /** CT, the ML-KEM-768 ciphertext, 1088 bytes */
  kemCiphertext: Uint8Array
}

// bundle: version ‖ owner ‖ id ‖ created ‖ EncodeEC(SPK) ‖ sig ‖ EncodeKEM(PQSPK) ‖ sig
const B_OWNER = 1
const B_ID = B_OWNER + PUBLIC_IDENTITY_BYTES
const B_CREATED = B_ID + 4
const B_SPK = B_CREATED + 4
const B_SPK_SIG = B_SPK + ENCODED_EC_BYTES
const B_PQSPK = B_SPK_SIG + ED25519_SIGNATURE_BYTES
const B_PQSPK_SIG = B_PQSPK + ENCODED_KEM_BYTES
export const BUNDLE_BYTES = B_PQSPK_SIG + ED25519_SIGNATURE_BYTES

// initial message: version ‖ initiator ‖ id ‖ EncodeEC(EK_A) ‖ CT
const I_ID = 1 + PUBLIC_IDENTITY_BYTES
const I_EK = I_ID + 4
const I_CT = I_EK + ENCODED_EC_BYTES
export const INITIAL_MESSAGE_BYTES = I_CT + MLKEM768_CIPHERTEXT_BYTES

/** PQXDH §2.1 EncodeEC: 0x05 ‖ u-coordinate. */
export function encodeEC (publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== X25519_KEY_BYTES) throw errors.CRYPTO(`EncodeEC: expected ${X25519_KEY_BYTES} bytes, got ${publicKey.length}`)
  const out = new Uint8Array(ENCODED_EC_BYTES)
  out[0] = EC_TYPE_X25519
  out.set(publicKey, 1)
  return out
}

/** PQXDH §2.1 EncodeKEM: 0x18 ‖ ML-KEM-768 encapsulation key. */
export function encodeKEM (publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== MLKEM768_PUBLIC_BYTES) throw errors.CRYPTO(`EncodeKEM: expected ${MLKEM768_PUBLIC_BYTES} bytes, got ${publicKey.length}`)
  const out = new Uint8Array(ENCODED_KEM_BYTES)
  out[0] = KEM_TYPE_MLKEM768
  out.set(publicKey, 1)
  return out
}

function u32 (n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw errors.CRYPTO(`expected a u32, got ${n}`)
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}

const readU32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0)

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** §3.2: what the owner's Ed25519 key signs for SPK (fixed length: 19 + 4 + 4 + 33 bytes). */
export function spkSignedMessage (prekeyId: number, createdS: number, spk: Uint8Array): Uint8Array {
  return concat(SPK_SIG_DOMAIN, u32(prekeyId), u32(createdS), encodeEC(spk))
}

/** §3.2: what the owner's Ed25519 key signs for PQSPK (fixed length: 21 + 4 + 4 + 1185 bytes). */
export function pqspkSignedMessage (prekeyId: number, createdS: number, pqspk: Uint8Array): Uint8Array {
  return concat(PQSPK_SIG_DOMAIN, u32(prekeyId), u32(createdS), encodeKEM(pqspk))
}

export function encodeBundle (b: PrekeyBundle): Uint8Array {
  if (b.spkSignature.length !== ED25519_SIGNATURE_BYTES || b.pqspkSignature.length !== ED25519_SIGNATURE_BYTES) {
    throw errors.CRYPTO('prekey bundle: signatures must be 64 bytes')
  }
  return concat(new Uint8Array([BUNDLE_VERSION]), encodePublicIdentity(b.owner), u32(b.prekeyId), u32(b.createdS),
    encodeEC(b.spk), b.spkSignature, encodeKEM(b.pqspk), b.pqspkSignature)
}

function malformed<T> (what: string): PqxdhResult<T> {
  return fail(errors.PQXDH_MALFORMED(what))
}

function identityAt (bytes: Uint8Array, at: number): PublicIdentity {
  return {
    signPublic: bytes.slice(at, at + 32),
    dhPublic: bytes.slice(at + 32, at + 64),
    dhSignature: bytes.slice(at + 64, at + PUBLIC_IDENTITY_BYTES)
  }
}

/** Structure only (length, version, type bytes); bundle.ts verifies the rest. */
export function decodeBundle (bytes: Uint8Array): PqxdhResult<PrekeyBundle> {
  if (!(bytes instanceof Uint8Array)) return malformed('prekey bundle: not bytes')
  if (bytes.length !== BUNDLE_BYTES) return malformed(`prekey bundle: expected ${BUNDLE_BYTES} bytes, got ${bytes.length}`)
  if (bytes[0] !== BUNDLE_VERSION) return malformed(`prekey bundle: version ${bytes[0] ?? '?'} is not supported (this dmess reads ${BUNDLE_VERSION})`)
  if (bytes[B_SPK] !== EC_TYPE_X25519) return malformed(`prekey bundle: SPK type 0x${(bytes[B_SPK] ?? 0).toString(16)} is not X25519 (0x05)`)
  if (bytes[B_PQSPK] !== KEM_TYPE_MLKEM768) return malformed(`prekey bundle: PQSPK type 0x${(bytes[B_PQSPK] ?? 0).toString(16)} is not ML-KEM-768 (0x18)`)
  return ok({
    owner: identityAt(bytes, B_OWNER),
    prekeyId: readU32(bytes, B_ID),
    createdS: readU32(bytes, B_CREATED),
    spk: bytes.slice(B_SPK + 1, B_SPK_SIG),
    spkSignature: bytes.slice(B_SPK_SIG, B_PQSPK),
    pqspk: bytes.slice(B_PQSPK + 1, B_PQSPK_SIG),
    pqspkSignature: bytes.slice(B_PQSPK_SIG, BUNDLE_BYTES)
  })
}

export function encodeInitialMessage (m: InitialMessage): Uint8Array {
  if (m.kemCiphertext.length !== MLKEM768_CIPHERTEXT_BYTES) throw errors.CRYPTO(`initial message: CT must be ${MLKEM768_CIPHERTEXT_BYTES} bytes`)
  return concat(new Uint8Array([INITIAL_VERSION]), encodePublicIdentity(m.initiator), u32(m.prekeyId), encodeEC(m.ephemeral), m.kemCiphertext)
}

/** Structure only; pqxdh.ts verifies the identity and keys. */
export function decodeInitialMessage (bytes: Uint8Array): PqxdhResult<InitialMessage> {
  if (!(bytes instanceof Uint8Array)) return malformed('initial message: not bytes')
  if (bytes.length !== INITIAL_MESSAGE_BYTES) return malformed(`initial message: expected ${INITIAL_MESSAGE_BYTES} bytes, got ${bytes.length}`)
  if (bytes[0] !== INITIAL_VERSION) return malformed(`initial message: version ${bytes[0] ?? '?'} is not supported (this dmess reads ${INITIAL_VERSION})`)
  if (bytes[I_EK] !== EC_TYPE_X25519) return malformed(`initial message: ephemeral key type 0x${(bytes[I_EK] ?? 0).toString(16)} is not X25519 (0x05)`)
  return ok({
    initiator: identityAt(bytes, 1),
    prekeyId: readU32(bytes, I_ID),
    ephemeral: bytes.slice(I_EK + 1, I_CT),
    kemCiphertext: bytes.slice(I_CT, INITIAL_MESSAGE_BYTES)
  })
}
