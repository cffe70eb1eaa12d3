// Sending half of the channel's byte stream — proto-spec/reliable.md §3–4. Messages are written
// as u32 length + bytes; the buffer keeps every byte until it is acknowledged, tracks what was
// acked out of order (SACK) and what was lost and must go again, and frees acked bytes.

import { RangeSet, type Range } from './ranges.js'
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
  messagesWritten = 0

  constructor (capacity: number) {
    this.capacity = capacity
  }

  get buffered (): number { return this.writeOffset - this.ackedOffset }
  get available (): number { return Math.max(0, this.capacity - this.buffered) }
  get hasUnsent (): boolean { return this.sentOffset < this.writeOffset }
  get hasLost (): boolean { return !this.#lost.isEmpty }

  /** Appends one framed message; false if it would overflow the buffer (backpressure). */
  write (message: Uint8Array): boolean {
    const framed = MESSAGE_HEADER_BYTES + message.length
    if (framed > this.available) return false
    const c = this.#room(framed)
    const b = c.bytes
    const at = c.used
    const n = message.length
    b[at] = n >>> 24; b[at + 1] = n >>> 16; b[at + 2] = n >>> 8; b[at + 3] = n // u32 length, reliable.md §3
    b.set(message, at + MESSAGE_HEADER_BYTES)
    c.used += framed
    this.writeOffset += framed
    this.messagesWritten++
    return true
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
