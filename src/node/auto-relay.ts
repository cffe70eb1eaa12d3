// Automatic relays (proto-spec/traversal.md §7, relay.md §7): when two users' NATs allow no direct
// path, their nodes pick a relay among public dmess nodes — the target's rendezvous nodes, then our
// bootstrap nodes — and the Noise session runs end to end through it. This is the node's part of
// it: which relay, who allocates, when to skip punching (both NATs symmetric) or race the punch
// (AUTO_RELAY_RACE_MS), the join on the other side, a stranger's first contact answered with a
// relay only (traversal.md §5.4), moving a relayed session direct when a path appears
// (relay.md §8), and releasing paths no session uses. The wire and the pure state machines are
// in src/relay/ and src/traversal/; this wires them to the node's socket and messaging.
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import { formatHostPort, peerAddressOf, sameAddress, type PeerAddress } from '../io/address.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import type { Endpoint, Session } from '../transport/index.js'
import type { RelayClient, RelayOffer, RelayPath } from '../relay/client.js'
import { RelayRefusals, orderRelays } from '../relay/select.js'
import { moveDirect } from '../relay/direct.js'
import type { TraversalService } from '../traversal/service.js'
import type { PunchEvent, PunchTarget, StrangerOffer } from '../traversal/punch.js'
import { directlyReachable, type CandidateKind, type NatKind } from '../traversal/candidates.js'

/** How long one relay gets to allocate before the next is tried (a node that does not serve stays silent). */
export const AUTO_RELAY_TIMEOUT_MS = 1_500
/** A punch with no session this long after its offer (after its first birthday probes, if we spray) races a relay (traversal.md §7.2). */
export const AUTO_RELAY_RACE_MS = 500
/** While relayed, look the peer up and punch again this often (traversal.md §7.3). */
export const AUTO_RELAY_REPUNCH_MS = 60_000
/** The first re-punch after a session went relayed: a punch that lost the race to a slow start gets another go. */
export const AUTO_RELAY_FIRST_REPUNCH_MS = 10_000
/** A path that carried no session for this long after it could forward is released (traversal.md §7.4). */
export const AUTO_RELAY_UNUSED_MS = 30_000
/** Peers whose last punch target is remembered (for the give-up fallback). */
const MAX_TARGETS = 256
/** How often paths are checked for a session. */
const SWEEP_MS = 5_000
/** Relay paths held for strangers' first contacts at once. */
const MAX_STRANGER_PATHS = 8
/** The Noise handshake through the relay. */
const DIAL_TIMEOUT_MS = 10_000

/** What the lookup for a re-punch found: a record to punch, addresses to dial, or nothing. */
export type RelookedUp = { punch: PunchTarget } | { addresses: PeerAddress[] } | null

export interface AutoRelayOptions {
  scheduler: Scheduler
  log: Logger
  endpoint: () => Endpoint
  client: () => RelayClient | null
  traversal: () => TraversalService | null
  /** our bootstrap nodes: relay candidates after the target's rendezvous */
  bootstrap: PeerAddress[]
  /** a session through a relay (or one moved direct) is up: messaging takes it like any */
  adopt: (session: Session, path: { candidate: CandidateKind | 'peer-reflexive', rttMs: number | null } | null) => void
  /** the peer's current record, for a re-punch while relayed (traversal.md §7.3) */
  lookup?: (fingerprint: string, signal: AbortSignal) => Promise<RelookedUp>
  /** is `fingerprint` a contact now? (a stranger's relay answer is dropped once it is) */
  isContact?: (fingerprint: string) => boolean
  /** also told when a punch gives up (NodeOptions.onPunchGiveUp) */
  onGiveUp?: (ev: Extract<PunchEvent, { type: 'failed' }>) => void
}

interface Held {
  fingerprint: string
  path: RelayPath
  /** we run the Noise handshake through it (we asked for the session) */
  dial: boolean
  dhPublic: Uint8Array
  stranger: boolean
  /** what we offered the peer, for an allocation of ours */
  offer?: RelayOffer
  /** when we took it, when it could first forward, and when a session last ran over it */
  heldAt?: number
  readyAt: number | null
  usedAt: number | null
}

/** The row `dmess status` shows per relay path this node uses. */
export interface RelayUseJson { peer: string, via: string, state: RelayPath['state'], role: 'dialer' | 'answerer', stranger: boolean }

export class AutoRelay implements Component {
  readonly name = 'auto-relay'
  readonly #held = new Set<Held>()
  /** peers with an allocation of ours under way for a session we want (one at a time each) */
  readonly #allocating = new Set<string>()
  /**
   * strangers with an allocation under way to answer their first contact (traversal.md §5.4):
   * apart, because such an allocation is not the pair's (§7.6) and is dropped if the stranger
   * becomes a contact before it is made
   */
  readonly #allocatingStranger = new Set<string>()
  readonly #refusals = new RelayRefusals()
  readonly #repunchAt = new Map<string, number>()
  readonly #race = new Map<string, TimerHandle>()
  /** the last record each peer was punched from: a punch that gives up falls back to a relay through it */
  readonly #targets = new Map<string, PunchTarget>()
  /** when we started reaching each peer (its first punch), for the connect time a relayed session logs */
  readonly #startedAt = new Map<string, number>()
  /** peers whose relay offer we are binding now */
  readonly #joining = new Map<string, RelayOffer>()
  /** a peer's offer that crossed ours and lost the tie-break (traversal.md §7.6): joined if ours fails */
  readonly #deferred = new Map<string, Extract<PunchEvent, { type: 'relay' }>>()
  #sweep: TimerHandle | null = null
  #stopped = false
  readonly stats = { allocated: 0, joined: 0, relayedSessions: 0, movedDirect: 0, released: 0, strangersAnswered: 0, failed: 0, tieBroken: 0 }

  constructor (private readonly o: AutoRelayOptions) {}

  /**
   * Reach `t` (its record says: punch): relay first when both NATs are symmetric, else punch and
   * race a relay after AUTO_RELAY_RACE_MS (traversal.md §7.1–§7.2).
   */
  punch (t: PunchTarget): void {
    const traversal = this.o.traversal()
    if (traversal === null || this.#stopped) return
    const now = this.o.scheduler.now()
    const since = this.#startedAt.get(t.fingerprint)
    if (since === undefined || now - since > AUTO_RELAY_UNUSED_MS) this.#startedAt.set(t.fingerprint, now)
    this.#targets.delete(t.fingerprint) // kept in insertion order: the newest last, the oldest dropped first
    this.#targets.set(t.fingerprint, t)
    if (this.#targets.size > MAX_TARGETS) this.#targets.delete(this.#targets.keys().next().value!)
    if (this.#relayed(t.fingerprint) !== null || this.#allocating.has(t.fingerprint) || this.#settingUp(t.fingerprint)) {
      traversal.punch(t) // a re-punch, or a punch while a relay is set up (ours or the peer's): no second allocation
      return
    }
    if (this.#relayFirst(t, traversal)) {
      this.o.log.debug({ peer: t.fingerprint, why: 'relay-first' }, 'relay allocation started')
      // a punch already running (the peer's offer crossed ours) gets the relay as a message of its own
      void this.#allocateFor(t, this.#candidates(t), offer => traversal.punch({ ...t, relay: offer }) || traversal.sendRelay(t, offer))
      return
    }
    traversal.punch(t)
    this.#clearRace(t.fingerprint)
    const race = (): void => {
      this.#race.delete(t.fingerprint)
      if (this.#stopped || this.#sessionWith(t.fingerprint) !== null || !traversal.puncher.active(t.fingerprint)) return
      if (this.#allocating.has(t.fingerprint) || this.#holds(t.fingerprint)) return // the give-up fallback, or the peer's offer, came first
      // a birthday spray of ours (traversal.md §6.3) starts only once the symmetric side has
      // opened its sockets and answered: it gets the head start from its first probes
      const since = traversal.puncher.sprayingSince(t.fingerprint)
      const left = since === null ? 0 : since + AUTO_RELAY_RACE_MS - this.o.scheduler.now()
      if (left > 0) {
        this.#race.set(t.fingerprint, this.o.scheduler.setTimer(left, race))
        return
      }
      this.o.log.debug({ peer: t.fingerprint, why: 'race' }, 'relay allocation started')
      void this.#allocateFor(t, this.#candidates(t), offer => traversal.sendRelay(t, offer))
    }
    this.#race.set(t.fingerprint, this.o.scheduler.setTimer(AUTO_RELAY_RACE_MS, race))
  }

  /**
   * The punch gave up (traversal.md §7.2). The race has usually offered a relay already; if not
   * (the peer answered, but no probe got through, and no relay is set up), offer one now.
   */
  gaveUp (ev: Extract<PunchEvent, { type: 'failed' }>): void {
    this.o.onGiveUp?.(ev)
    const t = this.#targets.get(ev.fingerprint)
    const traversal = this.o.traversal()
    if (ev.reason !== 'no-path' || t === undefined || traversal === null || this.#stopped) return
    if (this.#sessionWith(ev.fingerprint) !== null || this.#allocating.has(ev.fingerprint) || this.#holds(ev.fingerprint)) return
    this.o.log.debug({ peer: ev.fingerprint, why: 'gave-up' }, 'relay allocation started')
    void this.#allocateFor(t, this.#candidates(t), offer => traversal.sendRelay(t, offer))
  }

  /**
   * The peer offered a relay allocation (traversal.md §7): bind it; dial through it if we asked for
   * the session. Both sides allocated at once (traversal.md §7.6): the allocation of the side with
   * the smaller fingerprint is the pair's. If that is ours, the peer's offer is kept aside (joined
   * only if ours fails); if it is the peer's, we join it and let ours go.
   */
  joinOffered (ev: Extract<PunchEvent, { type: 'relay' }>): void {
    const client = this.o.client()
    if (client === null || this.#stopped) return
    // the same offer again (in an offer and in a relay message, or sent twice across a crossing): one join
    const same = (relay: PeerAddress, allocationId: Uint8Array): boolean => sameAddress(relay, ev.offer.relay) && Buffer.compare(allocationId, ev.offer.allocationId) === 0
    const joining = this.#joining.get(ev.fingerprint)
    if ((joining !== undefined && same(joining.relay, joining.allocationId)) ||
      [...this.#held].some(h => h.fingerprint === ev.fingerprint && !h.dial && h.path.state !== 'closed' && same(h.path.relay, h.path.allocationId))) return
    // only a fresh allocation of ours competes: one that has carried a session is from before the
    // peer lost it (the peer restarted, or its session ended), and the peer's new offer is the way
    const own = this.#ownPath(ev.fingerprint)
    if (this.#ownsPair(ev.fingerprint) && (this.#allocating.has(ev.fingerprint) || (own !== null && own.usedAt === null))) {
      this.stats.tieBroken++
      this.#deferred.set(ev.fingerprint, ev)
      // the peer offers because it may never have had ours: it dropped our offer while we were
      // not yet its contact, or answered its own crossed attempt instead of ours (traversal.md
      // §5.3). Offer ours again, as a relay message: the pair's allocation must reach it.
      const t = this.#targets.get(ev.fingerprint)
      const traversal = this.o.traversal()
      if (own?.offer !== undefined && t !== undefined && traversal !== null) traversal.sendRelay(t, own.offer)
      return
    }
    this.#deferred.delete(ev.fingerprint)
    this.#joining.set(ev.fingerprint, ev.offer)
    this.o.log.debug({ peer: ev.fingerprint, relay: formatHostPort(ev.offer.relay) }, 'relay join started')
    client.join(ev.offer).then(path => {
      this.stats.joined++
      this.o.log.debug({ peer: ev.fingerprint, relay: formatHostPort(ev.offer.relay) }, 'relay joined')
      const own = this.#ownPath(ev.fingerprint)
      // ours crossed the peer's and the peer's wins: ours goes unless a session already runs over it
      if (own !== null && this.#relayed(ev.fingerprint) !== own) { this.stats.tieBroken++; this.#release(own) }
      this.#hold({ fingerprint: ev.fingerprint, path, dial: ev.dial, dhPublic: ev.dhPublic, stranger: false, readyAt: null, usedAt: null })
    }, (err: Error) => {
      this.stats.failed++
      this.o.log.debug({ peer: ev.fingerprint, relay: formatHostPort(ev.offer.relay), err: err.message }, 'relay join failed')
    }).finally(() => { if (this.#joining.get(ev.fingerprint) === ev.offer) this.#joining.delete(ev.fingerprint) })
  }

  /**
   * `fingerprint` became a contact. If we answered it as a stranger with a relay (traversal.md
   * §5.4), the session over that relay is now a contact's relayed session and tries to go direct
   * as one does (§7.3): at once if it is up, else at the first sweep after it comes up. Without
   * this a first contact stays relayed though the new contact's record may be directly reachable.
   */
  contactAdded (fingerprint: string): void {
    for (const h of this.#held) {
      if (h.fingerprint !== fingerprint || !h.stranger || h.path.state === 'closed') continue
      h.stranger = false
      this.#repunchAt.set(fingerprint, this.o.scheduler.now())
      if (this.#relayed(fingerprint) === h) this.#repunch(h)
    }
  }

  /**
   * A session with `fingerprint` came up. One over the relay of a first contact that has since
   * become a contact (contactAdded, before the session was up) tries to go direct now.
   */
  sessionUp (fingerprint: string): void {
    const h = this.#relayed(fingerprint)
    if (h !== null && !h.dial && !h.stranger && (this.#repunchAt.get(fingerprint) ?? Infinity) <= this.o.scheduler.now()) this.#repunch(h)
  }

  /** A stranger's offer within the budget (traversal.md §5.4): allocate on a relay of ours, answer with it only. */
  answerStranger (s: StrangerOffer): void {
    const traversal = this.o.traversal()
    const strangers = [...this.#held].filter(h => h.stranger).length
    if (traversal === null || this.#stopped || strangers >= MAX_STRANGER_PATHS || this.#allocating.has(s.fingerprint) || this.#allocatingStranger.has(s.fingerprint)) return
    const own = traversal.registrar.entries(this.o.scheduler.now()).flatMap(e => { const p = peerAddressOf(e.address); return p === null ? [] : [p] })
    void this.#allocateFor({ fingerprint: s.fingerprint, dhPublic: s.dhPublic }, [...own, ...this.o.bootstrap], offer => {
      traversal.answerWithRelay(s, offer)
      this.stats.strangersAnswered++
      return true
    }, true)
  }

  /**
   * A punch found `address` for `fingerprint`. If we are relayed to it and dialled the relayed
   * session, move it direct (relay.md §8) and return true; else false (the caller dials as usual).
   */
  punched (fingerprint: string, address: PeerAddress, path: { candidate: CandidateKind | 'peer-reflexive', rttMs: number | null }): boolean {
    const h = this.#relayed(fingerprint)
    if (h === null || !h.dial) return false
    void this.#moveDirect(h, address, path)
    return true
  }

  /** `{ relay }` when the session with `fingerprint` at `address` runs through one of our relay paths. */
  relayedVia (fingerprint: string, address: PeerAddress): string | null {
    for (const h of this.#held) if (h.fingerprint === fingerprint && h.path.state !== 'closed' && sameAddress(h.path.address, address)) return formatHostPort(h.path.relay)
    return null
  }

  /** For `dmess status`: the relay paths this node uses. */
  report (): RelayUseJson[] {
    return [...this.#held].map(h => ({ peer: h.fingerprint, via: formatHostPort(h.path.relay), state: h.path.state, role: h.dial ? 'dialer' : 'answerer', stranger: h.stranger }))
  }

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#sweep !== null) this.o.scheduler.clearTimer(this.#sweep)
    this.#sweep = null
    for (const fp of [...this.#race.keys()]) this.#clearRace(fp)
    for (const h of this.#held) h.path.close()
    this.#held.clear()
  }

  // ---- inside ----

  /** Both NATs symmetric and nobody reachable: no probe can get through (traversal.md §7.1). */
  #relayFirst (t: PunchTarget, traversal: TraversalService): boolean {
    const symmetric = (k: NatKind): boolean => k === 'address-dependent'
    return symmetric(t.natKind) && !directlyReachable(t.natKind, t.candidates) &&
      symmetric(traversal.natKind()) && !directlyReachable(traversal.natKind(), traversal.candidates())
  }

  /** The target's rendezvous nodes first (public; it reaches them already), then our bootstrap nodes. */
  #candidates (t: PunchTarget): PeerAddress[] {
    return [...t.rendezvous.flatMap(r => { const p = peerAddressOf(r.address); return p === null ? [] : [p] }), ...this.o.bootstrap]
  }

  /**
   * Allocate on the first relay that accepts within AUTO_RELAY_TIMEOUT_MS, hand the offer to
   * `send` (false: it could not be sent, release), then hold the path: we dial through it once
   * the peer binds (unless `stranger`: the stranger dials).
   */
  async #allocateFor (t: { fingerprint: string, dhPublic: Uint8Array }, relays: PeerAddress[], send: (offer: RelayOffer) => boolean, stranger = false): Promise<void> {
    const client = this.o.client()
    if (client === null) return
    const allocating = stranger ? this.#allocatingStranger : this.#allocating
    allocating.add(t.fingerprint)
    try {
      for (const c of orderRelays(relays.map(address => ({ address })), this.#refusals, this.o.scheduler.now())) {
        if (this.#stopped) return
        const ctl = new AbortController()
        const timer = this.o.scheduler.setTimer(AUTO_RELAY_TIMEOUT_MS, () => { ctl.abort() })
        try {
          const { path, offer } = await client.allocate(c.address, ctl.signal)
          this.stats.allocated++
          this.o.log.debug({ peer: t.fingerprint, relay: formatHostPort(c.address) }, 'relay allocated')
          // the stranger became a contact meanwhile: the contact's own way in (a dial, a punch, the
          // relays of §7.1–§7.6) takes over; a stranger's relay answer now would only add a
          // second, relayed session beside it
          if (stranger && this.o.isContact?.(t.fingerprint) === true) {
            path.release()
            return
          }
          // the peer's relay offer crossed ours and we joined it: one relay is enough (§7.6: the
          // smaller fingerprint's; a peer's offer that loses is deferred, never joined, above)
          if (!stranger && (this.#joining.has(t.fingerprint) || [...this.#held].some(h => h.fingerprint === t.fingerprint && !h.dial && h.path.state !== 'closed'))) {
            this.stats.tieBroken++
            path.release()
            return
          }
          if (!send(offer)) { path.release(); return }
          this.#hold({ fingerprint: t.fingerprint, path, dial: !stranger, dhPublic: t.dhPublic, stranger, offer, readyAt: null, usedAt: null })
          return
        } catch (err) {
          this.#refusals.note(c.address, this.o.scheduler.now())
          this.o.log.debug({ peer: t.fingerprint, relay: formatHostPort(c.address), err: (err as Error).message }, 'relay did not allocate')
        } finally {
          this.o.scheduler.clearTimer(timer)
        }
      }
      this.stats.failed++
    } finally {
      allocating.delete(t.fingerprint)
      if (!this.#holds(t.fingerprint)) this.#joinDeferred(t.fingerprint) // ours failed: the peer's, kept aside, is the pair's now
    }
  }

  /** We have the smaller fingerprint: our allocation is the pair's when both allocate at once (traversal.md §7.6). */
  #ownsPair (fingerprint: string): boolean {
    try {
      return this.o.endpoint().fingerprint < fingerprint
    } catch {
      return false
    }
  }

  /** Our own allocation for `fingerprint` (we dial through it), if held. */
  #ownPath (fingerprint: string): Held | null {
    for (const h of this.#held) if (h.fingerprint === fingerprint && h.dial && !h.stranger && h.path.state !== 'closed') return h
    return null
  }

  /** Join the peer's offer kept aside by the tie-break, if there is one (ours did not come to forward). */
  #joinDeferred (fingerprint: string): void {
    const ev = this.#deferred.get(fingerprint)
    if (ev === undefined || this.#stopped) return
    this.#deferred.delete(fingerprint)
    if (this.#sessionWith(fingerprint) === null) this.joinOffered(ev)
  }

  /** Keep `h`; once the relay forwards, the dialling side runs Noise IK to its relay port. */
  #hold (h: Held): void {
    if (this.#stopped) { h.path.release(); return }
    h.heldAt = this.o.scheduler.now()
    this.#held.add(h)
    h.path.once('closed', () => { this.#held.delete(h) })
    this.#armSweep()
    h.path.ready().then(() => {
      h.readyAt = this.o.scheduler.now()
      this.o.log.debug({ peer: h.fingerprint, relay: formatHostPort(h.path.relay), dial: h.dial }, 'relay forwarding')
      if (h.dial) void this.#dial(h)
    }, () => { if (h.dial) this.#joinDeferred(h.fingerprint) }) // ours closed before the peer bound
  }

  async #dial (h: Held): Promise<void> {
    // a direct session came up while the path was set up (the peer dialled our record, or a
    // stranger's relay answer crossed our own direct dial): a handshake through the relay now
    // would replace it with a slower one (session.md §3.1, newest wins)
    if (this.#directSession(h.fingerprint) !== null) {
      this.o.log.debug({ peer: h.fingerprint, relay: formatHostPort(h.path.relay) }, 'relay not dialled: a direct session is up')
      this.#release(h)
      return
    }
    let session: Session
    this.o.log.debug({ peer: h.fingerprint, relay: formatHostPort(h.path.relay) }, 'dial through the relay started')
    try {
      session = await this.o.endpoint().connect(h.path.address, { expectFingerprint: h.fingerprint, remoteStatic: h.dhPublic, timeoutMs: DIAL_TIMEOUT_MS })
    } catch (err) {
      this.stats.failed++
      this.o.log.debug({ peer: h.fingerprint, err: (err as Error).message }, 'handshake through the relay failed')
      this.#release(h)
      this.#joinDeferred(h.fingerprint)
      return
    }
    this.#deferred.delete(h.fingerprint)
    if (!sameAddress(session.remoteAddress, h.path.address)) {
      this.#release(h) // a direct session won the race: the relay is not needed
      return
    }
    this.stats.relayedSessions++
    h.usedAt = this.o.scheduler.now()
    // the punch runs on (traversal.md §7.2): a path it finds moves the session direct; a first re-punch comes soon
    this.#repunchAt.set(h.fingerprint, this.o.scheduler.now() + AUTO_RELAY_FIRST_REPUNCH_MS)
    const started = this.#startedAt.get(h.fingerprint)
    this.#startedAt.delete(h.fingerprint)
    const connectMs = started === undefined ? null : this.o.scheduler.now() - started
    this.o.log.info({ peer: h.fingerprint, relay: formatHostPort(h.path.relay), connectMs }, 'session through a relay')
    this.o.adopt(session, null)
  }

  async #moveDirect (h: Held, address: PeerAddress, path: { candidate: CandidateKind | 'peer-reflexive', rttMs: number | null } | null): Promise<boolean> {
    const session = await moveDirect(this.o.endpoint(), h.path, address, h.fingerprint, { remoteStatic: h.dhPublic, timeoutMs: DIAL_TIMEOUT_MS })
    if (session === null) return false // the relayed session carries on
    // the peer kept the relayed session (peer-policy.ts): the direct one was dropped, this is the old one
    if (sameAddress(session.remoteAddress, h.path.address)) return false
    this.stats.movedDirect++
    this.#held.delete(h)
    this.o.log.info({ peer: h.fingerprint, to: formatHostPort(address) }, 'relayed session moved direct')
    this.o.adopt(session, path)
    return true
  }

  /** Our relayed path to `fingerprint` that carries its session now, if any. */
  #relayed (fingerprint: string): Held | null {
    const s = this.#sessionWith(fingerprint)
    if (s === null) return null
    for (const h of this.#held) if (h.fingerprint === fingerprint && h.path.state !== 'closed' && sameAddress(h.path.address, s.remoteAddress)) return h
    return null
  }

  /** The session with `fingerprint` if it runs over none of our relay paths. */
  #directSession (fingerprint: string): Session | null {
    const s = this.#sessionWith(fingerprint)
    return s !== null && this.#relayed(fingerprint) === null ? s : null
  }

  /** A relay path to `fingerprint` is being set up (no session has run over it yet): ours or the peer's (traversal.md §7.6). */
  #settingUp (fingerprint: string): boolean {
    for (const h of this.#held) if (h.fingerprint === fingerprint && h.path.state !== 'closed' && h.usedAt === null) return true
    return false
  }

  /** A relay path to `fingerprint` is held (set up, or waiting for the peer). */
  #holds (fingerprint: string): boolean {
    for (const h of this.#held) if (h.fingerprint === fingerprint && h.path.state !== 'closed') return true
    return false
  }

  #sessionWith (fingerprint: string): Session | null {
    try {
      return this.o.endpoint().sessions().find(s => s.remoteFingerprint === fingerprint) ?? null
    } catch {
      return null // the endpoint is gone (stopping)
    }
  }

  #release (h: Held): void {
    if (!this.#held.delete(h)) return
    this.stats.released++
    h.path.release()
  }

  #clearRace (fp: string): void {
    const r = this.#race.get(fp)
    if (r !== undefined) this.o.scheduler.clearTimer(r)
    this.#race.delete(fp)
  }

  #armSweep (): void {
    if (this.#sweep !== null || this.#stopped) return
    this.#sweep = this.o.scheduler.setTimer(SWEEP_MS, () => {
      this.#sweep = null
      this.#sweepNow()
      if (this.#held.size > 0) this.#armSweep()
    })
  }

  /** Release paths no session uses (traversal.md §7.4); re-punch relayed peers now and then (§7.3). */
  #sweepNow (): void {
    const now = this.o.scheduler.now()
    for (const h of [...this.#held]) {
      const s = this.#sessionWith(h.fingerprint)
      if (s !== null && sameAddress(s.remoteAddress, h.path.address)) {
        h.usedAt = now
        // the dialling side re-punches; so does the side that answered a stranger who is now a contact (contactAdded)
        if ((h.dial || !h.stranger) && now >= (this.#repunchAt.get(h.fingerprint) ?? Infinity)) this.#repunch(h)
        continue
      }
      // never used, or used no more: its peer never bound, never dialled, or the session ended
      const since = h.usedAt ?? h.readyAt ?? h.heldAt ?? now
      if (now - since >= AUTO_RELAY_UNUSED_MS) this.#release(h)
    }
  }

  /** Look the peer up again: a record that punches is punched (a path moves us direct), one that is reachable is dialled. */
  #repunch (h: Held): void {
    this.#repunchAt.set(h.fingerprint, this.o.scheduler.now() + AUTO_RELAY_REPUNCH_MS)
    const lookup = this.o.lookup
    if (lookup === undefined) return
    const ctl = new AbortController()
    lookup(h.fingerprint, ctl.signal).then(found => {
      if (found === null || this.#stopped || this.#relayed(h.fingerprint) !== h) return
      if ('punch' in found) this.o.traversal()?.punch(found.punch)
      else void this.#moveDirectToAny(h, found.addresses)
    }, () => {})
  }

  /** A record that became directly reachable: its addresses in turn (the caller's order) until one takes the session. */
  async #moveDirectToAny (h: Held, addresses: PeerAddress[]): Promise<void> {
    for (const a of addresses) {
      if (this.#stopped || this.#relayed(h.fingerprint) !== h) return
      if (await this.#moveDirect(h, a, null)) return
    }
  }
}
