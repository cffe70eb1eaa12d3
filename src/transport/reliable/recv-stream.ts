// Receiving half of the channel's byte stream — proto-spec/reliable.md §3–5. Out-of-order bytes
// wait in a bounded reorder buffer; in-order bytes are cut into messages (u32 length + bytes)
// and queued for the application. The flow-control limit (RFC 9000 §4.1 MAX_DATA, in spirit)
// moves forward only as the application takes messages, so a reader that stops bounds memory.

import { RangeSet } from './ranges.js'
import { MESSAGE_HEADER_BYTES } from './constants.js'
import { unzeroedBytes } from '../../platform/bytes.js'

interface Ready { bytes: Uint8Array, end: number }

const SLAB_BYTES = 16 * 1024
const SLAB_MAX_MESSAGE_BYTES = 2 * 1024

export type DataResult = 'new' | 'duplicate' | 'failed'

export class RecvStream {
  /** raised only (#raise): the limit never goes back */
  window: number
  maxMessage: number
  /** Every byte below has been received and handed to the message assembler. */
  recvOffset = 0
  /** Bytes waiting in the reorder buffer. */
  reorderBytes = 0
  failure: string | null = null
  messagesDelivered = 0

  #pieces = new Map<number, Uint8Array>()
  readonly #have = new RangeSet() // ranges held in #pieces
  #ready: Ready[] = []
  #readyHead = 0
  #readyBytes = 0
  #readOffset = 0 // end of the last message the application took
  #released = 0 // flow-control base: limit = released + window
  // message assembler
  readonly #hdr = new Uint8Array(MESSAGE_HEADER_BYTES)
  #hdrFilled = 0
  #body: Uint8Array | null = null
  #bodyFilled = 0
  #slab: ArrayBuffer | null = null
  #slabUsed = 0

  constructor (window: number, maxMessage: number) {
    this.window = window
    this.maxMessage = maxMessage
  }

  /**
   * A larger window and message limit from now on (a stranger's session whose peer became a
   * contact, session.md §3.7). Neither is ever lowered: the peer may already be sending up to the
   * limit it was told.
   */
  raise (window: number, maxMessage: number): void {
    if (window > this.window) this.window = window
    if (maxMessage > this.maxMessage) this.maxMessage = maxMessage
  }

  /** Highest stream offset (exclusive) the peer may send. Never decreases. */
  get limit (): number { return this.#released + this.window }
  get readable (): number { return this.#ready.length - this.#readyHead }
  /** Bytes held for the application: reorder buffer, partial message and unread messages. */
  get bufferedBytes (): number {
    return this.reorderBytes + this.#readyBytes + (this.#body ? this.#bodyFilled : 0) + this.#hdrFilled
  }

  /** Accepts a DATA payload at `offset`; the caller has checked it is below `limit`. */
  onData (offset: number, payload: Uint8Array): DataResult {
    if (this.failure) return 'failed'
    const end = offset + payload.length
    if (end <= this.recvOffset) return 'duplicate'
    if (offset <= this.recvOffset && this.#have.isEmpty) {
      // in order with nothing waiting: straight to the assembler (no gap list)
      this.#consume(offset === this.recvOffset ? payload : payload.subarray(this.recvOffset - offset))
      this.#release()
      return this.failure ? 'failed' : 'new'
    }
    const gaps = this.#have.missing(Math.max(offset, this.recvOffset), end)
    if (gaps.length === 0) return 'duplicate'
    for (const g of gaps) {
      const piece = payload.subarray(g.start - offset, g.end - offset)
      if (g.start === this.recvOffset) {
        this.#consume(piece) // in-order fast path: no copy into the reorder buffer
      } else {
        this.#pieces.set(g.start, piece.slice()) // the datagram buffer is not ours to keep
        this.#have.add(g.start, g.end)
        this.reorderBytes += piece.length
      }
    }
    this.#drain()
    this.#release()
    return this.failure ? 'failed' : 'new'
  }

  /** The next complete message, in order, or null. */
  read (): Uint8Array | null {
    if (this.#readyHead >= this.#ready.length) return null
    const m = this.#ready[this.#readyHead]!
    this.#ready[this.#readyHead++] = undefined as unknown as Ready
    if (this.#readyHead > 256 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead)
      this.#readyHead = 0
    }
    this.#readyBytes -= m.bytes.length
    this.#readOffset = m.end
    this.messagesDelivered++
    this.#release()
    return m.bytes
  }

  #drain (): void {
    for (;;) {
      const p = this.#pieces.get(this.recvOffset)
      if (!p) break
      this.#pieces.delete(this.recvOffset)
      this.reorderBytes -= p.length
      this.#consume(p)
    }
    this.#have.removeBelow(this.recvOffset)
  }

  // Feeds in-order bytes to the assembler: u32 length header, then the body.
  #consume (bytes: Uint8Array): void {
    let i = 0
    while (i < bytes.length && !this.failure) {
      if (this.#body === null) {
        // byte by byte: a 4-byte header is not worth a view object per message
        while (this.#hdrFilled < MESSAGE_HEADER_BYTES && i < bytes.length) this.#hdr[this.#hdrFilled++] = bytes[i++]!
        if (this.#hdrFilled === MESSAGE_HEADER_BYTES) this.#startMessage(this.recvOffset + i)
      } else {
        const n = Math.min(this.#body.length - this.#bodyFilled, bytes.length - i)
        this.#body.set(bytes.subarray(i, i + n), this.#bodyFilled)
        this.#bodyFilled += n
        i += n
        if (this.#bodyFilled === this.#body.length) this.#finishMessage(this.recvOffset + i)
      }
    }
    this.recvOffset += bytes.length
  }

  #startMessage (at: number): void {
    const h = this.#hdr
    const size = (h[0]! * 0x100_0000) + ((h[1]! << 16) | (h[2]! << 8) | h[3]!) // u32 big-endian
    this.#hdrFilled = 0
    if (size > this.maxMessage) {
      // the stream cannot be resynchronised past a bad length: the channel fails
      this.failure = `peer sent a ${size}-byte message, limit is ${this.maxMessage}`
      return
    }
    this.#body = this.#alloc(size)
    this.#bodyFilled = 0
    if (size === 0) this.#finishMessage(at)
  }

  // Small messages are carved from a shared slab: one allocation per SLAB_BYTES instead of one
  // per message (each typed array over 64 bytes is a separate off-heap allocation in V8). A
  // message keeps its slab alive while the application holds it; large ones get their own.
  #alloc (size: number): Uint8Array {
    // filled whole before it is delivered (#consume); a channel that fails mid-message drops it
    if (size > SLAB_MAX_MESSAGE_BYTES) return unzeroedBytes(size)
    if (this.#slab === null || this.#slabUsed + size > this.#slab.byteLength) {
      this.#slab = new ArrayBuffer(SLAB_BYTES)
      this.#slabUsed = 0
    }
    const m = new Uint8Array(this.#slab, this.#slabUsed, size)
    this.#slabUsed += size
    return m
  }

  #finishMessage (end: number): void {
    const bytes = this.#body!
    this.#body = null
    this.#ready.push({ bytes, end })
    this.#readyBytes += bytes.length
  }

  // Flow-control credit. While the application has read everything, the partial message being
  // assembled (bounded by maxMessage) is released too, so a message larger than the window can
  // still arrive; once a complete message waits unread, credit stops at the last one read.
  // Memory held is thus at most window + maxMessage + a header.
  #release (): void {
    const base = this.readable === 0 ? this.recvOffset : this.#readOffset
    if (base > this.#released) this.#released = base
  }
}
