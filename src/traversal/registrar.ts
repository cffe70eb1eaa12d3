// The client side of rendezvous (proto-spec/traversal.md §3.1): a node that others cannot reach
// directly registers with up to three reachable dmess nodes under a random tag, and re-registers
// every KEEPALIVE_MS — which is also what keeps its NAT's mapping toward them alive (RFC 4787 §4.3:
// Linux conntrack forgets an idle UDP mapping after 30 s). The tag changes every period (new
// tag, same servers), so a rendezvous cannot link one period's registrations to the next, and it
// is never the fingerprint: a rendezvous does not learn whom it serves. REGISTERED answers say
// where each server saw us: reflexive addresses, and from two servers the NAT's mapping
// behaviour (RFC 5780 §4.3's test, from answers we get anyway). Pure: `now` in, datagrams out.
import { hostOf } from '../io/address.js'
import { encodeTraversal, RegisterStatus, type TraversalMessage } from './messages.js'
import { TraversalType, TAG_BYTES, KEEPALIVE_MS } from './constants.js'
import type { NatKind } from './candidates.js'
import type { Outgoing } from './rendezvous.js'

export const MAX_RENDEZVOUS = 3
/** An unanswered REGISTER is sent again after this; a server that missed this many in a row is replaced. */
const RETRY_MS = 2000
const MAX_MISSES = 3
/**
 * A server that stopped answering (or refused) is passed over this long, then may be tried again:
 * a bootstrap node that was not up yet, or a lost burst, must not cost a node its only rendezvous.
 */
const DROPPED_FOR_MS = 30_000
/** A tag is used this long (as long as a presence record period, dht.md §5.1). */
export const TAG_PERIOD_MS = 24 * 60 * 60_000

interface Server {
  address: string
  txid: number
  nextAt: number
  /** unanswered REGISTERs in a row */
  misses: number
  /** registered until then (the server's lifetime), 0: not registered */
  until: number
  observed: string | null
}

export interface RegistrarOptions {
  random: (n: number) => Uint8Array
  /** our bound address ("ip:port"): seen unchanged means no NAT */
  bound: () => string
  /** also ours: an interface address with our port, when bound to the wildcard ("ip:port") */
  own?: (address: string) => boolean
}

export class Registrar {
  readonly #servers = new Map<string, Server>()
  /** servers passed over, until when (ms) */
  readonly #dropped = new Map<string, number>()
  #tag: Uint8Array
  #tagSince = -1
  /** bumped whenever what the record should say changes (the registered set, the tag, an observed address) */
  version = 0

  constructor (private readonly o: RegistrarOptions) {
    this.#tag = o.random(TAG_BYTES)
  }

  /** Offer servers (best first); up to MAX_RENDEZVOUS are used, those failing are replaced. */
  consider (addresses: readonly string[], now: number): void {
    for (const a of addresses) {
      if (this.#servers.size >= MAX_RENDEZVOUS) return
      if (this.#servers.has(a) || (this.#dropped.get(a) ?? -Infinity) > now || a === this.o.bound()) continue
      this.#dropped.delete(a)
      this.#servers.set(a, { address: a, txid: 0, nextAt: now, misses: 0, until: 0, observed: null })
    }
  }

  /** Stop registering (we are directly reachable, or stopping). */
  clear (): void {
    if (this.#servers.size > 0) this.version++
    this.#servers.clear()
  }

  get serverCount (): number { return this.#servers.size }

  /** Every server we register with has answered at least once (natKind() has heard them all). */
  get allAnswered (): boolean {
    for (const s of this.#servers.values()) if (s.observed === null) return false
    return this.#servers.size > 0
  }

  /** The rendezvous entries a record lists: servers that confirmed our registration. */
  entries (now: number): Array<{ address: string, tag: Uint8Array }> {
    return [...this.#servers.values()].filter(s => s.until > now).map(s => ({ address: s.address, tag: this.#tag.slice() }))
  }

  /** Where the servers saw us (distinct). */
  reflexive (): string[] {
    return [...new Set([...this.#servers.values()].flatMap(s => s.observed === null ? [] : [s.observed]))]
  }

  /**
   * RFC 4787 §4.1 from what the servers saw: our own address, from all → no NAT ('open'); the same
   * address from two servers at different IPs → endpoint-independent mapping; different ones →
   * address(-and-port)-dependent; fewer than two answers → unknown.
   */
  natKind (): NatKind {
    const seen = [...this.#servers.values()].filter(s => s.observed !== null)
    const own = (a: string | null): boolean => a !== null && (a === this.o.bound() || (this.o.own?.(a) ?? false))
    if (seen.length > 0 && seen.every(s => own(s.observed))) return 'open'
    // a server on our own network sees our interface address: it says nothing about the NAT
    const byIp = new Map<string, string>()
    for (const s of seen) if (!own(s.observed)) byIp.set(hostOf(s.address), s.observed!)
    if (byIp.size < 2) return 'unknown'
    return new Set(byIp.values()).size === 1 ? 'endpoint-independent' : 'address-dependent'
  }

  /** REGISTERs due at `now`; servers that stopped answering are replaced at the next consider(). */
  tick (now: number): Outgoing[] {
    this.#rotate(now)
    const out: Outgoing[] = []
    for (const s of this.#servers.values()) {
      if (now < s.nextAt) continue
      if (s.txid !== 0 && ++s.misses >= MAX_MISSES) {
        this.#servers.delete(s.address)
        this.#dropped.set(s.address, now + DROPPED_FOR_MS)
        this.version++
        continue
      }
      s.txid = (readU32(this.o.random(4)) || 1)
      s.nextAt = now + RETRY_MS
      out.push({ to: s.address, bytes: encodeTraversal({ type: TraversalType.REGISTER, txid: s.txid, tag: this.#tag }) })
    }
    if (this.#dropped.size > 64) for (const [a, until] of this.#dropped) if (until <= now) this.#dropped.delete(a)
    return out
  }

  get nextDeadline (): number {
    let at = Infinity
    for (const s of this.#servers.values()) at = Math.min(at, s.nextAt)
    return at
  }

  receive (m: TraversalMessage, from: string, now: number): void {
    if (m.type !== TraversalType.REGISTERED) return
    const s = this.#servers.get(from)
    if (s === undefined || s.txid === 0 || m.txid !== s.txid) return // not an answer to our last REGISTER
    s.txid = 0
    s.misses = 0
    if (m.status !== RegisterStatus.OK) {
      this.#servers.delete(from)
      this.#dropped.set(from, now + DROPPED_FOR_MS)
      this.version++
      return
    }
    const wasRegistered = s.until > now
    s.until = now + m.lifetimeS * 1000
    s.nextAt = now + KEEPALIVE_MS
    if (!wasRegistered || m.observed !== s.observed) this.version++
    s.observed = m.observed // canonical: the codec formats it
  }

  /** A new tag each period: re-register everywhere under it (traversal.md §3.1). */
  #rotate (now: number): void {
    if (this.#tagSince < 0) this.#tagSince = now
    if (now - this.#tagSince < TAG_PERIOD_MS) return
    this.#tagSince = now
    this.#tag = this.o.random(TAG_BYTES)
    for (const s of this.#servers.values()) { s.nextAt = now; s.until = 0; s.txid = 0 }
    this.version++
  }
}

function readU32 (b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
}
