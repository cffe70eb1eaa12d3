// A fake clock with a deterministic event queue. Time only moves when the queue is run, and
// events at the same instant fire in the order they were scheduled, so a simulation with a
// fixed seed replays exactly.

export interface SimTimer { readonly at: number, cancelled: boolean }

interface Event extends SimTimer { readonly seq: number, readonly fn: () => void }

export interface RunLimits {
  /** Stop before running any event later than this time (ms); the clock is left at `until`. */
  until?: number
  /** Stop after this many events (a guard against runaway simulations). */
  maxEvents?: number
  /** Stop as soon as this returns true (checked after every event). */
  done?: () => boolean
}

export class SimClock {
  #now: number
  #seq = 0
  #heap: Event[] = []
  #fired = 0

  constructor (startMs = 0) {
    this.#now = startMs
  }

  get now (): number { return this.#now }
  /** Events run so far. */
  get fired (): number { return this.#fired }
  /** Events waiting (including cancelled ones not yet popped). */
  get pending (): number { return this.#heap.length }

  /** Run `fn` at absolute time `at` (never earlier than now). */
  schedule (at: number, fn: () => void): SimTimer {
    const ev: Event = { at: Math.max(at, this.#now), seq: this.#seq++, fn, cancelled: false }
    this.#push(ev)
    return ev
  }

  /** Run `fn` after `delayMs`. */
  after (delayMs: number, fn: () => void): SimTimer {
    return this.schedule(this.#now + delayMs, fn)
  }

  cancel (timer: SimTimer | null | undefined): void {
    if (timer) timer.cancelled = true
  }

  /** Run the next live event; false when none is left. */
  step (): boolean {
    for (;;) {
      const ev = this.#pop()
      if (!ev) return false
      if (ev.cancelled) continue
      this.#now = ev.at
      this.#fired++
      ev.fn()
      return true
    }
  }

  /** Run events in order until a limit is hit or the queue is empty; returns events run. */
  run (limits: RunLimits = {}): number {
    const { until = Infinity, maxEvents = Infinity, done } = limits
    let count = 0
    while (count < maxEvents) {
      if (done?.()) break
      const next = this.#peekLive()
      if (!next || next.at > until) {
        if (until !== Infinity && until > this.#now) this.#now = until
        break
      }
      this.step()
      count++
    }
    return count
  }

  /** Advance time by `ms`, running everything due on the way. */
  advance (ms: number, maxEvents?: number): number {
    return this.run({ until: this.#now + ms, maxEvents })
  }

  #peekLive (): Event | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop()
    return this.#heap[0]
  }

  // binary min-heap on (at, seq)
  #less (a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #push (ev: Event): void {
    const h = this.#heap
    h.push(ev)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  #pop (): Event | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}
