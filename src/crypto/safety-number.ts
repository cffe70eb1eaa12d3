// Safety numbers: 60 digits two people compare (aloud, or by scanning) to verify that each holds
// the other's real keys (proto-spec/identity.md §6). The same value on both sides: each identity
// contributes 30 digits, and the halves are ordered by key bytes, not by who is "local".
// Construction after Signal's NumericFingerprint; the iterated hash makes grinding keys whose
// 30 digits (~100 bits) match a target 5200 times dearer.
import type { PublicIdentity } from './identity.js'
import { identityKeyBytes } from './fingerprint.js'
import { sha512, utf8 } from './primitives.js'

export const SAFETY_NUMBER_ITERATIONS = 5200
const SAFETY_NUMBER_DOMAIN = utf8.encode('dmess-safety-number-v1\0')
const CHUNKS_PER_HALF = 6
const CHUNK_BYTES = 5
const DIGITS_PER_CHUNK = 5

/** 30 digits for one identity's key bytes (signPublic || dhPublic). identity.md §6 steps 1–3. */
function half (keys: Uint8Array): string {
  let h = sha512(SAFETY_NUMBER_DOMAIN, keys)
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) h = sha512(h, keys)
  let digits = ''
  for (let c = 0; c < CHUNKS_PER_HALF; c++) {
    // a 40-bit big-endian integer stays exact in a JS number (< 2^53)
    let v = 0
    for (let i = 0; i < CHUNK_BYTES; i++) v = v * 256 + (h[c * CHUNK_BYTES + i] ?? 0)
    digits += String(v % 10 ** DIGITS_PER_CHUNK).padStart(DIGITS_PER_CHUNK, '0')
  }
  return digits
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return a.length - b.length
}

/**
 * The safety number of two identities: 12 groups of 5 digits separated by spaces, the same
 * whichever order the identities are given in. Public data only; no secret is involved.
 */
export function safetyNumber (a: PublicIdentity, b: PublicIdentity): string {
  const ka = identityKeyBytes(a)
  const kb = identityKeyBytes(b)
  const [first, second] = compareBytes(ka, kb) <= 0 ? [ka, kb] : [kb, ka]
  const digits = half(first) + half(second)
  return (digits.match(/\d{5}/g) ?? []).join(' ')
}
