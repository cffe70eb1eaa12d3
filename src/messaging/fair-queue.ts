// A bounded round-robin queue over peers (proto-spec/messaging.md §6.2): one FIFO per peer, and
// `shift` takes from the next peer in turn, so a peer with 1,000 envelopes queued delays another
// peer's one envelope by at most one item, not by 1,000. Pure and synchronous.

export interface FairQueueLimits {
  perKey: number
  total: number
}

export class FairQueue<T> {
  readonly #queues = new Map<string, T[]>()
  /** keys with items, in turn order; the head is served next */
  #ring: string[] = []
  #head = 0
  #size = 0

  constructor (readonly limits: FairQueueLimits) {}

  get size (): number { return this.#size }

  sizeOf (key: string): number { return this.#queues.get(key)?.length ?? 0 }

  /** Appends; false (nothing queued) when this key's or the total bound is reached. */
  push (key: string, item: T): boolean {
    if (this.#size >= this.limits.total) return false
    let q = this.#queues.get(key)
    if (q === undefined) {
      q = []
      this.#queues.set(key, q)
      this.#ring.push(key)
    }
    if (q.length >= this.limits.perKey) return false
    q.push(item)
    this.#size++
    return true
  }

  /** The oldest item of the next key in turn. */
  shift (): { key: string, item: T } | undefined {
    while (this.#ring.length > 0) {
      if (this.#head >= this.#ring.length) this.#head = 0
      const key = this.#ring[this.#head] as string
      const q = this.#queues.get(key)
      if (q === undefined || q.length === 0) {
        this.#dropKey(this.#head, key)
        continue
      }
      const item = q.shift() as T
      this.#size--
      if (q.length === 0) this.#dropKey(this.#head, key)
      else this.#head++
      return { key, item }
    }
    return undefined
  }

  /** Forgets everything queued for `key` (e.g. the peer was just blocked); returns how many. */
  clear (key: string): number {
    const n = this.sizeOf(key)
    this.#size -= n
    const at = this.#ring.indexOf(key)
    if (at >= 0) this.#dropKey(at, key)
    else this.#queues.delete(key)
    return n
  }

  #dropKey (index: number, key: string): void {
    this.#queues.delete(key)
    this.#ring.splice(index, 1)
    if (this.#head > index) this.#head--
  }
}
