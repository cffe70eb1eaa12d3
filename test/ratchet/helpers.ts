// Deterministic randomness for ratchet tests and vectors (proto-spec/ratchet.md §8.1): the stream
// HMAC-SHA256(seed, u32 counter) block after block, read in order. Reproducible from the spec alone.
import { hmac } from '../../src/crypto/primitives.js'
import type { RandomBytes } from '../../src/ratchet/index.js'

export function drbg (seed: Uint8Array): RandomBytes {
  let counter = 0
  let buf = new Uint8Array(0)
  return (n: number): Uint8Array => {
    while (buf.length < n) {
      const c = new Uint8Array(4)
      new DataView(c.buffer).setUint32(0, counter++)
      const block = hmac('sha256', seed, c)
      const next = new Uint8Array(buf.length + 32)
      next.set(buf); next.set(block, buf.length)
      buf = next
    }
    const out = buf.slice(0, n)
    buf = buf.slice(n)
    return out
  }
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
