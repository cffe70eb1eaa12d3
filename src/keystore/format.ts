// Keystore file layout v1: the only module that knows byte offsets (proto-spec/keystore.md §2).
// Pure: bytes in, a parsed file or a DmessError out. It checks structure and the two unkeyed
// checksums; it never sees the passphrase. The decision table it implements is keystore.md §4.
import { sha256, constantTimeEqual, XCHACHA_NONCE_BYTES, AEAD_TAG_BYTES, type Argon2idParams } from '../crypto/primitives.js'
import { errors } from '../errors.js'

// ---- spec constants (keystore.md §2) ----
/** PNG-style magic: a high byte and CR LF SUB catch 7-bit and newline-mangling transfers. */
export const MAGIC = Uint8Array.of(0x89, 0x44, 0x4d, 0x4b, 0x53, 0x0d, 0x0a, 0x1a) // "\x89DMKS\r\n\x1a"
export const FORMAT_VERSION = 1
export const KDF_ARGON2ID = 1 // Argon2id, version 0x13 (RFC 9106)
export const AEAD_XCHACHA20POLY1305 = 1
export const SALT_BYTES = 16 // RFC 9106 §3.1: 128 bits suffice for all applications
export const HEADER_CHECK_BYTES = 8
export const CHECKSUM_BYTES = 32

const OFF_VERSION = 8
const OFF_HEADER_LEN = 10
const OFF_KDF = 12
const OFF_AEAD = 13
const OFF_RESERVED = 14
const OFF_T = 16
const OFF_M = 20
const OFF_P = 24
const OFF_SALT = 28
const OFF_NONCE = OFF_SALT + SALT_BYTES // 44
const OFF_CT_LEN = OFF_NONCE + XCHACHA_NONCE_BYTES // 68
const OFF_HEADER_CHECK = OFF_CT_LEN + 4 // 72
export const HEADER_BYTES = OFF_HEADER_CHECK + HEADER_CHECK_BYTES // 80
/** Smallest header prefix that holds the frozen fields (magic, version, header length). */
const FIXED_PREFIX_BYTES = 12

// ---- tuning constants: bounds a file's parameters must meet before we spend memory on them ----
export const KDF_BOUNDS = {
  tMax: 32,
  mMaxKiB: 1024 * 1024, // 1 GiB: far above any sane setting, and within noble's maxmem
  pMax: 16,
  /** t·m in KiB-passes: stops a file asking for minutes of work at legal t and m. */
  workMax: 8 * 1024 * 1024
} as const
/** The payload is a handful of 32-byte keys; 1 MiB leaves room and refuses absurd lengths. */
export const MAX_CIPHERTEXT_BYTES = 1024 * 1024

export interface KeystoreHeader {
  version: number
  kdf: Argon2idParams
  salt: Uint8Array
  nonce: Uint8Array
  ciphertextLength: number
}

export interface ParsedKeystore {
  header: KeystoreHeader
  /** The whole header, bytes 0..79: the AEAD's associated data. */
  headerBytes: Uint8Array
  ciphertext: Uint8Array
}

/** Why params are unacceptable, or null. RFC 9106 §3.1 requires m ≥ 8p. */
export function kdfParamsProblem (k: Argon2idParams): string | null {
  const ints = Number.isSafeInteger(k.t) && Number.isSafeInteger(k.m) && Number.isSafeInteger(k.p)
  if (!ints) return `t, m, p must be integers, got t=${k.t} m=${k.m} p=${k.p}`
  if (k.t < 1 || k.t > KDF_BOUNDS.tMax) return `t must be 1..${KDF_BOUNDS.tMax}, got ${k.t}`
  if (k.p < 1 || k.p > KDF_BOUNDS.pMax) return `p must be 1..${KDF_BOUNDS.pMax}, got ${k.p}`
  if (k.m < 8 * k.p || k.m > KDF_BOUNDS.mMaxKiB) return `m must be ${8 * k.p}..${KDF_BOUNDS.mMaxKiB} KiB, got ${k.m}`
  if (k.t * k.m > KDF_BOUNDS.workMax) return `t·m must be at most ${KDF_BOUNDS.workMax}, got ${k.t * k.m}`
  return null
}

/** Header bytes 0..79 for a payload of `ciphertextLength` bytes (tag included). */
export function encodeHeader (kdf: Argon2idParams, salt: Uint8Array, nonce: Uint8Array, ciphertextLength: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES)
  const v = view(h)
  h.set(MAGIC, 0)
  v.setUint16(OFF_VERSION, FORMAT_VERSION)
  v.setUint16(OFF_HEADER_LEN, HEADER_BYTES)
  h[OFF_KDF] = KDF_ARGON2ID
  h[OFF_AEAD] = AEAD_XCHACHA20POLY1305
  v.setUint32(OFF_T, kdf.t)
  v.setUint32(OFF_M, kdf.m)
  v.setUint32(OFF_P, kdf.p)
  h.set(salt, OFF_SALT)
  h.set(nonce, OFF_NONCE)
  v.setUint32(OFF_CT_LEN, ciphertextLength)
  h.set(headerCheck(h), OFF_HEADER_CHECK)
  return h
}

/** header || ciphertext || SHA-256(header || ciphertext). */
export function assembleFile (headerBytes: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const body = headerBytes.length + ciphertext.length
  const out = new Uint8Array(body + CHECKSUM_BYTES)
  out.set(headerBytes, 0)
  out.set(ciphertext, headerBytes.length)
  out.set(sha256(out.subarray(0, body)), body)
  return out
}

/** keystore.md §4, rows 1–11: everything that can be decided without the passphrase. */
export function parseKeystore (b: Uint8Array): ParsedKeystore {
  checkMagic(b)
  if (b.length < FIXED_PREFIX_BYTES) throw errors.KEYSTORE_TRUNCATED(`keystore is truncated: ${b.length} bytes, shorter than its ${FIXED_PREFIX_BYTES}-byte preamble`)
  checkVersion(b)
  const headerLen = view(b).getUint16(OFF_HEADER_LEN)
  if (headerLen !== HEADER_BYTES) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: header length is ${headerLen}, version ${FORMAT_VERSION} requires ${HEADER_BYTES}`)
  if (b.length < HEADER_BYTES) throw errors.KEYSTORE_TRUNCATED(`keystore is truncated: ${b.length} bytes, shorter than its ${HEADER_BYTES}-byte header`)
  const headerBytes = b.subarray(0, HEADER_BYTES)
  if (!constantTimeEqual(headerCheck(headerBytes), headerBytes.subarray(OFF_HEADER_CHECK))) {
    throw errors.KEYSTORE_CORRUPT('keystore is corrupt: header checksum mismatch')
  }
  const header = decodeHeaderFields(headerBytes)
  checkLengthAndChecksum(b, header.ciphertextLength)
  const ciphertext = b.subarray(HEADER_BYTES, HEADER_BYTES + header.ciphertextLength)
  return { header, headerBytes, ciphertext }
}

// Rows 1–2: an empty file or a prefix of the magic is a truncated keystore; anything else is not ours.
function checkMagic (b: Uint8Array): void {
  const n = Math.min(b.length, MAGIC.length)
  for (let i = 0; i < n; i++) {
    if (b[i] !== MAGIC[i]) throw errors.KEYSTORE_CORRUPT('keystore is corrupt: not a dmess keystore (bad magic bytes)')
  }
  if (b.length < MAGIC.length) throw errors.KEYSTORE_TRUNCATED(`keystore is truncated: ${b.length} bytes, shorter than its magic`)
}

// Rows 4–5. A newer version is only believed if the frozen trailer checksum (keystore.md §3) holds:
// otherwise a flipped version bit in a v1 file would masquerade as "too new".
function checkVersion (b: Uint8Array): void {
  const version = view(b).getUint16(OFF_VERSION)
  if (version === FORMAT_VERSION) return
  if (version > FORMAT_VERSION && trailerChecksumOk(b)) {
    throw errors.KEYSTORE_TOO_NEW(`keystore format version ${version} is newer than this dmess supports (${FORMAT_VERSION}); upgrade dmess`)
  }
  throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: format version ${version} with a bad checksum (this dmess reads version ${FORMAT_VERSION})`)
}

// Row 8: the header checksum passed, so these fields are as written; reject what we would not write.
function decodeHeaderFields (h: Uint8Array): KeystoreHeader {
  const v = view(h)
  const kdfId = h[OFF_KDF]
  const aeadId = h[OFF_AEAD]
  const reserved = v.getUint16(OFF_RESERVED)
  if (kdfId !== KDF_ARGON2ID) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: unknown KDF id ${kdfId}`)
  if (aeadId !== AEAD_XCHACHA20POLY1305) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: unknown AEAD id ${aeadId}`)
  if (reserved !== 0) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: reserved field is ${reserved}, expected 0`)
  const kdf = { t: v.getUint32(OFF_T), m: v.getUint32(OFF_M), p: v.getUint32(OFF_P) }
  const problem = kdfParamsProblem(kdf)
  if (problem) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: KDF parameters out of bounds (${problem})`)
  const ciphertextLength = v.getUint32(OFF_CT_LEN)
  if (ciphertextLength <= AEAD_TAG_BYTES || ciphertextLength > MAX_CIPHERTEXT_BYTES) {
    throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: ciphertext length ${ciphertextLength} outside ${AEAD_TAG_BYTES + 1}..${MAX_CIPHERTEXT_BYTES}`)
  }
  return {
    version: FORMAT_VERSION,
    kdf,
    salt: h.slice(OFF_SALT, OFF_SALT + SALT_BYTES),
    nonce: h.slice(OFF_NONCE, OFF_NONCE + XCHACHA_NONCE_BYTES),
    ciphertextLength
  }
}

// Rows 9–11: the trusted length says how long the file must be; then the whole-file checksum.
function checkLengthAndChecksum (b: Uint8Array, ciphertextLength: number): void {
  const total = HEADER_BYTES + ciphertextLength + CHECKSUM_BYTES
  if (b.length < total) throw errors.KEYSTORE_TRUNCATED(`keystore is truncated: ${b.length} of ${total} bytes`)
  if (b.length > total) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: ${b.length - total} unexpected bytes after its ${total}-byte end`)
  if (!trailerChecksumOk(b)) throw errors.KEYSTORE_CORRUPT('keystore is corrupt: file checksum mismatch')
}

function trailerChecksumOk (b: Uint8Array): boolean {
  if (b.length < FIXED_PREFIX_BYTES + CHECKSUM_BYTES) return false
  const body = b.length - CHECKSUM_BYTES
  return constantTimeEqual(sha256(b.subarray(0, body)), b.subarray(body))
}

function headerCheck (h: Uint8Array): Uint8Array {
  return sha256(h.subarray(0, OFF_HEADER_CHECK)).subarray(0, HEADER_CHECK_BYTES)
}

function view (b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}
