// The leaf hashes of a whole file on the real disk (proto-spec/files.md §2, §5.2): what the sender
// computes before its offer and the receiver when it reads a finished file back. Both are waits
// the transfer cannot overlap (the offer carries the root; `done` waits for the read-back), each
// ~1 s of SHA-256 and reading per GiB on one core, so a large file is cut into ranges of whole
// chunks hashed side by side by worker threads, one per core up to HASH_WORKERS_MAX
// (docs/performance.md §10.7). A worker reads its range with blocking reads of READ_BLOCK_BYTES
// (no trip through libuv's pool per read; a read of 256 KiB or more cost this machine's kernel
// three times the system time of 128 KiB per byte) and writes each leaf, SHA-256(0x00 || chunk),
// into one SharedArrayBuffer at its index: nothing is copied back.
import { Worker } from 'node:worker_threads'
import { open, type FileHandle } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { HASH_BYTES, LeafHashes } from './merkle.js'

/** how much of a file one read takes when the whole file is read */
export const READ_BLOCK_BYTES = 128 * 1024
/**
 * files smaller than this are hashed on the calling thread: a worker's start cost 30–40 ms of CPU
 * here, what hashing ~20 MiB costs, and a file this size takes ~0.1 s either way
 */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024
/**
 * worker threads at most for one file: each holds its own V8 isolate while it runs, ~10–12 MiB of
 * RSS with the heap limits below (measured, docs/performance.md §10.7)
 */
export const HASH_WORKERS_MAX = 4

export interface FileLeaves {
  /** bytes hashed: the file's size, or less where a read ended early (the file shrank meanwhile) */
  size: number
  leaves: LeafHashes
}

/**
 * The code a worker runs (CommonJS, given as text so it needs no file of its own beside the
 * daemon's single bundle): hash chunks [first, first + count) of the file into `out`, post the
 * bytes of the range read (fewer than asked only at an early end of the file).
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const { openSync, readSync, closeSync } = require('node:fs')
const { createHash } = require('node:crypto')
const { path, chunkSize, first, count, size, blockBytes, out } = workerData
const leaves = new Uint8Array(out)
const prefix = Uint8Array.of(0)
const block = new Uint8Array(Math.max(chunkSize, blockBytes - blockBytes % chunkSize))
const fd = openSync(path, 'r')
let read = 0
try {
  const start = first * chunkSize
  const end = Math.min(size, (first + count) * chunkSize)
  for (let at = start; at < end;) {
    const want = Math.min(block.length, end - at)
    let got = 0
    while (got < want) {
      const n = readSync(fd, block, got, want - got, at + got)
      if (n === 0) break
      got += n
    }
    for (let o = 0; o < got; o += chunkSize) {
      const leaf = createHash('sha256').update(prefix).update(block.subarray(o, Math.min(got, o + chunkSize))).digest()
      leaves.set(leaf, (first + (at - start + o) / chunkSize) * ${HASH_BYTES})
    }
    at += got
    read = at - start
    if (got < want) break
  }
} finally { closeSync(fd) }
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
    workers = Math.min(workersFor(size), Math.ceil(size / chunkSize))
    if (workers <= 0) return await hashHere(fh, size, chunkSize)
  } finally { await fh.close() }
  return await hashInWorkers(path, size, chunkSize, workers)
}

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
  return { size: total, leaves }
}

/** Ranges of whole chunks, one per worker, hashed side by side into one shared buffer. */
async function hashInWorkers (path: string, size: number, chunkSize: number, workers: number): Promise<FileLeaves> {
  const n = Math.ceil(size / chunkSize)
  const out = new SharedArrayBuffer(n * HASH_BYTES)
  const per = Math.ceil(n / workers)
  const ranges: Array<{ first: number, count: number }> = []
  for (let first = 0; first < n; first += per) ranges.push({ first, count: Math.min(per, n - first) })
  const read = await Promise.all(ranges.map(async r => await new Promise<number>((resolve, reject) => {
    // it allocates a digest per chunk and nothing else: a small heap keeps its RSS small
    const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 }, workerData: { path, chunkSize, first: r.first, count: r.count, size, blockBytes: READ_BLOCK_BYTES, out } })
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
  return { size: total, leaves: LeafHashes.of(new Uint8Array(out, 0, Math.ceil(total / chunkSize) * HASH_BYTES)) }
}
