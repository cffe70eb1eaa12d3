// The real disk of the files module (src/files/disk.ts, disk-hash.ts) on a temporary directory:
// the leaf hashes of a whole file read in blocks of many chunks, on this thread or in ranges by
// worker threads, and writing runs of chunks with one write, at their offsets, into a partial file.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { realFileDisk } from '../../src/files/disk.js'
import { HASH_WORKERS_MAX, hashFileLeaves, hashWorkers, hashWorkersRunning, PARALLEL_MIN_BYTES, READ_BLOCK_BYTES } from '../../src/files/disk-hash.js'
import { HashTree, leafHash, rootOf } from '../../src/files/merkle.js'
import { testRng } from '../helpers/seed.js'

const CHUNK = 32768

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-disk-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

t.test('hashLeaves hashes every chunk in order, across read blocks and worker ranges, the last one short', async t => {
  const rng = testRng(t, 0xd15c)
  const dir = await tempDir(t)
  const sizes = [0, 1, CHUNK, READ_BLOCK_BYTES, READ_BLOCK_BYTES + CHUNK, 2 * READ_BLOCK_BYTES + 3 * CHUNK + 77, 37 * CHUNK + 5]
  for (const size of sizes) {
    const data = rng.bytes(size)
    const path = join(dir, `f${size}`)
    await writeFile(path, data)
    const want = Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => Buffer.from(leafHash(data.subarray(i * CHUNK, (i + 1) * CHUNK))).toString('hex'))
    // on this thread, in one worker, in ranges of uneven length across three and four workers
    for (const workers of [0, 1, 3, 4]) {
      const got = await hashFileLeaves(path, CHUNK, () => workers)
      t.equal(got.size, size, `${size} bytes, ${workers} workers: size`)
      const leaves = got.leaves.bytes()
      t.same(Array.from({ length: got.leaves.count }, (_, i) => Buffer.from(leaves.subarray(i * 32, (i + 1) * 32)).toString('hex')), want, `${size} bytes, ${workers} workers: every leaf`)
      // the levels the workers built above the leaves: the same tree as one built from the leaves here
      const tree = new HashTree(got.leaves, got.above)
      const whole = new HashTree(Array.from({ length: got.leaves.count }, (_, i) => leaves.slice(i * 32, (i + 1) * 32)))
      t.same(tree.root, rootOf(data, CHUNK), `${size} bytes, ${workers} workers: the root`)
      t.ok(Array.from({ length: got.leaves.count }, (_, i) => i).every(i => Buffer.concat(tree.proof(i)).equals(Buffer.concat(whole.proof(i)))), `${size} bytes, ${workers} workers: every audit path (${got.above.length} levels built by the workers)`)
      if (workers > 0 && got.leaves.count >= 2 * workers) t.ok(got.above.length > 0, `${size} bytes, ${workers} workers: the workers built levels above the leaves`)
    }
  }
  // the daemon's own choice: workers for a large file when there is more than one core
  t.equal(hashWorkers(PARALLEL_MIN_BYTES, 2), 2, 'two cores: two workers')
  t.equal(hashWorkers(PARALLEL_MIN_BYTES, 1), 1, 'one core: one worker (its blocking reads are cheaper than the pool\'s)')
  t.equal(hashWorkers(2 ** 40, 64), HASH_WORKERS_MAX, 'many cores: at most HASH_WORKERS_MAX')
  t.equal(hashWorkers(PARALLEL_MIN_BYTES - 1, 8), 0, 'a small file: none')
  const small = rng.bytes(3 * CHUNK + 77)
  await writeFile(join(dir, 'small'), small)
  t.same(new HashTree((await realFileDisk.hashLeaves(join(dir, 'small'), CHUNK)).leaves).root, rootOf(small, CHUNK), 'the real disk: the root')
  await t.rejects(realFileDisk.hashLeaves(join(dir, 'none'), CHUNK), { code: 'ENOENT' }, 'a missing file')
})

t.test('files hashed together share HASH_WORKERS_MAX workers; the rest are hashed on this thread', async t => {
  const rng = testRng(t, 0x4a54)
  const dir = await tempDir(t)
  const files = await Promise.all([0, 1, 2].map(async k => {
    const data = rng.bytes(24 * CHUNK + k)
    await writeFile(join(dir, `f${k}`), data)
    return { path: join(dir, `f${k}`), data }
  }))
  let most = 0
  let sampling = true
  const sample = (): void => { most = Math.max(most, hashWorkersRunning()); if (sampling) setImmediate(sample) }
  sample()
  // each asks for all it may have: without a process-wide bound they would run 3 × HASH_WORKERS_MAX
  const got = await Promise.all(files.map(async f => await hashFileLeaves(f.path, CHUNK, () => HASH_WORKERS_MAX)))
  sampling = false
  t.ok(most > 0 && most <= HASH_WORKERS_MAX, `at most ${HASH_WORKERS_MAX} workers at once (saw ${most})`)
  t.equal(hashWorkersRunning(), 0, 'none left running')
  files.forEach((f, k) => { t.same(new HashTree(got[k]!.leaves).root, rootOf(f.data, CHUNK), `file ${k}: the root`) })
})

t.test('a partial file takes runs of chunks at their offsets, in any order', async t => {
  const rng = testRng(t, 0x5717)
  const dir = await tempDir(t)
  const data = rng.bytes(40 * CHUNK + 5)
  const chunk = (i: number): Uint8Array => data.subarray(i * CHUNK, Math.min(data.length, (i + 1) * CHUNK))
  const path = join(dir, 'x.part')
  const p = await realFileDisk.openPartial(path)
  // the tail first, then single chunks, then runs: a run is one write of its chunks one after the other
  await p.write(30 * CHUNK, Array.from({ length: 11 }, (_, k) => chunk(30 + k)))
  await p.write(0, [chunk(0)])
  await p.write(1 * CHUNK, Array.from({ length: 29 }, (_, k) => chunk(1 + k)))
  await p.sync()
  await p.close()
  t.ok((await readFile(path)).equals(Buffer.from(data)), 'byte for byte')
})
