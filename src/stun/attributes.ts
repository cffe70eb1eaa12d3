// Attribute values (RFC 8489 §14): the address attributes, plain and XOR'd (§14.1, §14.2),
// ERROR-CODE (§14.8), UNKNOWN-ATTRIBUTES (§14.9), SOFTWARE (§14.14). Decoders return null on
// anything malformed; they never throw. proto-spec/stun.md §2.
import { formatIp, parseIp, type PeerAddress } from '../io/address.js'
import { FAMILY_IPV4, FAMILY_IPV6, MAX_REASON_BYTES, STUN_MAGIC_COOKIE } from './constants.js'

const COOKIE = Uint8Array.of(STUN_MAGIC_COOKIE >>> 24, (STUN_MAGIC_COOKIE >>> 16) & 0xff, (STUN_MAGIC_COOKIE >>> 8) & 0xff, STUN_MAGIC_COOKIE & 0xff)

/**
 * §14.2: the port is XOR'd with the cookie's top 16 bits, an IPv4 address with the cookie, an
 * IPv6 one with the cookie followed by the transaction id. `xor` is that 16-byte pad, or null for
 * the plain MAPPED-ADDRESS (§14.1).
 */
export function xorPad (transactionId: Uint8Array): Uint8Array {
  const pad = new Uint8Array(16)
  pad.set(COOKIE, 0)
  pad.set(transactionId.subarray(0, 12), 4)
  return pad
}

/** MAPPED-ADDRESS (xor = null) or XOR-MAPPED-ADDRESS (xor = xorPad(txid)) value → address, or null. */
export function decodeAddress (value: Uint8Array, xor: Uint8Array | null): PeerAddress | null {
  if (value.length < 4) return null
  const family = value[1]
  const size = family === FAMILY_IPV4 ? 4 : family === FAMILY_IPV6 ? 16 : 0
  if (size === 0 || value.length !== 4 + size) return null
  const ip = value.slice(4)
  let port = (value[2]! << 8) | value[3]!
  if (xor !== null) {
    port ^= (xor[0]! << 8) | xor[1]!
    for (let i = 0; i < size; i++) ip[i]! ^= xor[i]!
  }
  return { host: formatIp(ip), port }
}

/** The value of an address attribute; null when `host` is not an IP literal. */
export function encodeAddress (addr: PeerAddress, xor: Uint8Array | null): Uint8Array | null {
  const ip = parseIp(addr.host)
  if (ip === null || !Number.isInteger(addr.port) || addr.port < 0 || addr.port > 0xffff) return null
  const out = new Uint8Array(4 + ip.length)
  out[1] = ip.length === 4 ? FAMILY_IPV4 : FAMILY_IPV6
  let port = addr.port
  if (xor !== null) {
    port ^= (xor[0]! << 8) | xor[1]!
    for (let i = 0; i < ip.length; i++) ip[i]! ^= xor[i]!
  }
  out[2] = port >> 8
  out[3] = port & 0xff
  out.set(ip, 4)
  return out
}

export interface StunErrorCode { code: number, reason: string }

/** §14.8: 21 reserved bits, the class (hundreds, 3..6) in 3 bits, the number (0..99), a UTF-8 reason. */
export function encodeErrorCode (code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, MAX_REASON_BYTES)
  const out = new Uint8Array(4 + text.length)
  out[2] = Math.floor(code / 100) & 0x07
  out[3] = code % 100
  out.set(text, 4)
  return out
}

export function decodeErrorCode (value: Uint8Array): StunErrorCode | null {
  if (value.length < 4 || value.length > 4 + MAX_REASON_BYTES) return null
  const cls = value[2]! & 0x07
  const num = value[3]!
  if (cls < 3 || cls > 6 || num > 99) return null
  return { code: cls * 100 + num, reason: new TextDecoder('utf-8', { fatal: false }).decode(value.subarray(4)) }
}

/** §14.9: a list of 16-bit attribute types. */
export function encodeUnknownAttributes (types: readonly number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2)
  types.forEach((t, i) => { out[2 * i] = t >> 8; out[2 * i + 1] = t & 0xff })
  return out
}

export function decodeUnknownAttributes (value: Uint8Array): number[] | null {
  if ((value.length & 1) !== 0) return null
  const out: number[] = []
  for (let i = 0; i < value.length; i += 2) out.push((value[i]! << 8) | value[i + 1]!)
  return out
}

/** §14.14: SOFTWARE, UTF-8 (fewer than 128 characters: longer text is cut). */
export function decodeSoftware (value: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(value)
}
