// Round-trip times for simulations: log-normal across pairs, fixed per pair. Wide-area RTT
// samples are right-skewed with a long tail; a log-normal with median 70 ms and σ = 0.65 gives
// p10 ≈ 30 ms, p90 ≈ 160 ms, p99 ≈ 320 ms, the shape commonly reported for Internet host pairs
// (medians of 60–80 ms). The RTT of a pair is a hash of (seed, pair), so it needs no storage.

export interface RttModel {
  medianMs: number
  /** σ of ln(RTT) */
  sigma: number
  /** Floor (same host / same city). */
  minMs: number
}

export const DEFAULT_RTT_MODEL: RttModel = { medianMs: 70, sigma: 0.65, minMs: 2 }

function mix32 (x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/** Symmetric in (a, b): both directions of a pair see the same RTT. */
export function pairRttMs (seed: number, a: number, b: number, m: RttModel = DEFAULT_RTT_MODEL): number {
  const lo = Math.min(a, b)
  const hi = Math.max(a, b)
  const h1 = mix32(seed ^ mix32(lo * 0x9e3779b1 + hi))
  const h2 = mix32(h1 ^ 0x85ebca6b)
  // Box–Muller: two uniforms in (0, 1] → one standard normal.
  const u1 = (h1 + 1) / 0x1_0000_0001
  const u2 = h2 / 0x1_0000_0000
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  return Math.max(m.minMs, m.medianMs * Math.exp(m.sigma * z))
}

/** The q-quantile (0..1) of a sample (sorted copy; linear between order statistics). */
export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((x, y) => x - y)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo)
}
