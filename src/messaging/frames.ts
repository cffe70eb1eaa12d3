// What travels on a peer link (proto-spec/messaging.md §2): each message of the reliable channel
// is one frame, a type byte and a body: envelopes, the PQXDH prekey bundle asked for and sent
// over the session (proto-spec/pqxdh.md §8), and file-transfer messages (proto-spec/files.md §3).
// A frame of an unknown type is dropped and counted, so a later version can add kinds.
import { BUNDLE_BYTES, BUNDLE_VERSION } from '../pqxdh/index.js'
import { decodePayload, encodePayload, type PresencePayload } from '../wire/payloads.js'
import { PayloadType } from '../wire/constants.js'

export const FrameType = {
  // 0x00 reserved
  /** body: one envelope (envelope.md §2) whose sender is the link's proven peer */
  ENVELOPE: 0x01,
  // 0x02–0x0f reserved for relaying and store-and-forward (messaging.md §2)
  /**
   * body: one byte: 1 "send me your prekey bundle"; 2 the same, and "I open envelope v2"
   * (envelope.md §8.7: a node that does not read v2 ignores a 2, so its silence keeps us on v1)
   */
  PREKEY_REQUEST: 0x10,
  /** body: the sender's current prekey bundle (pqxdh.md §3.3) */
  PREKEY_BUNDLE: 0x11,
  /**
   * body: one byte, why the sender gives no bundle to this asker (PrekeyNone): the answer to a
   * PREKEY_REQUEST that would otherwise go unanswered, so the asker's outbox need not wait for it
   */
  PREKEY_NONE: 0x12,
  // 0x13–0x1f reserved for the session start
  /** body: one file-transfer message (proto-spec/files.md §3), handled by src/files/ */
  FILE: 0x20,
  // 0x21–0x2f reserved for file transfer
  /**
   * body: a PRESENCE payload body (envelope.md §3.6, msgpack), from the link's peer: what the
   * session's Noise handshake authenticated needs no envelope of its own (messaging.md §7)
   */
  PRESENCE: 0x30
} as const
export type FrameType = typeof FrameType[keyof typeof FrameType]

/** One byte of type before the envelope. */
export const FRAME_HEADER_BYTES = 1

export type Frame =
  | { type: typeof FrameType.ENVELOPE, envelope: Uint8Array }
  | { type: typeof FrameType.PREKEY_REQUEST, wants: number }
  | { type: typeof FrameType.PREKEY_BUNDLE, bundle: Uint8Array }
  | { type: typeof FrameType.PREKEY_NONE, reason: PrekeyNone }
  | { type: typeof FrameType.FILE, body: Uint8Array }
  | { type: typeof FrameType.PRESENCE, presence: PresencePayload }

export function encodeEnvelopeFrame (envelope: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + envelope.length)
  out[0] = FrameType.ENVELOPE
  out.set(envelope, FRAME_HEADER_BYTES)
  return out
}

/** The request version that says the asker opens envelope v2 (envelope.md §8.7). */
export const PREKEY_REQUEST_V2 = 2

export function encodePrekeyRequestFrame (wants: number = PREKEY_REQUEST_V2): Uint8Array {
  return Uint8Array.of(FrameType.PREKEY_REQUEST, wants)
}

export function encodePrekeyBundleFrame (bundle: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + bundle.length)
  out[0] = FrameType.PREKEY_BUNDLE
  out.set(bundle, FRAME_HEADER_BYTES)
  return out
}

/** Why a PREKEY_REQUEST gets no bundle (messaging.md §2). */
export const PrekeyNone = {
  /** bundles go to contacts only, and the asker is not one (yet) */
  NOT_A_CONTACT: 1,
  /** this node keeps no prekeys: it opens and sends envelope v1 only */
  NO_PREKEYS: 2
} as const
export type PrekeyNone = typeof PrekeyNone[keyof typeof PrekeyNone]

export function encodePrekeyNoneFrame (reason: PrekeyNone): Uint8Array {
  return Uint8Array.of(FrameType.PREKEY_NONE, reason)
}

/** A FILE frame from an encoder that leaves `headroom` bytes free in front (files/codec.ts encodeFileMessage): no second copy of the body. */
export function fileFrame (encode: (headroom: number) => Uint8Array): Uint8Array {
  const out = encode(FRAME_HEADER_BYTES)
  out[0] = FrameType.FILE
  return out
}

export function encodeFileFrame (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length)
  out[0] = FrameType.FILE
  out.set(body, FRAME_HEADER_BYTES)
  return out
}

export function encodePresenceFrame (presence: PresencePayload): Uint8Array {
  const body = encodePayload(PayloadType.PRESENCE, presence)
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length)
  out[0] = FrameType.PRESENCE
  out.set(body, FRAME_HEADER_BYTES)
  return out
}

/** A PRESENCE frame's body under envelope.md §3.6's rules, or null. */
function decodePresenceFrame (body: Uint8Array): Frame | null {
  const r = decodePayload(PayloadType.PRESENCE, body)
  return r.ok && r.type === PayloadType.PRESENCE ? { type: FrameType.PRESENCE, presence: r.payload } : null
}

/** Null for anything that is not a frame we know (network input: never throws). */
export function decodeFrame (bytes: Uint8Array): Frame | null {
  if (bytes.length <= FRAME_HEADER_BYTES) return null
  const body = bytes.subarray(FRAME_HEADER_BYTES)
  switch (bytes[0]) {
    case FrameType.ENVELOPE: return { type: FrameType.ENVELOPE, envelope: body }
    case FrameType.PREKEY_REQUEST: return body.length === 1 && (body[0] === BUNDLE_VERSION || body[0] === PREKEY_REQUEST_V2) ? { type: FrameType.PREKEY_REQUEST, wants: body[0] } : null
    case FrameType.PREKEY_BUNDLE: return body.length === BUNDLE_BYTES ? { type: FrameType.PREKEY_BUNDLE, bundle: body } : null
    case FrameType.PREKEY_NONE: return body.length === 1 && (body[0] === PrekeyNone.NOT_A_CONTACT || body[0] === PrekeyNone.NO_PREKEYS) ? { type: FrameType.PREKEY_NONE, reason: body[0] } : null
    case FrameType.FILE: return { type: FrameType.FILE, body }
    case FrameType.PRESENCE: return decodePresenceFrame(body)
    default: return null
  }
}
