// Exponential backoff with jitter (proto-spec/messaging.md §4.2), shared by the outbox and the
// connection manager. Pure: the caller passes the random number.

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
  /** ± fraction of the delay, e.g. 0.2 */
  jitter: number
}

/**
 * Delay before attempt `failures + 1`: initialMs · 2^failures, capped at maxMs, then spread by
 * ± jitter so that many entries failing together do not retry together. `random` is in [0, 1).
 */
export function backoffDelay (failures: number, p: BackoffPolicy, random: number): number {
  const exp = Math.min(Math.max(0, failures), 30)
  const base = Math.min(p.maxMs, p.initialMs * 2 ** exp)
  const spread = 1 + p.jitter * (2 * random - 1)
  return Math.max(1, Math.round(base * spread))
}
