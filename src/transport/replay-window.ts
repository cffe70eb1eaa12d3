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
    return ((this.#ring[blockOf(counter)] ?? 0) & bitOf(counter)) === 0
  }

  /** Mark `counter` as seen (after a successful decryption). False, and no change, if not fresh. */
  commit (counter: bigint): boolean {
    if (!this.check(counter)) return false
    if (counter > this.#last) this.#slide(counter)
    const block = blockOf(counter)
    this.#ring[block] = (this.#ring[block] ?? 0) | bitOf(counter)
    return true
  }

  // Clear the blocks the window moves over (at most the whole ring), then move the top.
  #slide (counter: bigint): void {
    // counter > #last here, so below 2^53 both are exact as numbers
    const blocks = counter <= SAFE
      ? Math.floor(Number(counter) / 32) - Math.floor(Number(this.#last) / 32)
      : Number((counter >> BLOCK_SHIFT) - (this.#last >> BLOCK_SHIFT)) // inexact only far above BLOCKS
    const first = blockOf(this.#last) // the ring index of the top's block
    for (let i = 1, n = Math.min(blocks, BLOCKS); i <= n; i++) this.#ring[(first + i) % BLOCKS] = 0
    this.#last = counter
  }
}

// Ring index and bit of a counter. Counters of a live session stay far below 2^53, where plain
// numbers are exact and cost no BigInt allocation per packet; larger ones take the BigInt path.
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function blockOf (counter: bigint): number {
  if (counter < 0n) return BLOCKS - 1 // −1n, the state before the first counter: block −1
  if (counter <= SAFE) return Math.floor(Number(counter) / 32) % BLOCKS
  return Number((counter >> BLOCK_SHIFT) % BLOCKS_N)
}

function bitOf (counter: bigint): number {
  const low = counter <= SAFE ? Number(counter) % 32 : Number(counter & (BLOCK_BITS - 1n))
  return (1 << low) >>> 0
}
