// What the Endpoint needs from the world (STYLE §2, pass the world in): a datagram transport and
// a clock with timers. udp.ts gives the real ones (node:dgram, setTimeout); sim-io.ts the
// simulated ones (src/sim), so the same Endpoint runs over a seeded in-memory network.
import { performance } from 'node:perf_hooks'
import type { PeerAddress } from './types.js'

export interface DatagramTransport {
  /** the address we are bound to */
  readonly local: PeerAddress
  /** set by the Endpoint; called once per received datagram */
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null
  /** fire and forget; failures are counted by the transport, never thrown */
  send (to: PeerAddress, bytes: Uint8Array): void
  /** send errors so far (unreachable host, socket closed, …) */
  readonly sendErrors: number
  close (): Promise<void>
}

export interface Scheduler {
  /** milliseconds, monotonic */
  now (): number
  setTimer (delayMs: number, fn: () => void): unknown
  clearTimer (handle: unknown): void
}

/** Real time: performance.now() and unref'd setTimeout (timers never keep the process alive). */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (delayMs, fn) => setTimeout(fn, delayMs).unref(),
  clearTimer: handle => { clearTimeout(handle as NodeJS.Timeout) }
}
