// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute, with the
// header's length field rewritten to end just after MESSAGE-INTEGRITY. dmess neither sends nor
// requires it (Binding needs no credentials, proto-spec/stun.md §3); the check exists so the codec
// is verified against RFC 5769's vectors byte for byte, and the comparison is constant-time
// because the HMAC is a secret-dependent value (proto-spec/crypto-policy.md).
import { createHmac, createHash } from 'node:crypto'
import { constantTimeEqual } from '../crypto/primitives.js'
import { Attr, HMAC_SHA1_BYTES, STUN_HEADER_BYTES } from './constants.js'
import { padded, type StunMessage } from './codec.js'

/** Where MESSAGE-INTEGRITY's TLV starts in the message, or -1. */
function integrityOffset (bytes: Uint8Array): number {
  for (let at = STUN_HEADER_BYTES; at + 4 <= bytes.length;) {
    const type = (bytes[at]! << 8) | bytes[at + 1]!
    if (type === Attr.MESSAGE_INTEGRITY) return at
    at += 4 + padded((bytes[at + 2]! << 8) | bytes[at + 3]!)
  }
  return -1
}

/** §9.2.2: the long-term key, MD5(username ":" realm ":" password), the password already SASLprep'd. */
export function longTermKey (username: string, realm: string, password: string): Uint8Array {
  return new Uint8Array(createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest())
}

/** True when the message carries a MESSAGE-INTEGRITY that `key` produced (§9.1.1 short-term key = the password). */
export function messageIntegrityValid (m: StunMessage, key: Uint8Array): boolean {
  const at = integrityOffset(m.bytes)
  if (at < 0 || ((m.bytes[at + 2]! << 8) | m.bytes[at + 3]!) !== HMAC_SHA1_BYTES) return false
  const covered = m.bytes.slice(0, at)
  const length = at + 4 + HMAC_SHA1_BYTES - STUN_HEADER_BYTES
  covered[2] = length >> 8
  covered[3] = length & 0xff
  const mac = new Uint8Array(createHmac('sha1', key).update(covered).digest())
  return constantTimeEqual(mac, m.bytes.subarray(at + 4, at + 4 + HMAC_SHA1_BYTES))
}
