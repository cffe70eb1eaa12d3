// Sending half of the channel's byte stream — proto-spec/reliable.md §3–4. Messages are written
// as u32 length + bytes; the buffer keeps every byte until it is acknowledged, tracks what was
// acked out of order (SACK) and what was lost and must go again, and frees acked bytes.
//
// A message written as `bulk` (reliable.md §3.1) is framed and held outside the stream, and
// enters it, in the order bulk messages were written, only when a packet being built has room
// beyond the stream's unsent bytes: a message written later without `bulk` goes into the stream
// at once, ahead of every bulk message still held. Which order the messages took is the stream's
// order; the peer sees nothing else.

import { RangeSet, type Range } from './ranges.js'
import { unzeroedBytes } from '../../platform/bytes.js'
import { MESSAGE_HEADER_BYTES } from './constants.js'

/** Stream bytes [start, start + used) live in bytes[0, used); a slab chunk has room after. */
interface Chunk { start: number, bytes: Uint8Array, used: number }

// Small messages are appended to shared slabs (one allocation per SLAB_BYTES, not per message);
// a message larger than a slab gets a chunk of its own.
const SLAB_BYTES = 16 * 1024

export interface NextRange extends Range { retransmit: boolean }

export class SendStream {
  readonly capacity: number
  #chunks: Chunk[] = []
  #chunkHead = 0
  /** Everything below is acknowledged and freed. */
  ackedOffset = 0
  /** End of the bytes written so far. */
  writeOffset = 0
  /** End of the bytes sent at least once. */
  sentOffset = 0
  readonly #acked = new RangeSet() // acked above ackedOffset
  readonly #lost = new RangeSet() // to send again
  // the last slab freed, for the next one: in a request/response exchange every message is
  // acknowledged before the next is written, which would otherwise cost a fresh zero-filled
  // 16 KiB allocation per message (docs/performance.md §2)
  #spare: Uint8Array | null = null
  // next()'s answer, one object reused for every call (per packet: no allocation)
  readonly #next: NextRange = { start: 0, end: 0, retransmit: false }
  /** messages written, bulk ones included */
  messagesWritten = 0
  // bulk messages not yet in the stream, framed, oldest first, and their bytes
  #held: Uint8Array[] = []
  #heldHead = 0
  heldBytes = 0
  /** messages written without and with `bulk`, and how many of each the peer has acknowledged whole */
  readonly written = { normal: 0, bulk: 0 }
  readonly acked = { normal: 0, bulk: 0 }
  // stream end offsets of the messages of each kind in the stream and not yet acknowledged, oldest first
  readonly #normalEnds = new EndQueue()
  readonly #bulkEnds = new EndQueue()

  constructor (capacity: number) {
    this.capacity = capacity
  }

  /** Bytes written (bulk ones held included) and not yet acknowledged. */
  get buffered (): number { return this.writeOffset - this.ackedOffset + this.heldBytes }
  get available (): number { return Math.max(0, this.capacity - this.buffered) }
  get hasUnsent (): boolean { return this.sentOffset < this.writeOffset || this.heldBytes > 0 }
  /** Every byte written, bulk ones included, is acknowledged. */
  get flushed (): boolean { return this.ackedOffset === this.writeOffset && this.heldBytes === 0 }
  get hasLost (): boolean { return !this.#lost.isEmpty }

  /**
   * Appends one framed message, or with `bulk` holds it until a packet has room for it (above);
   * false if it would overflow the buffer (backpressure).
   */
  write (message: Uint8Array, bulk = false): boolean {
    const framed = MESSAGE_HEADER_BYTES + message.length
    if (framed > this.available) return false
    if (bulk) {
      const b = unzeroedBytes(framed) // frame() writes every byte: header and message
      frame(message, b, 0)
      this.#held.push(b)
      this.heldBytes += framed
      this.written.bulk++
    } else {
      const c = this.#room(framed)
      frame(message, c.bytes, c.used)
      c.used += framed
      this.writeOffset += framed
      this.#normalEnds.push(this.writeOffset)
      this.written.normal++
    }
    this.messagesWritten++
    return true
  }

  // Moves held bulk messages into the stream while the stream's unsent bytes are fewer than
  // `room` (what the packet being built can still carry) and the peer's window reaches them.
  #admit (room: number, limit: number): void {
    while (this.heldBytes > 0 && this.writeOffset - this.sentOffset < room && this.writeOffset < limit) {
      const b = this.#held[this.#heldHead] as Uint8Array
      this.#held[this.#heldHead++] = undefined as unknown as Uint8Array
      if (this.#heldHead === this.#held.length) { this.#held = []; this.#heldHead = 0 }
      this.heldBytes -= b.length
      this.#chunks.push({ start: this.writeOffset, bytes: b, used: b.length })
      this.writeOffset += b.length
      this.#bulkEnds.push(this.writeOffset)
    }
  }

  // The chunk to append `framed` bytes to: the last one if it is still held and has room.
  #room (framed: number): Chunk {
    const last = this.#chunks.length > this.#chunkHead ? this.#chunks[this.#chunks.length - 1]! : undefined
    if (last !== undefined && last.bytes.length - last.used >= framed) return last
    const c = { start: this.writeOffset, bytes: this.#slab(framed), used: 0 }
    this.#chunks.push(c)
    return c
  }

  #slab (framed: number): Uint8Array {
    const spare = this.#spare
    if (spare === null || framed > SLAB_BYTES) return new Uint8Array(Math.max(framed, SLAB_BYTES))
    this.#spare = null
    return spare
  }

  /**
   * The next bytes to put in a packet, at most `maxLen`: lost bytes first (lowest offset first),
   * then new bytes below the peer's flow-control `limit`. Null if there is nothing to send.
   * The range object is reused: read it before the next call.
   */
  next (maxLen: number, limit: number): NextRange | null {
    while (!this.#lost.isEmpty) {
      const r = this.#lost.first!
      const gap = this.#acked.missing(Math.max(r.start, this.ackedOffset), r.end)[0]
      if (!gap) { this.#lost.shift(); continue }
      const end = Math.min(gap.end, gap.start + maxLen)
      this.#lost.removeBelow(end) // below gap.start the range was acked meanwhile
      return this.#range(gap.start, end, true)
    }
    if (this.heldBytes > 0) this.#admit(maxLen, limit)
    const end = Math.min(this.writeOffset, limit, this.sentOffset + maxLen)
    if (end <= this.sentOffset) return null
    const start = this.sentOffset
    this.sentOffset = end
    return this.#range(start, end, false)
  }

  #range (start: number, end: number, retransmit: boolean): NextRange {
    const r = this.#next
    r.start = start
    r.end = end
    r.retransmit = retransmit
    return r
  }

  /** Copies stream bytes [start, start + dst.length) into dst. */
  copyTo (start: number, dst: Uint8Array): void {
    let i = this.#findChunk(start)
    let pos = start
    let filled = 0
    while (filled < dst.length) {
      const c = this.#chunks[i++]!
      const from = pos - c.start
      const n = Math.min(c.used - from, dst.length - filled)
      dst.set(c.bytes.subarray(from, from + n), filled)
      filled += n
      pos += n
    }
  }

  onAcked (r: Range): void {
    if (r.end <= this.ackedOffset) return
    this.#acked.add(Math.max(r.start, this.ackedOffset), r.end)
    const first = this.#acked.first!
    if (first.start <= this.ackedOffset) this.#advance(first.end)
  }

  /** The peer has every byte below `offset` (the ACK frame's cumulative offset). */
  onCumulativeAck (offset: number): void {
    if (offset > this.ackedOffset) this.#advance(offset)
  }

  onLost (r: Range): void {
    if (r.end > this.ackedOffset) this.#lost.add(Math.max(r.start, this.ackedOffset), r.end)
  }

  /** Declares every sent-but-unacked byte lost (after a retransmission timeout). */
  markAllLost (): void {
    for (const gap of this.#acked.missing(this.ackedOffset, this.sentOffset)) this.#lost.add(gap.start, gap.end)
  }

  #advance (offset: number): void {
    this.ackedOffset = offset
    this.acked.normal += this.#normalEnds.takeBelow(offset)
    this.acked.bulk += this.#bulkEnds.takeBelow(offset)
    this.#acked.removeBelow(offset)
    this.#lost.removeBelow(offset)
    // free chunks that are wholly acknowledged
    while (this.#chunkHead < this.#chunks.length) {
      const c = this.#chunks[this.#chunkHead]!
      if (c.start + c.used > offset) break
      // nothing reads acknowledged bytes again (next() and copyTo() start at ackedOffset)
      if (c.bytes.length === SLAB_BYTES) this.#spare = c.bytes
      this.#chunks[this.#chunkHead++] = undefined as unknown as Chunk
    }
    if (this.#chunkHead > 64 && this.#chunkHead * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#chunkHead)
      this.#chunkHead = 0
    }
  }

  #findChunk (offset: number): number {
    let lo = this.#chunkHead
    let hi = this.#chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.#chunks[mid]!.start <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}

/** u32 length + message at `at` of `b` (reliable.md §3). */
function frame (message: Uint8Array, b: Uint8Array, at: number): void {
  const n = message.length
  b[at] = n >>> 24; b[at + 1] = n >>> 16; b[at + 2] = n >>> 8; b[at + 3] = n
  b.set(message, at + MESSAGE_HEADER_BYTES)
}

/** Increasing offsets, oldest first: a FIFO without a shift per element. */
class EndQueue {
  #a: number[] = []
  #head = 0

  push (end: number): void { this.#a.push(end) }

  /** Removes the offsets at or below `offset`; returns how many. */
  takeBelow (offset: number): number {
    const from = this.#head
    while (this.#head < this.#a.length && (this.#a[this.#head] as number) <= offset) this.#head++
    const n = this.#head - from
    if (this.#head === this.#a.length) { this.#a = []; this.#head = 0 } else if (this.#head > 1024 && this.#head * 2 > this.#a.length) { this.#a = this.#a.slice(this.#head); this.#head = 0 }
    return n
  }
}
