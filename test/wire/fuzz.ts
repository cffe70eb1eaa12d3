// Seeded input generators for the decoder fuzz tests: reproducible random bytes and mutations
// (bit flips, truncation, extension, byte overwrite, insertion, deletion, splicing).

/** mulberry32: small, fast, good enough to drive mutations; seeded so failures reproduce. */
export function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function int (r: () => number, n: number): number {
  return Math.floor(r() * n)
}

export function randomBuf (r: () => number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) out[i] = int(r, 256)
  return out
}

function join (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** One to three random mutations of `input` (never modifies it). */
export function mutate (r: () => number, input: Uint8Array, pool: Uint8Array[] = []): Uint8Array {
  let b: Uint8Array = input.slice()
  const rounds = 1 + int(r, 3)
  for (let k = 0; k < rounds; k++) b = mutateOnce(r, b, pool)
  return b
}

function mutateOnce (r: () => number, b: Uint8Array, pool: Uint8Array[]): Uint8Array {
  const at = b.length === 0 ? 0 : int(r, b.length)
  switch (int(r, 7)) {
    case 0: { // bit flip
      if (b.length > 0) b[at]! ^= 1 << int(r, 8)
      return b
    }
    case 1: // truncation
      return b.slice(0, int(r, b.length + 1))
    case 2: { // extension
      const out = new Uint8Array(b.length + 1 + int(r, 64))
      out.set(b)
      out.set(randomBuf(r, out.length - b.length), b.length)
      return out
    }
    case 3: { // overwrite a byte with an edge value
      if (b.length > 0) b[at] = [0, 1, 0x7f, 0x80, 0xff][int(r, 5)]!
      return b
    }
    case 4: { // insertion
      const out = new Uint8Array(b.length + 1)
      out.set(b.subarray(0, at))
      out[at] = int(r, 256)
      out.set(b.subarray(at), at + 1)
      return out
    }
    case 5: // deletion
      return b.length === 0 ? b : join(b.subarray(0, at), b.subarray(at + 1))
    default: { // splice with another valid sample
      const other = pool.length > 0 ? pool[int(r, pool.length)]! : randomBuf(r, 16)
      return join(b.subarray(0, at), other.subarray(int(r, other.length + 1)))
    }
  }
}

/** Run `check` over `n` random inputs and `n` mutations of the valid samples; count what passes. */
export function fuzz (seed: number, n: number, samples: Uint8Array[], check: (input: Uint8Array) => void, prefixes: number[][] = []): void {
  const r = rng(seed)
  for (let i = 0; i < n; i++) {
    const len = int(r, 3) === 0 ? int(r, 2000) : int(r, 200)
    const buf = randomBuf(r, len)
    // a valid-looking prefix gets random input past the first gate of a decoder
    const prefix = prefixes.length > 0 && int(r, 2) === 0 ? prefixes[int(r, prefixes.length)]! : []
    buf.set(prefix.slice(0, buf.length))
    check(buf)
  }
  for (let i = 0; i < n; i++) check(mutate(r, samples[i % samples.length]!, samples))
}
