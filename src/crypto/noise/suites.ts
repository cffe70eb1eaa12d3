// Noise crypto functions (Noise §4, §12) and protocol-name parsing (Noise §8).
// We support DH 25519, cipher ChaChaPoly, and hashes SHA256, SHA512 and BLAKE2b; every other
// name is refused with NOISE_UNSUPPORTED so callers (and the vector runner) can tell "we do
// not speak this" apart from "this is broken".
import {
  x25519, chacha20poly1305, sha256, sha512, blake2b, hmac, wipe, KEY_BYTES, AEAD_TAG_BYTES,
  CHACHA_NONCE_BYTES, type KeyPair, type DhKeyPair, type X25519SecretHandle, type HmacHash
} from '../primitives.js'
import { errors } from '../../errors.js'
import { getPattern, type HandshakePattern } from './patterns.js'

/** Noise §3: every Noise message, handshake or transport, is at most 65535 bytes. */
export const MAX_MESSAGE_BYTES = 65535
/** Noise §5.1: the nonce 2^64-1 is reserved (Rekey uses it); counters stop one short of it. */
export const MAX_NONCE = 2n ** 64n - 1n
export const TAG_BYTES = AEAD_TAG_BYTES

export interface DhFunctions {
  readonly name: string
  readonly dhLen: number
  /** Derive a key pair from DHLEN random bytes (the secret is kept, not copied). */
  keyPairFromSecret: (secretKey: Uint8Array) => KeyPair
  /**
   * Noise §4.1 GENERATE_KEYPAIR() from the OS random source (OpenSSL's keygen: far cheaper than
   * importing a secret). The secret may be an opaque handle that only `dh` accepts: an ephemeral
   * is only ever used in DHs, so its secret need never leave OpenSSL.
   */
  generateKeyPair: () => DhKeyPair
  /** Noise §4.1 DH(); throws DmessError CRYPTO for a low-order peer key. */
  dh: (secretKey: Uint8Array | X25519SecretHandle, publicKey: Uint8Array) => Uint8Array
}

export interface CipherFunctions {
  readonly name: string
  encrypt: (k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array) => Uint8Array
  /** `encrypt` into `out` (exactly plaintext.length + TAG_BYTES): no intermediate buffer. */
  encryptInto: (k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array) => void
  /** Returns null when authentication fails. */
  decrypt: (k: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array) => Uint8Array | null
  /** Noise §4.2 REKEY(k): default form, ENCRYPT(k, maxnonce, zerolen, zeros) truncated to 32 bytes. */
  rekey: (k: Uint8Array) => Uint8Array
}

export interface HashFunctions {
  readonly name: string
  readonly hashLen: number
  readonly blockLen: number
  hash: (...parts: Uint8Array[]) => Uint8Array
  hmac: (key: Uint8Array, ...parts: Uint8Array[]) => Uint8Array
}

export interface CipherSuite { dh: DhFunctions, cipher: CipherFunctions, hash: HashFunctions }

export interface NoiseProtocol {
  readonly name: string
  readonly pattern: HandshakePattern
  readonly suite: CipherSuite
}

const EMPTY = new Uint8Array(0)

const dh25519: DhFunctions = {
  name: '25519',
  dhLen: KEY_BYTES,
  keyPairFromSecret: secretKey => ({ publicKey: x25519.publicFromSecret(secretKey), secretKey }),
  generateKeyPair: () => x25519.generateEphemeral(),
  dh: (secretKey, publicKey) => x25519.dh(secretKey, publicKey)
}

/** Noise §12.3: 32 bits of zeros followed by the 64-bit little-endian counter. */
export function chachaNonce (n: bigint, into = new Uint8Array(CHACHA_NONCE_BYTES)): Uint8Array {
  // bytes written by hand: a DataView would move the 12-byte array's storage off the V8 heap,
  // one more ArrayBuffer per packet for the scavenger to sweep (docs/performance.md §2)
  const nonce = into
  const lo = Number(n & 0xffffffffn)
  const hi = Number(n >> 32n)
  nonce[4] = lo; nonce[5] = lo >>> 8; nonce[6] = lo >>> 16; nonce[7] = lo >>> 24
  nonce[8] = hi; nonce[9] = hi >>> 8; nonce[10] = hi >>> 16; nonce[11] = hi >>> 24
  return nonce
}

// The per-packet calls write the nonce here: node:crypto copies the IV into the cipher context
// before they return, so one buffer serves every packet (bytes 0..3 stay zero).
const NONCE_SCRATCH = new Uint8Array(CHACHA_NONCE_BYTES)

const chachaPoly: CipherFunctions = {
  name: 'ChaChaPoly',
  encrypt: (k, n, ad, plaintext) => chacha20poly1305.seal(k, chachaNonce(n, NONCE_SCRATCH), plaintext, ad),
  encryptInto: (k, n, ad, plaintext, out) => { chacha20poly1305.sealInto(k, chachaNonce(n, NONCE_SCRATCH), plaintext, ad, out) },
  decrypt: (k, n, ad, ciphertext) => chacha20poly1305.open(k, chachaNonce(n, NONCE_SCRATCH), ciphertext, ad),
  rekey: k => {
    const zeros = new Uint8Array(KEY_BYTES)
    const out = chacha20poly1305.seal(k, chachaNonce(MAX_NONCE), zeros, EMPTY)
    const next = out.slice(0, KEY_BYTES)
    wipe(out)
    return next
  }
}

function hashFns (name: string, fn: (...p: Uint8Array[]) => Uint8Array, mac: HmacHash, hashLen: number, blockLen: number): HashFunctions {
  return { name, hashLen, blockLen, hash: fn, hmac: (key, ...parts) => hmac(mac, key, ...parts) }
}

// Noise §12.5, §12.6, §12.8
const HASHES: Record<string, HashFunctions> = {
  SHA256: hashFns('SHA256', sha256, 'sha256', 32, 64),
  SHA512: hashFns('SHA512', sha512, 'sha512', 64, 128),
  BLAKE2b: hashFns('BLAKE2b', blake2b, 'blake2b512', 64, 128)
}
const DHS: Record<string, DhFunctions> = { 25519: dh25519 }
const CIPHERS: Record<string, CipherFunctions> = { ChaChaPoly: chachaPoly }

function lookup<T> (table: Record<string, T>, key: string, what: string, full: string): T {
  const found = Object.hasOwn(table, key) ? table[key] : undefined
  if (found === undefined) {
    throw errors.NOISE_UNSUPPORTED(`${full}: ${what} "${key}" is not supported (we have ${Object.keys(table).join(', ')})`)
  }
  return found
}

/** Suite part of a name, e.g. "25519_ChaChaPoly_BLAKE2b". */
export function parseSuite (suite: string, full = suite): CipherSuite {
  const parts = suite.split('_')
  if (parts.length !== 3) throw errors.NOISE_UNSUPPORTED(`${full}: expected DH_CIPHER_HASH, got "${suite}"`)
  const [dh, cipher, hash] = parts as [string, string, string]
  return {
    dh: lookup(DHS, dh, 'DH function', full),
    cipher: lookup(CIPHERS, cipher, 'cipher', full),
    hash: lookup(HASHES, hash, 'hash', full)
  }
}

/** Noise §8: "Noise_" pattern "_" DH "_" cipher "_" hash, e.g. Noise_XX_25519_ChaChaPoly_BLAKE2b. */
export function parseProtocolName (name: string): NoiseProtocol {
  const parts = name.split('_')
  if (parts.length !== 5 || parts[0] !== 'Noise') {
    throw errors.NOISE_UNSUPPORTED(`"${name}" is not a Noise protocol name (Noise_PATTERN_DH_CIPHER_HASH)`)
  }
  const pattern = getPattern(parts[1] as string, name)
  const suite = parseSuite(parts.slice(2).join('_'), name)
  return { name, pattern, suite }
}

/** True when parseProtocolName would accept the name. */
export function isSupported (name: string): boolean {
  try {
    parseProtocolName(name)
    return true
  } catch {
    return false
  }
}
