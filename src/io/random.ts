// Randomness that is not key material: request ids, write-token secrets, jitter, backoff.
// Keys never come from here (src/crypto/primitives.ts draws them from OpenSSL). The real source
// is the OS; src/sim/io.ts gives a seeded one so a simulated run replays exactly.
import { randomFillSync } from 'node:crypto'

export interface Random {
  /** n fresh bytes (a copy the caller owns) */
  bytes: (n: number) => Uint8Array
  /** uniform in [0, 1) */
  float: () => number
}

const POOL_BYTES = 4096

/**
 * OS randomness drawn 4 KiB at a time: the DHT asks for 4 bytes per request (its txid,
 * proto-spec/dht.md §7.1), and one getrandom call per datagram showed up as 4% of a loopback
 * lookup. Each slice handed out is a copy and is zeroed in the pool at once, so no drawn byte
 * stays behind to be handed out again or read later.
 */
export function osRandom (): Random {
  let pool = new Uint8Array(0)
  let off = 0
  const bytes = (n: number): Uint8Array => {
    if (n > POOL_BYTES / 16) return randomFillSync(new Uint8Array(n))
    if (off + n > pool.length) { pool = randomFillSync(new Uint8Array(POOL_BYTES)); off = 0 }
    const out = pool.slice(off, off + n)
    pool.fill(0, off, off + n)
    off += n
    return out
  }
  return {
    bytes,
    // 53 random bits, as Math.random has
    float: () => {
      const b = bytes(8)
      const hi = ((b[0]! << 13) | (b[1]! << 5) | (b[2]! >>> 3)) >>> 0 // 21 bits
      const lo = ((b[3]! << 24) | (b[4]! << 16) | (b[5]! << 8) | b[6]!) >>> 0 // 32 bits
      return (hi * 0x1_0000_0000 + lo) / 2 ** 53
    }
  }
}
