// The STUN message codec (RFC 8489 §5, §14): header, attribute TLVs with 4-byte padding,
// FINGERPRINT. Pure: bytes in, a typed message or the reason it is dropped out; decode never
// throws on any input (test/stun/codec-fuzz.test.ts). Attribute values are views into the
// datagram. Classic RFC 3489 messages (no magic cookie, 16-byte transaction id) decode too, so
// the server can answer old clients. proto-spec/stun.md §2.
import { crc32 } from 'node:zlib'
import {
  Attr, CLASS_BITS, FINGERPRINT_XOR, LEGACY_TRANSACTION_ID_BYTES, STUN_HEADER_BYTES, STUN_MAGIC_COOKIE,
  TRANSACTION_ID_BYTES, type StunClass
} from './constants.js'

export interface StunAttribute {
  type: number
  /** the value without padding (a view into the message) */
  value: Uint8Array
}

export interface StunMessage {
  method: number
  cls: StunClass
  /** RFC 3489 framing: no magic cookie, a 16-byte transaction id (bytes 4–19) */
  legacy: boolean
  /** 12 bytes (RFC 8489), 16 for a legacy message */
  transactionId: Uint8Array
  /** in order, without those RFC 8489 §14.5 says to ignore (after MESSAGE-INTEGRITY) */
  attributes: StunAttribute[]
  /** the whole datagram (MESSAGE-INTEGRITY is checked over it, src/stun/integrity.ts) */
  bytes: Uint8Array
}

export type StunDropReason =
  /** shorter than the 20-byte header */
  | 'short'
  /** top two bits not zero (RFC 8489 §5): not STUN */
  | 'not-stun'
  /** the length field is not a multiple of 4 or does not cover exactly the rest of the datagram */
  | 'bad-length'
  /** an attribute runs past the end of the message */
  | 'truncated-attribute'
  /** an attribute follows FINGERPRINT (RFC 8489 §14.7: it is last) */
  | 'after-fingerprint'
  /** FINGERPRINT is not 4 bytes or does not match */
  | 'bad-fingerprint'

export type StunDecodeResult = { ok: true, message: StunMessage } | { ok: false, reason: StunDropReason }

const CLASS_OF: readonly StunClass[] = ['request', 'indication', 'success', 'error']

/** RFC 8489 §5 Figure 3: the method's 12 bits interleaved with the class's 2. */
export function messageType (method: number, cls: StunClass): number {
  const c = CLASS_BITS[cls]
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
}

export function splitMessageType (type: number): { method: number, cls: StunClass } {
  const c = ((type >> 4) & 1) | ((type >> 7) & 2)
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80)
  return { method, cls: CLASS_OF[c]! }
}

export const padded = (n: number): number => (n + 3) & ~3

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!

/** RFC 8489 §14.7: CRC-32 (ISO 3309, as zlib computes it) of everything before FINGERPRINT, XOR 0x5354554E. */
export function fingerprintOf (bytesBefore: Uint8Array): number {
  return (crc32(bytesBefore) ^ FINGERPRINT_XOR) >>> 0
}

/** Decode one STUN message, or say why it is dropped. Never throws. */
export function decodeStun (buf: Uint8Array): StunDecodeResult {
  if (buf.length < STUN_HEADER_BYTES) return { ok: false, reason: 'short' }
  if ((buf[0]! & 0xc0) !== 0) return { ok: false, reason: 'not-stun' }
  const length = u16(buf, 2)
  if ((length & 3) !== 0 || length + STUN_HEADER_BYTES !== buf.length) return { ok: false, reason: 'bad-length' }
  const legacy = u32(buf, 4) !== STUN_MAGIC_COOKIE
  const { method, cls } = splitMessageType(u16(buf, 0))
  const transactionId = legacy ? buf.subarray(4, 4 + LEGACY_TRANSACTION_ID_BYTES) : buf.subarray(8, 8 + TRANSACTION_ID_BYTES)
  const attributes: StunAttribute[] = []
  let afterIntegrity = false
  for (let at = STUN_HEADER_BYTES; at < buf.length;) {
    if (at + 4 > buf.length) return { ok: false, reason: 'truncated-attribute' }
    const type = u16(buf, at)
    const len = u16(buf, at + 2)
    if (at + 4 + padded(len) > buf.length) return { ok: false, reason: 'truncated-attribute' }
    const value = buf.subarray(at + 4, at + 4 + len)
    if (type === Attr.FINGERPRINT) {
      // §14.7: the last attribute, over everything before it
      if (at + 8 !== buf.length) return { ok: false, reason: 'after-fingerprint' }
      if (len !== 4 || u32(value, 0) !== fingerprintOf(buf.subarray(0, at))) return { ok: false, reason: 'bad-fingerprint' }
      attributes.push({ type, value })
    } else if (!afterIntegrity || type === Attr.MESSAGE_INTEGRITY_SHA256) {
      // §14.5: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count
      attributes.push({ type, value })
    }
    if (type === Attr.MESSAGE_INTEGRITY) afterIntegrity = true
    at += 4 + padded(len)
  }
  return { ok: true, message: { method, cls, legacy, transactionId, attributes, bytes: buf } }
}

/** The first attribute of `type` (RFC 8489 §14: later duplicates may be ignored), or undefined. */
export function attribute (m: StunMessage, type: number): Uint8Array | undefined {
  return m.attributes.find(a => a.type === type)?.value
}

export interface StunMessageInit {
  method: number
  cls: StunClass
  /** 12 bytes; 16 bytes writes a classic RFC 3489 header (no magic cookie) */
  transactionId: Uint8Array
  attributes?: StunAttribute[]
  /** append FINGERPRINT (RFC 8489 §14.7); never on a legacy message, whose clients do not know it */
  fingerprint?: boolean
}

/** Encode a message; attribute values are zero-padded to 4 bytes (RFC 8489 §14). */
export function encodeStun (m: StunMessageInit): Uint8Array {
  const legacy = m.transactionId.length === LEGACY_TRANSACTION_ID_BYTES
  if (!legacy && m.transactionId.length !== TRANSACTION_ID_BYTES) throw new RangeError(`a STUN transaction id is 12 (or 16, RFC 3489) bytes, got ${m.transactionId.length}`)
  const attrs = m.attributes ?? []
  const withFingerprint = m.fingerprint === true && !legacy
  const body = attrs.reduce((n, a) => n + 4 + padded(a.value.length), 0) + (withFingerprint ? 8 : 0)
  const out = new Uint8Array(STUN_HEADER_BYTES + body)
  const dv = new DataView(out.buffer)
  dv.setUint16(0, messageType(m.method, m.cls))
  dv.setUint16(2, body)
  if (legacy) out.set(m.transactionId, 4)
  else { dv.setUint32(4, STUN_MAGIC_COOKIE); out.set(m.transactionId, 8) }
  let at = STUN_HEADER_BYTES
  for (const a of attrs) {
    if (a.value.length > 0xffff) throw new RangeError('a STUN attribute value is at most 65535 bytes')
    dv.setUint16(at, a.type)
    dv.setUint16(at + 2, a.value.length)
    out.set(a.value, at + 4)
    at += 4 + padded(a.value.length)
  }
  if (withFingerprint) {
    dv.setUint16(at, Attr.FINGERPRINT)
    dv.setUint16(at + 2, 4)
    dv.setUint32(at + 4, fingerprintOf(out.subarray(0, at)))
  }
  return out
}
