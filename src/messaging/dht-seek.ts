// When the connection manager asks the DHT where a wanted peer is (proto-spec/messaging.md §5.2):
// the per-fingerprint lookup schedule and the expiry of the addresses a presence record gave us.
// Pure: `now` and the random number come in; the manager turns "due" into a lookup action.
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import type { Address } from './connections.js'

/** One fingerprint's lookups: at most one in flight; backoff between them (§5.2). */
export class PeerSeek {
  inFlight = false
  #failures = 0
  #nextAt: number
  /** seq of the newest record we acted on (a lookup that finds nothing newer is no progress) */
  #seq = -1
  /** no lookup before this, however asked: the newest record came this recently (§5.2) */
  #heldUntil = -Infinity

  constructor (now: number) { this.#nextAt = now }

  get nextAt (): number { return this.#nextAt }
  get failures (): number { return this.#failures }

  due (now: number): boolean { return !this.inFlight && this.#nextAt <= now }

  /**
   * Demand came back (or a session proved the peer reachable): the next lookup may go at once,
   * unless a newer record came less than initialMs ago (a lookup now would find that record again).
   */
  renew (now: number): void {
    this.#failures = 0
    this.#nextAt = Math.min(this.#nextAt, Math.max(now, this.#heldUntil))
  }

  /** A lookup finished: `seq` of the record found, or null. True when the record is news. */
  finished (seq: number | null, now: number, policy: BackoffPolicy, random: number): boolean {
    this.inFlight = false
    if (seq !== null && seq > this.#seq) {
      this.#seq = seq
      this.#failures = 0
      // even after news, not again before initialMs: dials that fail fast must not spin lookups
      this.#nextAt = now + policy.initialMs
      this.#heldUntil = this.#nextAt
      return true
    }
    this.#nextAt = now + backoffDelay(this.#failures++, policy, random)
    return false
  }
}

const addrKey = (a: Address): string => `${a.host}|${a.port}`

/** Addresses learned from presence records, each valid until its record expires (dht.md §5). */
export class RecordAddresses {
  readonly #until = new Map<string, number>()

  get size (): number { return this.#until.size }

  set (a: Address, expiresAt: number): void { this.#until.set(addrKey(a), expiresAt) }

  has (a: Address): boolean { return this.#until.has(addrKey(a)) }

  /** Another source (mDNS, a session) vouches for `a`: it no longer expires with the record. */
  confirm (a: Address): void { this.#until.delete(addrKey(a)) }

  clear (): void { this.#until.clear() }

  /** `list` without the record addresses expired by `now` (forgotten here), or null if none expired. */
  dropExpired (list: readonly Address[], now: number): Address[] | null {
    const gone = new Set<string>()
    for (const [k, at] of this.#until) if (at <= now) { gone.add(k); this.#until.delete(k) }
    return gone.size === 0 ? null : list.filter(a => !gone.has(addrKey(a)))
  }

  /**
   * A new record's addresses replace the previous record's in `list`, in front (dialled first);
   * one another source already vouches for stays as it is and does not expire.
   */
  replace (list: readonly Address[], addresses: readonly Address[], expiresAt: number, max: number): Address[] {
    const others = list.filter(a => !this.has(a))
    this.clear()
    const known = new Set(others.map(addrKey))
    const fresh = addresses.filter(a => !known.has(addrKey(a))).slice(0, max)
    for (const a of fresh) this.set(a, expiresAt)
    return [...fresh.map(a => ({ host: a.host, port: a.port })), ...others].slice(0, max)
  }
}
