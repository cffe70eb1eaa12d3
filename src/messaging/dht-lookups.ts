// Carries out the connection manager's DHT lookups (proto-spec/messaging.md §5.2): at most one per
// fingerprint, each under its own AbortController — aborted when the manager cancels it, when it
// runs past its time limit, and at stop. The lookup function is injected (the daemon passes its
// DhtComponent's lookup, which opens the record with the fingerprint and checks that the identity
// inside hashes to it and certified the record, dht.md §5.3). Before anything is dialled, the
// record's addresses pass the reader's scope check (dht.md §5.3: no loopback, link-local,
// unspecified or multicast address; a private one only on a network this node is on).
import { errors } from '../errors.js'
import { addressOf } from '../io/address.js'
import { realScheduler, type Scheduler } from '../io/scheduler.js'
import type { OpenedPresence } from '../dht/presence-seal.js'
import { dialable, PUBLIC_ONLY, type DialScope } from '../dht/address-scope.js'
import type { Address, FoundPresence, PunchInfo } from './connections.js'
import { directlyReachable, type Candidate } from '../traversal/candidates.js'
import { DHT_LOOKUP_TIMEOUT_MS } from './constants.js'

/** A presence the DHT gave, with the scope of the node that looked (default: public addresses only). */
export type LookedUpPresence = OpenedPresence & { scope?: DialScope }

export type LookupPresence = (fingerprint: string, signal: AbortSignal) => Promise<LookedUpPresence | null>

export interface PresenceLookupsOptions {
  lookup: LookupPresence
  /** a lookup ended (found, not found, failed or timed out); never called for a cancelled one */
  done: (fingerprint: string, found: FoundPresence | null) => void
  /** which record addresses this node can dial (a udp4 socket: IPv4 only) */
  usable?: (a: Address) => boolean
  /** a lookup that threw (logged by the caller; it counts as not found) */
  failed?: (fingerprint: string, err: unknown) => void
  timeoutMs?: number
  /** the time limit's timer (default: real time) */
  scheduler?: Scheduler
}

/** Orders records across periods: a new period's record is news though its seq starts again (dht.md §5.4). */
export function presenceVersion (period: number, seq: number): number {
  return period * 2 ** 32 + seq
}

/**
 * The part of an opened record the connection manager uses, or null if nothing in it is usable:
 * only addresses the scope allows (dht.md §5.3) and this socket can reach (`usable`).
 */
export function foundPresence (fingerprint: string, rec: LookedUpPresence | null, usable: (a: Address) => boolean): FoundPresence | null {
  // findPresence already checks this; a lookup function from elsewhere might not
  if (rec === null || rec.fingerprint !== fingerprint) return null
  const scope = rec.scope ?? PUBLIC_ONLY
  const kept = rec.addresses.filter(a => dialable(a.host, scope) && usable(a))
  const base = { expiresAt: rec.expiresAt, seq: presenceVersion(rec.period, rec.seq), dhPublic: rec.publicIdentity.dhPublic }
  const punch = punchInfo(rec, kept)
  const addresses = kept.map(a => ({ host: a.host, port: a.port }))
  // behind a NAT known to filter, with rendezvous to go through: reached by a punch, not a dial
  // (proto-spec/traversal.md §5). A NAT of unknown kind may well let a dial in (a full cone, or a
  // mapping the router made): both, and the first session wins (§5.1).
  if (punch !== null) return { ...base, addresses: punch.natKind === 'unknown' ? lanLast(kept) : [], punch }
  if (addresses.length === 0) return null
  return { ...base, addresses }
}

/**
 * The addresses to dial beside a punch, LAN ones last: the punch's probes try a LAN path within
 * milliseconds (traversal.md §6.1), and a LAN address seen from another house (two homes on the
 * same 192.168.1.0/24) would hold the one dial for its whole time limit.
 */
function lanLast (kept: LookedUpPresence['addresses']): Address[] {
  return [...kept.filter(a => a.kind !== 'lan'), ...kept.filter(a => a.kind === 'lan')].map(a => ({ host: a.host, port: a.port }))
}

/** The record's traversal fields (dht.md §5.2), when its owner can only be reached by punching. */
function punchInfo (rec: LookedUpPresence, kept: LookedUpPresence['addresses']): PunchInfo | null {
  const natKind = rec.natKind ?? 'unknown'
  const rendezvous = (rec.rendezvous ?? []).flatMap(r => {
    const address = addressOf(r.host, r.port)
    return address === null ? [] : [{ address, tag: r.tag }]
  })
  const candidates: Candidate[] = kept.flatMap(a => a.kind === 'relay' ? [] : [{ kind: a.kind, host: a.host, port: a.port }])
  if (rendezvous.length === 0 || directlyReachable(natKind, candidates)) return null
  return { rendezvous, candidates, natKind }
}

export class PresenceLookups {
  readonly #running = new Map<string, AbortController>()
  #stopped = false
  started = 0
  found = 0

  constructor (private readonly o: PresenceLookupsOptions) {}

  get inFlight (): number { return this.#running.size }

  has (fingerprint: string): boolean { return this.#running.has(fingerprint) }

  start (fingerprint: string): void {
    if (this.#stopped || this.#running.has(fingerprint)) return
    const ctl = new AbortController()
    this.#running.set(fingerprint, ctl)
    this.started++
    const scheduler = this.o.scheduler ?? realScheduler
    const timer = scheduler.setTimer(this.o.timeoutMs ?? DHT_LOOKUP_TIMEOUT_MS, () => { ctl.abort(errors.ABORTED('dht lookup: time limit')) })
    const usable = this.o.usable ?? (() => true)
    // the lookup runs on the DHT's own timers and sockets: nothing here waits on it
    this.o.lookup(fingerprint, ctl.signal).then(rec => foundPresence(fingerprint, rec, usable), (err: unknown) => {
      if (!ctl.signal.aborted) this.o.failed?.(fingerprint, err)
      return null
    }).then(found => {
      scheduler.clearTimer(timer)
      if (this.#running.get(fingerprint) !== ctl) return // cancelled (or stopped) meanwhile
      this.#running.delete(fingerprint)
      if (found !== null) this.found++
      this.o.done(fingerprint, found)
    }, () => {})
  }

  /** The manager no longer wants it: abort, and report nothing. */
  cancel (fingerprint: string): void {
    const ctl = this.#running.get(fingerprint)
    if (ctl === undefined) return
    this.#running.delete(fingerprint)
    ctl.abort(errors.ABORTED('dht lookup: no longer wanted'))
  }

  stop (): void {
    this.#stopped = true
    for (const fp of [...this.#running.keys()]) this.cancel(fp)
  }
}
