// Envelope payload bodies: one msgpack map per payload type, validated field by field.
// proto-spec/envelope.md §3. One validator per type serves both directions: encodePayload runs it
// on what it is about to send (misuse throws WIRE_ENCODE), decodePayload on what arrived (a reason,
// never a throw). Unknown map keys are ignored (forward compatibility, envelope.md §3.1).
// Text fields travel as msgpack `bin` holding UTF-8: msgpackr's `str` decoding silently replaces
// invalid UTF-8 with U+FFFD, and we would rather reject than alter what the sender signed.
import { Packr, Unpackr } from 'msgpackr'
import { isIP } from 'node:net'
import {
  PayloadType, PresenceCode, MAX_PAYLOAD_BYTES, TEXT_MAX_BYTES, FILE_NAME_MAX_BYTES, FILE_CHUNK_BYTES,
  FILE_MAX_BYTES, SHA256_BYTES, MESSAGE_ID_BYTES, RECEIPT_MAX_IDS, CONTACT_NAME_MAX_BYTES,
  GREETING_MAX_BYTES, PRESENCE_MAX_ADDRESSES, ADDRESS_HOST_MAX_BYTES, ED25519_PUBLIC_BYTES,
  X25519_PUBLIC_BYTES, ED25519_SIGNATURE_BYTES, BATCH_MAX_MESSAGES, BATCH_MAX_TEXT_BYTES, TIMESTAMP_MIN_MS,
  TIMESTAMP_MAX_MS, CAPS_MAX
} from './constants.js'
import { utf8 } from '../crypto/primitives.js'
import { encodeBatchBody, encodeTextBody } from './text-bodies.js'
import { errors } from '../errors.js'
import { isTerminalSafe } from '../platform/terminal-text.js'

export interface TextPayload { text: string }
export interface FilePayload {
  /** base name only: no path separators, no control characters */
  name: string
  /** whole file, bytes */
  size: number
  /** SHA-256 of the whole file */
  sha256: Uint8Array
  /** chunk number; chunks are FILE_CHUNK_BYTES long, the last one shorter */
  index: number
  data: Uint8Array
}
/** One text of a BATCH: its own id and timestamp, as if it were a TEXT envelope of its own. */
export interface BatchedText { id: Uint8Array, timestamp: number, text: string }
/** Several TEXTs in one envelope v2 message (envelope.md §3.7), in send order. */
export interface BatchPayload { messages: BatchedText[] }
export interface TypingPayload { typing: boolean }
/** READ_RECEIPT and DELIVERY_RECEIPT: the message ids being acknowledged. */
export interface ReceiptPayload { ids: Uint8Array[] }
/** The sender's public identity (proto-spec/identity.md) and an optional introduction. */
export interface ContactRequestPayload {
  signPublic: Uint8Array
  dhPublic: Uint8Array
  dhSignature: Uint8Array
  name?: string
  greeting?: string
}
export type PresenceState = 'online' | 'away' | 'offline'
export interface PresenceAddress { host: string, port: number }
/** `caps`: CAP_* bits of what the sender opens (envelope.md §3.6); absent from an older node. */
export interface PresencePayload { state: PresenceState, addresses?: PresenceAddress[], caps?: number }

export interface PayloadMap {
  [PayloadType.TEXT]: TextPayload
  [PayloadType.FILE]: FilePayload
  [PayloadType.BATCH]: BatchPayload
  [PayloadType.TYPING]: TypingPayload
  [PayloadType.READ_RECEIPT]: ReceiptPayload
  [PayloadType.DELIVERY_RECEIPT]: ReceiptPayload
  [PayloadType.CONTACT_REQUEST]: ContactRequestPayload
  [PayloadType.PRESENCE]: PresencePayload
}
export type PayloadOf<T extends PayloadType> = PayloadMap[T]
/** A payload with its type: `switch (p.type)` narrows `p.payload`. */
export type TypedPayload = { [K in PayloadType]: { type: K, payload: PayloadMap[K] } }[PayloadType]
export type PayloadResult = ({ ok: true } & TypedPayload) | { ok: false, reason: string }

const PAYLOAD_TYPES = new Set<number>(Object.values(PayloadType))
export function isPayloadType (n: number): n is PayloadType {
  return PAYLOAD_TYPES.has(n)
}

// ---- field readers over a decoded msgpack map; each throws Reject, caught at the top ----

class Reject extends Error {}
type WireMap = Map<unknown, unknown>

function isMap (v: unknown): v is WireMap {
  return v instanceof Map
}

function need (m: WireMap, key: string): unknown {
  const v = m.get(key)
  if (v === undefined) throw new Reject(`${key}: missing`)
  return v
}

/** `v` if it is bytes of a length in min..max (not copied: msgpackr may hand out views of the input). */
function sized (v: unknown, key: string, min: number, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Reject(`${key}: expected bytes`)
  if (v.length < min || v.length > max) {
    throw new Reject(min === max ? `${key}: expected ${min} bytes, got ${v.length}` : `${key}: expected ${min}..${max} bytes, got ${v.length}`)
  }
  return v
}

function bytes (v: unknown, key: string, min: number, max: number): Uint8Array {
  return new Uint8Array(sized(v, key, min, max)) // copy: the payload keeps these
}

/** UTF-8 decoded where it lies: the string is the copy (a copy of the bytes first was one more array per text). */
function text (v: unknown, key: string, min: number, max: number): string {
  const b = sized(v, key, min, max)
  try {
    return utf8.decode(b)
  } catch {
    throw new Reject(`${key}: not valid UTF-8`)
  }
}

/** A text a stranger chose and the receiver shows at once: no terminal controls, no invisible formatting. envelope.md §3.5 */
function displayText (v: unknown, key: string, max: number): string {
  const s = text(v, key, 1, max)
  if (!isTerminalSafe(s)) throw new Reject(`${key}: holds a control or invisible formatting character`)
  return s
}

function uint (v: unknown, key: string, max: number): number {
  const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new Reject(`${key}: expected an integer in 0..${max}`)
  }
  return n
}

function array (v: unknown, key: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) throw new Reject(`${key}: expected an array`)
  if (v.length < min || v.length > max) throw new Reject(`${key}: expected ${min}..${max} entries, got ${v.length}`)
  return v
}

// ---- per-type validators: wire map → typed payload ----

function fileName (v: unknown): string {
  const name = text(v, 'name', 1, FILE_NAME_MAX_BYTES)
  // A receiver writes this name to disk: only a plain base name is acceptable. envelope.md §3.3
  // eslint-disable-next-line no-control-regex
  if (name === '.' || name === '..' || /[/\\\u0000-\u001f\u007f]/.test(name)) throw new Reject('name: not a plain file name')
  return name
}

function readFile (m: WireMap): FilePayload {
  const size = uint(need(m, 'size'), 'size', FILE_MAX_BYTES)
  const chunks = Math.max(1, Math.ceil(size / FILE_CHUNK_BYTES))
  const index = uint(need(m, 'index'), 'index', chunks - 1)
  const expected = Math.min(FILE_CHUNK_BYTES, size - index * FILE_CHUNK_BYTES)
  return {
    name: fileName(need(m, 'name')),
    size,
    sha256: bytes(need(m, 'sha256'), 'sha256', SHA256_BYTES, SHA256_BYTES),
    index,
    data: bytes(need(m, 'data'), 'data', expected, expected)
  }
}

function readReceipt (m: WireMap): ReceiptPayload {
  const ids = array(need(m, 'ids'), 'ids', 1, RECEIPT_MAX_IDS)
  return { ids: ids.map(id => bytes(id, 'ids[]', MESSAGE_ID_BYTES, MESSAGE_ID_BYTES)) }
}

function readBatch (m: WireMap): BatchPayload {
  const list = array(need(m, 'msgs'), 'msgs', 1, BATCH_MAX_MESSAGES)
  const seen = new Set<string>()
  let textBytes = 0
  const messages = list.map(v => {
    if (!isMap(v)) throw new Reject('msgs[]: expected a map')
    const id = bytes(need(v, 'id'), 'msgs[].id', MESSAGE_ID_BYTES, MESSAGE_ID_BYTES)
    const key = Buffer.from(id).toString('hex')
    if (seen.has(key)) throw new Reject('msgs[].id: repeated')
    seen.add(key)
    const timestamp = uint(need(v, 'ts'), 'msgs[].ts', TIMESTAMP_MAX_MS)
    if (timestamp < TIMESTAMP_MIN_MS) throw new Reject(`msgs[].ts: expected ms in ${TIMESTAMP_MIN_MS}..${TIMESTAMP_MAX_MS}`)
    const raw = need(v, 'text')
    textBytes += raw instanceof Uint8Array ? raw.length : 0
    return { id, timestamp, text: text(raw, 'msgs[].text', 1, TEXT_MAX_BYTES) }
  })
  if (textBytes > BATCH_MAX_TEXT_BYTES) throw new Reject(`msgs: ${textBytes} bytes of text, limit ${BATCH_MAX_TEXT_BYTES}`)
  return { messages }
}

function readContactRequest (m: WireMap): ContactRequestPayload {
  const out: ContactRequestPayload = {
    signPublic: bytes(need(m, 'signPublic'), 'signPublic', ED25519_PUBLIC_BYTES, ED25519_PUBLIC_BYTES),
    dhPublic: bytes(need(m, 'dhPublic'), 'dhPublic', X25519_PUBLIC_BYTES, X25519_PUBLIC_BYTES),
    dhSignature: bytes(need(m, 'dhSignature'), 'dhSignature', ED25519_SIGNATURE_BYTES, ED25519_SIGNATURE_BYTES)
  }
  if (m.get('name') !== undefined) out.name = displayText(m.get('name'), 'name', CONTACT_NAME_MAX_BYTES)
  if (m.get('greeting') !== undefined) out.greeting = displayText(m.get('greeting'), 'greeting', GREETING_MAX_BYTES)
  return out
}

const STATE_BY_CODE = new Map<unknown, PresenceState>([
  [PresenceCode.ONLINE, 'online'], [PresenceCode.AWAY, 'away'], [PresenceCode.OFFLINE, 'offline']
])
const CODE_BY_STATE = new Map<unknown, number>([...STATE_BY_CODE].map(([c, s]) => [s, c as number]))

function readAddress (v: unknown): PresenceAddress {
  if (!isMap(v)) throw new Reject('addresses[]: expected a map')
  const host = text(need(v, 'host'), 'host', 1, ADDRESS_HOST_MAX_BYTES)
  if (isIP(host) === 0) throw new Reject('host: not an IP address literal')
  const port = uint(need(v, 'port'), 'port', 65535)
  if (port === 0) throw new Reject('port: expected 1..65535')
  return { host, port }
}

function readPresence (m: WireMap): PresencePayload {
  const state = STATE_BY_CODE.get(need(m, 'state'))
  if (state === undefined) throw new Reject('state: unknown presence state')
  const out: PresencePayload = { state }
  const addrs = m.get('addresses')
  if (addrs !== undefined) out.addresses = array(addrs, 'addresses', 0, PRESENCE_MAX_ADDRESSES).map(readAddress)
  const caps = m.get('caps')
  if (caps !== undefined) out.caps = uint(caps, 'caps', CAPS_MAX)
  return out
}

function readTyped (type: PayloadType, m: WireMap): TypedPayload {
  switch (type) {
    case PayloadType.TEXT: return { type, payload: { text: text(need(m, 'text'), 'text', 1, TEXT_MAX_BYTES) } }
    case PayloadType.FILE: return { type, payload: readFile(m) }
    case PayloadType.BATCH: return { type, payload: readBatch(m) }
    case PayloadType.TYPING: {
      const typing = need(m, 'typing')
      if (typeof typing !== 'boolean') throw new Reject('typing: expected a boolean')
      return { type, payload: { typing } }
    }
    case PayloadType.READ_RECEIPT: return { type, payload: readReceipt(m) }
    case PayloadType.DELIVERY_RECEIPT: return { type, payload: readReceipt(m) }
    case PayloadType.CONTACT_REQUEST: return { type, payload: readContactRequest(m) }
    case PayloadType.PRESENCE: return { type, payload: readPresence(m) }
  }
}

// ---- typed payload → wire map ----

function wireText (s: unknown): unknown {
  return typeof s === 'string' ? utf8.encode(s) : s
}

function toWire (type: PayloadType, p: Record<string, unknown>): WireMap {
  const m: WireMap = new Map()
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue
    if (k === 'text' || k === 'name' || k === 'greeting') m.set(k, wireText(v))
    else if (type === PayloadType.BATCH && k === 'messages' && Array.isArray(v)) {
      m.set('msgs', v.map((t: Record<string, unknown>) => new Map<unknown, unknown>([['id', t.id], ['ts', t.timestamp], ['text', wireText(t.text)]])))
    }
    else if (type === PayloadType.PRESENCE && k === 'state') m.set(k, CODE_BY_STATE.get(v) ?? v)
    else if (type === PayloadType.PRESENCE && k === 'addresses' && Array.isArray(v)) {
      m.set(k, v.map((a: Record<string, unknown>) => new Map<unknown, unknown>([['host', wireText(a.host)], ['port', a.port]])))
    } else m.set(k, v)
  }
  return m
}

const packr = /* @__PURE__ */ new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = /* @__PURE__ */ new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false, int64AsType: 'bigint' })

/** Encode a payload body. Throws WIRE_ENCODE if it breaks a limit of envelope.md §3. */
export function encodePayload<T extends PayloadType> (type: T, payload: PayloadOf<T>): Uint8Array {
  if (!isPayloadType(type)) throw errors.WIRE_ENCODE(`payload type ${String(type)} is not defined`)
  // a burst's payloads, written directly (the same bytes); anything else goes the general way
  const direct = type === PayloadType.TEXT ? encodeTextBody(payload as TextPayload) : type === PayloadType.BATCH ? encodeBatchBody(payload as BatchPayload) : undefined
  if (direct !== undefined) return direct
  return encodePayloadGeneral(type, payload)
}

/** encodePayload through the wire map, its validator and msgpackr: every payload type (tests compare text-bodies.ts with it). */
export function encodePayloadGeneral<T extends PayloadType> (type: T, payload: PayloadOf<T>): Uint8Array {
  const m = toWire(type, payload as unknown as Record<string, unknown>)
  try {
    readTyped(type, m)
  } catch (err) {
    if (err instanceof Reject) throw errors.WIRE_ENCODE(`payload 0x${type.toString(16)}: ${err.message}`)
    throw err
  }
  const out = new Uint8Array(packr.pack(m))
  if (out.length > MAX_PAYLOAD_BYTES) throw errors.WIRE_ENCODE(`payload: ${out.length} bytes, limit ${MAX_PAYLOAD_BYTES}`)
  return out
}

/** Decode and validate a payload body of the given type. Never throws. */
export function decodePayload (type: number, body: Uint8Array): PayloadResult {
  if (!isPayloadType(type)) return { ok: false, reason: `unknown payload type ${type}` }
  if (body.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: `payload: ${body.length} bytes, limit ${MAX_PAYLOAD_BYTES}` }
  let m: unknown
  try {
    m = unpackr.unpack(body)
  } catch {
    return { ok: false, reason: 'payload: not a single well-formed msgpack value' }
  }
  if (!isMap(m)) return { ok: false, reason: 'payload: expected a msgpack map' }
  try {
    return { ok: true, ...readTyped(type, m) }
  } catch (err) {
    if (err instanceof Reject) return { ok: false, reason: err.message }
    return { ok: false, reason: 'payload: invalid' }
  }
}
