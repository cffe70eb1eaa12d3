// DMESS_LATENCY_TRACE=<file>: a debug aid for the send → delivered path (docs/performance.md §11).
// Each daemon stamps the phases a message goes through (IPC request, store commits, seal, send,
// open, receipt, status) with its id and a wall-clock time in µs (performance.timeOrigin + now(),
// comparable between two processes on one machine), kept in memory and written as one JSON line
// per stamp when the process exits. Ids and phase names only: never a body, a key or an address.
// Off (the default), `traceOn` is false and every call site skips its stamp.
import { appendFileSync } from 'node:fs'

const FILE = process.env.DMESS_LATENCY_TRACE ?? ''
/** Stamps kept at most (a bound on memory when left on): the rest are dropped. */
const MAX_STAMPS = 200_000

export const traceOn = FILE !== ''

const stamps: string[] = []

/** µs since the epoch, fractional. */
export function traceNow (): number {
  return (performance.timeOrigin + performance.now()) * 1000
}

/** Records `phase` for each id (hex message ids), at `at` (traceNow()) or now. */
export function stamp (phase: string, ids: string | readonly string[], at = traceNow()): void {
  if (!traceOn || stamps.length >= MAX_STAMPS) return
  for (const id of typeof ids === 'string' ? [ids] : ids) stamps.push(`{"t":${at.toFixed(1)},"pid":${process.pid},"phase":"${phase}","id":"${id}"}`)
}

if (traceOn) {
  process.once('exit', () => {
    try { appendFileSync(FILE, stamps.join('\n') + (stamps.length > 0 ? '\n' : '')) } catch { /* a debug aid: never fails the daemon */ }
  })
}
