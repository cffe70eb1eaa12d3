// Sealing and opening a presence record's body (dht.md §5.2, §5.3). The body — the public
// identity, the certificate and the addresses, zero-padded to one size whatever the address
// count — is encrypted with XChaCha20-Poly1305 under the period's AEAD key; the additional data
// binds the DHT key and the whole header (period key, seq, expiry, nonce), so a body cannot be
// moved under another header. A reader trusts the addresses only after the fingerprint of the
// identity inside is the one it asked for and the identity certified the period key.
import { ed25519, xchacha, constantTimeEqual, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { verifyPublicIdentity, type Identity } from '../crypto/identity.js'
import { fingerprintOf } from '../crypto/fingerprint.js'
import { TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS } from '../wire/constants.js'
import { parseIp, formatIp, parseAddress } from '../io/address.js'
import { readAddress, writeAddress } from './address-codec.js'
import { presenceKey, presenceAeadKey, periodSigningKey, certificateMessage } from './presence-keys.js'
import {
  signedMessage, type PresenceRecord, type RecordAddress, type AddressKind, type VerifiedRecord, type RecordNatKind, type RecordRendezvous
} from './records.js'
import {
  RECORD_TYPE_PRESENCE, RECORD_MAX_ADDRESSES, RECORD_HEADER_BYTES, RECORD_PLAINTEXT_BYTES, RECORD_BYTES,
  RECORD_SIGNATURE_BYTES, EXPIRY_GRANULE_MS, RECORD_MAX_RENDEZVOUS, RENDEZVOUS_TAG_BYTES
} from './constants.js'
import { errors } from '../errors.js'

const KIND_CODE: Record<AddressKind, number> = { lan: 1, public: 2, relay: 3, reflexive: 4, mapped: 5 }
const KIND_NAME: Record<number, AddressKind> = { 1: 'lan', 2: 'public', 3: 'relay', 4: 'reflexive', 5: 'mapped' }
/** dht.md §5.2: the NAT kind byte after the addresses (0, as in a record without it, is unknown) */
export const NAT_KIND_CODE: Record<RecordNatKind, number> = { unknown: 0, open: 1, 'endpoint-independent': 2, 'address-dependent': 3 }
const NAT_KIND_NAME: Record<number, RecordNatKind> = { 0: 'unknown', 1: 'open', 2: 'endpoint-independent', 3: 'address-dependent' }
/** signPublic, dhPublic, dhSignature, certificate: then the address count */
const COUNT_OFFSET = 32 + 32 + 64 + 64
const U32_MAX = 0xffff_ffff

/** A record opened by a reader: what it says, whose it is, and the outer record it came in. */
export interface OpenedPresence extends PresenceRecord {
  fingerprint: string
  key: Uint8Array
}

function checkContent (r: PresenceRecord): void {
  if (!Number.isSafeInteger(r.seq) || r.seq < 0 || r.seq > U32_MAX) throw errors.BAD_ARGUMENT(`record seq must be a u32, got ${r.seq}`)
  if (!Number.isSafeInteger(r.expiresAt) || r.expiresAt % EXPIRY_GRANULE_MS !== 0 || r.expiresAt < TIMESTAMP_MIN_MS || r.expiresAt > TIMESTAMP_MAX_MS) {
    throw errors.BAD_ARGUMENT(`record expiresAt must be a ms timestamp in 2020..2100 and a multiple of ${EXPIRY_GRANULE_MS} ms, got ${r.expiresAt}`)
  }
  if (r.addresses.length > RECORD_MAX_ADDRESSES) {
    throw errors.BAD_ARGUMENT(`a record holds at most ${RECORD_MAX_ADDRESSES} addresses, got ${r.addresses.length}`)
  }
  const rv = r.rendezvous ?? []
  if (rv.length > RECORD_MAX_RENDEZVOUS || rv.some(e => e.tag.length !== RENDEZVOUS_TAG_BYTES)) {
    throw errors.BAD_ARGUMENT(`a record holds at most ${RECORD_MAX_RENDEZVOUS} rendezvous entries with ${RENDEZVOUS_TAG_BYTES}-byte tags`)
  }
  if (!recordFits(r)) throw errors.BAD_ARGUMENT('record: the addresses and rendezvous entries do not fit the sealed body (dht.md §5.2)')
}

const entryBytes = (host: string): number => (host.includes(':') ? 19 : 7)

/**
 * dht.md §5.2: addresses, the NAT kind byte, the rendezvous count and entries share the body's
 * address area (8 IPv6 addresses' worth: the record's size does not change with what it holds).
 */
export function recordFits (r: Pick<PresenceRecord, 'addresses' | 'rendezvous'>): boolean {
  let used = COUNT_OFFSET + 1
  for (const a of r.addresses) used += 1 + entryBytes(a.host)
  if ((r.rendezvous ?? []).length > 0) used += 2
  for (const e of r.rendezvous ?? []) used += entryBytes(e.host) + RENDEZVOUS_TAG_BYTES
  return used <= RECORD_PLAINTEXT_BYTES
}

/** The record with addresses dropped from the end until it fits (the caller orders them by worth). */
export function fitRecord<T extends Pick<PresenceRecord, 'addresses' | 'rendezvous'>> (r: T): T {
  const out = { ...r, addresses: r.addresses.slice(0, RECORD_MAX_ADDRESSES) }
  while (!recordFits(out) && out.addresses.length > 0) out.addresses = out.addresses.slice(0, -1)
  return out
}

function writeHostPort (view: DataView, out: Uint8Array, off: number, host: string, port: number, what: string): number {
  const ip = parseIp(host)
  if (ip === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw errors.BAD_ARGUMENT(`record ${what}: expected an IP literal and port 1..65535, got ${host}:${port}`)
  }
  return writeAddress(view, out, off, { family: ip.length === 4 ? 4 : 6, ip, port })
}

/** After the addresses: NAT kind, rendezvous count, entries (dht.md §5.2); nothing at all when there is neither. */
function encodeTraversal (view: DataView, out: Uint8Array, off: number, r: PresenceRecord): void {
  const rv = r.rendezvous ?? []
  const nat = NAT_KIND_CODE[r.natKind ?? 'unknown']
  if (nat === undefined) throw errors.BAD_ARGUMENT(`record natKind: unknown ${String(r.natKind)}`)
  if (nat === 0 && rv.length === 0) return
  out[off] = nat
  out[off + 1] = rv.length
  off += 2
  for (const e of rv) {
    off = writeHostPort(view, out, off, e.host, e.port, 'rendezvous')
    out.set(e.tag, off)
    off += RENDEZVOUS_TAG_BYTES
  }
}

function encodePlaintext (r: PresenceRecord, certificate: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_PLAINTEXT_BYTES) // zero padding past the last address
  const view = new DataView(out.buffer)
  const id = r.publicIdentity
  out.set(id.signPublic, 0)
  out.set(id.dhPublic, 32)
  out.set(id.dhSignature, 64)
  out.set(certificate, 128)
  out[COUNT_OFFSET] = r.addresses.length
  let off = COUNT_OFFSET + 1
  for (const a of r.addresses) {
    if (KIND_CODE[a.kind] === undefined) throw errors.BAD_ARGUMENT(`record address: kind must be lan|public|relay|reflexive|mapped, got ${a.kind}`)
    out[off] = KIND_CODE[a.kind]
    off = writeHostPort(view, out, off + 1, a.host, a.port, 'address')
  }
  encodeTraversal(view, out, off, r)
  return out
}

function header (periodPublic: Uint8Array, seq: number, expiresAt: number, nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES)
  const view = new DataView(out.buffer)
  out[0] = RECORD_TYPE_PRESENCE
  out.set(periodPublic, 1)
  view.setUint32(33, seq)
  view.setUint32(37, expiresAt / 1000)
  out.set(nonce, 41)
  return out
}

/**
 * Seals and signs `r` for `r.period` (dht.md §5.2): returns its DHT key and bytes. `nonce` is 24
 * fresh random bytes (the caller's randomness: the simulator's is seeded). Throws on misuse only.
 */
export function sealPresenceRecord (r: PresenceRecord, identity: Pick<Identity, 'signSecret'>, nonce: Uint8Array): { key: Uint8Array, bytes: Uint8Array } {
  checkContent(r)
  if (nonce.length !== XCHACHA_NONCE_BYTES) throw errors.BAD_ARGUMENT(`record nonce: expected ${XCHACHA_NONCE_BYTES} bytes, got ${nonce.length}`)
  const fingerprint = fingerprintOf(r.publicIdentity)
  const key = presenceKey(fingerprint, r.period)
  const period = periodSigningKey(identity.signSecret, r.period)
  const certificate = ed25519.sign(certificateMessage(r.period, key, period.publicKey), identity.signSecret)
  const head = header(period.publicKey, r.seq, r.expiresAt, nonce)
  const sealed = xchacha.seal(presenceAeadKey(fingerprint, r.period), nonce, encodePlaintext(r, certificate), Buffer.concat([key, head]))
  const body = Buffer.concat([head, sealed])
  const signature = ed25519.sign(signedMessage(key, body), period.secretKey)
  period.secretKey.fill(0)
  const bytes = new Uint8Array(RECORD_BYTES)
  bytes.set(body, 0)
  bytes.set(signature, RECORD_BYTES - RECORD_SIGNATURE_BYTES)
  return { key, bytes }
}

interface DecodedBody { addresses: RecordAddress[], natKind: RecordNatKind, rendezvous: RecordRendezvous[] }

function decodeBody (p: Uint8Array): DecodedBody | null {
  const count = p[COUNT_OFFSET]!
  if (count > RECORD_MAX_ADDRESSES) return null
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength)
  const out: RecordAddress[] = []
  let off = COUNT_OFFSET + 1
  for (let i = 0; i < count; i++) {
    const kind = KIND_NAME[p[off] ?? 0]
    const a = kind ? readAddress(view, p, off + 1) : null
    if (!kind || !a) return null
    const parsed = parseAddress(a.addr)!
    out.push({ host: formatIp(parsed.ip), port: parsed.port, kind })
    off = a.off
  }
  const traversal = decodeTraversal(view, p, off)
  if (traversal === null) return null
  // one encoding per content: the padding is zeros
  return p.subarray(traversal.off).every(b => b === 0) ? { addresses: out, natKind: traversal.natKind, rendezvous: traversal.rendezvous } : null
}

function decodeTraversal (view: DataView, p: Uint8Array, off: number): { natKind: RecordNatKind, rendezvous: RecordRendezvous[], off: number } | null {
  if (off + 2 > p.length) return { natKind: 'unknown', rendezvous: [], off }
  const natKind = NAT_KIND_NAME[p[off]!]
  const count = p[off + 1]!
  if (natKind === undefined || count > RECORD_MAX_RENDEZVOUS) return null
  if (natKind === 'unknown' && count === 0) return { natKind, rendezvous: [], off } // the padding check covers these bytes
  const rendezvous: RecordRendezvous[] = []
  off += 2
  for (let i = 0; i < count; i++) {
    const a = readAddress(view, p, off)
    if (a === null || a.off + RENDEZVOUS_TAG_BYTES > p.length) return null
    const parsed = parseAddress(a.addr)!
    rendezvous.push({ host: formatIp(parsed.ip), port: parsed.port, tag: p.slice(a.off, a.off + RENDEZVOUS_TAG_BYTES) })
    off = a.off + RENDEZVOUS_TAG_BYTES
  }
  return { natKind, rendezvous, off }
}

/**
 * dht.md §5.3, the reader's steps: decrypt with the key of (`fingerprint`, `period`), check that
 * the identity inside hashes to exactly `fingerprint` and is well-formed, and that it certified
 * this period key under this DHT key. Null on any failure; never throws.
 */
export function openPresenceRecord (rec: VerifiedRecord, fingerprint: string, period: number): OpenedPresence | null {
  const key = presenceKey(fingerprint, period)
  if (!constantTimeEqual(key, rec.key)) return null
  const aad = Buffer.concat([key, rec.bytes.subarray(0, RECORD_HEADER_BYTES)])
  const p = xchacha.open(presenceAeadKey(fingerprint, period), rec.nonce, rec.ciphertext, aad)
  if (p === null || p.length !== RECORD_PLAINTEXT_BYTES) return null
  const publicIdentity = { signPublic: p.slice(0, 32), dhPublic: p.slice(32, 64), dhSignature: p.slice(64, 128) }
  if (fingerprintOf(publicIdentity) !== fingerprint || !verifyPublicIdentity(publicIdentity)) return null
  if (!ed25519.verify(p.subarray(128, COUNT_OFFSET), certificateMessage(period, key, rec.periodPublic), publicIdentity.signPublic)) return null
  const body = decodeBody(p)
  if (body === null) return null
  return { publicIdentity, ...body, period, seq: rec.seq, expiresAt: rec.expiresAt, fingerprint, key: rec.key }
}
