// Write tokens (BEP 5 "token", dht.md §4): a FIND_VALUE answer carries a token that lets the asker
// STORE that key at this node from the same address within one to two rotation periods. The token
// is a MAC under a secret only this node knows, so no state is kept per asker, and a STORE from a
// spoofed source address fails (the spoofer never saw the token sent to the real address).
import { hmac, constantTimeEqual, wipe, utf8 } from '../crypto/primitives.js'
import { TOKEN_BYTES, TOKEN_DOMAIN, TOKEN_ROTATE_MS } from './constants.js'

const SECRET_BYTES = 32

export interface TokenOptions {
  random: (n: number) => Uint8Array
  rotateMs?: number
}

export class WriteTokens {
  readonly rotateMs: number
  readonly #random: (n: number) => Uint8Array
  #current: Uint8Array
  #previous: Uint8Array | null = null
  #rotatedAt: number

  constructor (opts: TokenOptions, now: number) {
    this.#random = opts.random
    this.rotateMs = opts.rotateMs ?? TOKEN_ROTATE_MS
    this.#current = this.#fresh()
    this.#rotatedAt = now
  }

  /** The token for `addr` (the asker's canonical address) to store `key`. */
  issue (addr: string, key: Uint8Array, now: number): Uint8Array {
    this.tick(now)
    return this.#mac(this.#current, addr, key)
  }

  /** True when `token` was issued to `addr` for `key` under the current or the previous secret. */
  check (token: Uint8Array, addr: string, key: Uint8Array, now: number): boolean {
    this.tick(now)
    if (token.length !== TOKEN_BYTES) return false
    // Both MACs are computed and compared, so timing does not tell which secret matched.
    const a = constantTimeEqual(token, this.#mac(this.#current, addr, key))
    const b = this.#previous !== null && constantTimeEqual(token, this.#mac(this.#previous, addr, key))
    return a || b
  }

  /** Replace the secret now (the previous one stays valid for one more period). */
  rotate (now: number): void {
    wipe(this.#previous ?? undefined)
    this.#previous = this.#current
    this.#current = this.#fresh()
    this.#rotatedAt = now
  }

  /** Forget both secrets (node stop): every token issued so far is invalid; a fresh secret is drawn. */
  destroy (): void {
    wipe(this.#current, this.#previous ?? undefined)
    this.#previous = null
    this.#current = this.#fresh()
  }

  /** Rotate if a period has passed (also done on every issue/check). */
  tick (now: number): void {
    if (now - this.#rotatedAt < this.rotateMs) return
    // Two periods or more without a rotation: nothing issued before now may stay valid that long.
    if (now - this.#rotatedAt >= 2 * this.rotateMs) this.rotate(now)
    this.rotate(now)
  }

  #fresh (): Uint8Array {
    return this.#random(SECRET_BYTES).slice(0, SECRET_BYTES)
  }

  #mac (secret: Uint8Array, addr: string, key: Uint8Array): Uint8Array {
    return hmac('sha256', secret, TOKEN_DOMAIN, utf8.encode(addr), key).subarray(0, TOKEN_BYTES)
  }
}
