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
import { signedMessage, type PresenceRecord, type RecordAddress, type AddressKind, type VerifiedRecord } from './records.js'
import {
  RECORD_TYPE_PRESENCE, RECORD_MAX_ADDRESSES, RECORD_HEADER_BYTES, RECORD_PLAINTEXT_BYTES, RECORD_BYTES,
  RECORD_SIGNATURE_BYTES, EXPIRY_GRANULE_MS
} from './constants.js'
import { errors } from '../errors.js'

const KIND_CODE: Record<AddressKind, number> = { lan: 1, public: 2, relay: 3 }
const KIND_NAME: Record<number, AddressKind> = { 1: 'lan', 2: 'public', 3: 'relay' }
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
    const ip = parseIp(a.host)
    if (ip === null || !Number.isInteger(a.port) || a.port < 1 || a.port > 65535 || KIND_CODE[a.kind] === undefined) {
      throw errors.BAD_ARGUMENT(`record address: expected an IP literal, port 1..65535 and kind lan|public|relay, got ${a.host}:${a.port} ${a.kind}`)
    }
    out[off] = KIND_CODE[a.kind]
    off = writeAddress(view, out, off + 1, { family: ip.length === 4 ? 4 : 6, ip, port: a.port })
  }
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

function decodeAddresses (p: Uint8Array): RecordAddress[] | null {
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
  // one encoding per content: the padding is zeros
  return p.subarray(off).every(b => b === 0) ? out : null
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
  const addresses = decodeAddresses(p)
  if (addresses === null) return null
  return { publicIdentity, addresses, period, seq: rec.seq, expiresAt: rec.expiresAt, fingerprint, key: rec.key }
}
