// Outer framing of every datagram on a node's one UDP socket, and the demux between STUN, Noise
// handshakes, session data, cookies and DHT RPCs. proto-spec/wire.md §2–§5.
// Decoders never throw on network input: they return a typed packet or a DropReason. Byte fields
// of a decoded packet are views into the datagram (no copy); copy them to keep them.
import {
  VERSION_MARKER, VERSION_MARKER_MASK, VERSION_MASK, WIRE_VERSION, WIRE_VERSION_INVARIANT,
  SUPPORTED_WIRE_VERSIONS, PacketType, HandshakePattern, DHT_TYPE_FIRST, DHT_TYPE_LAST, TRAVERSAL_TYPE_FIRST, TRAVERSAL_TYPE_LAST,
  MAX_DATAGRAM_BYTES, MAX_TRANSPORT_DATAGRAM_BYTES, COOKIE_BYTES, MAC1_BYTES, AEAD_TAG_BYTES, HANDSHAKE_INITIATION_HEADER_BYTES, HANDSHAKE_INITIATION_MIN_BYTES,
  HANDSHAKE_RESPONSE_HEADER_BYTES, HANDSHAKE_FINAL_HEADER_BYTES, NOISE_INITIATION_MIN_BYTES,
  NOISE_RESPONSE_MIN_BYTES, NOISE_FINAL_MIN_BYTES, COOKIE_REPLY_BYTES,
  VERSION_NEGOTIATION_HEADER_BYTES, VERSION_NEGOTIATION_MAX_VERSIONS, TRANSPORT_DATA_HEADER_BYTES,
  TRANSPORT_DATA_MIN_BYTES, SESSION_CLOSE_BYTES, MAX_COUNTER, DHT_HEADER_BYTES, STUN_HEADER_BYTES, STUN_MAGIC_COOKIE
} from './constants.js'
import type { DropReason } from './drops.js'
import { errors } from '../errors.js'

export interface HandshakeInitiation {
  kind: 'handshake-initiation'
  /** initiator's session index: the responder puts it in every packet it sends back */
  senderIndex: number
  pattern: HandshakePattern
  /** DoS cookie echoed from a COOKIE_REPLY (wire.md §4.4), or null */
  cookie: Uint8Array | null
  /** Noise message 1 */
  message: Uint8Array
  /**
   * The last 16 bytes: a MAC over everything before them keyed by the responder's fingerprint
   * (wire.md §4.1.1, src/wire/mac1.ts). The decoder only frames it; the responder checks it.
   */
  mac1: Uint8Array
}
export interface HandshakeResponse {
  kind: 'handshake-response'
  senderIndex: number
  receiverIndex: number
  /** Noise message 2 */
  message: Uint8Array
}
export interface HandshakeFinal {
  kind: 'handshake-final'
  receiverIndex: number
  /** Noise message 3 (XX only) */
  message: Uint8Array
}
export interface CookieReply {
  kind: 'cookie-reply'
  receiverIndex: number
  cookie: Uint8Array
}
export interface VersionNegotiation {
  kind: 'version-negotiation'
  /** the sender index of the initiation being answered */
  receiverIndex: number
  versions: number[]
}
export interface TransportData {
  kind: 'transport-data'
  receiverIndex: number
  /** explicit 64-bit nonce counter (Noise §5.1 n); the receiver's replay window checks it */
  counter: bigint
  ciphertext: Uint8Array
}
/** An authenticated end of session (wire.md §4.8): TRANSPORT_DATA's layout, empty plaintext. */
export interface SessionClose {
  kind: 'session-close'
  receiverIndex: number
  counter: bigint
  /** the AEAD tag of an empty plaintext, AD = the 14-byte header (type 0x12 included) */
  ciphertext: Uint8Array
}
export interface DhtPacket {
  kind: 'dht'
  /** DHT_TYPE_FIRST..DHT_TYPE_LAST; proto-spec/dht.md defines the body */
  type: number
  body: Uint8Array
}
export type Packet =
  | HandshakeInitiation | HandshakeResponse | HandshakeFinal | CookieReply
  | VersionNegotiation | TransportData | SessionClose | DhtPacket

export type DecodeResult = { ok: true, packet: Packet } | { ok: false, reason: DropReason }
export type DatagramClass = 'stun' | 'dmess' | 'unknown'

const UINT32_MAX = 0xffffffff

function view (buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
}

function isStun (buf: Uint8Array): boolean {
  // RFC 8489 §5: top two bits zero, magic cookie at 4–7, length field a multiple of 4 that
  // covers exactly the attributes after the 20-byte header (one message per UDP datagram).
  // (checked byte by byte: this runs on every datagram, and a DataView per packet adds up)
  if (buf.length < STUN_HEADER_BYTES || ((buf[0] ?? 0) & 0xc0) !== 0) return false
  const length = ((buf[2] ?? 0) << 8) | (buf[3] ?? 0)
  if ((length & 3) !== 0 || length + STUN_HEADER_BYTES !== buf.length) return false
  // RFC 3489 §11.1: a classic client's Binding request has no cookie (bytes 4–19 are its
  // transaction id); we take that one message type too, so the STUN server can answer it
  return readU32(buf, 4) === STUN_MAGIC_COOKIE || (buf[0] === 0x00 && buf[1] === 0x01)
}

/** Which component a datagram belongs to, from its first bytes only. wire.md §2.1 */
export function classifyDatagram (buf: Uint8Array): DatagramClass {
  if (isStun(buf)) return 'stun'
  if (buf.length >= 2 && ((buf[0] ?? 0) & VERSION_MARKER_MASK) === VERSION_MARKER) return 'dmess'
  return 'unknown'
}

/** A version-1 traversal packet (wire.md §2.2, types 0x40–0x4f: proto-spec/traversal.md §4), from its first two bytes. */
export function isTraversalDatagram (buf: Uint8Array): boolean {
  const type = buf[1] ?? 0
  return buf.length >= 2 && buf[0] === (VERSION_MARKER | WIRE_VERSION) && type >= TRAVERSAL_TYPE_FIRST && type <= TRAVERSAL_TYPE_LAST
}

/** Decode one dmess datagram, or say why it is dropped. Never throws. wire.md §5 */
export function decodePacketResult (buf: Uint8Array): DecodeResult {
  if (buf.length === 0) return drop('empty')
  if (classifyDatagram(buf) !== 'dmess') return drop('not-dmess')
  if (buf.length > maxDatagramBytes(buf[1] ?? 0)) return drop('too-large')
  const version = (buf[0] ?? 0) & VERSION_MASK
  const type = buf[1] ?? 0
  if (version === WIRE_VERSION_INVARIANT) {
    return type === PacketType.VERSION_NEGOTIATION ? decodeVersionNegotiation(buf) : drop('unknown-type')
  }
  if (version !== WIRE_VERSION) return drop('unsupported-version')
  return decodeV1(buf, type)
}

/** Decode one dmess datagram; null for anything malformed (see decodePacketResult for why). */
export function decodePacket (buf: Uint8Array): Packet | null {
  const r = decodePacketResult(buf)
  return r.ok ? r.packet : null
}

function decodeV1 (buf: Uint8Array, type: number): DecodeResult {
  switch (type) {
    case PacketType.HANDSHAKE_INITIATION: return decodeInitiation(buf)
    case PacketType.HANDSHAKE_RESPONSE: return decodeResponse(buf)
    case PacketType.HANDSHAKE_FINAL: return decodeFinal(buf)
    case PacketType.COOKIE_REPLY: return decodeCookieReply(buf)
    case PacketType.TRANSPORT_DATA: return decodeTransportData(buf)
    case PacketType.SESSION_CLOSE: return decodeSessionClose(buf)
  }
  if (type >= DHT_TYPE_FIRST && type <= DHT_TYPE_LAST) {
    return ok({ kind: 'dht', type, body: buf.subarray(DHT_HEADER_BYTES) })
  }
  return drop('unknown-type')
}

function drop (reason: DropReason): DecodeResult {
  return { ok: false, reason }
}

function ok (packet: Packet): DecodeResult {
  return { ok: true, packet }
}

function readU32 (buf: Uint8Array, offset: number): number {
  return (((buf[offset] ?? 0) << 24) | ((buf[offset + 1] ?? 0) << 16) | ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0)) >>> 0
}

/** Session indices are random non-zero u32s; zero means "none" and is never on the wire. */
function readIndex (buf: Uint8Array, offset: number): number {
  return readU32(buf, offset)
}

const U32_RANGE = 0x1_0000_0000
/** Below 2^53 a counter is exact as a number: one BigInt per packet instead of four. */
const SAFE_HIGH_WORD = 2 ** 21
const SAFE_COUNTER = BigInt(Number.MAX_SAFE_INTEGER)

/** A u64 counter (wire.md §4.6), big-endian. */
function readCounter (buf: Uint8Array, offset: number): bigint {
  const hi = readU32(buf, offset)
  const lo = readU32(buf, offset + 4)
  return hi < SAFE_HIGH_WORD ? BigInt(hi * U32_RANGE + lo) : (BigInt(hi) << 32n) | BigInt(lo)
}

function isPattern (p: number): p is HandshakePattern {
  return p === HandshakePattern.XX || p === HandshakePattern.IK
}

function decodeInitiation (buf: Uint8Array): DecodeResult {
  // wire.md §4.1: [0]marker [1]type [2..6)sender [6]pattern [7]cookie length L [8..8+L)cookie
  //               [8+L..10+L)noise length N [10+L..10+L+N)noise msg, zero padding, mac1 (16)
  if (buf.length < HANDSHAKE_INITIATION_MIN_BYTES) return drop('truncated')
  const senderIndex = readIndex(buf, 2)
  const pattern = buf[6] ?? 0
  const cookieLen = buf[7] ?? 0
  if (senderIndex === 0 || !isPattern(pattern)) return drop('bad-field')
  if (cookieLen !== 0 && cookieLen !== COOKIE_BYTES) return drop('bad-field')
  const start = HANDSHAKE_INITIATION_HEADER_BYTES + cookieLen
  const noiseLen = view(buf).getUint16(start - 2)
  if (noiseLen < NOISE_INITIATION_MIN_BYTES) return drop('bad-field')
  const end = start + noiseLen
  if (end + MAC1_BYTES > buf.length) return drop('truncated')
  // Canonical padding: exactly up to the minimum size, all zero, then mac1.
  const macAt = buf.length - MAC1_BYTES
  if (buf.length !== Math.max(end + MAC1_BYTES, HANDSHAKE_INITIATION_MIN_BYTES) || buf.subarray(end, macAt).some(b => b !== 0)) return drop('bad-field')
  const cookie = cookieLen === 0 ? null : buf.subarray(HANDSHAKE_INITIATION_HEADER_BYTES - 2, start - 2)
  return ok({ kind: 'handshake-initiation', senderIndex, pattern, cookie, message: buf.subarray(start, end), mac1: buf.subarray(macAt) })
}

function decodeResponse (buf: Uint8Array): DecodeResult {
  // wire.md §4.2: [0]marker [1]type [2..6)sender [6..10)receiver [10..)noise msg
  if (buf.length < HANDSHAKE_RESPONSE_HEADER_BYTES + NOISE_RESPONSE_MIN_BYTES) return drop('truncated')
  const senderIndex = readIndex(buf, 2)
  const receiverIndex = readIndex(buf, 6)
  if (senderIndex === 0 || receiverIndex === 0) return drop('bad-field')
  return ok({ kind: 'handshake-response', senderIndex, receiverIndex, message: buf.subarray(HANDSHAKE_RESPONSE_HEADER_BYTES) })
}

function decodeFinal (buf: Uint8Array): DecodeResult {
  // wire.md §4.3: [0]marker [1]type [2..6)receiver [6..)noise msg
  if (buf.length < HANDSHAKE_FINAL_HEADER_BYTES + NOISE_FINAL_MIN_BYTES) return drop('truncated')
  const receiverIndex = readIndex(buf, 2)
  if (receiverIndex === 0) return drop('bad-field')
  return ok({ kind: 'handshake-final', receiverIndex, message: buf.subarray(HANDSHAKE_FINAL_HEADER_BYTES) })
}

function decodeCookieReply (buf: Uint8Array): DecodeResult {
  // wire.md §4.4: fixed 22 bytes: [0]marker [1]type [2..6)receiver [6..22)cookie
  if (buf.length < COOKIE_REPLY_BYTES) return drop('truncated')
  if (buf.length > COOKIE_REPLY_BYTES) return drop('bad-field')
  const receiverIndex = readIndex(buf, 2)
  if (receiverIndex === 0) return drop('bad-field')
  return ok({ kind: 'cookie-reply', receiverIndex, cookie: buf.subarray(6, COOKIE_REPLY_BYTES) })
}

function decodeVersionNegotiation (buf: Uint8Array): DecodeResult {
  // wire.md §4.5: [0]0xc0 [1]type [2..6)receiver [6]count [7..7+count)versions
  if (buf.length < VERSION_NEGOTIATION_HEADER_BYTES + 1) return drop('truncated')
  const receiverIndex = readIndex(buf, 2)
  const count = buf[6] ?? 0
  if (receiverIndex === 0 || count === 0 || count > VERSION_NEGOTIATION_MAX_VERSIONS) return drop('bad-field')
  if (buf.length < VERSION_NEGOTIATION_HEADER_BYTES + count) return drop('truncated')
  if (buf.length > VERSION_NEGOTIATION_HEADER_BYTES + count) return drop('bad-field')
  const versions = Array.from(buf.subarray(VERSION_NEGOTIATION_HEADER_BYTES))
  if (versions.some(v => v === 0 || v > VERSION_MASK)) return drop('bad-field')
  return ok({ kind: 'version-negotiation', receiverIndex, versions })
}

function decodeTransportData (buf: Uint8Array): DecodeResult {
  // wire.md §4.6: [0]marker [1]type [2..6)receiver [6..14)counter [14..)ciphertext ‖ tag
  if (buf.length < TRANSPORT_DATA_MIN_BYTES) return drop('truncated')
  const receiverIndex = readIndex(buf, 2)
  const counter = readCounter(buf, 6)
  if (receiverIndex === 0 || counter > MAX_COUNTER) return drop('bad-field')
  return ok({ kind: 'transport-data', receiverIndex, counter, ciphertext: buf.subarray(TRANSPORT_DATA_HEADER_BYTES) })
}

function decodeSessionClose (buf: Uint8Array): DecodeResult {
  // wire.md §4.8: [0]marker [1]type [2..6)receiver [6..14)counter [14..30)tag — fixed 30 bytes
  if (buf.length < SESSION_CLOSE_BYTES) return drop('truncated')
  if (buf.length > SESSION_CLOSE_BYTES) return drop('bad-field')
  const receiverIndex = readIndex(buf, 2)
  const counter = readCounter(buf, 6)
  if (receiverIndex === 0 || counter > MAX_COUNTER) return drop('bad-field')
  return ok({ kind: 'session-close', receiverIndex, counter, ciphertext: buf.subarray(TRANSPORT_DATA_HEADER_BYTES) })
}

// ---- encoders (local input: misuse throws WIRE_ENCODE) ----

function checkIndex (what: string, index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > UINT32_MAX) {
    throw errors.WIRE_ENCODE(`${what}: expected an integer in 1..${UINT32_MAX}, got ${index}`)
  }
}

function checkTotal (what: string, total: number, limit = MAX_DATAGRAM_BYTES): void {
  if (total > limit) {
    throw errors.WIRE_ENCODE(`${what}: datagram would be ${total} bytes, limit ${limit}`)
  }
}

/** wire.md §3: TRANSPORT_DATA may be as large as a confirmed path allows; every other type 1400. */
function maxDatagramBytes (type: number): number {
  return type === PacketType.TRANSPORT_DATA ? MAX_TRANSPORT_DATAGRAM_BYTES : MAX_DATAGRAM_BYTES
}

function checkMin (what: string, got: number, min: number): void {
  if (got < min) throw errors.WIRE_ENCODE(`${what}: expected at least ${min} bytes, got ${got}`)
}

function header (version: number, type: number, total: number): { out: Uint8Array, v: DataView } {
  const out = new Uint8Array(total)
  out[0] = VERSION_MARKER | version
  out[1] = type
  return { out, v: view(out) }
}

/**
 * An initiation with `p.mac1` as its last 16 bytes (zeros when absent). The initiator computes
 * the real one over the encoded bytes: src/wire/mac1.ts `sealMac1`.
 */
export function encodeHandshakeInitiation (p: Omit<HandshakeInitiation, 'kind' | 'mac1'> & { mac1?: Uint8Array }): Uint8Array {
  checkIndex('handshake initiation sender index', p.senderIndex)
  if (!isPattern(p.pattern)) throw errors.WIRE_ENCODE(`handshake initiation: unknown pattern ${p.pattern}`)
  const cookieLen = p.cookie === null ? 0 : p.cookie.length
  if (cookieLen !== 0 && cookieLen !== COOKIE_BYTES) {
    throw errors.WIRE_ENCODE(`handshake initiation cookie: expected ${COOKIE_BYTES} bytes, got ${cookieLen}`)
  }
  checkMin('handshake initiation noise message', p.message.length, NOISE_INITIATION_MIN_BYTES)
  const start = HANDSHAKE_INITIATION_HEADER_BYTES + cookieLen
  if (p.mac1 !== undefined && p.mac1.length !== MAC1_BYTES) throw errors.WIRE_ENCODE(`handshake initiation mac1: expected ${MAC1_BYTES} bytes, got ${p.mac1.length}`)
  checkTotal('handshake initiation', start + p.message.length + MAC1_BYTES)
  // zero padding up to HANDSHAKE_INITIATION_MIN_BYTES (anti-amplification, wire.md §4.1), mac1 last
  const total = Math.max(start + p.message.length + MAC1_BYTES, HANDSHAKE_INITIATION_MIN_BYTES)
  const { out, v } = header(WIRE_VERSION, PacketType.HANDSHAKE_INITIATION, total)
  v.setUint32(2, p.senderIndex)
  out[6] = p.pattern
  out[7] = cookieLen
  if (p.cookie !== null) out.set(p.cookie, 8)
  v.setUint16(start - 2, p.message.length)
  out.set(p.message, start)
  if (p.mac1 !== undefined) out.set(p.mac1, total - MAC1_BYTES)
  return out
}

export function encodeHandshakeResponse (p: Omit<HandshakeResponse, 'kind'>): Uint8Array {
  checkIndex('handshake response sender index', p.senderIndex)
  checkIndex('handshake response receiver index', p.receiverIndex)
  checkMin('handshake response noise message', p.message.length, NOISE_RESPONSE_MIN_BYTES)
  const total = HANDSHAKE_RESPONSE_HEADER_BYTES + p.message.length
  checkTotal('handshake response', total)
  const { out, v } = header(WIRE_VERSION, PacketType.HANDSHAKE_RESPONSE, total)
  v.setUint32(2, p.senderIndex)
  v.setUint32(6, p.receiverIndex)
  out.set(p.message, HANDSHAKE_RESPONSE_HEADER_BYTES)
  return out
}

export function encodeHandshakeFinal (p: Omit<HandshakeFinal, 'kind'>): Uint8Array {
  checkIndex('handshake final receiver index', p.receiverIndex)
  checkMin('handshake final noise message', p.message.length, NOISE_FINAL_MIN_BYTES)
  const total = HANDSHAKE_FINAL_HEADER_BYTES + p.message.length
  checkTotal('handshake final', total)
  const { out, v } = header(WIRE_VERSION, PacketType.HANDSHAKE_FINAL, total)
  v.setUint32(2, p.receiverIndex)
  out.set(p.message, HANDSHAKE_FINAL_HEADER_BYTES)
  return out
}

export function encodeCookieReply (p: Omit<CookieReply, 'kind'>): Uint8Array {
  checkIndex('cookie reply receiver index', p.receiverIndex)
  if (p.cookie.length !== COOKIE_BYTES) {
    throw errors.WIRE_ENCODE(`cookie reply cookie: expected ${COOKIE_BYTES} bytes, got ${p.cookie.length}`)
  }
  const { out, v } = header(WIRE_VERSION, PacketType.COOKIE_REPLY, COOKIE_REPLY_BYTES)
  v.setUint32(2, p.receiverIndex)
  out.set(p.cookie, 6)
  return out
}

export function encodeVersionNegotiation (p: Omit<VersionNegotiation, 'kind'>): Uint8Array {
  checkIndex('version negotiation receiver index', p.receiverIndex)
  const n = p.versions.length
  if (n < 1 || n > VERSION_NEGOTIATION_MAX_VERSIONS || p.versions.some(x => !Number.isInteger(x) || x < 1 || x > VERSION_MASK)) {
    throw errors.WIRE_ENCODE(`version negotiation: expected 1..${VERSION_NEGOTIATION_MAX_VERSIONS} versions in 1..${VERSION_MASK}, got [${p.versions.join(', ')}]`)
  }
  // version 0: this packet's layout is the same in every version (wire.md §4.5)
  const { out, v } = header(WIRE_VERSION_INVARIANT, PacketType.VERSION_NEGOTIATION, VERSION_NEGOTIATION_HEADER_BYTES + n)
  v.setUint32(2, p.receiverIndex)
  out[6] = n
  out.set(p.versions, VERSION_NEGOTIATION_HEADER_BYTES)
  return out
}

/**
 * The 14-byte header of a TRANSPORT_DATA packet (or, with `type`, of a SESSION_CLOSE); noise.md
 * binds it as the AEAD's associated data, so the type byte cannot be changed in transit.
 */
export function encodeTransportDataHeader (
  receiverIndex: number, counter: bigint,
  type: typeof PacketType.TRANSPORT_DATA | typeof PacketType.SESSION_CLOSE = PacketType.TRANSPORT_DATA
): Uint8Array {
  const out = new Uint8Array(TRANSPORT_DATA_HEADER_BYTES)
  writeTransportDataHeader(out, receiverIndex, counter, type)
  return out
}

/**
 * The same 14 header bytes written at the start of `out` (wire.md §4.6), so a sender can build
 * header ‖ ciphertext ‖ tag in one buffer: the per-packet path allocates once.
 */
export function writeTransportDataHeader (
  out: Uint8Array, receiverIndex: number, counter: bigint,
  type: typeof PacketType.TRANSPORT_DATA | typeof PacketType.SESSION_CLOSE = PacketType.TRANSPORT_DATA
): void {
  checkIndex('transport data receiver index', receiverIndex)
  if (counter < 0n || counter > MAX_COUNTER) throw errors.WIRE_ENCODE(`transport data counter: expected 0..2^64-2, got ${counter}`)
  if (out.length < TRANSPORT_DATA_HEADER_BYTES) throw errors.WIRE_ENCODE(`transport data header: needs ${TRANSPORT_DATA_HEADER_BYTES} bytes, got ${out.length}`)
  out[0] = VERSION_MARKER | WIRE_VERSION
  out[1] = type
  writeU32(out, 2, receiverIndex)
  if (counter <= SAFE_COUNTER) { // exact as a number: no BigInt temporaries per packet
    const c = Number(counter)
    writeU32(out, 6, Math.floor(c / U32_RANGE))
    writeU32(out, 10, c % U32_RANGE)
    return
  }
  writeU32(out, 6, Number(counter >> 32n))
  writeU32(out, 10, Number(counter & 0xffffffffn))
}

function writeU32 (out: Uint8Array, offset: number, v: number): void {
  out[offset] = v >>> 24
  out[offset + 1] = v >>> 16
  out[offset + 2] = v >>> 8
  out[offset + 3] = v
}

export function encodeTransportData (p: Omit<TransportData, 'kind'>): Uint8Array {
  checkMin('transport data ciphertext', p.ciphertext.length, AEAD_TAG_BYTES)
  const total = TRANSPORT_DATA_HEADER_BYTES + p.ciphertext.length
  checkTotal('transport data', total, MAX_TRANSPORT_DATAGRAM_BYTES)
  const head = encodeTransportDataHeader(p.receiverIndex, p.counter)
  const out = new Uint8Array(total)
  out.set(head, 0)
  out.set(p.ciphertext, TRANSPORT_DATA_HEADER_BYTES)
  return out
}

function encodeSessionClose (p: Omit<SessionClose, 'kind'>): Uint8Array {
  if (p.ciphertext.length !== AEAD_TAG_BYTES) {
    throw errors.WIRE_ENCODE(`session close: expected a ${AEAD_TAG_BYTES}-byte tag, got ${p.ciphertext.length} bytes`)
  }
  const out = new Uint8Array(SESSION_CLOSE_BYTES)
  out.set(encodeTransportDataHeader(p.receiverIndex, p.counter, PacketType.SESSION_CLOSE), 0)
  out.set(p.ciphertext, TRANSPORT_DATA_HEADER_BYTES)
  return out
}

export function encodeDhtPacket (p: Omit<DhtPacket, 'kind'>): Uint8Array {
  if (!Number.isInteger(p.type) || p.type < DHT_TYPE_FIRST || p.type > DHT_TYPE_LAST) {
    throw errors.WIRE_ENCODE(`dht packet type: expected 0x${DHT_TYPE_FIRST.toString(16)}..0x${DHT_TYPE_LAST.toString(16)}, got ${p.type}`)
  }
  const total = DHT_HEADER_BYTES + p.body.length
  checkTotal('dht packet', total)
  const { out } = header(WIRE_VERSION, p.type, total)
  out.set(p.body, DHT_HEADER_BYTES)
  return out
}

/** Encode any packet; the inverse of decodePacket. */
export function encodePacket (p: Packet): Uint8Array {
  switch (p.kind) {
    case 'handshake-initiation': return encodeHandshakeInitiation(p)
    case 'handshake-response': return encodeHandshakeResponse(p)
    case 'handshake-final': return encodeHandshakeFinal(p)
    case 'cookie-reply': return encodeCookieReply(p)
    case 'version-negotiation': return encodeVersionNegotiation(p)
    case 'transport-data': return encodeTransportData(p)
    case 'session-close': return encodeSessionClose(p)
    case 'dht': return encodeDhtPacket(p)
  }
}

/**
 * The reply owed to a handshake initiation in a version we do not speak (wire.md §5.2), or null
 * if none is owed. Only initiations of at least HANDSHAKE_INITIATION_MIN_BYTES get one, so it is
 * never larger than the datagram it answers. The caller first checks its mac1 (the last 16 bytes
 * of an initiation in every version, wire.md §2.3) and rate-limits replies per source address.
 */
export function versionNegotiationReply (buf: Uint8Array): Uint8Array | null {
  if (classifyDatagram(buf) !== 'dmess' || buf.length > MAX_DATAGRAM_BYTES) return null
  const version = (buf[0] ?? 0) & VERSION_MASK
  if (version === WIRE_VERSION_INVARIANT || SUPPORTED_WIRE_VERSIONS.includes(version)) return null
  // Version-invariant (wire.md §2.3): type 0x01 is an initiation with its sender index at 2..6.
  if (buf[1] !== PacketType.HANDSHAKE_INITIATION) return null
  if (buf.length < HANDSHAKE_INITIATION_MIN_BYTES) return null
  const senderIndex = readIndex(buf, 2)
  if (senderIndex === 0) return null
  return encodeVersionNegotiation({ receiverIndex: senderIndex, versions: [...SUPPORTED_WIRE_VERSIONS] })
}
