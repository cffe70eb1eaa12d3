// The bodies of TEXT and BATCH (envelope.md §3.2, §3.7), the payloads a burst of messages is
// made of, written directly: the same bytes encodePayload's general path gets from msgpackr (a
// map of the fields in order, text as `bin`; test/wire/text-bodies.test.ts compares the two), in
// one array, without building the wire map, copying each text to bytes and back to check it, and
// copying msgpackr's output. Only the common case is written here: each function returns
// undefined for anything else (a field missing or extra, a limit broken, a number msgpackr would
// write otherwise), and the caller takes the general path, which also makes its error.
import { BATCH_MAX_MESSAGES, BATCH_MAX_TEXT_BYTES, MESSAGE_ID_BYTES, TEXT_MAX_BYTES, TIMESTAMP_MAX_MS, TIMESTAMP_MIN_MS } from './constants.js'

const FIXMAP = 0x80
const FIXARRAY = 0x90
const ARRAY16 = 0xdc
const FIXSTR = 0xa0
const BIN8 = 0xc4
const BIN16 = 0xc5
const BIN32 = 0xc6
const FLOAT64 = 0xcb

/** fixstr keys as msgpackr writes them */
const KEY_TEXT = keyBytes('text')
const KEY_MSGS = keyBytes('msgs')
const KEY_ID = keyBytes('id')
const KEY_TS = keyBytes('ts')

function keyBytes (k: string): Uint8Array {
  return Uint8Array.from([FIXSTR | k.length, ...Buffer.from(k, 'latin1')])
}

const encoder = new TextEncoder()

function binHeaderBytes (n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function writeBinHeader (out: Uint8Array, at: number, n: number): number {
  if (n < 0x100) { out[at] = BIN8; out[at + 1] = n; return at + 2 }
  if (n < 0x10000) { out[at] = BIN16; out[at + 1] = n >> 8; out[at + 2] = n & 0xff; return at + 3 }
  out[at] = BIN32; out[at + 1] = n >>> 24; out[at + 2] = (n >> 16) & 0xff; out[at + 3] = (n >> 8) & 0xff; out[at + 4] = n & 0xff
  return at + 5
}

/** `text` as bin (UTF-8, `n` bytes) at `at`. */
function writeText (out: Uint8Array, at: number, text: string, n: number): number {
  at = writeBinHeader(out, at, n)
  encoder.encodeInto(text, out.subarray(at, at + n))
  return at + n
}

/** The only keys of `o` are `keys`, in any order (the general path writes every own key). */
function hasOnly (o: object, count: number): boolean {
  let n = 0
  for (const _ in o) n++
  return n === count
}

/** TEXT `{ text }`; undefined unless the text is 1..TEXT_MAX_BYTES bytes of UTF-8 and the only field. */
export function encodeTextBody (payload: { text?: unknown }): Uint8Array | undefined {
  const text = payload.text
  if (typeof text !== 'string' || !hasOnly(payload, 1)) return undefined
  const n = Buffer.byteLength(text, 'utf8') // a lone surrogate counts as U+FFFD, as encodeInto writes it
  if (n < 1 || n > TEXT_MAX_BYTES) return undefined
  const out = new Uint8Array(1 + KEY_TEXT.length + binHeaderBytes(n) + n)
  out[0] = FIXMAP | 1
  out.set(KEY_TEXT, 1)
  writeText(out, 1 + KEY_TEXT.length, text, n)
  return out
}

/**
 * BATCH `{ msgs: [{ id, ts, text }, …] }`; undefined unless it has 1..BATCH_MAX_MESSAGES texts
 * with distinct 16-byte ids, timestamps in range (written as float64, as msgpackr writes an
 * integer above 2^32), texts of 1..TEXT_MAX_BYTES bytes and BATCH_MAX_TEXT_BYTES in all.
 */
export function encodeBatchBody (payload: { messages?: unknown }): Uint8Array | undefined {
  const list = payload.messages
  if (!Array.isArray(list) || list.length < 1 || list.length > BATCH_MAX_MESSAGES || !hasOnly(payload, 1)) return undefined
  const lengths = new Array<number>(list.length)
  const seen = new Set<string>()
  let size = 1 + KEY_MSGS.length + (list.length < 16 ? 1 : 3)
  let textBytes = 0
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as { id?: unknown, timestamp?: unknown, text?: unknown }
    if (typeof m !== 'object' || m === null || !hasOnly(m, 3)) return undefined
    const { id, timestamp, text } = m
    if (!(id instanceof Uint8Array) || id.length !== MESSAGE_ID_BYTES || typeof text !== 'string') return undefined
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < TIMESTAMP_MIN_MS || timestamp > TIMESTAMP_MAX_MS || timestamp <= 0xffffffff) return undefined
    const key = Buffer.from(id.buffer, id.byteOffset, id.length).toString('latin1')
    if (seen.has(key)) return undefined
    seen.add(key)
    const n = Buffer.byteLength(text, 'utf8')
    if (n < 1 || n > TEXT_MAX_BYTES) return undefined
    lengths[i] = n
    textBytes += n
    size += 1 + KEY_ID.length + 2 + MESSAGE_ID_BYTES + KEY_TS.length + 9 + KEY_TEXT.length + binHeaderBytes(n) + n
  }
  if (textBytes > BATCH_MAX_TEXT_BYTES) return undefined
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  out[0] = FIXMAP | 1
  out.set(KEY_MSGS, 1)
  let at = 1 + KEY_MSGS.length
  if (list.length < 16) out[at++] = FIXARRAY | list.length
  else { out[at] = ARRAY16; out[at + 1] = list.length >> 8; out[at + 2] = list.length & 0xff; at += 3 }
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as { id: Uint8Array, timestamp: number, text: string }
    out[at++] = FIXMAP | 3
    out.set(KEY_ID, at); at += KEY_ID.length
    at = writeBinHeader(out, at, MESSAGE_ID_BYTES)
    out.set(m.id, at); at += MESSAGE_ID_BYTES
    out.set(KEY_TS, at); at += KEY_TS.length
    out[at++] = FLOAT64
    view.setFloat64(at, m.timestamp); at += 8
    out.set(KEY_TEXT, at); at += KEY_TEXT.length
    at = writeText(out, at, m.text, lengths[i] as number)
  }
  return out
}
