// Wire codec for reliable-channel packets — proto-spec/reliable.md §2. The only file that knows
// byte offsets. `decodePacket` never throws: malformed input gives null (wire.md §5). Encoding
// misuse (bad ranges, oversize frames) is a local bug and throws.

import {
  FrameType, PACKET_HEADER_BYTES, DATA_HEADER_BYTES, MAX_DATA_PAYLOAD_BYTES, ACK_FIXED_BYTES,
  ACK_RANGE_BYTES, MAX_ACK_RANGES, BLOCKED_BYTES, PING_BYTES, MAX_U48, MAX_U32
} from './constants.js'
import { errors } from '../../errors.js'

export interface DataFrame { type: typeof FrameType.DATA, offset: number, payload: Uint8Array }
/** Inclusive packet-number range. */
export interface PnRange { lo: number, hi: number }
export interface AckFrame {
  type: typeof FrameType.ACK
  ackDelayUs: number
  /** Stream bytes received contiguously from offset 0 (a TCP-style cumulative ack). */
  cumOffset: number
  /** Flow-control limit: the sender may send stream bytes below this offset. */
  maxOffset: number
  /** Received packet numbers, highest range first, disjoint and non-adjacent. */
  ranges: PnRange[]
}
export interface BlockedFrame { type: typeof FrameType.BLOCKED, limit: number }
export interface PingFrame { type: typeof FrameType.PING }
export type Frame = DataFrame | AckFrame | BlockedFrame | PingFrame
export interface Packet { pn: number, frames: Frame[] }

export const ackFrameBytes = (rangeCount: number): number => ACK_FIXED_BYTES + (rangeCount - 1) * ACK_RANGE_BYTES

// ---- encoding ----

/**
 * Builds packets in a reusable scratch buffer; `finish` copies out an exact-size datagram.
 * The channel fills DATA payloads straight from its send buffer through `writeData`.
 */
export class PacketWriter {
  readonly #buf: Uint8Array
  #pos = 0

  constructor (capacity: number) {
    this.#buf = new Uint8Array(capacity)
  }

  /** Starts a new packet numbered `pn`, discarding anything unfinished. */
  begin (pn: number): this {
    if (!Number.isSafeInteger(pn) || pn < 0 || pn > MAX_U48) throw errors.BAD_ARGUMENT(`packet number must be u48, got ${pn}`)
    this.#pos = 0
    this.#u48(pn)
    return this
  }

  get length (): number { return this.#pos }
  get remaining (): number { return this.#buf.length - this.#pos }

  /** Writes a DATA header and returns the payload area for the caller to fill before `finish`. */
  writeData (offset: number, length: number): Uint8Array {
    if (length < 1 || length > MAX_DATA_PAYLOAD_BYTES || offset + length > MAX_U48 + 1) throw errors.BAD_ARGUMENT(`bad DATA frame: offset ${offset} length ${length}`)
    this.#need(DATA_HEADER_BYTES + length)
    this.#u8(FrameType.DATA)
    this.#u48(offset)
    this.#u8(length >>> 8)
    this.#u8(length & 0xff)
    const payload = this.#buf.subarray(this.#pos, this.#pos + length)
    this.#pos += length
    return payload
  }

  writeAck (ack: Omit<AckFrame, 'type'>): void {
    const r = ack.ranges
    if (r.length < 1 || r.length > MAX_ACK_RANGES) throw errors.BAD_ARGUMENT(`ACK needs 1..${MAX_ACK_RANGES} ranges, got ${r.length}`)
    this.#need(ackFrameBytes(r.length))
    this.#u8(FrameType.ACK)
    this.#u32(Math.min(MAX_U32, Math.max(0, Math.round(ack.ackDelayUs))))
    this.#u48(ack.cumOffset)
    this.#u48(ack.maxOffset)
    const first = r[0]!
    if (first.lo > first.hi || first.lo < 0) throw errors.BAD_ARGUMENT('ACK range must have 0 <= lo <= hi')
    this.#u48(first.hi)
    this.#u8(r.length)
    this.#u32(first.hi - first.lo)
    for (let i = 1; i < r.length; i++) {
      const prev = r[i - 1]!
      const cur = r[i]!
      const gap = prev.lo - cur.hi - 1
      if (gap < 1 || cur.lo > cur.hi || cur.lo < 0) throw errors.BAD_ARGUMENT('ACK ranges must be descending, disjoint and non-adjacent')
      this.#u32(gap)
      this.#u32(cur.hi - cur.lo)
    }
  }

  writeBlocked (limit: number): void {
    this.#need(BLOCKED_BYTES)
    this.#u8(FrameType.BLOCKED)
    this.#u48(limit)
  }

  writePing (): void {
    this.#need(PING_BYTES)
    this.#u8(FrameType.PING)
  }

  writePadding (n: number): void {
    this.#need(n)
    this.#buf.fill(FrameType.PADDING, this.#pos, this.#pos + n)
    this.#pos += n
  }

  /** The finished datagram (a copy the caller owns). */
  finish (): Uint8Array { return this.#buf.slice(0, this.#pos) }

  /** The finished datagram as a view of the scratch buffer: valid until the next `begin`. */
  view (): Uint8Array { return this.#buf.subarray(0, this.#pos) }

  #need (n: number): void {
    if (n > this.remaining) throw errors.BAD_ARGUMENT(`frame of ${n} bytes does not fit in ${this.remaining}`)
  }

  #u8 (v: number): void { this.#buf[this.#pos++] = v }
  #u32 (v: number): void {
    const b = this.#buf
    const p = this.#pos
    b[p] = v >>> 24; b[p + 1] = v >>> 16; b[p + 2] = v >>> 8; b[p + 3] = v
    this.#pos += 4
  }

  #u48 (v: number): void {
    const hi = Math.floor(v / 0x1_0000_0000)
    this.#buf[this.#pos++] = hi >>> 8
    this.#buf[this.#pos++] = hi
    this.#u32(v >>> 0)
  }
}

/** Encodes a whole packet from frame objects (tests and tools; the channel uses PacketWriter). */
export function encodePacket (pkt: Packet, capacity = 65_535): Uint8Array {
  const w = new PacketWriter(capacity).begin(pkt.pn)
  for (const f of pkt.frames) {
    if (f.type === FrameType.DATA) w.writeData(f.offset, f.payload.length).set(f.payload)
    else if (f.type === FrameType.ACK) w.writeAck(f)
    else if (f.type === FrameType.BLOCKED) w.writeBlocked(f.limit)
    else w.writePing()
  }
  return w.finish()
}

// ---- decoding ----

const EMPTY = new Uint8Array(0)
const PING: PingFrame = { type: FrameType.PING }

class Reader {
  pos = 0
  buf: Uint8Array = EMPTY

  reset (buf: Uint8Array): this {
    this.buf = buf
    this.pos = 0
    return this
  }

  has (n: number): boolean { return this.pos + n <= this.buf.length }
  u8 (): number { return this.buf[this.pos++]! }
  u16 (): number { return (this.u8() << 8) | this.u8() }
  u32 (): number { return this.u16() * 0x1_0000 + this.u16() }
  u48 (): number { return this.u16() * 0x1_0000_0000 + this.u32() }
}

/** Where an ACK decoder gets its range objects: new ones, or a decoder's reused ones. */
interface RangeSource { range: (lo: number, hi: number) => PnRange }
const FRESH_RANGES: RangeSource = { range: (lo, hi) => ({ lo, hi }) }

/**
 * A decoder that reuses the objects it answers with: the packet, its frames, their ranges (one
 * set per decoder, allocated as packets need them), so a channel decoding one packet per
 * datagram allocates nothing but DATA payload views. What `decode` returns is valid until its
 * next call. Same parse and the same nulls as `decodePacket`.
 */
export class PacketDecoder {
  readonly #r = new Reader()
  readonly #packet: Packet = { pn: 0, frames: [] }
  readonly #data: DataFrame[] = []
  readonly #acks: AckFrame[] = []
  readonly #blocked: BlockedFrame[] = []
  readonly #ranges: PnRange[] = []
  #nData = 0
  #nAcks = 0
  #nBlocked = 0
  #nRanges = 0

  /** Parses a packet; null if anything is truncated, unknown or out of range. Payloads are views. */
  decode (bytes: Uint8Array): Packet | null {
    if (bytes.length < PACKET_HEADER_BYTES + 1) return null
    const r = this.#r.reset(bytes)
    const pkt = this.#packet
    const frames = pkt.frames
    while (frames.length > 0) frames.pop() // (pop is inlined; a length store is a runtime call)
    this.#nData = this.#nAcks = this.#nBlocked = this.#nRanges = 0
    pkt.pn = r.u48()
    while (r.has(1)) {
      const type = r.u8()
      if (type === FrameType.PADDING) continue
      const f = this.#frame(type, r)
      if (f === null) return null
      frames.push(f)
    }
    r.buf = EMPTY // do not keep the datagram alive
    return pkt
  }

  #frame (type: number, r: Reader): Frame | null {
    switch (type) {
      case FrameType.DATA: return decodeData(r, this.#data[this.#nData++] ??= { type: FrameType.DATA, offset: 0, payload: EMPTY })
      case FrameType.ACK: return this.#ack(r)
      case FrameType.BLOCKED: {
        if (!r.has(6)) return null
        const f = this.#blocked[this.#nBlocked++] ??= { type: FrameType.BLOCKED, limit: 0 }
        f.limit = r.u48()
        return f
      }
      case FrameType.PING: return PING
      default: return null
    }
  }

  #ack (r: Reader): AckFrame | null {
    const f = this.#acks[this.#nAcks++] ??= { type: FrameType.ACK, ackDelayUs: 0, cumOffset: 0, maxOffset: 0, ranges: [] }
    return decodeAck(r, f, this.#rangeSource)
  }

  // one closure for the decoder's life, not one per ACK
  readonly #rangeSource: RangeSource = {
    range: (lo, hi) => {
      const range = this.#ranges[this.#nRanges++] ??= { lo: 0, hi: 0 }
      range.lo = lo
      range.hi = hi
      return range
    }
  }
}

/** Parses a packet into new objects; null if anything is truncated, unknown or out of range. Payloads are views. */
export function decodePacket (bytes: Uint8Array): Packet | null {
  if (bytes.length < PACKET_HEADER_BYTES + 1) return null
  const r = new Reader().reset(bytes)
  const pn = r.u48()
  const frames: Frame[] = []
  while (r.has(1)) {
    const type = r.u8()
    if (type === FrameType.PADDING) continue
    const f = decodeFrame(type, r)
    if (f === null) return null
    frames.push(f)
  }
  return { pn, frames }
}

function decodeFrame (type: number, r: Reader): Frame | null {
  switch (type) {
    case FrameType.DATA: return decodeData(r, { type: FrameType.DATA, offset: 0, payload: EMPTY })
    case FrameType.ACK: return decodeAck(r, { type: FrameType.ACK, ackDelayUs: 0, cumOffset: 0, maxOffset: 0, ranges: [] }, FRESH_RANGES)
    case FrameType.BLOCKED:
      return r.has(6) ? { type: FrameType.BLOCKED, limit: r.u48() } : null
    case FrameType.PING: return { type: FrameType.PING }
    default: return null
  }
}

// The frame decoders fill `f` (fresh or reused) and return it, or null.
function decodeData (r: Reader, f: DataFrame): DataFrame | null {
  if (!r.has(DATA_HEADER_BYTES - 1)) return null
  const offset = r.u48()
  const length = r.u16()
  if (length === 0 || !r.has(length) || offset + length > MAX_U48 + 1) return null
  f.offset = offset
  f.payload = r.buf.subarray(r.pos, r.pos + length)
  r.pos += length
  return f
}

function decodeAck (r: Reader, f: AckFrame, src: RangeSource): AckFrame | null {
  if (!r.has(ACK_FIXED_BYTES - 1)) return null
  const ackDelayUs = r.u32()
  const cumOffset = r.u48()
  const maxOffset = r.u48()
  const largest = r.u48()
  const count = r.u8()
  const firstLen = r.u32()
  if (count < 1 || count > MAX_ACK_RANGES || firstLen > largest) return null
  if (!r.has((count - 1) * ACK_RANGE_BYTES)) return null
  const ranges = f.ranges
  while (ranges.length > 0) ranges.pop()
  let lo = largest - firstLen
  ranges.push(src.range(lo, largest))
  for (let i = 1; i < count; i++) {
    const gap = r.u32()
    const len = r.u32()
    const hi = lo - gap - 1
    if (gap < 1 || hi - len < 0) return null
    lo = hi - len
    ranges.push(src.range(lo, hi))
  }
  f.ackDelayUs = ackDelayUs
  f.cumOffset = cumOffset
  f.maxOffset = maxOffset
  return f
}
