// DMESS_MEMORY_LOG=<file>: the daemon appends one JSON line every 250 ms with its memory, for finding
// what grows during a long run (docs/performance.md §10): process.memoryUsage() (V8 heap, external
// memory, ArrayBuffers) and, on Linux, /proc/self/status's resident set split into anonymous
// memory, file pages mapped in, and shared memory. Counts only: nothing of what the daemon holds.
import { appendFileSync, readFileSync } from 'node:fs'

export const MEMORY_LOG_EVERY_MS = 250

function procKiB (status: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

/** One sample, in KiB. */
export function memorySample (): Record<string, number | undefined> {
  const u = process.memoryUsage()
  let status = ''
  try { status = readFileSync('/proc/self/status', 'utf8') } catch { /* not Linux */ }
  const kib = (n: number): number => Math.round(n / 1024)
  return {
    rss: kib(u.rss),
    heapUsed: kib(u.heapUsed),
    heapTotal: kib(u.heapTotal),
    external: kib(u.external),
    arrayBuffers: kib(u.arrayBuffers),
    rssAnon: procKiB(status, 'RssAnon'),
    rssFile: procKiB(status, 'RssFile'),
    rssShmem: procKiB(status, 'RssShmem')
  }
}

/** Starts the log when `file` is set; the returned function stops it. */
export function startMemoryLog (file: string | undefined, now: () => number = Date.now): () => void {
  if (file === undefined || file === '') return () => {}
  const timer = setInterval(() => {
    try { appendFileSync(file, JSON.stringify({ t: now(), ...memorySample() }) + '\n') } catch { /* a debug aid: never stops the daemon */ }
  }, MEMORY_LOG_EVERY_MS)
  timer.unref()
  return () => { clearInterval(timer) }
}
