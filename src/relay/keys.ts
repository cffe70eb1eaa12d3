// What the relay learns of the pair secret, and the proofs a side shows it (proto-spec/relay.md §4).
// The two users agree a random pair secret end to end; the relay gets only the bind key, a one-way
// HKDF (RFC 5869) output of it, and checks HMAC-SHA256 (RFC 2104) proofs made with that key.
import { hkdfSha256, hmac, utf8 } from '../crypto/primitives.js'
import { BIND_KEY_BYTES, RELAY_COOKIE_BYTES } from './constants.js'

const BIND_KEY_INFO = utf8.encode('dmess-relay-bind-key-v1')
const BIND_DOMAIN = utf8.encode('dmess-relay-bind-v1\0')
const RELEASE_DOMAIN = utf8.encode('dmess-relay-release-v1\0')

/** bindKey = HKDF-SHA256(ikm = pair secret, salt = empty, info = "dmess-relay-bind-key-v1", 32). */
export function bindKeyOf (pairSecret: Uint8Array): Uint8Array {
  return hkdfSha256(pairSecret, new Uint8Array(0), BIND_KEY_INFO, BIND_KEY_BYTES)
}

function u16 (v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff)
}

/** proof = HMAC-SHA256(bindKey, "dmess-relay-bind-v1\0" ‖ allocation id ‖ u16 relay port ‖ cookie or 16 zeros). */
export function bindProof (bindKey: Uint8Array, allocationId: Uint8Array, port: number, cookie: Uint8Array | null): Uint8Array {
  return hmac('sha256', bindKey, BIND_DOMAIN, allocationId, u16(port), cookie ?? new Uint8Array(RELAY_COOKIE_BYTES))
}

/** proof = HMAC-SHA256(bindKey, "dmess-relay-release-v1\0" ‖ allocation id ‖ u16 relay port). */
export function releaseProof (bindKey: Uint8Array, allocationId: Uint8Array, port: number): Uint8Array {
  return hmac('sha256', bindKey, RELEASE_DOMAIN, allocationId, u16(port))
}
