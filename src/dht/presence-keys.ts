// What a presence record is keyed, encrypted and signed with in one time period (dht.md §5.1),
// after Tor's v3 onion service descriptors (rend-spec-v3 §2.1 "Deriving blinded keys and
// subcredentials": a blinded key per time period; its descriptor format: a descriptor signing key
// certified by the blinded key, layers encrypted under keys only those who know the address can
// derive). Our address, the fingerprint, is a hash of the public keys, not a public
// key, so a reader cannot blind the identity key; instead:
//   - DHT key and AEAD key: HKDF-SHA256 (RFC 5869) of the fingerprint bytes and the period — the
//     fingerprint is the capability: without it the key names no one and changes every period;
//   - period signing key: an Ed25519 key pair whose seed is HKDF-SHA256 of the identity's Ed25519
//     seed and the period — unlinkable to the identity without the secret, and the same on every
//     device of one identity (so replacement by seq works across them);
//   - certificate: the identity's signature over the period, the DHT key and the period public key,
//     sealed inside the record, where only a reader holding the fingerprint sees it.
import { hkdfSha256, ed25519, onWipe } from '../crypto/primitives.js'
import { fingerprintBytes } from '../crypto/fingerprint.js'
import {
  PRESENCE_SALT, PRESENCE_KEY_INFO, PRESENCE_AEAD_INFO, PRESENCE_PERIOD_SIGN_INFO, PRESENCE_CERT_DOMAIN,
  PRESENCE_PERIOD_MS, ID_BYTES
} from './constants.js'
import { errors } from '../errors.js'
import { BoundedCache } from '../runtime/bounded-cache.js'

/** The period `nowMs` falls in: whole PRESENCE_PERIOD_MS since the Unix epoch (dht.md §5.1). */
export function periodOf (nowMs: number): number {
  return Math.floor(nowMs / PRESENCE_PERIOD_MS)
}

export function periodStartMs (period: number): number {
  return period * PRESENCE_PERIOD_MS
}

function periodBytes (period: number): Uint8Array {
  if (!Number.isSafeInteger(period) || period < 0) throw errors.BAD_ARGUMENT(`period must be a safe unsigned integer, got ${period}`)
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(period))
  return out
}

function info (label: Uint8Array, period: number): Uint8Array {
  return Buffer.concat([label, periodBytes(period)])
}

// The keys below are pure functions of (fingerprint or seed, period), derived again and again: a
// contact's DHT key at every lookup of it, our own keys at every announce. So the recent ones are
// kept (a fresh copy handed out each time). The DHT and AEAD keys derive from the fingerprint
// alone, which whoever asks already holds.
const DERIVED_CACHE_SIZE = 1024
const derivedCache = new BoundedCache<string, Uint8Array>(DERIVED_CACHE_SIZE)

/** Forgets every derived key (clearDhtMemos, src/dht/ids.ts: the memo only saves work). */
export function clearDerivedKeys (): void {
  derivedCache.clear()
}

/** How many derived keys are kept (tests of clearDhtMemos). */
export function derivedKeysHeld (): number { return derivedCache.size }

function derived (which: 'key' | 'aead', label: Uint8Array, fingerprint: string, period: number, length: number): Uint8Array {
  const id = `${which} ${fingerprint} ${period}`
  return derivedCache.getOrSet(id, () => hkdfSha256(fingerprintBytes(fingerprint), PRESENCE_SALT, info(label, period), length)).slice()
}

/** dht.md §5.1: the DHT key of `fingerprint`'s record in `period`. */
export function presenceKey (fingerprint: string, period: number): Uint8Array {
  return derived('key', PRESENCE_KEY_INFO, fingerprint, period, ID_BYTES)
}

/** dht.md §5.1: the XChaCha20-Poly1305 key of `fingerprint`'s record in `period`. */
export function presenceAeadKey (fingerprint: string, period: number): Uint8Array {
  return derived('aead', PRESENCE_AEAD_INFO, fingerprint, period, 32)
}

// The period signing pair of each identity seed (by its array, as primitives.ts keys its private
// KeyObjects) for the last period asked: an announce seals with it every time, and deriving it
// anew costs an OpenSSL private-key import (~1 ms here) for its public half and another to sign.
// Wiping the seed (a lock, a stop) wipes and drops its pair too.
const periodPairs = new WeakMap<Uint8Array, { period: number, pair: { secretKey: Uint8Array, publicKey: Uint8Array } }>()
onWipe(seed => {
  const held = periodPairs.get(seed)
  if (held === undefined) return
  periodPairs.delete(seed)
  held.pair.secretKey.fill(0)
})

/**
 * dht.md §5.1: the period signing key pair, derived from the identity's Ed25519 seed. The same
 * pair (same arrays) for the same seed array and period: callers must neither modify nor wipe it.
 */
export function periodSigningKey (signSecret: Uint8Array, period: number): { secretKey: Uint8Array, publicKey: Uint8Array } {
  const held = periodPairs.get(signSecret)
  if (held !== undefined && held.period === period) return held.pair
  const secretKey = hkdfSha256(signSecret, PRESENCE_SALT, info(PRESENCE_PERIOD_SIGN_INFO, period), 32)
  const pair = { secretKey, publicKey: ed25519.publicFromSecret(secretKey) }
  periodPairs.set(signSecret, { period, pair })
  return pair
}

/** What the identity key signs to certify the period key (dht.md §5.2, inside the ciphertext). */
export function certificateMessage (period: number, key: Uint8Array, periodPublic: Uint8Array): Uint8Array {
  return Buffer.concat([PRESENCE_CERT_DOMAIN, periodBytes(period), key, periodPublic])
}
