// Sliding-window replay filter for explicit transport counters, in the style of RFC 6479: a ring
// of 32-bit blocks, so sliding the window forward clears whole blocks instead of shifting bits.
// proto-spec/session.md §5, wire.md §4.6.
//
// Two steps, because a forged packet must not move the window (wire.md §4.6, noise.md §3):
// `check(n)` before decryption (no state change), `commit(n)` only after the AEAD verified.
import { REPLAY_WINDOW, MAX_COUNTER } from '../wire/constants.js'

const BLOCK_BITS = 32n
const BLOCK_SHIFT = 5n
/** RFC 6479 §2: N blocks give a window of (N − 1) × 32 counters; one block is the slack. */
const BLOCKS = REPLAY_WINDOW / 32 + 1
const BLOCKS_N = BigInt(BLOCKS)
const WINDOW_N = BigInt(REPLAY_WINDOW)

export class ReplayWindow {
  readonly #ring = new Uint32Array(BLOCKS)
  /** highest committed counter; −1 before the first */
  #last = -1n

  /** Highest counter accepted so far, or −1n. */
  get highest (): bigint {
    return this.#last
  }

  /** True if `counter` is fresh: in range, not older than the window, not seen before. Pure. */
  check (counter: bigint): boolean {
    if (counter < 0n || counter > MAX_COUNTER) return false
    if (counter > this.#last) return true
    if (this.#last - counter >= WINDOW_N) return false // too old: RFC 6479 §3
    const [block, mask] = position(counter)
    return ((this.#ring[block] ?? 0) & mask) === 0
  }

  /** Mark `counter` as seen (after a successful decryption). False, and no change, if not fresh. */
  commit (counter: bigint): boolean {
    if (!this.check(counter)) return false
    if (counter > this.#last) this.#slide(counter)
    const [block, mask] = position(counter)
    this.#ring[block] = (this.#ring[block] ?? 0) | mask
    return true
  }

  // Clear the blocks the window moves over (at most the whole ring), then move the top.
  #slide (counter: bigint): void {
    const from = this.#last >> BLOCK_SHIFT
    let blocks = (counter >> BLOCK_SHIFT) - from
    if (blocks > BLOCKS_N) blocks = BLOCKS_N
    for (let i = 1n; i <= blocks; i++) this.#ring[Number((from + i) % BLOCKS_N)] = 0
    this.#last = counter
  }
}

function position (counter: bigint): [number, number] {
  const block = Number((counter >> BLOCK_SHIFT) % BLOCKS_N)
  const bit = Number(counter & (BLOCK_BITS - 1n))
  return [block, (1 << bit) >>> 0]
}
