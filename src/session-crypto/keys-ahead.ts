// Key pairs for the next DH ratchet steps, made ahead of time (proto-spec/ratchet.md §7, "Key
// pairs made ahead"). A step that turns the conversation makes a new X25519 pair and a new
// ML-KEM-768 pair for its sending chain (§5 step 3): about a third of the step's CPU, and in a
// ping-pong every open is such a step. The caller makes sets here when it is idle; a step takes
// one. Pure over its randomness: no timers (the messaging layer decides when to fill).
//
// The sets are secrets. Each is handed out once (`take` removes it) and is from then on part of
// the state of the step that took it, wiped with that state (or with the step's draft when the
// message does not open: ratchet.ts). Kept only in memory: a set never stored is lost with the
// process and simply made again; a step is stored with the keys it used, before its ciphertext
// leaves (envelope.md §8.4).
import { wipe } from '../crypto/primitives.js'
import { generateKeyPairs, type NextKeyPairs, type RandomBytes } from '../ratchet/index.js'

/** Sets kept ready: one per daemon turn of a ping-pong, and one more for a second peer's turn. */
export const KEYS_AHEAD = 2

export class KeysAhead {
  readonly #ready: NextKeyPairs[] = []

  constructor (private readonly random: RandomBytes, readonly size = KEYS_AHEAD) {}

  /** Sets ready to be taken. */
  get ready (): number { return this.#ready.length }

  /** Fewer than `size` are ready. */
  get wanted (): boolean { return this.#ready.length < this.size }

  /** Makes one set if fewer than `size` are ready; true when it made one. */
  fillOne (): boolean {
    if (!this.wanted) return false
    this.#ready.push(generateKeyPairs(this.random))
    return true
  }

  /** One set, or undefined when none is ready: removed here, so no other step can get it. */
  readonly take = (): NextKeyPairs | undefined => this.#ready.shift()

  /** Wipes the sets not taken (the book is dropped). */
  clear (): void {
    for (const s of this.#ready.splice(0)) wipe(s.dh.secretKey, s.kemDk)
  }
}
