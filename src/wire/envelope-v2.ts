// Envelope version 2 (proto-spec/envelope.md §8): a Double Ratchet message with the little a
// carrier needs in clear. Clear part: version ‖ flags ‖ message id ‖ [PQXDH initial message];
// then the ratchet message (encrypted header ‖ body). The payload type, timestamp and body are
// inside the ratchet's AEAD; the clear part is its per-message associated data. This file knows
// only the byte layout: sealing and opening are src/session-crypto's (they need the ratchet state).
import {
  ENVELOPE_V2, V2_FLAG_INITIAL, V2_INITIAL_MESSAGE_BYTES, V2_ENC_HEADER_BYTES, V2_FIXED_BYTES, V2_INNER_FIXED_BYTES,
  MESSAGE_ID_BYTES, MAX_PAYLOAD_BYTES, AEAD_TAG_BYTES, TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS
} from './constants.js'
import { decodePayload, encodePayload, isPayloadType, type TypedPayload } from './payloads.js'
import { errors } from '../errors.js'

export interface EnvelopeV2 {
  id: Uint8Array
  /** the PQXDH initial message, while the sender's session is unconfirmed (§8.3) */
  initial: Uint8Array | null
  /** the clear part: the ratchet's per-message associated data */
  clear: Uint8Array
  /** encrypted header ‖ body (ratchet.md §3) */
  ratchet: Uint8Array
}

/** The smallest and largest ratchet message: an encrypted header, then a body of 10..MAX_PAYLOAD+9 bytes and its tag. */
const RATCHET_MIN = V2_ENC_HEADER_BYTES + V2_INNER_FIXED_BYTES + 1 + AEAD_TAG_BYTES
const RATCHET_MAX = V2_ENC_HEADER_BYTES + V2_INNER_FIXED_BYTES + MAX_PAYLOAD_BYTES + AEAD_TAG_BYTES

/** The clear part of a v2 envelope (§8.1), to pass to the ratchet as associated data. */
export function encodeV2Clear (id: Uint8Array, initial: Uint8Array | null): Uint8Array {
  if (id.length !== MESSAGE_ID_BYTES) throw errors.WIRE_ENCODE(`envelope id: expected ${MESSAGE_ID_BYTES} bytes, got ${id.length}`)
  if (initial !== null && initial.length !== V2_INITIAL_MESSAGE_BYTES) throw errors.WIRE_ENCODE(`initial message: expected ${V2_INITIAL_MESSAGE_BYTES} bytes, got ${initial.length}`)
  const out = new Uint8Array(V2_FIXED_BYTES + (initial === null ? 0 : initial.length))
  out[0] = ENVELOPE_V2
  out[1] = initial === null ? 0 : V2_FLAG_INITIAL
  out.set(id, 2)
  if (initial !== null) out.set(initial, V2_FIXED_BYTES)
  return out
}

export function encodeEnvelopeV2 (clear: Uint8Array, ratchet: Uint8Array): Uint8Array {
  if (ratchet.length < RATCHET_MIN || ratchet.length > RATCHET_MAX) throw errors.WIRE_ENCODE(`ratchet message: ${ratchet.length} bytes, expected ${RATCHET_MIN}..${RATCHET_MAX}`)
  const out = new Uint8Array(clear.length + ratchet.length)
  out.set(clear, 0)
  out.set(ratchet, clear.length)
  return out
}

/** Structure only (§8.1), no crypto; null for anything else (network input: never throws). */
export function decodeEnvelopeV2 (b: Uint8Array): EnvelopeV2 | null {
  if (b.length < V2_FIXED_BYTES || b[0] !== ENVELOPE_V2) return null
  const flags = b[1] ?? 0
  if ((flags & ~V2_FLAG_INITIAL) !== 0) return null
  const clearLen = V2_FIXED_BYTES + ((flags & V2_FLAG_INITIAL) !== 0 ? V2_INITIAL_MESSAGE_BYTES : 0)
  const ratchetLen = b.length - clearLen
  if (ratchetLen < RATCHET_MIN || ratchetLen > RATCHET_MAX) return null
  return {
    id: b.slice(2, V2_FIXED_BYTES),
    initial: clearLen > V2_FIXED_BYTES ? b.slice(V2_FIXED_BYTES, clearLen) : null,
    clear: b.slice(0, clearLen),
    ratchet: b.slice(clearLen)
  }
}

/**
 * The ratchet's plaintext (§8.2): type ‖ timestamp (u64 ms) ‖ msgpack body (§3). `body`, when
 * given, is encodePayload(p) already made by the caller (the outbox stores the same bytes).
 */
export function encodeV2Inner (p: TypedPayload, timestamp: number, body?: Uint8Array): Uint8Array {
  if (!Number.isInteger(timestamp) || timestamp < TIMESTAMP_MIN_MS || timestamp > TIMESTAMP_MAX_MS) throw errors.WIRE_ENCODE(`timestamp ${timestamp} out of range`)
  body ??= encodePayload(p.type, p.payload as never)
  const out = new Uint8Array(V2_INNER_FIXED_BYTES + body.length)
  out[0] = p.type
  const v = new DataView(out.buffer)
  v.setUint32(1, Math.floor(timestamp / 2 ** 32)); v.setUint32(5, timestamp % 2 ** 32)
  out.set(body, V2_INNER_FIXED_BYTES)
  return out
}

export type V2InnerResult = ({ ok: true, timestamp: number } & TypedPayload) | { ok: false, reason: 'unknown-payload-type' | 'malformed' | 'bad-payload', detail: string }

export function decodeV2Inner (b: Uint8Array): V2InnerResult {
  if (b.length <= V2_INNER_FIXED_BYTES) return { ok: false, reason: 'malformed', detail: 'inner plaintext too short' }
  const type = b[0] ?? 0
  if (!isPayloadType(type)) return { ok: false, reason: 'unknown-payload-type', detail: `payload type ${type}` }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const timestamp = v.getUint32(1) * 2 ** 32 + v.getUint32(5)
  if (timestamp < TIMESTAMP_MIN_MS || timestamp > TIMESTAMP_MAX_MS) return { ok: false, reason: 'malformed', detail: `timestamp ${timestamp}` }
  const p = decodePayload(type, b.subarray(V2_INNER_FIXED_BYTES))
  if (!p.ok) return { ok: false, reason: 'bad-payload', detail: p.reason }
  const { ok: _ok, ...typed } = p
  return { ok: true, timestamp, ...(typed as TypedPayload) }
}
