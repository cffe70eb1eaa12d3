// Seeded pseudo-random numbers for simulations: xoshiro128** (Blackman & Vigna, 2018) seeded
// through splitmix32 so that nearby seeds (1, 2, 3) give unrelated streams.
// Not for cryptography: use src/crypto/primitives.ts `randomBytes` for anything secret.

export interface Rng {
  /** Next 32-bit unsigned integer. */
  u32 (): number
  /** Uniform float in [0, 1). */
  float (): number
  /** Uniform integer in [0, n). */
  int (n: number): number
  /** True with probability p. */
  chance (p: number): boolean
  /** Uniform float in [lo, hi). */
  range (lo: number, hi: number): number
  bytes (n: number): Uint8Array
  /** An independent generator derived from this one (so adding a consumer does not shift others). */
  fork (): Rng
}

function splitmix32 (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0

export function createRng (seed: number): Rng {
  const mix = splitmix32(seed)
  let a = mix()
  let b = mix()
  let c = mix()
  let d = mix()
  if ((a | b | c | d) === 0) a = 1 // the all-zero state is a fixed point

  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0
    const t = (b << 9) >>> 0
    c ^= a; d ^= b; b ^= c; a ^= d
    c = (c ^ t) >>> 0
    d = rotl(d, 11)
    a >>>= 0; b >>>= 0
    return result
  }
  const float = (): number => u32() / 0x1_0000_0000
  return {
    u32,
    float,
    int: (n) => Math.floor(float() * n),
    chance: (p) => p > 0 && float() < p,
    range: (lo, hi) => lo + float() * (hi - lo),
    bytes: (n) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 4) {
        let v = u32()
        for (let j = i; j < Math.min(n, i + 4); j++) { out[j] = v & 0xff; v >>>= 8 }
      }
      return out
    },
    fork: () => createRng(u32())
  }
}
