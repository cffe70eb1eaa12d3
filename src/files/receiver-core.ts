// The receiving side of one transfer, pure (proto-spec/files.md §4): which chunks we hold, which
// are asked for, and the verdict on each chunk that arrives. The receiver pulls: it asks for at
// most `window` chunks at a time, so what the sender may have in flight is bounded by us, and
// resuming after any interruption is asking again for what the bitmap lacks.
import { ChunkVerifier, chunkCount, chunkLength } from './merkle.js'
import { REQUEST_MAX_RANGES, type ChunkRange } from './codec.js'

export type ChunkVerdict = 'verified' | 'bad-proof' | 'unexpected' | 'duplicate'

export class ReceiverCore {
  readonly chunks: number
  readonly #have: Uint8Array
  #haveCount = 0
  readonly #asked = new Set<number>()
  /** the lowest chunk that may still be missing: requests scan from here */
  #scan = 0
  /** made at the first chunk that arrives (a core is also made only to read a bitmap) */
  #verifier: ChunkVerifier | null = null

  constructor (readonly size: number, readonly chunkSize: number, readonly root: Uint8Array, have?: Uint8Array) {
    this.chunks = chunkCount(size, chunkSize)
    this.#have = new Uint8Array(Math.ceil(this.chunks / 8))
    if (have !== undefined) {
      for (let i = 0; i < this.chunks; i++) if (((have[i >> 3] ?? 0) & (1 << (i & 7))) !== 0) this.markHave(i)
    }
  }

  get haveCount (): number { return this.#haveCount }
  get complete (): boolean { return this.#haveCount === this.chunks }
  get inFlight (): number { return this.#asked.size }
  /** bytes of the chunks we hold */
  get haveBytes (): number {
    if (this.complete) return this.size
    const lastHeld = this.chunks > 0 && this.has(this.chunks - 1)
    return (this.#haveCount - (lastHeld ? 1 : 0)) * this.chunkSize + (lastHeld ? chunkLength(this.size, this.chunkSize, this.chunks - 1) : 0)
  }

  has (index: number): boolean { return ((this.#have[index >> 3] as number) & (1 << (index & 7))) !== 0 }

  /** The bitmap, chunk i at bit (i mod 8) of byte ⌊i/8⌋ (files.md §5: how it is stored). */
  bitmap (): Uint8Array { return this.#have.slice() }

  /** Chunk `index` is on disk. */
  markHave (index: number): void {
    if (index < 0 || index >= this.chunks || this.has(index)) return
    this.#have[index >> 3] = (this.#have[index >> 3] as number) | (1 << (index & 7))
    this.#haveCount++
  }

  /** What to ask for now: missing chunks not already asked for, up to `window` in flight, as ranges. */
  nextRequest (window: number): ChunkRange[] {
    while (this.#scan < this.chunks && this.has(this.#scan)) this.#scan++
    const ranges: ChunkRange[] = []
    for (let i = this.#scan; i < this.chunks && this.#asked.size < window; i++) {
      if (this.has(i) || this.#asked.has(i)) continue
      const last = ranges[ranges.length - 1]
      if (last !== undefined && last.first + last.count === i) last.count++
      else if (ranges.length === REQUEST_MAX_RANGES) break
      else ranges.push({ first: i, count: 1 })
      this.#asked.add(i)
    }
    return ranges
  }

  /** The link went away or stalled: what was asked for is asked again. */
  forgetRequests (): void { this.#asked.clear() }

  /** Checks one arriving chunk against the root; only a 'verified' chunk may be written. */
  onData (index: number, data: Uint8Array, proof: readonly Uint8Array[]): ChunkVerdict {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunks || data.length !== chunkLength(this.size, this.chunkSize, index)) return 'unexpected'
    if (this.has(index)) { this.#asked.delete(index); return 'duplicate' }
    // an unasked chunk is not written: the sender cannot make us take more than we asked for
    if (!this.#asked.has(index)) return 'unexpected'
    this.#asked.delete(index)
    this.#verifier ??= new ChunkVerifier(this.root, this.chunks)
    return this.#verifier.verify(index, data, proof) ? 'verified' : 'bad-proof'
  }
}
