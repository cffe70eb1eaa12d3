// The read side of a ReliableSession as an async iterator (proto-spec/session.md, "Reliable
// delivery over a session"): a FIFO of delivered messages, one pending reader at a time, and
// a high-water mark that tells the session to stop taking messages from the channel so that
// flow control, not memory, absorbs a slow reader.

export class Inbox {
  readonly #highWater: number
  #items: Uint8Array[] = []
  #head = 0
  #waiter: ((r: IteratorResult<Uint8Array>) => void) | null = null
  #ended = false
  /** Called when the reader has room again: it is waiting, or the queue is down to half. */
  onDrained: (() => void) | null = null

  constructor (highWater: number) {
    this.#highWater = highWater
  }

  get size (): number { return this.#items.length - this.#head }
  get full (): boolean { return this.size >= this.#highWater }

  push (m: Uint8Array): void {
    if (this.#ended) return
    const w = this.#waiter
    if (w !== null) {
      this.#waiter = null
      w({ value: m, done: false })
      return
    }
    this.#items.push(m)
  }

  /** No more messages will come; a waiting reader finishes once the queue is empty. */
  end (): void {
    this.#ended = true
    const w = this.#waiter
    this.#waiter = null
    if (w !== null) w({ value: undefined, done: true })
  }

  async next (): Promise<IteratorResult<Uint8Array>> {
    if (this.size > 0) return { value: this.#take(), done: false }
    if (this.#ended) return { value: undefined, done: true }
    if (this.#waiter !== null) throw new Error('reliable session: one reader at a time')
    this.onDrained?.()
    return await new Promise(resolve => { this.#waiter = resolve })
  }

  #take (): Uint8Array {
    const m = this.#items[this.#head]!
    this.#items[this.#head++] = undefined as unknown as Uint8Array
    if (this.#head > 256 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    // refill from half the mark, not after every read (the session ignores this unless it
    // held messages back)
    if (this.size <= this.#highWater >> 1) this.onDrained?.()
    return m
  }
}
