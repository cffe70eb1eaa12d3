// The rotating discovery token (proto-spec/discovery.md §2.4): what a node announces on the LAN
// instead of its fingerprint. Only someone who already knows the fingerprint (a contact, or
// whoever was given the invite: the fingerprint is the capability) can compute the token for a
// time window and so recognise the node; to everyone else it is 16 random-looking bytes that
// change every window. Pure: fingerprints and times in, tokens out.
//   K     = HKDF-SHA-256(IKM = UTF-8(fingerprint), salt = "", info = TOKEN_KEY_INFO, L = 32)   RFC 5869
//   w     = floor(unix time in ms / TOKEN_WINDOW_MS)
//   token = HMAC-SHA-256(K, uint64be(w))[0..16)                                                RFC 2104
import { hkdfSha256, hmac, utf8 } from '../crypto/primitives.js'
import { TOKEN_BYTES, TOKEN_KEY_INFO, TOKEN_WINDOW_MS } from './constants.js'

/** The window a time (ms since the epoch) falls in. */
export function tokenWindow (nowMs: number, windowMs = TOKEN_WINDOW_MS): number {
  return Math.floor(nowMs / windowMs)
}

/** K for a fingerprint: the HMAC key its tokens are made with (domain-separated by TOKEN_KEY_INFO). */
export function tokenKey (fingerprint: string): Uint8Array {
  return hkdfSha256(utf8.encode(fingerprint), new Uint8Array(0), utf8.encode(TOKEN_KEY_INFO), 32)
}

/** The token of `fingerprint` for window `w`, as 32 lowercase hex characters (TXT `t`). */
export function discoveryToken (key: Uint8Array, w: number): string {
  const msg = new Uint8Array(8)
  new DataView(msg.buffer).setBigUint64(0, BigInt(w))
  return Buffer.from(hmac('sha256', key, msg).subarray(0, TOKEN_BYTES)).toString('hex')
}

/**
 * Recognises tokens of the fingerprints we know, for the window a record arrived in and its two
 * neighbours (clocks on a LAN may disagree by a few minutes, and a record heard just after a
 * boundary may still be the last window's). Tokens are precomputed per window, so a flood of
 * records costs one map lookup each, not an HMAC per known fingerprint. The lookup is not
 * constant-time: a token is a public value once announced, and a miss tells the sender only
 * that we did not recognise their token, which our silence tells them anyway.
 */
export class TokenBook {
  private readonly keys = new Map<string, Uint8Array>()
  private table = new Map<string, string>()
  private tableWindow: number | null = null
  private tableFps = new Set<string>()

  constructor (private readonly windowMs = TOKEN_WINDOW_MS) {}

  /** The fingerprint among `known` whose token at time `atMs` (±1 window) is `token`, or null. */
  recognise (token: string, atMs: number, known: Iterable<string>): string | null {
    this.update(tokenWindow(atMs, this.windowMs), known)
    return this.table.get(token) ?? null
  }

  private update (w: number, known: Iterable<string>): void {
    const fps = new Set(known)
    if (w === this.tableWindow && sameSet(fps, this.tableFps)) return
    const table = new Map<string, string>()
    for (const fp of fps) {
      const key = this.keyOf(fp)
      for (const d of [-1, 0, 1]) table.set(discoveryToken(key, w + d), fp)
    }
    for (const fp of this.keys.keys()) if (!fps.has(fp)) this.keys.delete(fp)
    this.table = table
    this.tableWindow = w
    this.tableFps = fps
  }

  private keyOf (fp: string): Uint8Array {
    let k = this.keys.get(fp)
    if (k === undefined) { k = tokenKey(fp); this.keys.set(fp, k) }
    return k
  }
}

function sameSet (a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
