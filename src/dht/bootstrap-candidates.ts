// Remembered bootstrap candidates (dht.md §6.4): every DHT node that answered us from its own
// address, and every address a contact's invite named, kept in a bounded list, most recently
// useful first, so that the next start can join through them when the configured bootstrap list
// is empty or does not answer — no server of ours needed. Pure: src/node/bootstrap-memory.ts
// keeps it in a sealed file.
import { canonicalAddress } from '../io/address.js'

/** Addresses kept: a restart after months away still finds a few that answer. */
export const MAX_BOOTSTRAP_CANDIDATES = 64
/** Candidates tried at one start (pinged at once; the join goes on with those that answer). */
export const BOOTSTRAP_CANDIDATES_TRIED = 16

export type CandidateSource = 'dht' | 'invite' | 'contact' | 'configured'

export interface BootstrapCandidate {
  addr: string
  /** When it last answered us, or when we learned of it (ms, wall clock). */
  at: number
  source: CandidateSource
}

export class BootstrapCandidates {
  readonly max: number
  #list: BootstrapCandidate[] = []

  constructor (saved: readonly BootstrapCandidate[] = [], max = MAX_BOOTSTRAP_CANDIDATES) {
    this.max = max
    for (const c of saved) this.note(c.addr, c.source, c.at)
  }

  get size (): number { return this.#list.length }

  /** `addr` was useful at `at` (it answered, or an invite named it); malformed addresses are ignored. */
  note (addr: string, source: CandidateSource, at: number): void {
    const canonical = canonicalAddress(addr)
    if (canonical === null || !Number.isFinite(at)) return
    const i = this.#list.findIndex(c => c.addr === canonical)
    if (i >= 0) {
      const old = this.#list[i]!
      if (old.at > at) return
      this.#list.splice(i, 1)
    }
    // The list is kept sorted, most recent first, with ties in the order they were noted: the new
    // entry goes after every one at least as recent (what a stable sort after a push gave, without
    // a sort of the whole list per note: a node notes every table contact at each remember).
    let pos = this.#list.length
    while (pos > 0 && this.#list[pos - 1]!.at < at) pos--
    this.#list.splice(pos, 0, { addr: canonical, at, source })
    if (this.#list.length > this.max) this.#list.length = this.max
  }

  /** The n most recently useful, leaving out `except` (the configured list, already tried). */
  best (n: number = BOOTSTRAP_CANDIDATES_TRIED, except: readonly string[] = []): string[] {
    const skip = new Set(except.map(a => canonicalAddress(a) ?? a))
    return this.#list.filter(c => !skip.has(c.addr)).slice(0, n).map(c => c.addr)
  }

  snapshot (): BootstrapCandidate[] {
    return this.#list.map(c => ({ ...c }))
  }
}
