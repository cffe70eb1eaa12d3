// The STUN Binding server (RFC 8489 §6.3, §12; RFC 3489 §11.2 for classic clients): a pure core
// that turns one decoded request into at most one response. The node feeds it from its one UDP
// socket (src/node/nat.ts); `dmess bootstrap` from its DHT socket. proto-spec/stun.md §3.
//
// Never an amplifier: every response is at most MAX_RESPONSE_GROWTH_BYTES longer than the request
// it answers (checked on each one, counted and dropped otherwise), no attribute can make us send
// anywhere but back to the source (RESPONSE-PORT is refused with 420), and each source IP, and all
// sources together, are held to a token bucket. A server with a second IP and port
// (behaviour-server.ts) honours CHANGE-REQUEST (RFC 5780 §4.4, §7.2): the answer still goes to the
// source, only from another of its own addresses, and names that address in OTHER-ADDRESS (§7.4).
import type { PeerAddress } from '../io/address.js'
import { KeyedRateLimiter, TokenBucket, type BucketOptions } from '../transport/rate-limit.js'
import { Attr, ErrorCode, MAX_RESPONSE_GROWTH_BYTES, MAX_STUN_REQUEST_BYTES, MAX_UNKNOWN_LISTED, METHOD_BINDING, STUN_HEADER_BYTES } from './constants.js'
import { encodeStun, type StunAttribute, type StunMessage } from './codec.js'
import { encodeAddress, encodeErrorCode, encodeUnknownAttributes, xorPad } from './attributes.js'

/**
 * Comprehension-required attributes (RFC 8489 §14: types below 0x8000) a Binding request may carry
 * and that we answer anyway: credentials and ICE's (RFC 8445 §7.1.1) are not needed to report an
 * address, PADDING only pads. Any other one earns a 420 (§6.3.1.1).
 */
const UNDERSTOOD = new Set<number>([
  Attr.MAPPED_ADDRESS, Attr.XOR_MAPPED_ADDRESS, Attr.USERNAME, Attr.MESSAGE_INTEGRITY,
  Attr.MESSAGE_INTEGRITY_SHA256, Attr.ERROR_CODE, Attr.UNKNOWN_ATTRIBUTES, Attr.REALM, Attr.NONCE,
  Attr.PASSWORD_ALGORITHM, Attr.USERHASH, Attr.PRIORITY, Attr.USE_CANDIDATE, Attr.PADDING
])

export interface StunServerOptions {
  /** per source IP; default 10/s, bursts of 20, 4096 sources tracked */
  perSource?: BucketOptions & { maxKeys: number }
  /** all sources together; default 500/s, bursts of 1000 (≤ 32 KB/s of answers) */
  global?: BucketOptions
}

export interface StunServerStats {
  answered: number
  /** 400 and 420 answers */
  errors: number
  rateLimited: number
  /** requests too large to answer, or answers that would have grown past the bound */
  refused: number
}

/** An answer and the socket to send it from, relative to the one the request came in on (RFC 5780 §7.2). */
export interface StunAnswer {
  bytes: Uint8Array
  changeIp: boolean
  changePort: boolean
}

export class StunServer {
  readonly stats: StunServerStats = { answered: 0, errors: 0, rateLimited: 0, refused: 0 }
  readonly #perSource: KeyedRateLimiter
  readonly #global: TokenBucket

  constructor (opts: StunServerOptions = {}, now = 0) {
    this.#perSource = new KeyedRateLimiter(opts.perSource ?? { ratePerS: 10, burst: 20, maxKeys: 4096 })
    this.#global = new TokenBucket(opts.global ?? { ratePerS: 500, burst: 1000 }, now)
  }

  /** The response to a request from `from`, or null when we send nothing. */
  answer (req: StunMessage, from: PeerAddress, now: number): Uint8Array | null {
    return this.answerFrom(req, from, now, null)?.bytes ?? null
  }

  /**
   * The response to a request from `from` that came in on a socket whose OTHER-ADDRESS (the
   * address with the other IP and the other port, RFC 5780 §7.4) is `other`, or null when we send
   * nothing. With `other` null the server has one address: a CHANGE-REQUEST asking for a change is
   * refused (420).
   */
  answerFrom (req: StunMessage, from: PeerAddress, now: number, other: PeerAddress | null): StunAnswer | null {
    if (req.cls !== 'request') return null
    if (req.bytes.length > MAX_STUN_REQUEST_BYTES) { this.stats.refused++; return null }
    if (!this.#perSource.take(from.host, now) || !this.#global.take(now)) { this.stats.rateLimited++; return null }
    const out = this.#respond(req, from, other)
    if (out === null || out.bytes.length > req.bytes.length + MAX_RESPONSE_GROWTH_BYTES) { this.stats.refused++; return null }
    return out
  }

  #respond (req: StunMessage, from: PeerAddress, other: PeerAddress | null): StunAnswer | null {
    const plain = (bytes: Uint8Array): StunAnswer => ({ bytes, changeIp: false, changePort: false })
    if (req.method !== METHOD_BINDING) return plain(this.#error(req, ErrorCode.BAD_REQUEST, 'Bad Request', []))
    const unknown = unknownRequired(req, other !== null)
    if (unknown === 'malformed') return plain(this.#error(req, ErrorCode.BAD_REQUEST, 'Bad Request', []))
    if (unknown.length > 0) return plain(this.#error(req, ErrorCode.UNKNOWN_ATTRIBUTE, 'Unknown Attribute', unknown.slice(0, MAX_UNKNOWN_LISTED)))
    // §12 / RFC 3489 §11.2.1: a classic client reads MAPPED-ADDRESS, a current one XOR-MAPPED-ADDRESS
    const value = encodeAddress(from, req.legacy ? null : xorPad(req.transactionId))
    if (value === null) return null
    this.stats.answered++
    const type = req.legacy ? Attr.MAPPED_ADDRESS : Attr.XOR_MAPPED_ADDRESS
    const attributes: StunAttribute[] = [{ type, value }]
    // RFC 5780 §7.4: OTHER-ADDRESS tells a client where to run the behaviour tests; added only when
    // the answer stays within the growth bound (a plain 20-byte IPv6 request has no room for it)
    const otherValue = other === null || req.legacy ? null : encodeAddress(other, null)
    const room = req.bytes.length + MAX_RESPONSE_GROWTH_BYTES - (STUN_HEADER_BYTES + 4 + value.length + 8)
    if (otherValue !== null && otherValue.length + 4 <= room) attributes.push({ type: Attr.OTHER_ADDRESS, value: otherValue })
    const change = other === null ? 0 : changeFlags(req)
    const bytes = encodeStun({ method: METHOD_BINDING, cls: 'success', transactionId: req.transactionId, attributes, fingerprint: true })
    return { bytes, changeIp: (change & CHANGE_IP) !== 0, changePort: (change & CHANGE_PORT) !== 0 }
  }

  #error (req: StunMessage, code: number, reason: string, unknown: number[]): Uint8Array {
    this.stats.errors++
    const attributes: StunAttribute[] = [{ type: Attr.ERROR_CODE, value: encodeErrorCode(code, reason) }]
    if (unknown.length > 0) attributes.push({ type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes(unknown) })
    return encodeStun({ method: req.method, cls: 'error', transactionId: req.transactionId, attributes, fingerprint: true })
  }
}

/** RFC 5780 §7.2: CHANGE-REQUEST's flags, in the value's last byte. */
const CHANGE_IP = 0x04
const CHANGE_PORT = 0x02

/** The first CHANGE-REQUEST's change-IP and change-port flags (0 with none). */
function changeFlags (req: StunMessage): number {
  const a = req.attributes.find(x => x.type === Attr.CHANGE_REQUEST)
  return a === undefined || a.value.length !== 4 ? 0 : a.value[3]! & (CHANGE_IP | CHANGE_PORT)
}

/**
 * §6.3.1.1: the comprehension-required types we do not handle, each once; 'malformed' for a bad
 * CHANGE-REQUEST. A server with one address and one port (`canChange` false) honours only
 * "change nothing" (RFC 5780 §7.2); one with two of each honours every change.
 */
function unknownRequired (req: StunMessage, canChange: boolean): number[] | 'malformed' {
  const out: number[] = []
  for (const a of req.attributes) {
    if (a.type >= 0x8000 || UNDERSTOOD.has(a.type) || out.includes(a.type)) continue
    if (a.type === Attr.CHANGE_REQUEST) {
      if (a.value.length !== 4) return 'malformed'
      if (canChange || (a.value[3]! & (CHANGE_IP | CHANGE_PORT)) === 0) continue
    }
    out.push(a.type)
  }
  return out
}
