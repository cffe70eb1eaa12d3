// Contact requests (proto-spec/messaging.md §3): what a stranger sent us while not a contact —
// their CONTACT_REQUEST (identity, name, greeting) and the messages they wrote meanwhile, held
// here and never shown as a conversation until the user accepts. Pure and bounded (§3.2): a
// count and a byte budget per request and in all, a quota per source network, an age limit, and
// the oldest request of the busiest network evicted for a newcomer when the book is full. The
// service writes each changed request to its own file (request-files.ts) before it acknowledges
// anything held here; what left the book is handed out by `drainRemoved()`.
import {
  DECLINE_MEMORY_MS, HELD_OVERHEAD_BYTES, MAX_HELD_BYTES_PER_REQUEST, MAX_HELD_BYTES_TOTAL, MAX_HELD_PER_REQUEST,
  MAX_PENDING_REQUESTS, MAX_REQUESTS_PER_NETWORK, REQUEST_EXPIRY_MS
} from './constants.js'

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
  /** the source network of the session that opened it (networkKeyOf, src/io/address.ts); absent for requests kept before it was recorded */
  network?: string
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

/** What the book turned away or let go, counted since the home was created (shown by `dmess requests`). */
export interface RequestTally {
  /** new requests refused: the book full of requests none older than it could yield, or their network at its quota */
  dropped: number
  /** requests evicted (oldest of the busiest network) to make room for a newcomer */
  evicted: number
  /** requests unanswered for REQUEST_EXPIRY_MS, dropped with their messages */
  expired: number
  /** held messages (or greetings) refused: a request's count or byte budget, or the total byte budget */
  heldDropped: number
}

export interface RequestSnapshot {
  pending: PendingRequest[]
  declined: Array<[string, number]>
}

export interface RequestLimits {
  maxPending: number
  maxHeld: number
  declineMemoryMs: number
  maxHeldBytes: number
  maxTotalHeldBytes: number
  maxPerNetwork: number
  expiryMs: number
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxPending: MAX_PENDING_REQUESTS,
  maxHeld: MAX_HELD_PER_REQUEST,
  declineMemoryMs: DECLINE_MEMORY_MS,
  maxHeldBytes: MAX_HELD_BYTES_PER_REQUEST,
  maxTotalHeldBytes: MAX_HELD_BYTES_TOTAL,
  maxPerNetwork: MAX_REQUESTS_PER_NETWORK,
  expiryMs: REQUEST_EXPIRY_MS
}

export interface RemovedRequest { request: PendingRequest, why: 'evicted' | 'expired' }

const MAX_REQUEST_IDS = 16
/**
 * More than an envelope adds around its payload's text (header, sender and recipient, HPKE
 * encapsulation and tag, signature, encoding: envelope.md §2), with room to spare: an envelope
 * longer than this by n bytes carries at least n bytes of text.
 */
export const ENVELOPE_MAX_OVERHEAD_BYTES = 1024
/** Requests kept before networks were recorded count as one network of their own. */
const UNKNOWN_NETWORK = '?'

export function emptyTally (): RequestTally {
  return { dropped: 0, evicted: 0, expired: 0, heldDropped: 0 }
}

/** What a request costs against the byte budgets: its held texts and greeting, plus bookkeeping. */
export function requestBytes (r: PendingRequest): number {
  let n = textBytes(r.greeting) + textBytes(r.name)
  for (const h of r.held) n += heldBytes(h)
  return n
}

/** What an envelope of this size holds at least, against the budgets (0: nothing to count before it is opened). */
export function heldLeast (envelopeBytes: number): number {
  const text = envelopeBytes - ENVELOPE_MAX_OVERHEAD_BYTES
  return text <= 0 ? 0 : text + HELD_OVERHEAD_BYTES
}

function heldBytes (h: HeldMessage): number { return textBytes(h.text) + HELD_OVERHEAD_BYTES }
function textBytes (s: string | undefined): number { return s === undefined ? 0 : Buffer.byteLength(s) }

export class RequestBook {
  readonly #pending = new Map<string, PendingRequest>()
  readonly #declined = new Map<string, number>()
  readonly #bytes = new Map<string, number>()
  readonly #removed: RemovedRequest[] = []
  readonly limits: RequestLimits
  tally: RequestTally = emptyTally()
  #totalBytes = 0

  constructor (limits: Partial<RequestLimits> = {}) {
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...limits }
  }

  /** Requests read back (from their files); the bounds hold again at the next change. */
  restore (s: Partial<RequestSnapshot> & { tally?: RequestTally }): void {
    for (const r of s.pending ?? []) {
      this.#forget(r.fingerprint)
      this.#pending.set(r.fingerprint, r)
      this.#setBytes(r.fingerprint, requestBytes(r))
    }
    for (const [fp, at] of s.declined ?? []) this.#declined.set(fp, at)
    if (s.tally !== undefined) this.tally = { ...emptyTally(), ...s.tally }
  }

  snapshot (now: number): RequestSnapshot {
    this.#forgetDeclines(now)
    return { pending: [...this.#pending.values()], declined: [...this.#declined] }
  }

  get (fp: string): PendingRequest | undefined { return this.#pending.get(fp) }

  get size (): number { return this.#pending.size }

  /** Bytes held across the book (what MAX_HELD_BYTES_TOTAL bounds). */
  get totalBytes (): number { return this.#totalBytes }

  bytesOf (fp: string): number { return this.#bytes.get(fp) ?? 0 }

  /** Oldest first. */
  list (): PendingRequest[] {
    return [...this.#pending.values()].sort((a, b) => a.receivedAt - b.receivedAt)
  }

  /** Requests that left the book by eviction or expiry since the last call (their files go too). */
  drainRemoved (): RemovedRequest[] {
    return this.#removed.splice(0)
  }

  /** When the oldest request expires (Infinity with none). */
  get nextExpiry (): number {
    let at = Infinity
    for (const r of this.#pending.values()) at = Math.min(at, r.receivedAt + this.limits.expiryMs)
    return at
  }

  /** Drops requests older than the expiry; returns how many. */
  expire (now: number): number {
    let n = 0
    for (const r of [...this.#pending.values()]) {
      if (now - r.receivedAt < this.limits.expiryMs) continue
      this.#remove(r, 'expired')
      n++
    }
    return n
  }

  isDeclined (fp: string, now: number): boolean {
    const at = this.#declined.get(fp)
    return at !== undefined && now - at < this.limits.declineMemoryMs
  }

  /** A CONTACT_REQUEST from stranger `fp`, over a session from `network` (networkKeyOf, src/io/address.ts). */
  introduce (fp: string, intro: RequestIntro, now: number, network?: string): RequestOutcome {
    if (this.isDeclined(fp, now)) return 'declined'
    this.expire(now)
    const r = this.#pending.get(fp)
    if (r !== undefined && r.requestIds.includes(intro.id)) return 'duplicate'
    const add = textBytes(intro.greeting) + textBytes(intro.name) - (r === undefined ? 0 : textBytes(r.greeting) + textBytes(r.name))
    if (!this.#affords(r === undefined ? 0 : this.bytesOf(fp), add)) { this.tally.heldDropped++; return 'full' }
    if (r === undefined) {
      if (!this.#makeRoom(network, now)) return 'full'
      this.#pending.set(fp, { ...this.#fresh(fp, intro.identity, intro.timestamp, now, network), ...details(intro), introduced: true, requestIds: [intro.id] })
      this.#setBytes(fp, add)
      return 'new'
    }
    r.requestIds = [...r.requestIds, intro.id].slice(-MAX_REQUEST_IDS)
    Object.assign(r, details(intro))
    r.introduced = true
    this.#setBytes(fp, this.bytesOf(fp) + add)
    return 'updated'
  }

  /** A message from stranger `fp` (identity proven by its session, from `network`): held with its request. */
  hold (fp: string, identity: PublicKeys, msg: HeldMessage, now: number, network?: string): RequestOutcome {
    if (this.isDeclined(fp, now)) return 'declined'
    this.expire(now)
    let r = this.#pending.get(fp)
    if (r?.held.some(h => h.id === msg.id) === true) return 'duplicate'
    const size = heldBytes(msg)
    if ((r !== undefined && r.held.length >= this.limits.maxHeld) || !this.#affords(this.bytesOf(fp), size)) {
      this.tally.heldDropped++
      return 'full'
    }
    let outcome: RequestOutcome = 'updated'
    if (r === undefined) {
      if (!this.#makeRoom(network, now)) return 'full'
      r = this.#fresh(fp, identity, msg.timestamp, now, network)
      this.#pending.set(fp, r)
      outcome = 'new'
    }
    r.held.push({ ...msg })
    this.#setBytes(fp, this.bytesOf(fp) + size)
    return outcome
  }

  /**
   * Before an envelope of `envelopeBytes` from stranger `fp` is queued or opened: true (and
   * counted) when whatever it holds cannot fit the budgets, since its text is at least
   * `envelopeBytes - ENVELOPE_MAX_OVERHEAD_BYTES`. `queued` is what envelopes already waiting to
   * be opened will hold at least (from `fp`, and from all strangers): they have their claim on the
   * budgets first, so what waits is bounded by the budgets too. Spares the queue, the decryption
   * and the copy of what would be dropped anyway; small envelopes (requests, receipts) always pass.
   */
  refuseEarly (fp: string, envelopeBytes: number, queued: { mine: number, all: number } = { mine: 0, all: 0 }): boolean {
    const least = heldLeast(envelopeBytes)
    if (least <= 0) return false
    if (this.bytesOf(fp) + queued.mine + least <= this.limits.maxHeldBytes && this.#totalBytes + queued.all + least <= this.limits.maxTotalHeldBytes) return false
    this.tally.heldDropped++
    return true
  }

  /** The user accepted: the entry leaves the book (the caller turns it into a contact). */
  accept (fp: string): PendingRequest | undefined {
    const r = this.#forget(fp)
    this.#declined.delete(fp)
    return r
  }

  /** The user declined: the entry and its messages are dropped, later envelopes ignored for a while. */
  decline (fp: string, now: number): PendingRequest | undefined {
    const r = this.#forget(fp)
    this.#declined.set(fp, now)
    return r
  }

  /** Forget an entry without remembering a decline (the user added them as a contact, or blocked them). */
  drop (fp: string): PendingRequest | undefined {
    return this.#forget(fp)
  }

  /** Whether a request of `add` more bytes fits its own budget (it has `has`) and the book's. */
  #affords (has: number, add: number): boolean {
    return has + add <= this.limits.maxHeldBytes && this.#totalBytes + add <= this.limits.maxTotalHeldBytes
  }

  /**
   * Room for one more request from `network`: refused when that network has its quota; when the
   * book is full, the oldest request of the network with the most requests is evicted (a flood
   * from one place evicts its own first, and a newcomer from elsewhere always gets in).
   */
  #makeRoom (network: string | undefined, now: number): boolean {
    const counts = this.#networkCounts()
    if ((counts.get(network ?? UNKNOWN_NETWORK) ?? 0) >= this.limits.maxPerNetwork) { this.tally.dropped++; return false }
    if (this.#pending.size < this.limits.maxPending) return true
    let busiest: string | undefined
    for (const [n, c] of counts) if (busiest === undefined || c > (counts.get(busiest) ?? 0)) busiest = n
    const victim = this.list().find(r => (r.network ?? UNKNOWN_NETWORK) === busiest)
    if (victim === undefined || victim.receivedAt > now) { this.tally.dropped++; return false }
    this.#remove(victim, 'evicted')
    return true
  }

  #networkCounts (): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.#pending.values()) {
      const n = r.network ?? UNKNOWN_NETWORK
      counts.set(n, (counts.get(n) ?? 0) + 1)
    }
    return counts
  }

  #remove (r: PendingRequest, why: RemovedRequest['why']): void {
    this.#forget(r.fingerprint)
    this.tally[why]++
    this.#removed.push({ request: r, why })
  }

  #forget (fp: string): PendingRequest | undefined {
    const r = this.#pending.get(fp)
    this.#pending.delete(fp)
    this.#setBytes(fp, 0)
    this.#bytes.delete(fp)
    return r
  }

  #setBytes (fp: string, n: number): void {
    this.#totalBytes += n - this.bytesOf(fp)
    this.#bytes.set(fp, n)
  }

  #fresh (fp: string, identity: PublicKeys, timestamp: number, now: number, network: string | undefined): PendingRequest {
    const r: PendingRequest = { fingerprint: fp, identity, introduced: false, timestamp, receivedAt: now, requestIds: [], held: [] }
    if (network !== undefined) r.network = network
    return r
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
