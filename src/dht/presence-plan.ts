// When an owner publishes which records (dht.md §5.5): the current period's, and near its end the
// next period's too (readers whose clock is ahead already ask there). The visible seq and expiry
// are functions of the time alone, the same for every owner who signs in the same second (seq) or
// ten minutes (expiry): they carry nothing of the owner.
import { periodOf, periodStartMs } from './presence-keys.js'
import { EXPIRY_GRANULE_MS, PRESENCE_PERIOD_MS } from './constants.js'

/** The next period's record is published from this long before its start (dht.md §5.5). */
export const PREPUBLISH_MS = 3 * 60 * 60_000

export interface PlannedRecord { period: number, seq: number, expiresAt: number }

/**
 * seq: whole seconds since PREPUBLISH_MS before the period's start — it grows within a period
 * (and across restarts), and a new period key starts its own count (dht.md §5.4).
 */
export function presenceSeq (period: number, now: number): number {
  return Math.floor((now - (periodStartMs(period) - PREPUBLISH_MS)) / 1000)
}

/** `ttlMs` from now rounded up to EXPIRY_GRANULE_MS, and not past the period's end + one granule. */
export function presenceExpiry (period: number, now: number, ttlMs: number): number {
  const coarse = Math.ceil((now + ttlMs) / EXPIRY_GRANULE_MS) * EXPIRY_GRANULE_MS
  return Math.min(coarse, periodStartMs(period) + PRESENCE_PERIOD_MS + EXPIRY_GRANULE_MS)
}

/** The records to publish at `now`: this period's, plus the next one's within PREPUBLISH_MS of it. */
export function presencePlan (now: number, ttlMs: number): PlannedRecord[] {
  const p = periodOf(now)
  const periods = periodStartMs(p + 1) - now <= PREPUBLISH_MS ? [p, p + 1] : [p]
  return periods.map(period => ({ period, seq: presenceSeq(period, now), expiresAt: presenceExpiry(period, now, ttlMs) }))
}
