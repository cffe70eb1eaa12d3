// The hash tree over a file's chunks (proto-spec/files.md §2): the Merkle Tree Hash of RFC 6962
// §2.1 (RFC 9162 §2.1.1) with SHA-256 over fixed-size chunks. Leaves are SHA-256(0x00 || chunk),
// inner nodes SHA-256(0x01 || left || right), so no leaf can pose as an inner node (the second
// preimage attack RFC 6962 §2.1 closes); an odd node at the end of a level is carried up
// unchanged (the same tree as RFC 6962's "split at the largest power of two" rule); the empty
// file's root is SHA-256 of nothing. A chunk travels with its audit path (RFC 6962 §2.1.1), so
// the receiver checks each chunk against the offered root the moment it arrives.
import { constantTimeEqual, sha256, sha256Once } from '../crypto/primitives.js'

export const HASH_BYTES = 32
const LEAF = Uint8Array.of(0x00)
/** 0x01 || left || right, filled in place for each inner node: one call, no hash object per node
 * (an audit path is up to 15 of them per 32 KiB chunk: this was a visible share of a receiver's CPU) */
const NODE_INPUT = Uint8Array.of(0x01, ...new Uint8Array(2 * HASH_BYTES))

export function leafHash (chunk: Uint8Array): Uint8Array { return sha256(LEAF, chunk) }
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  NODE_INPUT.set(left, 1)
  NODE_INPUT.set(right, 1 + HASH_BYTES)
  return sha256Once(NODE_INPUT)
}

/** Number of chunks of a file of `size` bytes (0 for the empty file). */
export function chunkCount (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

/** Bytes of chunk `index`: chunkSize, except the last, which holds what remains. */
export function chunkLength (size: number, chunkSize: number, index: number): number {
  return Math.max(0, Math.min(chunkSize, size - index * chunkSize))
}

/** How many hashes the audit path of any leaf of an n-leaf tree holds at most (its height). */
export function treeHeight (n: number): number {
  let h = 0
  while (n > 1) { n = Math.ceil(n / 2); h++ }
  return h
}

/** The audit path length of leaf `index` in an n-leaf tree: one hash per level where it has a sibling. */
export function proofLength (n: number, index: number): number {
  let len = 0
  for (let width = n; width > 1; width = Math.ceil(width / 2), index >>>= 1) {
    if ((index ^ 1) < width) len++
  }
  return len
}

/**
 * Leaf hashes gathered as a file is read, in one buffer (HASH_BYTES each): no object per leaf,
 * which for a 1 GiB file in 32 KiB chunks was 32,768 arrays alive until the tree was built.
 */
export class LeafHashes {
  #bytes: Uint8Array = new Uint8Array(HASH_BYTES * 1024)
  #count = 0

  get count (): number { return this.#count }

  /** Leaves hashed elsewhere (src/files/disk-hash.ts), HASH_BYTES each, in order: taken as they are, not copied. */
  static of (bytes: Uint8Array): LeafHashes {
    if (bytes.length % HASH_BYTES !== 0) throw new RangeError(`leaf hashes: ${bytes.length} bytes is not a whole number of ${HASH_BYTES}-byte hashes`)
    const leaves = new LeafHashes()
    leaves.#bytes = bytes
    leaves.#count = bytes.length / HASH_BYTES
    return leaves
  }

  /** Hashes `chunk` as the next leaf. */
  push (chunk: Uint8Array): void {
    if ((this.#count + 1) * HASH_BYTES > this.#bytes.length) {
      const more = new Uint8Array(this.#bytes.length * 2)
      more.set(this.#bytes)
      this.#bytes = more
    }
    this.#bytes.set(leafHash(chunk), this.#count++ * HASH_BYTES)
  }

  /** The leaves, HASH_BYTES each, in order (a view: valid until the next push). */
  bytes (): Uint8Array { return this.#bytes.subarray(0, this.#count * HASH_BYTES) }
}

/**
 * Every level of the tree, leaves first, root last: about 2n hashes, 2 MiB for a 1 GiB file in
 * 32 KiB chunks, each level one buffer of HASH_BYTES per node (an array per node made the tree of
 * a 1 GiB file ~28 MiB of RSS).
 */
export class HashTree {
  /** level l's nodes, HASH_BYTES each; the last level is the root (none for the empty file) */
  readonly #levels: Uint8Array[]
  readonly leafCount: number

  /**
   * `above`: the levels just above the leaves, lowest first, as far as they were built elsewhere
   * (the workers of disk-hash.ts build them beside the leaves of a large file); the levels over
   * those are built here. Without it, every level is built here.
   */
  constructor (leaves: readonly Uint8Array[] | LeafHashes, above: readonly Uint8Array[] = []) {
    let level: Uint8Array
    if (leaves instanceof LeafHashes) level = above.length > 0 ? leaves.bytes() : leaves.bytes().slice() // LeafHashes.of: not pushed to again
    else {
      const flat = new Uint8Array(leaves.length * HASH_BYTES)
      leaves.forEach((leaf, i) => { flat.set(leaf, i * HASH_BYTES) })
      level = flat
    }
    let count = level.length / HASH_BYTES
    this.leafCount = count
    const levels = [level]
    for (const built of above) {
      if (count <= 1 || built.length !== Math.ceil(count / 2) * HASH_BYTES) throw new RangeError(`hash tree: level ${levels.length} given does not fit ${this.leafCount} leaves`)
      levels.push(built)
      count = built.length / HASH_BYTES
      level = built
    }
    while (count > 1) {
      const upCount = Math.ceil(count / 2)
      const up = new Uint8Array(upCount * HASH_BYTES)
      for (let i = 0; i < count; i += 2) {
        const left = level.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)
        up.set(i + 1 < count ? nodeHash(left, level.subarray((i + 1) * HASH_BYTES, (i + 2) * HASH_BYTES)) : left, (i / 2) * HASH_BYTES)
      }
      levels.push(up)
      level = up
      count = upCount
    }
    this.#levels = levels
  }

  get root (): Uint8Array {
    if (this.leafCount === 0) return sha256()
    return (this.#levels[this.#levels.length - 1] as Uint8Array).subarray(0, HASH_BYTES)
  }

  leaf (index: number): Uint8Array | undefined { return this.#node(0, index) }

  /** The audit path of leaf `index`, lowest sibling first (views into the tree). */
  proof (index: number): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let l = 0; l < this.#levels.length - 1; l++, index >>>= 1) {
      const sibling = this.#node(l, index ^ 1)
      if (sibling !== undefined) out.push(sibling)
    }
    return out
  }

  #node (level: number, index: number): Uint8Array | undefined {
    const bytes = this.#levels[level]
    if (bytes === undefined || index < 0 || (index + 1) * HASH_BYTES > bytes.length) return undefined
    return bytes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)
  }
}

/** The root a chunk and its audit path lead to, or null when the path has the wrong length. */
export function rootFromProof (n: number, index: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | null {
  if (index < 0 || index >= n || proof.length !== proofLength(n, index)) return null
  let h = leaf
  let p = 0
  for (let width = n; width > 1; width = Math.ceil(width / 2), index >>>= 1) {
    if (index % 2 === 1) h = nodeHash(proof[p++] as Uint8Array, h)
    else if (index + 1 < width) h = nodeHash(h, proof[p++] as Uint8Array)
    // else: the odd node at the end of its level, carried up unchanged
  }
  return h
}

/** Whether chunk `index` of an n-chunk file with this root is authentic (constant-time compare). */
export function verifyChunk (root: Uint8Array, n: number, index: number, chunk: Uint8Array, proof: readonly Uint8Array[]): boolean {
  const got = rootFromProof(n, index, leafHash(chunk), proof)
  return got !== null && constantTimeEqual(got, root)
}

/**
 * Checks the chunks of one file against its root as they arrive (files.md §2), remembering what it
 * has verified: for each level of the tree, the node the last verified chunk's climb computed
 * there (the root at the top). A chunk's climb stops at the first level where it reaches the
 * node kept for that position: that node is the tree's own (it led to the root before), so the
 * chunk is authentic if it hashes to it and not otherwise. Chunks asked for in order share most of
 * their ancestors, so a chunk costs its leaf hash and one or two inner nodes instead of a node
 * per level (15 for a 1 GiB file in 32 KiB chunks). It takes exactly the chunks verifyChunk
 * takes, except that the hashes of a path above the node its climb stops at are not looked at:
 * a chunk that is the file's is taken even if those are wrong (files.md §2).
 */
export class ChunkVerifier {
  readonly #n: number
  /** position of the node kept at each level (-1: none yet); the top level holds the root */
  readonly #pos: Int32Array
  /** the nodes kept, HASH_BYTES per level */
  readonly #kept: Uint8Array
  /** the nodes the current climb computed, per level */
  readonly #climb: Uint8Array[] = []

  constructor (root: Uint8Array, n: number) {
    this.#n = n
    const top = treeHeight(n)
    this.#pos = new Int32Array(top + 1).fill(-1)
    this.#kept = new Uint8Array((top + 1) * HASH_BYTES)
    this.#pos[top] = 0
    this.#kept.set(root, top * HASH_BYTES)
  }

  /** Whether chunk `index` with this audit path is the file's (constant-time compare of the node it reaches). */
  verify (index: number, chunk: Uint8Array, proof: readonly Uint8Array[]): boolean {
    const n = this.#n
    if (!Number.isInteger(index) || index < 0 || index >= n || proof.length !== proofLength(n, index)) return false
    const climb = this.#climb
    let h = leafHash(chunk)
    let level = 0
    let p = 0
    for (let i = index, width = n; ; i >>>= 1, width = Math.ceil(width / 2), level++) {
      climb[level] = h
      if (this.#pos[level] === i) {
        if (!constantTimeEqual(h, this.#kept.subarray(level * HASH_BYTES, (level + 1) * HASH_BYTES))) return false
        break
      }
      if (i % 2 === 1) h = nodeHash(proof[p++] as Uint8Array, h)
      else if (i + 1 < width) h = nodeHash(h, proof[p++] as Uint8Array)
      // else: the odd node at the end of its level, carried up unchanged
    }
    for (let l = 0; l < level; l++) {
      this.#pos[l] = index >>> l
      this.#kept.set(climb[l] as Uint8Array, l * HASH_BYTES)
    }
    return true
  }
}

/** The root of a whole file held in memory (tests and small files). */
export function rootOf (data: Uint8Array, chunkSize: number): Uint8Array {
  const leaves: Uint8Array[] = []
  for (let i = 0; i < chunkCount(data.length, chunkSize); i++) leaves.push(leafHash(data.subarray(i * chunkSize, (i + 1) * chunkSize)))
  return new HashTree(leaves).root
}
