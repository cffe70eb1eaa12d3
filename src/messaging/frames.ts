// What travels on a peer link (proto-spec/messaging.md §2): each message of the reliable channel
// is one frame, a type byte and a body. Only the envelope frame exists today; a frame of an
// unknown type is dropped and counted, so a later version can add kinds (e.g. relayed envelopes).
export const FrameType = {
  // 0x00 reserved
  /** body: one envelope (envelope.md §2) whose sender is the link's proven peer */
  ENVELOPE: 0x01
  // 0x02–0x0f reserved for relaying and store-and-forward (messaging.md §2)
} as const
export type FrameType = typeof FrameType[keyof typeof FrameType]

/** One byte of type before the envelope. */
export const FRAME_HEADER_BYTES = 1

export type Frame = { type: typeof FrameType.ENVELOPE, envelope: Uint8Array }

export function encodeEnvelopeFrame (envelope: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + envelope.length)
  out[0] = FrameType.ENVELOPE
  out.set(envelope, FRAME_HEADER_BYTES)
  return out
}

/** Null for anything that is not a frame we know (network input: never throws). */
export function decodeFrame (bytes: Uint8Array): Frame | null {
  if (bytes.length <= FRAME_HEADER_BYTES) return null
  if (bytes[0] === FrameType.ENVELOPE) return { type: FrameType.ENVELOPE, envelope: bytes.subarray(FRAME_HEADER_BYTES) }
  return null
}
