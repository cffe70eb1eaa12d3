// Admission of inbound frames before any work is spent on them (proto-spec/messaging.md §6.1):
// a blocked fingerprint is known by the session's proven fingerprint and metered like a stranger
// (its envelopes are opened only to be acknowledged and dropped: messaging.md §6.1), then each
// other peer spends a token from its bucket — generous for contacts, a trickle for strangers. Pure: the caller passes `now` and whether the peer is a contact.
import { KeyedRateLimiter, type BucketOptions } from '../transport/rate-limit.js'
import {
  CONTACT_BURST, CONTACT_RATE_PER_S, MAX_RATE_LIMITED_PEERS, STRANGER_BURST, STRANGER_RATE_PER_S
} from './constants.js'

export type Admission = 'ok' | 'blocked' | 'rate-limited'

export interface InboundGateOptions {
  contact?: BucketOptions
  stranger?: BucketOptions
  maxPeers?: number
}

export interface PeerCounts { admitted: number, blocked: number, rateLimited: number }

/** Peers whose counts are kept one by one; beyond it only the totals grow. */
const MAX_COUNTED_PEERS = 1024

export class InboundGate {
  readonly #blocked = new Set<string>()
  readonly #contacts: KeyedRateLimiter
  readonly #strangers: KeyedRateLimiter
  readonly totals: PeerCounts = { admitted: 0, blocked: 0, rateLimited: 0 }
  readonly #perPeer = new Map<string, PeerCounts>()
  /** strangers whose request cannot hold more, until when their sessions are refused (messaging.md §6.1) */
  readonly #coolingOff = new Map<string, number>()
  readonly #maxCooling: number

  constructor (opts: InboundGateOptions = {}) {
    const maxKeys = opts.maxPeers ?? MAX_RATE_LIMITED_PEERS
    this.#maxCooling = maxKeys
    this.#contacts = new KeyedRateLimiter({ ...(opts.contact ?? { ratePerS: CONTACT_RATE_PER_S, burst: CONTACT_BURST }), maxKeys })
    this.#strangers = new KeyedRateLimiter({ ...(opts.stranger ?? { ratePerS: STRANGER_RATE_PER_S, burst: STRANGER_BURST }), maxKeys })
  }

  setBlocked (fingerprints: Iterable<string>): void {
    this.#blocked.clear()
    for (const fp of fingerprints) this.#blocked.add(fp)
  }

  block (fp: string): void { this.#blocked.add(fp) }
  unblock (fp: string): void { this.#blocked.delete(fp) }
  isBlocked (fp: string): boolean { return this.#blocked.has(fp) }

  /**
   * Stranger `fp` sent more than its request can hold: its link is closed by the caller, and its
   * frames and sessions are refused until `until`, so it cannot keep the node receiving bytes it
   * will drop. The oldest entry goes when the map is full.
   */
  coolOff (fp: string, until: number): void {
    this.#coolingOff.delete(fp)
    if (this.#coolingOff.size >= this.#maxCooling) {
      const oldest = this.#coolingOff.keys().next().value
      if (oldest !== undefined) this.#coolingOff.delete(oldest)
    }
    this.#coolingOff.set(fp, until)
  }

  isCoolingOff (fp: string, now: number): boolean {
    const until = this.#coolingOff.get(fp)
    if (until === undefined) return false
    if (now < until) return true
    this.#coolingOff.delete(fp)
    return false
  }

  /** Whether one frame from `fp` may be processed at `now`. */
  admit (fp: string, isContact: boolean, now: number): Admission {
    let verdict: Admission = 'ok'
    // a blocked peer's envelopes are opened only to acknowledge them (messaging.md §6.1): at a stranger's rate
    if (this.#blocked.has(fp)) verdict = this.#strangers.take(fp, now) ? 'blocked' : 'rate-limited'
    else if (!isContact && this.isCoolingOff(fp, now)) verdict = 'rate-limited'
    else if (!(isContact ? this.#contacts : this.#strangers).take(fp, now)) verdict = 'rate-limited'
    this.#count(fp, verdict)
    return verdict
  }

  counts (fp: string): PeerCounts {
    return { ...(this.#perPeer.get(fp) ?? { admitted: 0, blocked: 0, rateLimited: 0 }) }
  }

  /** Forget full buckets (call now and then). */
  prune (now: number): void {
    this.#contacts.prune(now)
    this.#strangers.prune(now)
    for (const [fp, until] of this.#coolingOff) if (now >= until) this.#coolingOff.delete(fp)
  }

  #count (fp: string, verdict: Admission): void {
    const key = verdict === 'ok' ? 'admitted' : verdict === 'blocked' ? 'blocked' : 'rateLimited'
    this.totals[key]++
    let c = this.#perPeer.get(fp)
    if (c === undefined && this.#perPeer.size < MAX_COUNTED_PEERS) {
      c = { admitted: 0, blocked: 0, rateLimited: 0 }
      this.#perPeer.set(fp, c)
    }
    if (c !== undefined) c[key]++
  }
}
