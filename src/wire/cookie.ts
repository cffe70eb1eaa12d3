// Stateless DoS cookies for handshake initiations (proto-spec/wire.md §4.4). A responder under
// load answers an initiation with COOKIE_REPLY instead of doing any DH or keeping any state;
// the initiator repeats its initiation with the cookie, proving it receives packets at its
// source address. The cookie is opaque to the initiator, so its construction is local policy;
// this is the recommended one. Pure: the caller passes the time and the random source in.
import { createHmac } from 'node:crypto'
import { COOKIE_BYTES, COOKIE_SECRET_ROTATE_MS } from './constants.js'
import { constantTimeEqual, utf8, wipe } from '../crypto/primitives.js'

const COOKIE_DOMAIN = utf8.encode('dmess-cookie-v1\0')
const SECRET_BYTES = 32

/** cookie = HMAC-SHA256(secret, "dmess-cookie-v1\0" ‖ u16 len ‖ address ‖ u16 port ‖ u32 senderIndex)[0..16) */
export function computeCookie (secret: Uint8Array, address: string, port: number, senderIndex: number): Uint8Array {
  const addr = utf8.encode(address)
  const tail = new Uint8Array(2 + addr.length + 2 + 4)
  const v = new DataView(tail.buffer)
  v.setUint16(0, addr.length)
  tail.set(addr, 2)
  v.setUint16(2 + addr.length, port)
  v.setUint32(4 + addr.length, senderIndex >>> 0)
  const mac = createHmac('sha256', secret).update(COOKIE_DOMAIN).update(tail).digest()
  return new Uint8Array(mac.subarray(0, COOKIE_BYTES))
}

/** Holds the current and previous cookie secrets and rotates them with the caller's clock. */
export class CookieJar {
  private current: Uint8Array
  private previous: Uint8Array | null = null
  private rotatedAt: number

  constructor (private readonly random: (n: number) => Uint8Array, now: number) {
    this.current = random(SECRET_BYTES)
    this.rotatedAt = now
  }

  private rotate (now: number): void {
    if (now - this.rotatedAt < COOKIE_SECRET_ROTATE_MS) return
    if (this.previous !== null) wipe(this.previous)
    // After a long pause both secrets are stale: start afresh.
    this.previous = now - this.rotatedAt < 2 * COOKIE_SECRET_ROTATE_MS ? this.current : null
    if (this.previous === null) wipe(this.current)
    this.current = this.random(SECRET_BYTES)
    this.rotatedAt = now
  }

  /** The cookie to send in a COOKIE_REPLY to this source. */
  make (address: string, port: number, senderIndex: number, now: number): Uint8Array {
    this.rotate(now)
    return computeCookie(this.current, address, port, senderIndex)
  }

  /** True if `cookie` was made for this source by the current or previous secret. */
  check (cookie: Uint8Array, address: string, port: number, senderIndex: number, now: number): boolean {
    this.rotate(now)
    if (constantTimeEqual(cookie, computeCookie(this.current, address, port, senderIndex))) return true
    return this.previous !== null && constantTimeEqual(cookie, computeCookie(this.previous, address, port, senderIndex))
  }
}
