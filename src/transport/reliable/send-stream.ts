// Sending half of the channel's byte stream — proto-spec/reliable.md §3–4. Messages are written
// as u32 length + bytes; the buffer keeps every byte until it is acknowledged, tracks what was
// acked out of order (SACK) and what was lost and must go again, and frees acked bytes.

import { RangeSet, type Range } from './ranges.js'
import { MESSAGE_HEADER_BYTES } from './constants.js'

interface Chunk { start: number, bytes: Uint8Array }

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
    const bytes = new Uint8Array(framed)
    new DataView(bytes.buffer).setUint32(0, message.length)
    bytes.set(message, MESSAGE_HEADER_BYTES)
    this.#chunks.push({ start: this.writeOffset, bytes })
    this.writeOffset += framed
    this.messagesWritten++
    return true
  }

  /**
   * The next bytes to put in a packet, at most `maxLen`: lost bytes first (lowest offset first),
   * then new bytes below the peer's flow-control `limit`. Null if there is nothing to send.
   */
  next (maxLen: number, limit: number): NextRange | null {
    while (!this.#lost.isEmpty) {
      const r = this.#lost.first!
      const gap = this.#acked.missing(Math.max(r.start, this.ackedOffset), r.end)[0]
      if (!gap) { this.#lost.shift(); continue }
      const end = Math.min(gap.end, gap.start + maxLen)
      this.#lost.removeBelow(end) // below gap.start the range was acked meanwhile
      return { start: gap.start, end, retransmit: true }
    }
    const end = Math.min(this.writeOffset, limit, this.sentOffset + maxLen)
    if (end <= this.sentOffset) return null
    const start = this.sentOffset
    this.sentOffset = end
    return { start, end, retransmit: false }
  }

  /** Copies stream bytes [start, start + dst.length) into dst. */
  copyTo (start: number, dst: Uint8Array): void {
    let i = this.#findChunk(start)
    let pos = start
    let filled = 0
    while (filled < dst.length) {
      const c = this.#chunks[i++]!
      const from = pos - c.start
      const n = Math.min(c.bytes.length - from, dst.length - filled)
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
      if (c.start + c.bytes.length > offset) break
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
