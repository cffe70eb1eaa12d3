// A clock for a node under a real-UDP flood test: real time slowed k times. Whether a flood
// exceeds a rate budget, or fills a table before its entries expire, depends on how fast the
// machine sends; a machine loaded by other test files sends a tenth of what an idle one does.
// To a node on this clock the machine is k times faster, so the verdict holds on any machine,
// while sockets, packets and the node's code are all real.
import { performance } from 'node:perf_hooks'
import type { Scheduler } from '../../src/io/scheduler.js'

/**
 * Both clocks advance 1 ms per k real ms from now on (the DHT reads the wall clock for its
 * budgets), and a timer of d ms fires after k·d real ms. A test lasts seconds, so the wall clock
 * lags the real one by seconds: far inside the skew records and handshakes allow.
 */
export function slowMotion (k: number): Scheduler {
  const t0 = performance.now()
  const w0 = Date.now()
  return {
    now: () => t0 + (performance.now() - t0) / k,
    wallNow: () => w0 + (Date.now() - w0) / k,
    setTimer: (delayMs, fn) => setTimeout(fn, delayMs * k).unref(),
    clearTimer: handle => { clearTimeout(handle as NodeJS.Timeout) }
  }
}
