// The V8 heap a process still uses after a full garbage collection: what it retains, without the
// garbage it has not collected yet (resident memory, VmRSS, also counts that garbage and whatever
// V8 keeps reserved, so it swings by tens of MiB between runs of the same code). Only a process
// started with node's `--expose-gc` can force the collection; otherwise there is no figure, and
// nothing here costs anything. Tests read it to find retention (test/attacks/datagram-fuzz.test.ts).
import { getHeapStatistics } from 'node:v8'

/**
 * Bytes of V8 heap in use after a full collection, or undefined when gc is not exposed.
 * `dropCaches` runs first: caches that only save work (bounded memos) and would otherwise count
 * as much or as little as they happen to hold.
 */
export function heapUsedAfterGc (dropCaches: () => void = () => {}): number | undefined {
  const gc = (globalThis as { gc?: (opts?: unknown) => unknown }).gc
  if (typeof gc !== 'function') return undefined
  dropCaches()
  gc()
  return getHeapStatistics().used_heap_size
}
