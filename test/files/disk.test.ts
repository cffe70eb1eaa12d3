// The real disk of the files module (src/files/disk.ts) on a temporary directory: reading a whole
// file chunk by chunk when it is read in blocks of many chunks, and writing runs of chunks with
// one write, at their offsets, into a partial file.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { READ_BLOCK_BYTES, realFileDisk } from '../../src/files/disk.js'
import { testRng } from '../helpers/seed.js'

const CHUNK = 32768

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-disk-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

t.test('readChunks gives every chunk in order, across read blocks, the last one short', async t => {
  const rng = testRng(t, 0xd15c)
  const dir = await tempDir(t)
  for (const size of [0, 1, CHUNK, READ_BLOCK_BYTES, READ_BLOCK_BYTES + CHUNK, 2 * READ_BLOCK_BYTES + 3 * CHUNK + 77]) {
    const data = rng.bytes(size)
    const path = join(dir, `f${size}`)
    await writeFile(path, data)
    const chunks: Buffer[] = []
    const total = await realFileDisk.readChunks(path, CHUNK, c => chunks.push(Buffer.from(c)))
    t.equal(total, size, `${size} bytes read`)
    t.equal(chunks.length, Math.ceil(size / CHUNK), `${size} bytes: one call per chunk`)
    t.ok(chunks.every((c, i) => c.length === Math.min(CHUNK, size - i * CHUNK)), `${size} bytes: chunk lengths`)
    t.ok(Buffer.concat(chunks).equals(Buffer.from(data)), `${size} bytes: byte for byte`)
  }
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
