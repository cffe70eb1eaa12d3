// The identity proof carried in Noise handshake payloads (proto-spec/noise.md §4): it binds the
// handshake's static X25519 key to an Ed25519 identity, so a completed handshake authenticates
// the peer's fingerprint. Pure; never throws on network input.
import { KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/primitives.js'
import { verifyPublicIdentity, fingerprintOf, type PublicIdentity } from '../crypto/identity.js'

/** noise.md §4: proof version 1 */
export const PROOF_VERSION = 1
/** version (1) ‖ signPublic (32) ‖ dhSignature (64) */
export const PROOF_BYTES = 1 + KEY_BYTES + ED25519_SIGNATURE_BYTES

export interface VerifiedPeer {
  /** the peer's public identity: dhPublic is the handshake's remote static key */
  identity: PublicIdentity
  fingerprint: string
}

/** Our proof: the identity's Ed25519 key and its signature over our X25519 (= Noise static) key. */
export function encodeProof (id: PublicIdentity): Uint8Array {
  const out = new Uint8Array(PROOF_BYTES)
  out[0] = PROOF_VERSION
  out.set(id.signPublic, 1)
  out.set(id.dhSignature, 1 + KEY_BYTES)
  return out
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
  if (!verifyPublicIdentity(identity)) return null
  return { identity, fingerprint: fingerprintOf(identity) }
}
