// The hash tree of proto-spec/files.md §2: the roots listed there (read from the document), and
// property tests over random sizes: every chunk's audit path leads to the root, and a changed
// chunk, index or path does not.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ChunkVerifier, chunkCount, chunkLength, HashTree, LeafHashes, leafHash, nodeHash, proofLength, rootOf, treeHeight, verifyChunk } from '../../src/files/merkle.js'
import { testRng } from '../helpers/seed.js'

const spec = readFileSync(new URL('../../proto-spec/files.md', import.meta.url), 'utf8')
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const fileOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, j) => j & 0xff)

t.test('the roots of files.md §2.1, read from the document', async t => {
  const rows = [...spec.matchAll(/^\| (\d+) \| `([0-9a-f]{64})` \|$/gm)]
  t.equal(rows.length, 6, 'six roots listed')
  for (const [, size, root] of rows) t.equal(toHex(rootOf(fileOf(Number(size)), 32768)), root, `root of ${size as string} bytes`)
})

t.test('the empty file: no chunk, the root is SHA-256 of nothing', async t => {
  t.equal(chunkCount(0, 32768), 0)
  t.equal(toHex(new HashTree([]).root), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

t.test('chunk lengths: the last chunk holds what remains', async t => {
  t.equal(chunkCount(32769, 32768), 2)
  t.equal(chunkLength(32769, 32768, 0), 32768)
  t.equal(chunkLength(32769, 32768, 1), 1)
  t.equal(chunkLength(32768, 32768, 1), 0)
})

/** 1..`most` small random chunks and their hash tree. */
function randomFile (rng: ReturnType<typeof testRng>, most: number): { n: number, chunks: Uint8Array[], tree: HashTree } {
  const n = 1 + rng.int(most)
  const chunks = Array.from({ length: n }, () => rng.bytes(1 + rng.int(8)))
  return { n, chunks, tree: new HashTree(chunks.map(leafHash)) }
}

t.test('every audit path leads to the root; a tampered chunk, index or path does not', async t => {
  const rng = testRng(t, 0xf11e5)
  for (let round = 0; round < 60; round++) {
    const { n, chunks, tree } = randomFile(rng, 70)
    t.ok(proofLength(n, 0) <= treeHeight(n))
    for (let i = 0; i < n; i++) {
      const chunk = chunks[i] as Uint8Array
      const proof = tree.proof(i)
      if (proof.length !== proofLength(n, i)) t.fail(`proof length of ${i}/${n}`)
      if (!verifyChunk(tree.root, n, i, chunk, proof)) t.fail(`chunk ${i} of ${n} does not verify`)
      const bad = chunk.slice()
      const at = rng.int(bad.length)
      bad[at] = (bad[at] as number) ^ (1 << rng.int(8))
      if (verifyChunk(tree.root, n, i, bad, proof)) t.fail(`a flipped bit in chunk ${i} of ${n} verifies`)
      if (n > 1 && verifyChunk(tree.root, n, (i + 1) % n, chunk, tree.proof((i + 1) % n))) t.fail(`chunk ${i} verifies as ${(i + 1) % n}`)
      if (verifyChunk(tree.root, n, i, chunk, proof.slice(1))) {
        if (proof.length > 0) t.fail('a shortened path verifies')
      }
    }
  }
  t.pass('checked')
})

t.test('ChunkVerifier: takes every chunk of the file in any order, and nothing else', async t => {
  const rng = testRng(t, 0xc4ec)
  for (let round = 0; round < 80; round++) {
    const { n, chunks, tree } = randomFile(rng, 90)
    const v = new ChunkVerifier(tree.root, n)
    // in order (as a receiver asks), shuffled or repeated: chunks are offered several times each
    const order = round % 3 === 0 ? [...Array(n).keys()] : Array.from({ length: 3 * n }, () => rng.int(n))
    for (const i of order) {
      const chunk = chunks[i] as Uint8Array
      const proof = tree.proof(i)
      // tampered first, so a forgery meets what the verifier has kept so far
      const bad = chunk.slice()
      const at = rng.int(bad.length)
      bad[at] = (bad[at] as number) ^ (1 << rng.int(8))
      if (v.verify(i, bad, proof)) t.fail(`a flipped bit in chunk ${i} of ${n} verifies`)
      if (n > 1 && v.verify((i + 1) % n, chunk, tree.proof((i + 1) % n))) t.fail(`chunk ${i} of ${n} verifies as ${(i + 1) % n}`)
      if (proof.length > 0) {
        if (v.verify(i, chunk, proof.slice(1))) t.fail(`a shortened path verifies (${i} of ${n})`)
        const lowest = proof.slice()
        lowest[0] = nodeHash(proof[0] as Uint8Array, proof[0] as Uint8Array)
        // a verifier that has kept nothing yet climbs to the root (one that has kept this very
        // leaf takes the chunk without looking at its path: it is the file's)
        if (new ChunkVerifier(tree.root, n).verify(i, chunk, lowest)) t.fail(`a wrong sibling verifies (${i} of ${n})`)
      }
      if (!v.verify(i, chunk, proof)) t.fail(`chunk ${i} of ${n} does not verify`)
    }
    if (v.verify(-1, chunks[0] as Uint8Array, tree.proof(0)) || v.verify(n, chunks[0] as Uint8Array, tree.proof(0))) t.fail('an index out of range verifies')
  }
  t.pass('checked')
})

t.test('ChunkVerifier: in order, a chunk\'s climb stops at the parent it shares with the chunk before', async t => {
  const n = 4096 // a 128 MiB file in 32 KiB chunks: 12 levels
  const chunk = (i: number): Uint8Array => Uint8Array.of(i & 0xff, i >> 8)
  const tree = new HashTree(Array.from({ length: n }, (_, i) => leafHash(chunk(i))))
  const v = new ChunkVerifier(tree.root, n)
  let taken = 0
  for (let i = 0; i < n; i++) {
    const proof = tree.proof(i)
    // every hash of the path but the sibling wrong: taken only if the climb stops at the parent
    if (v.verify(i, chunk(i), [proof[0] as Uint8Array, ...proof.slice(1).map(() => new Uint8Array(32))])) {
      taken++
      if (i % 2 === 0) t.fail(`chunk ${i} opens a new parent, yet its path was not read`)
    }
    if (!v.verify(i, chunk(i), proof)) t.fail(`chunk ${i} does not verify`)
  }
  t.equal(taken, n / 2, 'every second chunk costs its leaf and one inner node')
})

t.test('the tree equals the RFC 6962 recursive definition (split at the largest power of two)', async t => {
  const rng = testRng(t, 0x6962)
  const mth = (leaves: Uint8Array[]): Uint8Array => {
    if (leaves.length === 1) return leaves[0] as Uint8Array
    let k = 1
    while (k * 2 < leaves.length) k *= 2
    return new HashTree([mth(leaves.slice(0, k)), mth(leaves.slice(k))]).root
  }
  for (let n = 1; n <= 40; n++) {
    const leaves = Array.from({ length: n }, () => leafHash(rng.bytes(4)))
    t.equal(toHex(new HashTree(leaves).root), toHex(mth(leaves)), `n=${n}`)
  }
})

t.test('a tree given its lowest levels built elsewhere takes only levels of the right width', async t => {
  const leaves = LeafHashes.of(new Uint8Array(5 * 32).map((_, i) => i))
  const whole = new HashTree(leaves)
  const level1 = new Uint8Array(3 * 32)
  for (let j = 0; j < 3; j++) level1.set(j < 2 ? nodeHash(leaves.bytes().subarray(64 * j, 64 * j + 32), leaves.bytes().subarray(64 * j + 32, 64 * j + 64)) : leaves.bytes().subarray(128, 160), 32 * j)
  t.same(new HashTree(leaves, [level1]).root, whole.root, 'the same root as a tree built whole')
  t.throws(() => new HashTree(leaves, [level1.subarray(0, 64)]), RangeError, 'a level of the wrong width')
  t.throws(() => new HashTree(LeafHashes.of(new Uint8Array(32)), [new Uint8Array(32)]), RangeError, 'a level above a single leaf')
})
