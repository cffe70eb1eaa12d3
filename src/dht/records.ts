// Presence records (dht.md §5), the part storers see: a fixed-size record stored under a DHT key
// derived from the fingerprint and the period (presence-keys.ts), signed by the period signing key
// it carries, its body sealed (presence-seal.ts). Storers and readers verify this outer layer the
// same way; only a reader that knows the fingerprint can open the body and learn whose it is.
import { ed25519 } from '../crypto/primitives.js'
import { BoundedCache } from '../runtime/bounded-cache.js'
import { isStrictEd25519Encoding } from '../crypto/ed25519-point.js'
import type { PublicIdentity } from '../crypto/identity.js'
import { TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS } from '../wire/constants.js'
import {
  PRESENCE_SIG_DOMAIN, RECORD_TYPE_PRESENCE, RECORD_BYTES, RECORD_HEADER_BYTES, RECORD_SIGNATURE_BYTES,
  EXPIRY_GRANULE_MS, ID_BYTES
} from './constants.js'

/**
 * dht.md §5.2: lan (an interface address), public (an interface address nobody translates),
 * relay, and the NAT traversal candidates of proto-spec/traversal.md §2: reflexive (what others
 * see, learned from PONG or STUN) and mapped (a port mapping the router granted).
 */
export type AddressKind = 'lan' | 'public' | 'relay' | 'reflexive' | 'mapped'

export interface RecordAddress { host: string, port: number, kind: AddressKind }

/** How the owner's NAT maps (proto-spec/traversal.md §2, RFC 4787 §4.1); 'unknown' is 0 on the wire. */
export type RecordNatKind = 'unknown' | 'open' | 'endpoint-independent' | 'address-dependent'

/** A rendezvous node the owner is registered with, and the random tag it registered under (traversal.md §3). */
export interface RecordRendezvous { host: string, port: number, tag: Uint8Array }

/** What a record says, once opened by a reader that knows the fingerprint (dht.md §5.2). */
export interface PresenceRecord {
  publicIdentity: PublicIdentity
  addresses: RecordAddress[]
  /** dht.md §5.2 traversal fields (absent: 'unknown' and none) */
  natKind?: RecordNatKind
  rendezvous?: RecordRendezvous[]
  /** the period it is for (dht.md §5.1) */
  period: number
  /** Replacement order within the period, per (key, period key) (dht.md §5.4). */
  seq: number
  /** ms since the Unix epoch, a multiple of EXPIRY_GRANULE_MS; storers also cap it (MAX_RECORD_TTL_MS). */
  expiresAt: number
}

/** The fields of the outer layer (dht.md §5.2), what every storer and crawler sees. */
export interface OuterRecord {
  periodPublic: Uint8Array
  seq: number
  expiresAt: number
  nonce: Uint8Array
  ciphertext: Uint8Array
}

/** A record whose outer layer passed verifyPresenceRecord: its fields, its key and its exact bytes. */
export interface VerifiedRecord extends OuterRecord {
  key: Uint8Array
  bytes: Uint8Array
}

/** dht.md §5.2: what the period key signs — the domain, the DHT key, every byte before the signature. */
export function signedMessage (key: Uint8Array, body: Uint8Array): Uint8Array {
  return Buffer.concat([PRESENCE_SIG_DOMAIN, key, body])
}

/** Structure only (no crypto): the outer fields, or null if the bytes are not a v2 record. */
export function decodePresenceRecord (bytes: Uint8Array): OuterRecord | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== RECORD_BYTES || bytes[0] !== RECORD_TYPE_PRESENCE) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const expirySeconds = view.getUint32(37)
  const expiresAt = expirySeconds * 1000
  // coarse by rule: a finer expiry would tell storers when its owner signed it
  if (expiresAt % EXPIRY_GRANULE_MS !== 0 || expiresAt < TIMESTAMP_MIN_MS || expiresAt > TIMESTAMP_MAX_MS) return null
  return {
    periodPublic: bytes.slice(1, 33),
    seq: view.getUint32(33),
    expiresAt,
    nonce: bytes.slice(41, RECORD_HEADER_BYTES),
    ciphertext: bytes.slice(RECORD_HEADER_BYTES, RECORD_BYTES - RECORD_SIGNATURE_BYTES)
  }
}

/**
 * Outer verification (dht.md §5.3), cheapest checks first: well-formed, not expired at `now`, a
 * strict (canonical, not small-order) period key, and its signature over the key and the record.
 * Null on any failure; never throws. It says nothing about whose record it is: that takes the
 * fingerprint (openPresenceRecord).
 */
export function verifyPresenceRecord (bytes: Uint8Array, key: Uint8Array, now: number): VerifiedRecord | null {
  const r = decodePresenceRecord(bytes)
  if (r === null || r.expiresAt <= now || !(key instanceof Uint8Array) || key.length !== ID_BYTES) return null
  // a small-order key would make (R = identity, S = 0) verify for any message (crypto-policy.md §2.2);
  // a key that names no point fails the verify below (RFC 8032 §5.1.7), so no square root here:
  // every storer runs this on every record it is given (an announce is k of them)
  if (!isStrictEd25519Encoding(r.periodPublic)) return null
  const end = bytes.length - RECORD_SIGNATURE_BYTES
  if (!ed25519.verify(bytes.subarray(end), signedMessage(key, bytes.subarray(0, end)), r.periodPublic)) return null
  return { ...r, key: key.slice(), bytes: bytes.slice() }
}

/** How many verified records a node remembers by default (per node; bounded memory). */
export const RECORD_VERIFY_CACHE_DEFAULT = 256

/**
 * verifyPresenceRecord that checks each distinct (key, bytes) once (dht.md §5.3): a record comes
 * back from up to k storers per lookup and again at every republish, and the identity binding
 * and the signature cost four curve operations. The memo is keyed by the exact bytes, so any
 * changed byte is verified afresh; only successes are kept, and expiry is still checked against
 * `now` on every call. Oldest entries go first once `max` are held.
 */
export function cachedRecordVerifier (max = RECORD_VERIFY_CACHE_DEFAULT): (bytes: Uint8Array, key: Uint8Array, now: number) => VerifiedRecord | null {
  const memo = new BoundedCache<string, VerifiedRecord>(max)
  return (bytes, key, now) => {
    if (!(bytes instanceof Uint8Array) || !(key instanceof Uint8Array) || key.length !== ID_BYTES) return null
    const id = latin1(key) + latin1(bytes)
    const hit = memo.get(id)
    if (hit !== undefined) {
      if (hit.expiresAt > now) return hit
      memo.delete(id)
      return null
    }
    const r = verifyPresenceRecord(bytes, key, now)
    if (r === null) return null
    memo.set(id, Object.freeze(r))
    return r
  }
}

function latin1 (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

export type Replacement = 'replace' | 'identical' | 'stale' | 'conflict'

type Comparable = Pick<VerifiedRecord, 'seq' | 'bytes' | 'periodPublic'>

/**
 * dht.md §5.4: what a holder of `current` does with a verified `incoming` for the same key.
 * Under the same period key a higher seq replaces; the same bytes again are a harmless refresh;
 * a lower seq is stale; the same seq with other bytes is a conflict. Another period key is a
 * conflict here too (neither replaces the other: a storer gives it a place of its own,
 * record-store.ts, and a reader compares seqs of one writer only).
 */
export function compareRecords (current: Comparable, incoming: Comparable): Replacement {
  if (Buffer.compare(current.periodPublic, incoming.periodPublic) !== 0) return 'conflict'
  if (incoming.seq > current.seq) return 'replace'
  if (incoming.seq < current.seq) return 'stale'
  return Buffer.compare(current.bytes, incoming.bytes) === 0 ? 'identical' : 'conflict'
}
