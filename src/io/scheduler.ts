// Time, as every part of a node takes it: a monotonic clock for durations and deadlines, a wall
// clock for what leaves the process (message timestamps, DHT record expiry), and timers. The real
// one is here; src/sim/io.ts builds one on the simulator's clock, so a whole node runs on
// simulated time (minutes of protocol in milliseconds, the same trace for the same seed).
import { performance } from 'node:perf_hooks'

/** Whatever setTimer returned; only clearTimer reads it. */
export type TimerHandle = unknown

export interface Scheduler {
  /** milliseconds, monotonic: durations and deadlines */
  now: () => number
  /** milliseconds since the Unix epoch: timestamps other nodes read, record expiries */
  wallNow: () => number
  /** run `fn` once after `delayMs`; a real timer never keeps the process alive */
  setTimer: (delayMs: number, fn: () => void) => TimerHandle
  clearTimer: (handle: TimerHandle) => void
}

/** Real time: performance.now(), Date.now() and unref'd setTimeout. */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (delayMs, fn) => setTimeout(fn, delayMs).unref(),
  clearTimer: handle => { clearTimeout(handle as NodeJS.Timeout) }
}

/** A timer as a cancel function (the DHT's shape: one closure per timer, no handle kept). */
export function after (scheduler: Scheduler, delayMs: number, fn: () => void): () => void {
  const handle = scheduler.setTimer(delayMs, fn)
  return () => { scheduler.clearTimer(handle) }
}
