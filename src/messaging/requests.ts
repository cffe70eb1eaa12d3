// Contact requests (proto-spec/messaging.md §3): what a stranger sent us while not a contact —
// their CONTACT_REQUEST (identity, name, greeting) and the messages they wrote meanwhile, held
// here and never shown as a conversation until the user accepts. Pure and bounded; the service
// persists `snapshot()` (state-file.ts) before it acknowledges anything held here.
import { DECLINE_MEMORY_MS, MAX_HELD_PER_REQUEST, MAX_PENDING_REQUESTS } from './constants.js'

export interface PublicKeys { signPublic: Uint8Array, dhPublic: Uint8Array, dhSignature: Uint8Array }

export interface HeldMessage {
  id: string
  text: string
  /** sender's clock */
  timestamp: number
  /** ours */
  receivedAt: number
}

export interface PendingRequest {
  fingerprint: string
  identity: PublicKeys
  name?: string
  greeting?: string
  /** true once a CONTACT_REQUEST arrived (a stranger's bare message also opens an entry) */
  introduced: boolean
  /** sender's clock of the first envelope */
  timestamp: number
  receivedAt: number
  /** ids of CONTACT_REQUEST envelopes seen (duplicates are re-acknowledged, not re-added) */
  requestIds: string[]
  held: HeldMessage[]
}

export type RequestOutcome =
  /** a new entry was opened */
  | 'new'
  /** an existing entry changed (details, a held message) */
  | 'updated'
  /** already held: acknowledge again, change nothing */
  | 'duplicate'
  /** the user declined this fingerprint recently: drop silently */
  | 'declined'
  /** a bound was hit: drop without acknowledging (the sender retries later) */
  | 'full'

export interface RequestIntro {
  id: string
  identity: PublicKeys
  name?: string
  greeting?: string
  timestamp: number
}

export interface RequestSnapshot {
  pending: PendingRequest[]
  declined: Array<[string, number]>
}

const MAX_REQUEST_IDS = 16

export class RequestBook {
  readonly #pending = new Map<string, PendingRequest>()
  readonly #declined = new Map<string, number>()

  constructor (readonly limits = { maxPending: MAX_PENDING_REQUESTS, maxHeld: MAX_HELD_PER_REQUEST, declineMemoryMs: DECLINE_MEMORY_MS }) {}

  restore (s: RequestSnapshot): void {
    for (const r of s.pending) this.#pending.set(r.fingerprint, r)
    for (const [fp, at] of s.declined) this.#declined.set(fp, at)
  }

  snapshot (now: number): RequestSnapshot {
    this.#forgetDeclines(now)
    return { pending: [...this.#pending.values()], declined: [...this.#declined] }
  }

  get (fp: string): PendingRequest | undefined { return this.#pending.get(fp) }

  /** Oldest first. */
  list (): PendingRequest[] {
    return [...this.#pending.values()].sort((a, b) => a.receivedAt - b.receivedAt)
  }

  isDeclined (fp: string, now: number): boolean {
    const at = this.#declined.get(fp)
    return at !== undefined && now - at < this.limits.declineMemoryMs
  }

  /** A CONTACT_REQUEST from stranger `fp`. */
  introduce (fp: string, intro: RequestIntro, now: number): RequestOutcome {
    if (this.isDeclined(fp, now)) return 'declined'
    const r = this.#pending.get(fp)
    if (r === undefined) {
      if (this.#pending.size >= this.limits.maxPending) return 'full'
      this.#pending.set(fp, { ...this.#fresh(fp, intro.identity, intro.timestamp, now), ...details(intro), introduced: true, requestIds: [intro.id] })
      return 'new'
    }
    if (r.requestIds.includes(intro.id)) return 'duplicate'
    r.requestIds = [...r.requestIds, intro.id].slice(-MAX_REQUEST_IDS)
    Object.assign(r, details(intro))
    r.introduced = true
    return 'updated'
  }

  /** A message from stranger `fp` (identity proven by its session): held with its request. */
  hold (fp: string, identity: PublicKeys, msg: HeldMessage, now: number): RequestOutcome {
    if (this.isDeclined(fp, now)) return 'declined'
    let r = this.#pending.get(fp)
    let outcome: RequestOutcome = 'updated'
    if (r === undefined) {
      if (this.#pending.size >= this.limits.maxPending) return 'full'
      r = this.#fresh(fp, identity, msg.timestamp, now)
      this.#pending.set(fp, r)
      outcome = 'new'
    }
    if (r.held.some(h => h.id === msg.id)) return 'duplicate'
    if (r.held.length >= this.limits.maxHeld) return 'full'
    r.held.push({ ...msg })
    return outcome
  }

  /** The user accepted: the entry leaves the book (the caller turns it into a contact). */
  accept (fp: string): PendingRequest | undefined {
    const r = this.#pending.get(fp)
    this.#pending.delete(fp)
    this.#declined.delete(fp)
    return r
  }

  /** The user declined: the entry and its messages are dropped, later envelopes ignored for a while. */
  decline (fp: string, now: number): PendingRequest | undefined {
    const r = this.#pending.get(fp)
    this.#pending.delete(fp)
    this.#declined.set(fp, now)
    return r
  }

  /** Forget an entry without remembering a decline (the user added them as a contact, or blocked them). */
  drop (fp: string): PendingRequest | undefined {
    const r = this.#pending.get(fp)
    this.#pending.delete(fp)
    return r
  }

  #fresh (fp: string, identity: PublicKeys, timestamp: number, now: number): PendingRequest {
    return { fingerprint: fp, identity, introduced: false, timestamp, receivedAt: now, requestIds: [], held: [] }
  }

  #forgetDeclines (now: number): void {
    for (const [fp, at] of this.#declined) if (now - at >= this.limits.declineMemoryMs) this.#declined.delete(fp)
  }
}

function details (intro: RequestIntro): Partial<PendingRequest> {
  const out: Partial<PendingRequest> = { identity: intro.identity }
  if (intro.name !== undefined) out.name = intro.name
  if (intro.greeting !== undefined) out.greeting = intro.greeting
  return out
}
