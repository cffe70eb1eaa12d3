// The identity proof carried in Noise handshake payloads (proto-spec/noise.md §4): it binds the
// handshake's static X25519 key to an Ed25519 identity, so a completed handshake authenticates
// the peer's fingerprint. An initiator appends the session id (session.md §2.3). Pure; never
// throws on network input.
import { KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/primitives.js'
import { verifyPublicIdentity, fingerprintOf, type PublicIdentity } from '../crypto/identity.js'

/** noise.md §4: proof version 1 */
export const PROOF_VERSION = 1
/** version (1) ‖ signPublic (32) ‖ dhSignature (64) */
export const PROOF_BYTES = 1 + KEY_BYTES + ED25519_SIGNATURE_BYTES

/**
 * Session-layer fields after the proof (noise.md §4 lets a receiver skip what it does not know):
 * type (1) ‖ length (1) ‖ value. session.md §2.3.
 */
export const PayloadField = {
  /** 8 random bytes naming the session this handshake opens or rekeys */
  SESSION_ID: 0x01,
  /** IK message 1 only: the initiator's TAI64N wall-clock time, against replay (session.md §6.4) */
  TIMESTAMP: 0x02
} as const
export const SESSION_ID_BYTES = 8
/** TAI64N (WireGuard whitepaper §5.4.2): 8-byte big-endian TAI64 seconds ‖ 4-byte nanoseconds */
export const TIMESTAMP_BYTES = 12
/** TAI64 label of second 0 of 1970 TAI, plus the 10 s TAI−UTC offset of 1970 (as wireguard-go writes it) */
const TAI64_BASE = 0x400000000000000an

/** A TAI64N timestamp of `wallMs` milliseconds since the Unix epoch plus `extraNs` nanoseconds. */
export function tai64n (wallMs: number, extraNs = 0): Uint8Array {
  const ms = Math.max(0, Math.floor(wallMs))
  const out = new Uint8Array(TIMESTAMP_BYTES)
  const v = new DataView(out.buffer)
  v.setBigUint64(0, TAI64_BASE + BigInt(Math.floor(ms / 1000)))
  v.setUint32(8, (ms % 1000) * 1_000_000 + extraNs)
  return out
}

/** Byte order is time order for TAI64N: > 0 when `a` is later than `b`. */
export function compareTimestamps (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < TIMESTAMP_BYTES; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}

export interface VerifiedPeer {
  /** the peer's public identity: dhPublic is the handshake's remote static key */
  identity: PublicIdentity
  fingerprint: string
  /** the initiator's SESSION_ID field, if the payload had one */
  sessionId: Uint8Array | null
  /** the TIMESTAMP field (IK message 1), if the payload had one */
  timestamp: Uint8Array | null
}

/**
 * Our handshake payload: the proof (the identity's Ed25519 key and its signature over our X25519
 * = Noise static key), then, from an initiator, the SESSION_ID field, and in IK message 1 the
 * TIMESTAMP field.
 */
export function encodeProof (id: PublicIdentity, sessionId: Uint8Array | null = null, timestamp: Uint8Array | null = null): Uint8Array {
  const fields: Array<[number, Uint8Array]> = []
  if (sessionId !== null) fields.push([PayloadField.SESSION_ID, sessionId.subarray(0, SESSION_ID_BYTES)])
  if (timestamp !== null) fields.push([PayloadField.TIMESTAMP, timestamp.subarray(0, TIMESTAMP_BYTES)])
  const out = new Uint8Array(PROOF_BYTES + fields.reduce((n, [, v]) => n + 2 + v.length, 0))
  out[0] = PROOF_VERSION
  out.set(id.signPublic, 1)
  out.set(id.dhSignature, 1 + KEY_BYTES)
  let at = PROOF_BYTES
  for (const [type, value] of fields) {
    out.set([type, value.length], at)
    out.set(value, at + 2)
    at += 2 + value.length
  }
  return out
}

/** A field among those after the proof, by type and exact length; unknown fields are skipped. */
function findField (fields: Uint8Array, want: number, length: number): Uint8Array | null {
  let at = 0
  while (at + 2 <= fields.length) {
    const type = fields[at] ?? 0
    const len = fields[at + 1] ?? 0
    if (at + 2 + len > fields.length) return null // truncated field: ignore the rest
    if (type === want && len === length) return fields.slice(at + 2, at + 2 + len)
    at += 2 + len
  }
  return null
}

/** The TIMESTAMP field of a handshake payload, read before the (costlier) proof check. */
export function payloadTimestamp (payload: Uint8Array): Uint8Array | null {
  return payload.length < PROOF_BYTES ? null : findField(payload.subarray(PROOF_BYTES), PayloadField.TIMESTAMP, TIMESTAMP_BYTES)
}

/**
 * noise.md §4 step 3: rebuild the public identity from the payload and the static key the
 * handshake authenticated, and verify the binding. Bytes after the 97 known ones are ignored
 * (a later proof version may append fields). Null when anything is wrong.
 */
export function verifyProof (payload: Uint8Array, remoteStatic: Uint8Array | null): VerifiedPeer | null {
  // A later version keeps these 97 bytes and appends fields (noise.md §4), so any version ≥ 1 is read.
  if (remoteStatic === null || payload.length < PROOF_BYTES || (payload[0] ?? 0) < PROOF_VERSION) return null
  const identity: PublicIdentity = {
    signPublic: payload.slice(1, 1 + KEY_BYTES),
    dhPublic: remoteStatic.slice(),
    dhSignature: payload.slice(1 + KEY_BYTES, PROOF_BYTES)
  }
  const fingerprint = verifiedFingerprint(identity)
  if (fingerprint === null) return null
  const fields = payload.subarray(PROOF_BYTES)
  return { identity, fingerprint, sessionId: findField(fields, PayloadField.SESSION_ID, SESSION_ID_BYTES), timestamp: findField(fields, PayloadField.TIMESTAMP, TIMESTAMP_BYTES) }
}

// Identities that verified recently, by their exact 128 bytes. Verification is a pure function of
// those bytes (two strict key decodings, a small-order check and an Ed25519 verify: most of a
// handshake's CPU after the DHs), so a peer that reconnects or rekeys (every rekey is a new IK
// handshake, wire.md §7) is not verified again. Only successes are kept, and only a few.
// Process-wide on purpose: the answer depends on the public bytes alone, so every endpoint in the
// process may share it; evicting another endpoint's entry costs it one verification, nothing more.
const VERIFIED_CACHE_ENTRIES = 256
const verified = new Map<string, string>()

function verifiedFingerprint (identity: PublicIdentity): string | null {
  const key = Buffer.concat([identity.signPublic, identity.dhPublic, identity.dhSignature]).toString('latin1')
  const hit = verified.get(key)
  if (hit !== undefined) return hit
  if (!verifyPublicIdentity(identity)) return null
  const fingerprint = fingerprintOf(identity)
  if (verified.size >= VERIFIED_CACHE_ENTRIES) verified.delete(verified.keys().next().value!)
  verified.set(key, fingerprint)
  return fingerprint
}
