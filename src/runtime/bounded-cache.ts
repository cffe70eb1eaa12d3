// A map of at most `max` entries that forgets the least recently used one first: the memo of
// pure results derived again and again from the same inputs (KeyObjects imported from raw keys in
// src/crypto/primitives.ts, HPKE's key-schedule context in src/crypto/hpke.ts, presence keys in
// src/dht/presence-keys.ts, verified records in src/dht/records.ts). A Map iterates in insertion
// order, so re-inserting an entry at every hit keeps the least recent one first.
import { errors } from '../errors.js'

export class BoundedCache<K, V> {
  readonly #map = new Map<K, V>()

  constructor (readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw errors.BAD_ARGUMENT(`bounded cache: max must be a positive integer, got ${max}`)
  }

  get size (): number { return this.#map.size }

  /** The value kept for `key` (now the most recently used), or undefined. */
  get (key: K): V | undefined {
    const value = this.#map.get(key)
    if (value !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  /** Keeps `value` for `key`, forgetting the least recently used entry when full. */
  set (key: K, value: V): void {
    this.#map.delete(key)
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!)
    this.#map.set(key, value)
  }

  /** The value kept for `key`, or `make()`'s, kept from now on. */
  getOrSet (key: K, make: () => V): V {
    const held = this.get(key)
    if (held !== undefined) return held
    const value = make()
    this.set(key, value)
    return value
  }

  delete (key: K): void { this.#map.delete(key) }

  clear (): void { this.#map.clear() }
}
