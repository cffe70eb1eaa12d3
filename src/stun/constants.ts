// STUN numbers (RFC 8489 §5, §14, §18; RFC 5780 §7; RFC 3489 §11) and dmess's tuning of them, in
// one place. proto-spec/stun.md.
export { STUN_MAGIC_COOKIE, STUN_HEADER_BYTES } from '../wire/constants.js'

/** RFC 8489 §5: bytes 8–19 of an RFC 5389/8489 message. */
export const TRANSACTION_ID_BYTES = 12
/** RFC 3489 §11.1: the classic header has no cookie; bytes 4–19 are a 128-bit transaction id. */
export const LEGACY_TRANSACTION_ID_BYTES = 16
/** RFC 8489 §14.7: FINGERPRINT = CRC-32 of the message before it, XOR this. */
export const FINGERPRINT_XOR = 0x5354554e
/** RFC 8489 §14.5: MESSAGE-INTEGRITY is an HMAC-SHA1, 20 bytes. */
export const HMAC_SHA1_BYTES = 20

/** RFC 8489 §5: the two class bits of the message type. */
export type StunClass = 'request' | 'indication' | 'success' | 'error'
export const CLASS_BITS: Readonly<Record<StunClass, number>> = { request: 0b00, indication: 0b01, success: 0b10, error: 0b11 }

/** RFC 8489 §18.2: the one method we speak. */
export const METHOD_BINDING = 0x001

/** Attribute types (RFC 8489 §18.3; RFC 5780 §7; RFC 8445 §16.1). < 0x8000: comprehension-required. */
export const Attr = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003, // RFC 5780 §7.2
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  REALM: 0x0014,
  NONCE: 0x0015,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  PRIORITY: 0x0024, // RFC 8445 §16.1
  USE_CANDIDATE: 0x0025, // RFC 8445 §16.1
  PADDING: 0x0026, // RFC 5780 §7.6
  RESPONSE_PORT: 0x0027, // RFC 5780 §7.5
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
  RESPONSE_ORIGIN: 0x802b, // RFC 5780 §7.3
  OTHER_ADDRESS: 0x802c // RFC 5780 §7.4
} as const

/** RFC 8489 §14.1: address family byte. */
export const FAMILY_IPV4 = 0x01
export const FAMILY_IPV6 = 0x02

/** RFC 8489 §14.8 error codes we send or read by name. */
export const ErrorCode = { BAD_REQUEST: 400, UNKNOWN_ATTRIBUTE: 420, SERVER_ERROR: 500 } as const

/** RFC 8489 §14.8: the reason phrase is at most 128 characters (763 bytes). */
export const MAX_REASON_BYTES = 763

// ---- dmess tuning (proto-spec/stun.md §4, §5) ----

/**
 * A response is never more than this many bytes longer than the request it answers, so a spoofed
 * source gains almost nothing from us (no amplification): our largest answer, a 420 listing one
 * unknown attribute, is 64 bytes, and the smallest request that can cause it is 24.
 */
export const MAX_RESPONSE_GROWTH_BYTES = 40
/** We list at most this many unknown attributes in a 420 (RFC 8489 §14.9 sets no limit). */
export const MAX_UNKNOWN_LISTED = 4
/** Longer datagrams are not STUN we answer (RFC 8489 §6.1: 576 bytes fits any path; ours are < 100). */
export const MAX_STUN_REQUEST_BYTES = 548
