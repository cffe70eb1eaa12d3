// File-transfer messages (proto-spec/files.md §3): the body of a FILE frame (0x20) on a peer link.
// Fixed binary layouts, integers big-endian; the decoder checks every length exactly and returns
// null for anything else (network input: never throws), so a malformed message is counted and dropped.
import { HASH_BYTES } from './merkle.js'

export const FileKind = {
  OFFER: 0x01,
  ACCEPT: 0x02,
  DECLINE: 0x03,
  CANCEL: 0x04,
  REQUEST: 0x05,
  DATA: 0x06,
  DONE: 0x07
} as const
export type FileKind = typeof FileKind[keyof typeof FileKind]

/** Why a transfer ended early (CANCEL's reason byte, files.md §3.4). */
export const CancelReason = {
  USER: 0x00,
  DISK_FULL: 0x01,
  IO: 0x02,
  SOURCE_CHANGED: 0x03,
  UNKNOWN: 0x04,
  REFUSED: 0x05
} as const
export type CancelReason = typeof CancelReason[keyof typeof CancelReason]
export const CANCEL_REASON_NAMES: Record<number, string> = {
  0x00: 'cancelled', 0x01: 'disk full', 0x02: 'i/o error', 0x03: 'source changed', 0x04: 'unknown transfer', 0x05: 'refused'
}

export const TRANSFER_ID_BYTES = 16
export const NAME_MAX_BYTES = 255
export const MEDIA_TYPE_MAX_BYTES = 127
/** chunk sizes a receiver takes: powers of two from 4 KiB to 64 KiB (a chunk is one frame) */
export const CHUNK_SIZE_MIN = 4096
export const CHUNK_SIZE_MAX = 65536
export const CHUNK_SIZE = 32768
/** ranges in one REQUEST */
export const REQUEST_MAX_RANGES = 64
/** a proof is at most one hash per level of a tree of up to 2^32 leaves */
export const PROOF_MAX = 32
const MAX_SIZE = Number.MAX_SAFE_INTEGER

export interface Offer { kind: typeof FileKind.OFFER, id: Uint8Array, size: number, chunkSize: number, root: Uint8Array, name: string, mediaType: string }
export interface ChunkRange { first: number, count: number }
export type FileMessage =
  | Offer
  | { kind: typeof FileKind.ACCEPT | typeof FileKind.DECLINE | typeof FileKind.DONE, id: Uint8Array }
  | { kind: typeof FileKind.CANCEL, id: Uint8Array, reason: number }
  | { kind: typeof FileKind.REQUEST, id: Uint8Array, ranges: ChunkRange[] }
  | { kind: typeof FileKind.DATA, id: Uint8Array, index: number, proof: Uint8Array[], data: Uint8Array }

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes a DATA message adds around its chunk and proof (kind, id, index, proof count). */
export const DATA_OVERHEAD = 1 + TRANSFER_ID_BYTES + 4 + 1

export function isChunkSize (n: number): boolean {
  return Number.isInteger(n) && n >= CHUNK_SIZE_MIN && n <= CHUNK_SIZE_MAX && (n & (n - 1)) === 0
}

/**
 * Throws on what we would never send (a programming error, not network input). With `headroom`,
 * the message starts that many bytes into the buffer returned, so a frame header can be put in
 * front without copying a 32 KiB chunk again (messaging/frames.ts fileFrame). With `into` (large
 * enough), the message is written there and a view of it returned: a sender reuses one buffer for
 * every DATA, not a fresh 32 KiB allocation each (the headroom bytes are left as they are).
 */
export function encodeFileMessage (m: FileMessage, headroom = 0, into?: Uint8Array): Uint8Array {
  if (m.id.length !== TRANSFER_ID_BYTES) throw new RangeError('transfer id must be 16 bytes')
  let whole: Uint8Array = new Uint8Array(0)
  const head = (extra: number): { out: Uint8Array, view: DataView } => {
    const length = headroom + 1 + TRANSFER_ID_BYTES + extra
    whole = into !== undefined && into.length >= length ? into.subarray(0, length) : new Uint8Array(length)
    const out = whole.subarray(headroom)
    out[0] = m.kind
    out.set(m.id, 1)
    return { out, view: new DataView(whole.buffer, whole.byteOffset + headroom) }
  }
  const at = 1 + TRANSFER_ID_BYTES
  switch (m.kind) {
    case FileKind.OFFER: {
      const name = utf8.encode(m.name)
      const media = utf8.encode(m.mediaType)
      if (name.length < 1 || name.length > NAME_MAX_BYTES || media.length > MEDIA_TYPE_MAX_BYTES) throw new RangeError('offer name or media type out of bounds')
      if (!Number.isSafeInteger(m.size) || m.size < 0 || !isChunkSize(m.chunkSize) || m.root.length !== HASH_BYTES) throw new RangeError('offer size, chunk size or root out of bounds')
      const { out, view } = head(8 + 4 + HASH_BYTES + 1 + name.length + 1 + media.length)
      view.setBigUint64(at, BigInt(m.size))
      view.setUint32(at + 8, m.chunkSize)
      out.set(m.root, at + 12)
      let o = at + 12 + HASH_BYTES
      out[o++] = name.length
      out.set(name, o)
      o += name.length
      out[o++] = media.length
      out.set(media, o)
      return whole
    }
    case FileKind.ACCEPT:
    case FileKind.DECLINE:
    case FileKind.DONE:
      head(0)
      return whole
    case FileKind.CANCEL: {
      const { out } = head(1)
      out[at] = m.reason
      return whole
    }
    case FileKind.REQUEST: {
      if (m.ranges.length < 1 || m.ranges.length > REQUEST_MAX_RANGES) throw new RangeError('request must hold 1..64 ranges')
      const { out, view } = head(1 + 8 * m.ranges.length)
      out[at] = m.ranges.length
      m.ranges.forEach((r, i) => { view.setUint32(at + 1 + 8 * i, r.first); view.setUint32(at + 5 + 8 * i, r.count) })
      return whole
    }
    case FileKind.DATA: {
      const { out, view } = head(4 + 1 + HASH_BYTES * m.proof.length + m.data.length)
      view.setUint32(at, m.index)
      out[at + 4] = m.proof.length
      m.proof.forEach((h, i) => out.set(h, at + 5 + HASH_BYTES * i))
      out.set(m.data, at + 5 + HASH_BYTES * m.proof.length)
      return whole
    }
  }
}

/** Null for anything malformed. `body` may be a view into a reused buffer: DATA's data is a view too. */
export function decodeFileMessage (body: Uint8Array): FileMessage | null {
  if (body.length < 1 + TRANSFER_ID_BYTES) return null
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const id = body.subarray(1, 1 + TRANSFER_ID_BYTES)
  const at = 1 + TRANSFER_ID_BYTES
  const rest = body.length - at
  switch (body[0]) {
    case FileKind.OFFER: {
      if (rest < 8 + 4 + HASH_BYTES + 2) return null
      const size = view.getBigUint64(at)
      const chunkSize = view.getUint32(at + 8)
      if (size > BigInt(MAX_SIZE) || !isChunkSize(chunkSize)) return null
      if (Math.ceil(Number(size) / chunkSize) > 0xffff_ffff) return null
      let o = at + 12 + HASH_BYTES
      const nameLen = body[o++] as number
      if (nameLen < 1 || o + nameLen + 1 > body.length) return null
      const nameBytes = body.subarray(o, o + nameLen)
      o += nameLen
      const mediaLen = body[o++] as number
      if (mediaLen > MEDIA_TYPE_MAX_BYTES || o + mediaLen !== body.length) return null
      const mediaBytes = body.subarray(o, o + mediaLen)
      let name: string, mediaType: string
      try {
        name = strictUtf8.decode(nameBytes)
        mediaType = strictUtf8.decode(mediaBytes)
      } catch { return null }
      if (!/^[\x21-\x7e]*$/.test(mediaType)) return null
      return { kind: FileKind.OFFER, id, size: Number(size), chunkSize, root: body.subarray(at + 12, at + 12 + HASH_BYTES), name, mediaType }
    }
    case FileKind.ACCEPT:
    case FileKind.DECLINE:
    case FileKind.DONE:
      return rest === 0 ? { kind: body[0], id } : null
    case FileKind.CANCEL:
      return rest === 1 ? { kind: FileKind.CANCEL, id, reason: body[at] as number } : null
    case FileKind.REQUEST: {
      const n = body[at] as number
      if (rest < 1 || n < 1 || n > REQUEST_MAX_RANGES || rest !== 1 + 8 * n) return null
      const ranges: ChunkRange[] = []
      for (let i = 0; i < n; i++) {
        const first = view.getUint32(at + 1 + 8 * i)
        const count = view.getUint32(at + 5 + 8 * i)
        if (count === 0 || first + count > 0xffff_ffff) return null
        ranges.push({ first, count })
      }
      return { kind: FileKind.REQUEST, id, ranges }
    }
    case FileKind.DATA: {
      if (rest < 5) return null
      const index = view.getUint32(at)
      const p = body[at + 4] as number
      if (p > PROOF_MAX || rest < 5 + HASH_BYTES * p) return null
      const proof: Uint8Array[] = []
      for (let i = 0; i < p; i++) proof.push(body.subarray(at + 5 + HASH_BYTES * i, at + 5 + HASH_BYTES * (i + 1)))
      return { kind: FileKind.DATA, id, index, proof, data: body.subarray(at + 5 + HASH_BYTES * p) }
    }
    default: return null
  }
}
