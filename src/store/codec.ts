// Value encoding: every value is one MessagePack item (msgpackr, plain maps, no record
// extension) so any MessagePack reader can inspect a store. proto-spec/storage.md §Values.
import { Packr } from 'msgpackr'
import { errors } from '../errors.js'

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

export function encode (value: unknown): Uint8Array {
  return packr.pack(value)
}

/** Decode a stored value; anything that does not parse is corruption of the named record. */
export function decode<T> (bytes: Uint8Array, what: string): T {
  try {
    return packr.unpack(bytes) as T
  } catch {
    throw errors.STORE_CORRUPT(`${what}: value is not valid MessagePack`)
  }
}

/** Decode bytes that may be garbage (an unauthenticated peek, §Search); undefined when they do not parse. */
export function tryDecode (bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes)
  } catch {
    return undefined
  }
}

/**
 * Associated data for an encrypted field: a MessagePack array of a purpose label and the
 * fields that locate the record, so a ciphertext moved to another record fails to open
 * (proto-spec/storage.md §Encryption).
 */
export function aad (label: string, ...parts: Array<string | number>): Uint8Array {
  return shortAad(label, parts) ?? packr.pack([label, ...parts])
}

/** Parts, besides the label, that shortAad writes itself (fixarray holds at most 15). */
const SHORT_AAD_MAX_PARTS = 14
const STR8_MAX = 0xff

/**
 * The same MessagePack bytes as packr.pack([label, ...parts]) (the MessagePack spec's fixarray,
 * fixstr/str8, positive fixint/uint8/16/32), written directly for the shapes every record key
 * has: ASCII strings under 256 characters and non-negative safe integers. Anything else is undefined,
 * and the caller packs it. Every sealed record and key tag builds one (test/store/codec.test.ts
 * compares the two byte for byte).
 */
function shortAad (label: string, parts: ReadonlyArray<string | number>): Uint8Array | undefined {
  if (parts.length > SHORT_AAD_MAX_PARTS) return undefined
  const head = labelBytes(label)
  if (head === undefined) return undefined
  let n = 1 + head.length
  for (const p of parts) n += typeof p === 'string' ? asciiStrBytes(p) : uintBytes(p)
  if (Number.isNaN(n)) return undefined
  // from the pool (src/platform/bytes.ts): every byte is written below; an AAD lives for one seal or tag
  const out = Buffer.allocUnsafe(n)
  out[0] = 0x90 | (parts.length + 1)
  out.set(head, 1)
  let at = 1 + head.length
  for (const p of parts) {
    if (typeof p === 'string') {
      at = writeStrHeader(out, at, p.length)
      at += out.write(p, at, p.length, 'latin1') // ASCII (checked above): one byte a character, natively
    } else at = writeUint(out, at, p)
  }
  return new Uint8Array(out.buffer, out.byteOffset, n) // a plain view: `slice` copies, as callers expect
}

/** Each AAD label's encoded bytes (labels are the code's constants: a few); undefined when it is not a short ASCII string. */
const labels = new Map<string, Uint8Array>()
const LABELS_KEPT = 64

function labelBytes (label: string): Uint8Array | undefined {
  let b = labels.get(label)
  if (b === undefined) {
    const n = strBytes(label)
    if (Number.isNaN(n)) return undefined
    b = new Uint8Array(n)
    writeStr(b, 0, label)
    if (labels.size < LABELS_KEPT) labels.set(label, b)
  }
  return b
}

/** strBytes through one native call: a string is ASCII exactly when its UTF-8 is as long as it is. */
function asciiStrBytes (s: string): number {
  if (s.length > STR8_MAX || Buffer.byteLength(s, 'utf8') !== s.length) return NaN
  return s.length + (s.length < 32 ? 1 : 2)
}

/**
 * The same bytes as packr.pack(value) for a plain object whose values are all ASCII strings under
 * 256 characters or non-negative safe integers (msgpackr writes an object as a map16, then each key and
 * value as shortAad does), written directly: the msgindex entry of every status change is one
 * (test/store/codec.test.ts compares the two byte for byte). `undefined` values are left out,
 * as when the key is absent. Anything else is packed by msgpackr.
 */
export function encodeFlat (value: Readonly<Record<string, string | number | undefined>>): Uint8Array {
  let n = 3
  let count = 0
  for (const k in value) {
    const v = value[k]
    if (v === undefined) continue
    count++
    n += strBytes(k) + (typeof v === 'string' ? asciiStrBytes(v) : uintBytes(v))
  }
  if (Number.isNaN(n)) return encode(Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)))
  // from the pool (src/platform/bytes.ts): every byte is written below, and the caller seals it at once
  const out = Buffer.allocUnsafe(n)
  out[0] = 0xde
  out[1] = count >> 8
  out[2] = count & 0xff
  let at = 3
  for (const k in value) {
    const v = value[k]
    if (v === undefined) continue
    at = writeStr(out, at, k)
    if (typeof v === 'string') {
      at = writeStrHeader(out, at, v.length)
      at += out.write(v, at, v.length, 'latin1') // ASCII (checked above)
    } else at = writeUint(out, at, v)
  }
  return new Uint8Array(out.buffer, out.byteOffset, n)
}

/** Encoded size of an ASCII string under 256 characters; NaN for any other. */
function strBytes (s: string): number {
  if (s.length > STR8_MAX) return NaN
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return NaN
  return s.length + (s.length < 32 ? 1 : 2)
}

/** Encoded size of a non-negative safe integer (above 2^32 − 1 msgpackr writes a float64: times in ms); NaN for any other. */
function uintBytes (v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) return NaN
  return v < 0x80 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9
}

function writeStrHeader (out: Uint8Array, at: number, length: number): number {
  if (length < 32) out[at++] = 0xa0 | length
  else { out[at++] = 0xd9; out[at++] = length }
  return at
}

function writeStr (out: Uint8Array, at: number, s: string): number {
  at = writeStrHeader(out, at, s.length)
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i)
  return at
}

/** One float64's bytes, written through a view made once (a time is written at every held outbox entry's msgindex write). */
const F64_BYTES = new Uint8Array(8)
const F64 = new DataView(F64_BYTES.buffer)

function writeUint (out: Uint8Array, at: number, v: number): number {
  if (v < 0x80) { out[at] = v; return at + 1 }
  if (v > 0xffffffff) { // as msgpackr: float64 (exact for a safe integer), big-endian
    out[at++] = 0xcb
    F64.setFloat64(0, v)
    out.set(F64_BYTES, at)
    return at + 8
  }
  const size = v <= 0xff ? 1 : v <= 0xffff ? 2 : 4
  out[at++] = size === 1 ? 0xcc : size === 2 ? 0xcd : 0xce
  for (let k = size - 1; k >= 0; k--) out[at++] = (v / 2 ** (8 * k)) & 0xff
  return at
}

/** Copy a decoded binary field out of the (larger) buffer it was decoded from. */
export function bytes (v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw errors.STORE_CORRUPT(`${what}: expected bytes`)
  return new Uint8Array(v)
}
