// mac1: the proof that an initiator knows whom it is calling (proto-spec/wire.md §4.1.1). The
// last MAC1_BYTES of every HANDSHAKE_INITIATION are
//
//   key  = SHA-256("dmess-mac1-v1\0" ‖ fingerprintBytes(responder))        (identity.md §3)
//   mac1 = HMAC-SHA-256(key, the initiation's bytes before mac1)[0..16)
//
// WireGuard's mac1 (whitepaper §5.4.4) keys it with the responder's static public key; ours is
// keyed with the fingerprint, which is all a user is given (an invite contains it), so first
// contact by fingerprint keeps working. A responder checks it before any Diffie-Hellman or state
// and answers nothing without it: a port prober who does not know the fingerprint gets no
// datagram back, so it cannot map an address to a fingerprint. Pure; never throws on network input.
import { createHmac } from 'node:crypto'
import { MAC1_BYTES } from './constants.js'
import { constantTimeEqual, sha256, utf8 } from '../crypto/primitives.js'
import { fingerprintBytes } from '../crypto/fingerprint.js'

const MAC1_LABEL = utf8.encode('dmess-mac1-v1\0')

/** The mac1 key of the node whose fingerprint is `fingerprint` (throws BAD_FINGERPRINT: local input). */
export function mac1Key (fingerprint: string): Uint8Array {
  return sha256(MAC1_LABEL, fingerprintBytes(fingerprint))
}

/** HMAC-SHA-256(key, covered)[0..16): covered is the initiation without its last 16 bytes. */
export function computeMac1 (key: Uint8Array, covered: Uint8Array): Uint8Array {
  const mac = createHmac('sha256', key).update(covered).digest()
  return new Uint8Array(mac.buffer, mac.byteOffset, MAC1_BYTES)
}

/** Write the mac1 of `datagram` (an encoded initiation) into its last 16 bytes. */
export function sealMac1 (datagram: Uint8Array, key: Uint8Array): Uint8Array {
  datagram.set(computeMac1(key, datagram.subarray(0, datagram.length - MAC1_BYTES)), datagram.length - MAC1_BYTES)
  return datagram
}

/** True if the last 16 bytes of `datagram` are its mac1 under `key` (compared in constant time). */
export function checkMac1 (datagram: Uint8Array, key: Uint8Array): boolean {
  if (datagram.length <= MAC1_BYTES) return false
  const at = datagram.length - MAC1_BYTES
  return constantTimeEqual(datagram.subarray(at), computeMac1(key, datagram.subarray(0, at)))
}
