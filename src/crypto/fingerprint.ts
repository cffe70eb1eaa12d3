// Fingerprints: a user's address, derived from both public keys (proto-spec/identity.md §3).
// Text form: version character, 40 characters of a 200-bit hash, and a 6-character BIP-350
// (bech32m) checksum; only [a-z0-9], so it can be a LevelDB key part and a file name.
// Also home to the base32 codec the invite format shares (identity.md §2).
import type { PublicIdentity } from './identity.js'
import { sha256, utf8, KEY_BYTES } from './primitives.js'
import { errors } from '../errors.js'
import { BoundedCache } from '../runtime/bounded-cache.js'

/** The bech32 character set (BIP-173): no 1, b, i or o, which are easy to confuse. */
export const BASE32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
export const FINGERPRINT_VERSION = 1
/** identity.md §3: the first 200 bits of SHA-256 over the domain string and both public keys. */
export const FINGERPRINT_HASH_BYTES = 25
const FINGERPRINT_HASH_WORDS = (FINGERPRINT_HASH_BYTES * 8) / 5
const CHECKSUM_WORDS = 6
/** 1 version + 40 hash + 6 checksum characters. */
export const FINGERPRINT_CHARS = 1 + FINGERPRINT_HASH_WORDS + CHECKSUM_WORDS
/** Human-readable part fed into the checksum only: `dmess1<fingerprint>` is a valid bech32m string. */
export const FINGERPRINT_CHECKSUM_HRP = 'dmess'
const FINGERPRINT_DOMAIN = utf8.encode('dmess-fingerprint-v1\0')
const DISPLAY_GROUP = 4

const CHAR_VALUE = new Map([...BASE32_ALPHABET].map((c, i) => [c, i]))

// ---- base32 over the bech32 alphabet (BIP-173 "convertbits") ----

function convertBits (data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  const out: number[] = []
  const mask = (1 << to) - 1
  let acc = 0
  let bits = 0
  for (let i = 0; i < data.length; i++) {
    acc = ((acc << from) | (data[i] ?? 0)) & 0xffffff
    bits += from
    while (bits >= to) {
      bits -= to
      out.push((acc >> bits) & mask)
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & mask)
  } else if (bits >= from || ((acc << (to - bits)) & mask) !== 0) {
    return null // a whole spare symbol or non-zero padding: not what our encoder writes
  }
  return out
}

export function base32Encode (bytes: Uint8Array): string {
  return wordsToText(convertBits(bytes, 8, 5, true) ?? [])
}

/** Canonical decoding only: null for a character outside the alphabet, or padding we never write. */
export function base32Decode (text: string): Uint8Array | null {
  const words = textToWords(text)
  const bytes = words && convertBits(words, 5, 8, false)
  return bytes ? new Uint8Array(bytes) : null
}

function wordsToText (words: number[]): string {
  return words.map(w => BASE32_ALPHABET[w]).join('')
}

function textToWords (text: string): number[] | null {
  const words: number[] = []
  for (const c of text) {
    const v = CHAR_VALUE.get(c)
    if (v === undefined) return null
    words.push(v)
  }
  return words
}

// ---- BIP-350 (bech32m) checksum: a BCH code over GF(32) ----
// Detects any error affecting up to 4 characters in strings up to 89 characters (BIP-173
// "Checksum design"), so every single-character typo and every adjacent transposition.

const BECH32M_CONST = 0x2bc830a3
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod (values: number[]): number {
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if (((top >>> i) & 1) === 1) chk ^= GENERATOR[i] ?? 0
  }
  return chk
}

function hrpExpand (hrp: string): number[] {
  const codes = [...hrp].map(c => c.charCodeAt(0))
  return [...codes.map(c => c >> 5), 0, ...codes.map(c => c & 31)]
}

export const bech32m = {
  /** The 6 checksum words for `data` under human-readable part `hrp` (BIP-350). */
  checksum (hrp: string, data: number[]): number[] {
    const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ BECH32M_CONST
    return Array.from({ length: CHECKSUM_WORDS }, (_, i) => (mod >>> (5 * (5 - i))) & 31)
  },
  /** True when `words` (data followed by its checksum) carries a valid checksum for `hrp`. */
  verify (hrp: string, words: number[]): boolean {
    return polymod([...hrpExpand(hrp), ...words]) === BECH32M_CONST
  },
  /** Checks a whole lowercase or uppercase bech32m string `hrp1data` (for BIP-350 test vectors). */
  verifyString (s: string): boolean {
    if (s !== s.toLowerCase() && s !== s.toUpperCase()) return false
    const lower = s.toLowerCase()
    const sep = lower.lastIndexOf('1')
    const words = textToWords(lower.slice(sep + 1))
    return sep >= 1 && words !== null && words.length >= CHECKSUM_WORDS && bech32m.verify(lower.slice(0, sep), words)
  }
}

// ---- fingerprints ----

/** signPublic || dhPublic (64 bytes): the key encoding that fingerprints and safety numbers hash. */
export function identityKeyBytes (p: PublicIdentity): Uint8Array {
  if (!(p.signPublic instanceof Uint8Array) || p.signPublic.length !== KEY_BYTES ||
      !(p.dhPublic instanceof Uint8Array) || p.dhPublic.length !== KEY_BYTES) {
    throw errors.CRYPTO('public identity: signPublic and dhPublic must be 32-byte arrays')
  }
  const out = new Uint8Array(2 * KEY_BYTES)
  out.set(p.signPublic, 0)
  out.set(p.dhPublic, KEY_BYTES)
  return out
}

// A peer's fingerprint is worked out again at every envelope of theirs opened (wire/seal.ts checks
// the sender's keys against it), every invite of theirs decoded and every session of theirs: the
// same two public keys each time. Kept per key pair, the most recently used 256 (a pure function
// of public bytes, so process-wide, as primitives.ts keeps the keys' KeyObjects).
const FINGERPRINT_CACHE_SIZE = 256
const fingerprintCache = new BoundedCache<string, string>(FINGERPRINT_CACHE_SIZE)

/** The canonical fingerprint of a public identity (identity.md §3). Does not check the signature. */
export function fingerprintOf (p: PublicIdentity): string {
  const keys = identityKeyBytes(p)
  return fingerprintCache.getOrSet(Buffer.from(keys.buffer, keys.byteOffset, keys.length).toString('latin1'), () => {
    const hash = sha256(FINGERPRINT_DOMAIN, keys).subarray(0, FINGERPRINT_HASH_BYTES)
    const data = [FINGERPRINT_VERSION, ...(convertBits(hash, 8, 5, true) ?? [])]
    return wordsToText([...data, ...bech32m.checksum(FINGERPRINT_CHECKSUM_HRP, data)])
  })
}

function describeChar (c: string): string {
  return /^[\x21-\x7e]$/.test(c) ? `'${c}'` : JSON.stringify(c)
}

/**
 * Accepts what a user may paste (upper case, surrounding whitespace, spaces or dashes between
 * groups) and returns the canonical lowercase fingerprint. Throws BAD_FINGERPRINT saying whether
 * the length, a character, the checksum or the version is wrong.
 */
export function parseFingerprint (text: string): string {
  const r = readFingerprint(text)
  if (r.problem !== null) throw errors.BAD_FINGERPRINT(r.problem)
  return r.fingerprint
}

/** True when parseFingerprint would accept `text` (grouped, upper case and so on included). */
export function isFingerprint (text: string): boolean {
  return readFingerprint(text).problem === null
}

/** True only for the exact canonical form (what storage keys and file names use). */
export function isCanonicalFingerprint (text: string): boolean {
  if (typeof text !== 'string' || text.length !== FINGERPRINT_CHARS) return false
  const r = readFingerprint(text)
  return r.problem === null && r.fingerprint === text
}

// parseFingerprint without the exception: asking whether a contact's name is a fingerprint is on
// the path of every message sent by name, and an Error with its stack trace costs more than the
// checks themselves.
function readFingerprint (text: unknown): { fingerprint: string, problem: null } | { fingerprint: null, problem: string } {
  const fail = (problem: string): { fingerprint: null, problem: string } => ({ fingerprint: null, problem })
  if (typeof text !== 'string') return fail('a fingerprint must be text')
  const compact = text.replace(/[\s-]+/g, '').toLowerCase()
  if (compact.startsWith('dmess:')) return fail('that is an invite (dmess:...), not a fingerprint')
  const chars = [...compact]
  if (chars.length !== FINGERPRINT_CHARS) return fail(`a fingerprint has ${FINGERPRINT_CHARS} characters, got ${chars.length}`)
  const bad = chars.findIndex(c => !CHAR_VALUE.has(c))
  if (bad >= 0) {
    return fail(`character ${describeChar(chars[bad] ?? '')} at position ${bad + 1} ` +
      'cannot be in a fingerprint (they use a-z and 0-9 except b, i, o and 1)')
  }
  if (!bech32m.verify(FINGERPRINT_CHECKSUM_HRP, textToWords(compact) ?? [])) {
    return fail('fingerprint checksum does not match: a character is mistyped or two are swapped')
  }
  if (CHAR_VALUE.get(compact[0] ?? '') !== FINGERPRINT_VERSION) {
    return fail(`fingerprint version '${compact[0] ?? ''}' is not supported ` +
      `(this dmess reads version '${BASE32_ALPHABET[FINGERPRINT_VERSION] ?? ''}')`)
  }
  return { fingerprint: compact, problem: null }
}

/** For display: groups of 4 characters separated by spaces; parseFingerprint reads it back. */
export function formatFingerprintGrouped (fp: string): string {
  const canonical = parseFingerprint(fp)
  return (canonical.match(new RegExp(`.{1,${DISPLAY_GROUP}}`, 'g')) ?? []).join(' ')
}

/** The 25 hash bytes a fingerprint carries (without version and checksum). */
export function fingerprintBytes (fp: string): Uint8Array {
  const words = textToWords(parseFingerprint(fp)) ?? []
  const bytes = convertBits(words.slice(1, 1 + FINGERPRINT_HASH_WORDS), 5, 8, false)
  return new Uint8Array(bytes ?? [])
}
