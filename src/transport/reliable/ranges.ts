// A sorted set of disjoint half-open integer ranges [start, end), merged when they touch.
// Used for received packet numbers, received stream bytes, acked and lost stream bytes.

export interface Range { start: number, end: number }

export class RangeSet {
  #r: Range[] = []

  get size (): number { return this.#r.length }
  get isEmpty (): boolean { return this.#r.length === 0 }
  /** Lowest range, or undefined. */
  get first (): Range | undefined { return this.#r[0] }
  /** Highest range, or undefined. */
  get last (): Range | undefined { return this.#r[this.#r.length - 1] }
  /** Ranges in ascending order (do not mutate; valid until the next change of the set). */
  get ranges (): readonly Range[] { return this.#r }

  /** Index of the first range whose end is >= x (so it contains or follows x, or touches it). */
  #lowerBound (x: number): number {
    let lo = 0
    let hi = this.#r.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#r[mid]!.end < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add (start: number, end: number): void {
    if (end <= start) return
    // fast paths for the common cases (in-order packet numbers, appended bytes): no splice
    const n = this.#r.length
    const last = this.#r[n - 1]
    if (last === undefined || start > last.end) {
      this.#r.push({ start, end })
      return
    }
    if (start >= last.start) {
      if (end > last.end) last.end = end // in place: one object per range, not per packet
      return
    }
    const i = this.#lowerBound(start)
    let j = i
    let s = start
    let e = end
    while (j < this.#r.length && this.#r[j]!.start <= e) {
      s = Math.min(s, this.#r[j]!.start)
      e = Math.max(e, this.#r[j]!.end)
      j++
    }
    this.#r.splice(i, j - i, { start: s, end: e })
  }

  /** Whether integer x is in the set. */
  has (x: number): boolean {
    const r = this.#r[this.#lowerBound(x + 1)] // first range with end > x
    return r !== undefined && r.start <= x
  }

  /** Sub-ranges of [start, end) not in the set, ascending. */
  missing (start: number, end: number): Range[] {
    const out: Range[] = []
    let cursor = start
    for (let i = this.#lowerBound(start); i < this.#r.length && cursor < end; i++) {
      const r = this.#r[i]!
      if (r.start >= end) break
      if (r.start > cursor) out.push({ start: cursor, end: r.start })
      cursor = Math.max(cursor, r.end)
    }
    if (cursor < end) out.push({ start: cursor, end })
    return out
  }

  /** Forget everything below x. */
  removeBelow (x: number): void {
    let n = 0
    while (n < this.#r.length && this.#r[n]!.end <= x) n++
    if (n > 0) this.#r.splice(0, n)
    const f = this.#r[0]
    if (f && f.start < x) this.#r[0] = { start: x, end: f.end }
  }

  /** Remove and return the lowest range. */
  shift (): Range | undefined { return this.#r.shift() }

  /** Keep only the `max` highest ranges (bounded memory). */
  keepHighest (max: number): void {
    if (this.#r.length > max) this.#r.splice(0, this.#r.length - max)
  }

  clear (): void { this.#r = [] }
}
