// The leaf hashes of a whole file on the real disk (proto-spec/files.md §2, §5.2): what the sender
// computes before its offer and the receiver when it reads a finished file back (one that held
// chunks from before the transfer was taken up, files.md §5.2). Both are waits the transfer cannot
// overlap (the offer carries the root; `done` waits for the read-back), each
// ~1.5 s of reading and SHA-256 per GiB on the event loop's thread, so a large file is cut into
// ranges of whole chunks hashed side by side by worker threads, one per core up to
// HASH_WORKERS_MAX (docs/performance.md §10.7). A worker reads its range a chunk at a time with
// blocking reads (no trip through libuv's pool per read, which costs more than reading 32 KiB
// from the page cache) behind a 0x00 byte, so a leaf, SHA-256(0x00 || chunk), is one call, and
// writes each leaf into one SharedArrayBuffer at its index: nothing is copied back. It
// then builds the tree's lowest levels over its range the same way (WORKER_TREE_LEVELS), so the
// event loop's thread builds only the few nodes above (docs/performance.md §10.9). Across the
// workers ~1.1–1.3 s of CPU per GiB, against 1.4–1.7 s on the event loop's thread.
import { Worker } from 'node:worker_threads'
import { open, type FileHandle } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { HASH_BYTES, LeafHashes } from './merkle.js'

/**
 * how much of a small file one read takes on the event loop's thread: a pool trip per read, and a
 * read of 256 KiB or more cost this machine's kernel three times the system time per byte of one
 * of 128 KiB (1 GiB from the page cache: ~0.5 s against ~0.15 s)
 */
export const READ_BLOCK_BYTES = 128 * 1024
/**
 * files smaller than this are hashed on the calling thread: a worker's start cost 30–40 ms of CPU
 * here, what hashing ~20 MiB costs, and a file this size takes ~0.1 s either way
 */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024
/**
 * worker threads at most, for one file and for all the files being hashed at once (a daemon
 * restarting with several transfers to send, receivers finishing together): each holds its own
 * V8 isolate while it runs, ~10–12 MiB of RSS with the heap limits below (measured,
 * docs/performance.md §10.7). A file that finds none free is hashed on the calling thread.
 */
export const HASH_WORKERS_MAX = 4

/** workers running now, across every file being hashed (process-wide, as the memory they take) */
let workersRunning = 0

/**
 * the levels of the tree the workers build above their leaves, at most (files.md §2): 256 chunks
 * (8 MiB) under each node of the top one, so the ranges are cut at multiples of 256 chunks and
 * the event loop's thread builds only the levels over those (128 nodes for 1 GiB, not 32,767:
 * ~50–100 ms of SHA-256 calls that blocked the loop after the workers were done)
 */
export const WORKER_TREE_LEVELS = 8

export interface FileLeaves {
  /** bytes hashed: the file's size, or less where a read ended early (the file shrank meanwhile) */
  size: number
  leaves: LeafHashes
  /** the tree's levels above the leaves, lowest first, as far as workers built them (none when hashed on this thread): `new HashTree(leaves, above)` */
  above: Uint8Array[]
}

/**
 * The code a worker runs (CommonJS, given as text so it needs no file of its own beside the
 * daemon's single bundle): hash chunks [first, first + count) of the file into `out` and build the
 * levels `above` over them, post the bytes of the range read (fewer than asked only at an early
 * end of the file). Blocking reads: cheaper here than a trip through libuv's pool each.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const { openSync, readSync, closeSync } = require('node:fs')
const { hash } = require('node:crypto')
const { path, chunkSize, first, count, size, out, above } = workerData
const leaves = new Uint8Array(out)
// 0x00 || chunk, the chunk read in place behind its prefix: one SHA-256 call per leaf, no hash object
const input = new Uint8Array(1 + chunkSize)
const fd = openSync(path, 'r')
let read = 0
try {
  for (let i = first; i < first + count; i++) {
    const want = Math.min(chunkSize, size - i * chunkSize)
    let got = 0
    while (got < want) {
      const n = readSync(fd, input, 1 + got, want - got, i * chunkSize + got)
      if (n === 0) break
      got += n
    }
    leaves.set(hash('sha256', input.subarray(0, 1 + got), 'buffer'), i * ${HASH_BYTES})
    read += got
    if (got < want) break
  }
} finally { closeSync(fd) }
// the nodes of each level built here whose leaves are all in this range (its ends are multiples
// of 2 ** above.length chunks, or the file's end): node j of a level over nodes 2j and 2j + 1 of
// the level below, 0x01 || left || right, or node 2j carried up where it is the level's odd last
const end = first + count
if (read === Math.min(size, end * chunkSize) - first * chunkSize) {
  const node = new Uint8Array(1 + 2 * ${HASH_BYTES})
  node[0] = 0x01
  let below = leaves
  for (const [k, buffer] of above.entries()) {
    const level = new Uint8Array(buffer)
    const belowCount = below.length / ${HASH_BYTES}
    for (let j = first >> (k + 1); j < Math.ceil(end / 2 ** (k + 1)); j++) {
      const left = below.subarray(2 * j * ${HASH_BYTES}, (2 * j + 1) * ${HASH_BYTES})
      if (2 * j + 1 < belowCount) {
        node.set(left, 1)
        node.set(below.subarray((2 * j + 1) * ${HASH_BYTES}, (2 * j + 2) * ${HASH_BYTES}), 1 + ${HASH_BYTES})
        level.set(hash('sha256', node, 'buffer'), j * ${HASH_BYTES})
      } else level.set(left, j * ${HASH_BYTES})
    }
    below = level
  }
}
parentPort.postMessage(read)
`

/** How many workers hash a file of `size` bytes: none below PARALLEL_MIN_BYTES, else one per core up to HASH_WORKERS_MAX. */
export function hashWorkers (size: number, cores = availableParallelism()): number {
  if (size < PARALLEL_MIN_BYTES) return 0
  return Math.max(1, Math.min(HASH_WORKERS_MAX, cores, Math.floor(size / (PARALLEL_MIN_BYTES / 2))))
}

/**
 * The leaf hash of every chunk of the file at `path`, in order, and the bytes hashed. The size
 * is taken when the file is opened: bytes appended while it is hashed are not hashed, and a file
 * that shrinks meanwhile ends where the first read came up short. `workersFor` (tests) says how
 * many workers a file of a size gets (0: this thread).
 */
export async function hashFileLeaves (path: string, chunkSize: number, workersFor: (size: number) => number = hashWorkers): Promise<FileLeaves> {
  const fh = await open(path, 'r')
  let size: number
  let workers: number
  try {
    size = (await fh.stat()).size
    workers = Math.min(workersFor(size), Math.ceil(size / chunkSize), HASH_WORKERS_MAX - workersRunning)
    if (workers <= 0) return await hashHere(fh, size, chunkSize)
  } finally { await fh.close() }
  // the close was awaited: another file may have taken workers since the check above
  workers = Math.min(workers, HASH_WORKERS_MAX - workersRunning)
  if (workers <= 0) return await hashFileLeaves(path, chunkSize, () => 0)
  workersRunning += workers
  try {
    return await hashInWorkers(path, size, chunkSize, workers)
  } finally { workersRunning -= workers }
}

/** Workers hashing now (tests: none are left once every hash has returned). */
export function hashWorkersRunning (): number { return workersRunning }

/** A small file, on this thread: reads through libuv's pool, READ_BLOCK_BYTES at a time. */
async function hashHere (fh: FileHandle, size: number, chunkSize: number): Promise<FileLeaves> {
  const leaves = new LeafHashes()
  const block = new Uint8Array(Math.max(chunkSize, READ_BLOCK_BYTES - READ_BLOCK_BYTES % chunkSize))
  let total = 0
  while (total < size) {
    const want = Math.min(block.length, size - total)
    let got = 0
    while (got < want) {
      const { bytesRead } = await fh.read(block, got, want - got, total + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    for (let o = 0; o < got; o += chunkSize) leaves.push(block.subarray(o, Math.min(got, o + chunkSize)))
    total += got
    if (got < want) break
  }
  return { size: total, leaves, above: [] }
}

/** Ranges of whole chunks, one per worker, hashed side by side into one shared buffer. */
async function hashInWorkers (path: string, size: number, chunkSize: number, workers: number): Promise<FileLeaves> {
  const n = Math.ceil(size / chunkSize)
  const out = new SharedArrayBuffer(n * HASH_BYTES)
  // ranges cut at multiples of 2 ** levels chunks, so that the workers build the tree's lowest
  // `levels` levels too; fewer where the ranges would come out uneven (a small file, tests)
  let levels = 0
  while (levels < WORKER_TREE_LEVELS && 2 ** (levels + 1) <= Math.ceil(n / workers)) levels++
  const align = 2 ** levels
  const per = Math.ceil(Math.ceil(n / workers) / align) * align
  const above = Array.from({ length: levels }, (_, k) => new SharedArrayBuffer(Math.ceil(n / 2 ** (k + 1)) * HASH_BYTES))
  const ranges: Array<{ first: number, count: number }> = []
  for (let first = 0; first < n; first += per) ranges.push({ first, count: Math.min(per, n - first) })
  const read = await Promise.all(ranges.map(async r => await new Promise<number>((resolve, reject) => {
    // it allocates a digest per chunk and node and nothing else: a small heap keeps its RSS small
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 }, workerData: { path, chunkSize, first: r.first, count: r.count, size, out, above } })
    w.once('message', (bytes: number) => { resolve(bytes) })
    w.once('error', reject)
    w.once('exit', code => { reject(new Error(`leaf hashing stopped (exit ${code})`)) }) // after a message or an error: a no-op
  })))
  // the file ends where the first range came up short (it shrank while it was read)
  let total = 0
  for (const [i, r] of ranges.entries()) {
    const want = Math.min(size, (r.first + r.count) * chunkSize) - r.first * chunkSize
    total += read[i] as number
    if ((read[i] as number) < want) break
  }
  // a file that shrank: its levels were not built (each worker builds them only over a range read whole)
  return { size: total, leaves: LeafHashes.of(new Uint8Array(out, 0, Math.ceil(total / chunkSize) * HASH_BYTES)), above: total === size ? above.map(b => new Uint8Array(b)) : [] }
}
