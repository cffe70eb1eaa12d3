// Keystore crypto (proto-spec/keystore.md §3): Argon2id derives a 32-byte key from the NFC-normalised
// passphrase; XChaCha20-Poly1305 seals a msgpack map of named secrets with the whole header as AAD.
// No file I/O: randomness and the KDF are passed in so tests can observe and wipe-check them.
import { Packr } from 'msgpackr'
import {
  argon2id, xchacha, randomBytes, wipe, utf8, XCHACHA_NONCE_BYTES, AEAD_TAG_BYTES, type Argon2idParams
} from '../crypto/primitives.js'
import { errors } from '../errors.js'
import { encodeHeader, assembleFile, parseKeystore, kdfParamsProblem, SALT_BYTES, MAX_CIPHERTEXT_BYTES } from './format.js'

/** OWASP password-storage cheat sheet, Argon2id option 2 (19 MiB, t=2, p=1). */
export const DEFAULT_KDF: Readonly<Argon2idParams> = Object.freeze({ t: 2, m: 19456, p: 1 })

export type Secrets = Record<string, Uint8Array>
export type DeriveKey = (passphrase: Uint8Array, salt: Uint8Array, params: Argon2idParams) => Promise<Uint8Array>

export interface SealOptions {
  kdf?: Argon2idParams
  random?: (n: number) => Uint8Array
  derive?: DeriveKey
}

// Maps stay Maps on decode, so a secret named "__proto__" is data, never a prototype.
const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: false })

/**
 * The passphrase as bytes: Unicode NFC, then UTF-8, so "é" typed as one code point or as e + ◌́
 * unlocks the same file (keystore.md §3.1). Lone surrogates would silently become U+FFFD: refuse them.
 */
export function passphraseBytes (passphrase: string): Uint8Array {
  // In a /u regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
  if (typeof passphrase !== 'string' || /\p{Cs}/u.test(passphrase)) {
    throw errors.BAD_ARGUMENT('passphrase must be a well-formed Unicode string')
  }
  return utf8.encode(passphrase.normalize('NFC'))
}

/** Encrypts `secrets` into a complete keystore file image. */
export async function sealKeystore (secrets: Secrets, passphrase: string, opts: SealOptions = {}): Promise<Uint8Array> {
  const kdf = opts.kdf ?? DEFAULT_KDF
  const problem = kdfParamsProblem(kdf)
  if (problem) throw errors.BAD_ARGUMENT(`keystore KDF parameters: ${problem}`)
  if (passphrase === '') throw errors.NO_PASSPHRASE('the passphrase must not be empty')
  const plaintext = encodePayload(secrets)
  // Never write a file our own reader would refuse (keystore.md §2, ciphertext length bound).
  if (plaintext.length + AEAD_TAG_BYTES > MAX_CIPHERTEXT_BYTES) {
    wipe(plaintext)
    throw errors.BAD_ARGUMENT(`keystore secrets too large: ${plaintext.length} bytes encoded, at most ${MAX_CIPHERTEXT_BYTES - AEAD_TAG_BYTES}`)
  }
  const random = opts.random ?? randomBytes
  const salt = random(SALT_BYTES)
  const nonce = random(XCHACHA_NONCE_BYTES)
  const key = await deriveKey(passphrase, salt, kdf, opts.derive)
  try {
    const header = encodeHeader(kdf, salt, nonce, plaintext.length + AEAD_TAG_BYTES)
    return assembleFile(header, xchacha.seal(key, nonce, plaintext, header))
  } finally {
    wipe(key, plaintext)
  }
}

/** Decrypts a keystore file image; throws the keystore.md §4 error for whatever is wrong. */
export async function unsealKeystore (file: Uint8Array, passphrase: string, derive?: DeriveKey): Promise<Secrets> {
  const { header, headerBytes, ciphertext } = parseKeystore(file)
  const key = await deriveKey(passphrase, header.salt, header.kdf, derive)
  const plaintext = xchacha.open(key, header.nonce, ciphertext, headerBytes)
  wipe(key)
  // The checksum held, so the bytes are as written: an AEAD failure means a different key (§4 row 12).
  if (plaintext === null) throw errors.WRONG_PASSPHRASE('wrong passphrase for keystore')
  try {
    return decodePayload(plaintext)
  } finally {
    wipe(plaintext)
  }
}

async function deriveKey (passphrase: string, salt: Uint8Array, kdf: Argon2idParams, derive: DeriveKey = argon2id): Promise<Uint8Array> {
  const pw = passphraseBytes(passphrase)
  try {
    return await derive(pw, salt, kdf)
  } finally {
    wipe(pw)
  }
}

function encodePayload (secrets: Secrets): Uint8Array {
  if (secrets === null || typeof secrets !== 'object') throw errors.BAD_ARGUMENT('secrets must be an object of named byte arrays')
  const map = new Map<string, Uint8Array>()
  for (const [name, value] of Object.entries(secrets)) {
    if (!(value instanceof Uint8Array)) throw errors.BAD_ARGUMENT(`secret "${name}" must be a Uint8Array, got ${typeof value}`)
    map.set(name, value)
  }
  // packr reuses one internal buffer: copy out, then zero the region it used.
  const packed = packr.pack(map)
  const out = new Uint8Array(packed)
  wipe(packed)
  return out
}

// Reached only with an authentic plaintext, so a malformed payload means a buggy or hostile writer
// that knew the passphrase: still a clean CORRUPT, never garbage secrets.
function decodePayload (plaintext: Uint8Array): Secrets {
  let decoded: unknown
  try {
    decoded = packr.unpack(plaintext)
  } catch {
    throw errors.KEYSTORE_CORRUPT('keystore is corrupt: payload is not valid msgpack')
  }
  if (!(decoded instanceof Map)) throw errors.KEYSTORE_CORRUPT('keystore is corrupt: payload is not a map of secrets')
  const out: Secrets = {}
  for (const [name, value] of decoded) {
    if (typeof name !== 'string' || !(value instanceof Uint8Array)) {
      throw errors.KEYSTORE_CORRUPT('keystore is corrupt: payload entry is not a named byte string')
    }
    // copy: the plaintext it may point into is wiped next. defineProperty keeps "__proto__" a plain key.
    Object.defineProperty(out, name, { value: new Uint8Array(value), enumerable: true, writable: true, configurable: true })
  }
  return out
}
