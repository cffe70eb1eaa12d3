// Presence records (dht.md §5): fingerprint → reachable addresses, signed by the identity's Ed25519
// key, stored under key = SHA-256("dmess-presence-v1\0" || fingerprint hash bytes). Storers and
// readers run the same verification; replacement keeps the newest sequence number.
import { sha256, ed25519 } from '../crypto/primitives.js'
import {
  verifyPublicIdentity, fingerprintOf, fingerprintBytes, type PublicIdentity
} from '../crypto/identity.js'
import { TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS } from '../wire/constants.js'
import { parseIp, formatIp, parseAddress } from '../io/address.js'
import { readAddress, writeAddress } from './address-codec.js'
import {
  PRESENCE_KEY_DOMAIN, PRESENCE_SIG_DOMAIN, RECORD_TYPE_PRESENCE, RECORD_MAX_ADDRESSES,
  RECORD_FIXED_BYTES, RECORD_SIGNATURE_BYTES, RECORD_MAX_BYTES, ID_BYTES
} from './constants.js'
import { errors } from '../errors.js'

export type AddressKind = 'lan' | 'public' | 'relay'
const KIND_CODE: Record<AddressKind, number> = { lan: 1, public: 2, relay: 3 }
const KIND_NAME: Record<number, AddressKind> = { 1: 'lan', 2: 'public', 3: 'relay' }

export interface RecordAddress { host: string, port: number, kind: AddressKind }

export interface PresenceRecord {
  publicIdentity: PublicIdentity
  addresses: RecordAddress[]
  /** Replacement order: a storer keeps only the highest seq (dht.md §5.4). */
  seq: number
  /** ms since the Unix epoch; storers also cap how long they keep it (MAX_RECORD_TTL_MS). */
  expiresAt: number
}

/** A record that passed verifyPresenceRecord: decoded fields, its key and its exact bytes. */
export interface VerifiedRecord extends PresenceRecord {
  key: Uint8Array
  fingerprint: string
  bytes: Uint8Array
}

/** dht.md §5.1: the DHT key of a fingerprint's presence record. */
export function presenceKey (fingerprint: string): Uint8Array {
  return sha256(PRESENCE_KEY_DOMAIN, fingerprintBytes(fingerprint))
}

function signedMessage (key: Uint8Array, body: Uint8Array): Uint8Array {
  const msg = new Uint8Array(PRESENCE_SIG_DOMAIN.length + ID_BYTES + body.length)
  msg.set(PRESENCE_SIG_DOMAIN, 0)
  msg.set(key, PRESENCE_SIG_DOMAIN.length)
  msg.set(body, PRESENCE_SIG_DOMAIN.length + ID_BYTES)
  return msg
}

function checkRecord (r: PresenceRecord): void {
  if (!Number.isSafeInteger(r.seq) || r.seq < 0) throw errors.BAD_ARGUMENT(`record seq must be a safe unsigned integer, got ${r.seq}`)
  if (!Number.isSafeInteger(r.expiresAt) || r.expiresAt < TIMESTAMP_MIN_MS || r.expiresAt > TIMESTAMP_MAX_MS) {
    throw errors.BAD_ARGUMENT(`record expiresAt must be a ms timestamp in 2020..2100, got ${r.expiresAt}`)
  }
  if (r.addresses.length > RECORD_MAX_ADDRESSES) {
    throw errors.BAD_ARGUMENT(`a record holds at most ${RECORD_MAX_ADDRESSES} addresses, got ${r.addresses.length}`)
  }
}

function encodeBody (r: PresenceRecord): Uint8Array {
  checkRecord(r)
  const addrs = r.addresses.map(a => {
    const ip = parseIp(a.host)
    if (ip === null || !Number.isInteger(a.port) || a.port < 1 || a.port > 65535 || KIND_CODE[a.kind] === undefined) {
      throw errors.BAD_ARGUMENT(`record address: expected an IP literal, port 1..65535 and kind lan|public|relay, got ${a.host}:${a.port} ${a.kind}`)
    }
    return { kind: KIND_CODE[a.kind], p: { family: ip.length === 4 ? 4 as const : 6 as const, ip, port: a.port } }
  })
  const size = RECORD_FIXED_BYTES + addrs.reduce((n, a) => n + 4 + a.p.ip.length, 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  const id = r.publicIdentity
  out[0] = RECORD_TYPE_PRESENCE
  out.set(id.signPublic, 1)
  out.set(id.dhPublic, 33)
  out.set(id.dhSignature, 65)
  view.setBigUint64(129, BigInt(r.seq))
  view.setBigUint64(137, BigInt(r.expiresAt))
  out[145] = addrs.length
  let off = RECORD_FIXED_BYTES
  for (const a of addrs) {
    out[off] = a.kind
    off = writeAddress(view, out, off + 1, a.p)
  }
  return out
}

/**
 * Encodes and signs a record with the identity's Ed25519 secret (dht.md §5.2). The signature covers
 * the domain string, the key and every byte before it. Throws on local misuse only.
 */
export function signPresenceRecord (r: PresenceRecord, signSecret: Uint8Array): Uint8Array {
  const body = encodeBody(r)
  const key = presenceKey(fingerprintOf(r.publicIdentity))
  const sig = ed25519.sign(signedMessage(key, body), signSecret)
  const out = new Uint8Array(body.length + RECORD_SIGNATURE_BYTES)
  out.set(body, 0)
  out.set(sig, body.length)
  return out
}

/** Structure only (no crypto): the fields, or null if the bytes are not a well-formed record. */
export function decodePresenceRecord (bytes: Uint8Array): PresenceRecord | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < RECORD_FIXED_BYTES + RECORD_SIGNATURE_BYTES ||
      bytes.length > RECORD_MAX_BYTES || bytes[0] !== RECORD_TYPE_PRESENCE) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const seq = view.getBigUint64(129)
  const expiresAt = view.getBigUint64(137)
  const count = bytes[145]!
  if (seq > BigInt(Number.MAX_SAFE_INTEGER) || expiresAt < TIMESTAMP_MIN_MS || expiresAt > TIMESTAMP_MAX_MS ||
      count > RECORD_MAX_ADDRESSES) return null
  const end = bytes.length - RECORD_SIGNATURE_BYTES
  const body = bytes.subarray(0, end)
  const addresses: RecordAddress[] = []
  let off = RECORD_FIXED_BYTES
  for (let i = 0; i < count; i++) {
    const kind = KIND_NAME[body[off] ?? 0]
    const a = kind ? readAddress(view, body, off + 1) : null
    if (!kind || !a) return null
    const p = parseAddress(a.addr)!
    addresses.push({ host: formatIp(p.ip), port: p.port, kind })
    off = a.off
  }
  if (off !== end) return null // trailing bytes: not what an encoder writes
  return {
    publicIdentity: { signPublic: bytes.slice(1, 33), dhPublic: bytes.slice(33, 65), dhSignature: bytes.slice(65, 129) },
    addresses,
    seq: Number(seq),
    expiresAt: Number(expiresAt)
  }
}

/**
 * Full verification (dht.md §5.3), cheapest checks first: well-formed, not expired at `now`,
 * key = presence key of the fingerprint of the keys inside, identity binding valid, signature
 * valid. Null on any failure; never throws.
 */
export function verifyPresenceRecord (bytes: Uint8Array, key: Uint8Array, now: number): VerifiedRecord | null {
  const r = decodePresenceRecord(bytes)
  if (r === null || r.expiresAt <= now || !(key instanceof Uint8Array) || key.length !== ID_BYTES) return null
  const fingerprint = fingerprintOf(r.publicIdentity)
  const expected = presenceKey(fingerprint)
  if (!expected.every((b, i) => b === key[i])) return null
  if (!verifyPublicIdentity(r.publicIdentity)) return null
  const end = bytes.length - RECORD_SIGNATURE_BYTES
  if (!ed25519.verify(bytes.subarray(end), signedMessage(key, bytes.subarray(0, end)), r.publicIdentity.signPublic)) return null
  return { ...r, key: key.slice(), fingerprint, bytes: bytes.slice() }
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
  const memo = new Map<string, VerifiedRecord>()
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
    if (memo.size >= max) memo.delete(memo.keys().next().value!)
    Object.freeze(r.addresses) // shared by every later caller: a mutation would throw, not spread
    memo.set(id, Object.freeze(r))
    return r
  }
}

function latin1 (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

export type Replacement = 'replace' | 'identical' | 'stale' | 'conflict'

/**
 * dht.md §5.4: what a holder of `current` does with a verified `incoming` for the same key.
 * Higher seq replaces; the same bytes again are a harmless refresh; a lower seq is stale; the
 * same seq with different bytes is a conflict and rejected (first one stays; no flip-flopping).
 */
export function compareRecords (current: { seq: number, bytes: Uint8Array }, incoming: { seq: number, bytes: Uint8Array }): Replacement {
  if (incoming.seq > current.seq) return 'replace'
  if (incoming.seq < current.seq) return 'stale'
  return Buffer.compare(current.bytes, incoming.bytes) === 0 ? 'identical' : 'conflict'
}
