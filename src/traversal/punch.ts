// Hole punching between two contacts (proto-spec/traversal.md §5–§6), as a pure state machine:
// messages and `now` in, datagrams and events out. The side that wants to connect ("offerer",
// A) seals an offer — its candidates, NAT kind and a fresh punch id — to the other's identity key
// and sends it to one of the rendezvous nodes its presence record lists; the other ("answerer",
// B) opens it, drops it unless it comes from a contact, answers the same way with its own
// candidates, and both send paced PROBEs to each other's candidates, LAN first (RFC 8445 §6.1.2:
// ordered checks, §14: paced). A PROBE or PROBE_ACK heard from an address is a path: the
// offerer reports it (event 'path'), and the caller runs the Noise IK handshake there. An attempt
// with no path after PUNCH_TIMEOUT_MS reports 'failed' (the caller's relay hook takes over).
// When one NAT is symmetric and the other a cone, birthday punching (traversal.md §6.3,
// birthday.ts) runs beside the candidate probes: the symmetric side asks its caller for side
// sockets (`sockets` commands) and sends one PROBE from each; the cone side sprays paced PROBEs
// at random ports of the symmetric side's IP. A probe heard on a side socket makes that socket
// the winner, which the caller hands to the Endpoint to carry the session.
// A relay offer (relay.md §2) may ride in an offer, an answer or a message of its own (role
// 'relay', traversal.md §7.2): it is reported as event 'relay' for the caller to join. A
// stranger's offer is admitted under a budget and reported as 'stranger', never probed: the caller
// answers it with a relay offer only (answerWithRelay, traversal.md §5.4). The shapes are in
// punch-types.ts, the birthday part in punch-birthday.ts.
import type { RelayOffer } from '../relay/client.js'
import { KeyedRateLimiter, TokenBucket } from '../transport/rate-limit.js'
import { constantTimeEqual } from '../crypto/primitives.js'
import { addressOf } from '../io/address.js'
import { encodeTraversal, type TraversalMessage } from './messages.js'
import { openPunch, sealPunch, type OpenedPunch } from './punch-seal.js'
import { orderCandidates, type Candidate, type NatKind } from './candidates.js'
import {
  TraversalType, PUNCH_ID_BYTES, PUNCH_MAX_SKEW_MS, PROBE_PACE_MS, PROBE_ROUNDS, PUNCH_TIMEOUT_MS,
  STRANGER_PUNCH_RATE_PER_S, STRANGER_PUNCH_BURST, STRANGER_PUNCH_PER_PEER_MS
} from './constants.js'
import type { Outgoing } from './rendezvous.js'
import { hardTarget } from './birthday.js'
import { BirthdayPart } from './punch-birthday.js'
import type { Attempt, PunchEvent, PunchOutgoing, PunchStats, PunchTarget, PuncherOptions, SlotRef, SocketCommand, StrangerOffer } from './punch-types.js'

export type { SlotRef, PunchOutgoing, SocketCommand, PunchTarget, StrangerOffer, PunchEvent, PuncherOptions, PunchStats } from './punch-types.js'

/** Ask the next rendezvous if the current one has not answered by then. */
const RENDEZVOUS_RETRY_MS = 1000
const MAX_ATTEMPTS = 32
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const candidateAddress = (c: Candidate): string | null => addressOf(c.host, c.port)

export class Puncher {
  readonly #attempts = new Map<string, Attempt>()
  /** punch ids opened lately (traversal.md §5: no replay within 2 minutes), each until a time on the `now` clock */
  readonly #seen = new Map<string, number>()
  readonly events: PunchEvent[] = []
  /** side-socket work for the caller, in order */
  readonly sockets: SocketCommand[] = []
  readonly stats: PunchStats = {
    offers: 0, answersReceived: 0, forwardsOpened: 0, notContact: 0, replays: 0, undecryptable: 0, probesSent: 0, paths: 0, failed: 0,
    strangers: 0, strangersCapped: 0, birthdaySockets: 0, birthdayProbes: 0, birthdayPaths: 0, birthdayAttempts: 0, crossed: 0
  }
  #strangerBudget: TokenBucket | null = null
  readonly #strangerPeers = new KeyedRateLimiter({ ratePerS: 1000 / STRANGER_PUNCH_PER_PEER_MS, burst: 1, maxKeys: 1024 })

  readonly #bday: BirthdayPart

  constructor (private readonly o: PuncherOptions) {
    this.#bday = new BirthdayPart({ random: o.random, natKind: o.natKind, attempts: () => this.#attempts.values(), stats: this.stats, sockets: this.sockets })
  }

  /** How many punch ids the replay list holds (each leaves it 2 × PUNCH_MAX_SKEW_MS after it was opened). */
  get remembered (): number {
    return this.#seen.size
  }

  /** Is a punch toward `fingerprint` running? */
  active (fingerprint: string): boolean {
    for (const a of this.#attempts.values()) if (a.fingerprint === fingerprint && !a.done) return true
    return false
  }

  /**
   * When the birthday spray of our running attempt toward `fingerprint` began (on the `now`
   * clock), if we are its cone side and it is still spraying; else null.
   */
  sprayingSince (fingerprint: string): number | null {
    for (const a of this.#attempts.values()) {
      const spray = a.bday?.spray
      if (a.fingerprint === fingerprint && !a.done && spray != null && spray.active) return spray.startedAt
    }
    return null
  }

  /** Start punching toward `t` (an offer through its first rendezvous; probes to its record's candidates at once). */
  start (t: PunchTarget, now: number): Outgoing[] {
    if (this.active(t.fingerprint) || t.rendezvous.length === 0) return []
    this.#evictIfFull()
    const a = this.#attempt('offer', t.fingerprint, this.o.random(PUNCH_ID_BYTES), t.candidates, t.natKind, now)
    a.rendezvous = t.rendezvous
    a.dhPublic = t.dhPublic
    if (t.relay !== undefined) a.relay = t.relay
    this.stats.offers++
    // the symmetric side sends its offer only once its side sockets have opened their mappings
    if (this.#bday.startHard(a, t.natKind)) {
      a.nextAskAt = Infinity
      return []
    }
    // the first round of probes with the offer, not on the next timer: they open our NAT toward
    // the peer's candidates before its answer and its probes can come back (traversal.md §5.3)
    return [...this.#ask(a, now), ...this.#probe(a, now)]
  }

  /**
   * Offer a relay allocation to `t` (traversal.md §7.2: the race, or relay-first while a punch
   * runs): one role-3 message through the rendezvous that answered our offer, else `t`'s first.
   * It carries the running punch's id (ours, or the one we are answering), else a fresh one.
   */
  sendRelay (t: Pick<PunchTarget, 'fingerprint' | 'dhPublic' | 'rendezvous'>, offer: RelayOffer): Outgoing[] {
    const a = [...this.#attempts.values()].find(x => x.fingerprint === t.fingerprint && !x.done)
    const asked = a?.role === 'offer' ? a.rendezvous[Math.min(Math.max(a.asked, 0), a.rendezvous.length - 1)] : undefined
    const r = asked ?? t.rendezvous[0]
    if (r === undefined) return []
    if (a !== undefined) a.relay = offer
    const payload = { role: 'relay' as const, punchId: a?.punchId ?? this.o.random(PUNCH_ID_BYTES), sentAt: this.o.wallNow(), natKind: this.o.natKind(), candidates: [], relay: offer }
    const sealed = sealPunch(payload, this.o.identity, t.dhPublic)
    return [{ to: r.address, bytes: encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: r.tag, sealed }) }]
  }

  /**
   * Answer a stranger's offer with a relay allocation and nothing else (traversal.md §5.4): no
   * candidates, no NAT kind, no probe — the stranger learns only the relay port it may bind.
   */
  answerWithRelay (s: StrangerOffer, offer: RelayOffer): Outgoing[] {
    const sealed = sealPunch({ role: 'answer', punchId: s.punchId, sentAt: this.o.wallNow(), natKind: 'unknown', candidates: [], relay: offer }, this.o.identity, s.dhPublic)
    return [{ to: s.rendezvous, bytes: encodeTraversal({ type: TraversalType.PUNCH_REPLY, handle: s.handle, sealed }) }]
  }

  /** `via`: the side socket it came on, if not the main one. */
  receive (m: TraversalMessage, from: string, now: number, via?: SlotRef): PunchOutgoing[] {
    switch (m.type) {
      case TraversalType.PUNCH_FORWARD: return via === undefined ? this.#onForward(m.handle, m.sealed, from, now) : []
      case TraversalType.PUNCH_ANSWER: return via === undefined ? this.#onAnswer(m.sealed, now) : []
      case TraversalType.PUNCH_UNKNOWN: return via === undefined ? this.#onUnknown(m.tag, now) : []
      case TraversalType.PROBE: case TraversalType.PROBE_ACK: return this.#onProbe(m.type, m.punchId, m.round, m.answerer, from, now, via)
      default: return []
    }
  }

  /**
   * The caller opened `count` side sockets for `attempt` (fewer than asked if binding failed):
   * one PROBE from each to the cone side, then the held offer or answer. Null if the attempt is
   * over: close them.
   */
  socketsOpened (attempt: string, count: number, now: number): PunchOutgoing[] | null {
    const a = this.#attempts.get(attempt)
    const b = a?.bday
    if (a === undefined || b == null || b.role !== 'hard' || !b.opening || b.released) return null
    b.opening = false
    b.slots = count
    this.stats.birthdaySockets += count
    const out: PunchOutgoing[] = []
    const to = hardTarget(a.remote)
    if (to !== null) {
      const bytes = encodeTraversal({ type: TraversalType.PROBE, punchId: a.punchId, round: 0, answerer: a.role === 'answer' })
      for (let slot = 0; slot < count; slot++) out.push({ to, bytes, via: { attempt, slot } })
    }
    out.push(...b.held.splice(0))
    if (a.role === 'offer' && a.asked < 0) out.push(...this.#ask(a, now))
    return out
  }

  /** Probes and retries due at `now`; attempts that ran out report 'failed'. */
  tick (now: number): PunchOutgoing[] {
    const out: PunchOutgoing[] = []
    for (const [k, a] of this.#attempts) {
      if (now >= a.expiresAt) {
        this.#attempts.delete(k)
        this.#bday.release(a, null)
        if (!a.done) this.#fail(a)
        continue
      }
      if (a.done) continue
      if (a.role === 'offer' && !a.answered && now >= a.nextAskAt) out.push(...this.#ask(a, now))
      if (a.probing && now >= a.probeAt) out.push(...this.#probe(a, now))
      if (a.bday?.spray != null && now >= a.bday.spray.nextAt) out.push(...this.#bday.spray(a, now))
    }
    for (const [k, until] of this.#seen) if (until <= now) this.#seen.delete(k)
    return out
  }

  get nextDeadline (): number {
    let at = Infinity
    for (const a of this.#attempts.values()) {
      at = Math.min(at, a.expiresAt)
      if (a.done) continue
      if (a.role === 'offer' && !a.answered) at = Math.min(at, a.nextAskAt)
      if (a.probing) at = Math.min(at, a.probeAt)
      if (a.bday?.spray != null) at = Math.min(at, a.bday.spray.nextAt)
    }
    return at
  }

  /** The caller's session with `fingerprint` is up: stop probing it. */
  connected (fingerprint: string): void {
    for (const a of this.#attempts.values()) {
      if (a.fingerprint !== fingerprint) continue
      a.done = true
      a.probing = false
      this.#bday.release(a, null)
    }
  }

  // ---- inside ----

  #attempt (role: 'offer' | 'answer', fingerprint: string, punchId: Uint8Array, remote: Candidate[], natKind: NatKind, now: number): Attempt {
    const usable = this.o.usable ?? (() => true)
    const a: Attempt = {
      role, wanted: role === 'offer', fingerprint, punchId, natKind, remote: orderCandidates(remote.filter(usable)), rendezvous: [], dhPublic: null, asked: -1, answered: false,
      nextAskAt: now, probing: false, probeAt: now, sent: 0, lastSentTo: new Map(), done: false, startedAt: now, expiresAt: now + PUNCH_TIMEOUT_MS, bday: null
    }
    for (const [k, old] of this.#attempts) {
      if (old.fingerprint !== fingerprint) continue
      this.#attempts.delete(k) // one punch per peer
      this.#bday.release(old, null)
      // an answer that replaces our own running offer (crossed offers) still owes its caller an end
      if (old.wanted && !old.done) a.wanted = true
    }
    this.#attempts.set(hex(punchId), a)
    if (a.remote.length > 0) a.probing = true
    return a
  }

  #evictIfFull (): void {
    if (this.#attempts.size < MAX_ATTEMPTS) return
    const oldest = this.#attempts.entries().next().value
    if (oldest === undefined) return
    this.#attempts.delete(oldest[0])
    this.#bday.release(oldest[1], null)
  }

  #payload (a: Attempt): Parameters<typeof sealPunch>[0] {
    return { role: a.role, punchId: a.punchId, sentAt: this.o.wallNow(), natKind: this.o.natKind(), candidates: this.o.candidates(), ...(a.relay === undefined ? {} : { relay: a.relay }) }
  }

  /** Send the offer to the next rendezvous entry (traversal.md §5.1); past the last one, wait for the timeout. */
  #ask (a: Attempt, now: number): Outgoing[] {
    a.asked++
    const r = a.rendezvous[a.asked]
    if (r === undefined || a.dhPublic === null) {
      a.nextAskAt = Infinity
      return []
    }
    a.nextAskAt = now + RENDEZVOUS_RETRY_MS
    const sealed = sealPunch(this.#payload(a), this.o.identity, a.dhPublic)
    return [{ to: r.address, bytes: encodeTraversal({ type: TraversalType.PUNCH_REQUEST, tag: r.tag, sealed }) }]
  }

  /** Our unanswered offer once more, through the rendezvous asked last (none while it is held for side sockets). */
  #askAgain (a: Attempt, now: number): Outgoing[] {
    if (a.answered || a.bday?.opening === true) return []
    a.asked = Math.max(-1, Math.min(a.asked, a.rendezvous.length - 1) - 1)
    return this.#ask(a, now)
  }

  #onUnknown (tag: Uint8Array, now: number): Outgoing[] {
    for (const a of this.#attempts.values()) {
      const r = a.rendezvous[a.asked]
      if (a.role === 'offer' && !a.answered && r !== undefined && constantTimeEqual(r.tag, tag)) return this.#ask(a, now)
    }
    return []
  }

  /** B's side: an offer passed on by a rendezvous we registered with (traversal.md §5.3). */
  #onForward (handle: Uint8Array, sealed: Uint8Array, from: string, now: number): Outgoing[] {
    const p = this.#open(sealed, ['offer', 'relay'], now)
    if (p === null) return []
    if (!this.o.isContact(p.fingerprint)) {
      // Not on the replay list: the sender sends this very offer again when ours crosses it
      // (traversal.md §5.3), and by then it may be our contact (both added each other at once).
      // A stranger's repeats stay bounded by the stranger budget below.
      this.#seen.delete(`${p.role}:${hex(p.punchId)}`)
      // a stranger: a relay answer at most, under the budget (traversal.md §5.4)
      if (p.role !== 'offer') this.stats.notContact++
      else if (this.#admitStranger(p.fingerprint, now)) {
        this.events.push({ type: 'stranger', offer: { fingerprint: p.fingerprint, dhPublic: p.sender.dhPublic, punchId: p.punchId, handle, rendezvous: from } })
      }
      return []
    }
    this.stats.forwardsOpened++
    if (p.relay !== undefined) this.events.push({ type: 'relay', fingerprint: p.fingerprint, dhPublic: p.sender.dhPublic, offer: p.relay, dial: false })
    if (p.role === 'relay') return [] // the punch itself was offered before (traversal.md §7.2)
    // offers crossed (each wanted the other at once): both keep the one with the lower punch id,
    // so neither answers an attempt the other has just dropped (and a symmetric side opens one set
    // of sockets). Ours goes again: the peer may have dropped it (we were not its contact yet).
    for (const o of this.#attempts.values()) {
      if (o.fingerprint === p.fingerprint && o.role === 'offer' && !o.done && Buffer.compare(o.punchId, p.punchId) < 0) {
        this.stats.crossed++
        return this.#askAgain(o, now)
      }
    }
    const a = this.#attempt('answer', p.fingerprint, p.punchId, p.candidates, p.natKind, now)
    const answer = sealPunch(this.#payload(a), this.o.identity, p.sender.dhPublic)
    const reply: PunchOutgoing = { to: from, bytes: encodeTraversal({ type: TraversalType.PUNCH_REPLY, handle, sealed: answer }) }
    // symmetric side: the answer waits for the side sockets' mappings; cone side: spray at once
    if (this.#bday.startHard(a, p.natKind)) a.bday!.held.push(reply)
    else this.#bday.startEasy(a, p.natKind, now)
    const early = a.bday === null ? this.#earlyDial(a) : null
    if (early !== null) this.events.push({ type: 'offered', fingerprint: p.fingerprint, dhPublic: p.sender.dhPublic, address: early })
    return [...(a.bday?.role === 'hard' ? [] : [reply]), ...this.#probe(a, now), ...this.#bday.spray(a, now)]
  }

  /**
   * The answerer's early dial (traversal.md §5.3): the offerer's candidate that its first probes,
   * sent with its offer, have opened toward us, or null. Neither side symmetric (a symmetric NAT
   * maps the offerer's probes, or our handshake, to a port no candidate names: birthday punching
   * finds that path, §6.3); the first candidate beyond the offerer's LAN (its LAN addresses may
   * name anyone on ours, `dht.md` §5.3), unless its reflexive address is ours too: one NAT in
   * front of both, which may not hairpin (§6.1), so its LAN address is the way.
   */
  #earlyDial (a: Attempt): string | null {
    if (a.natKind === 'address-dependent' || this.o.natKind() === 'address-dependent') return null
    const ourHosts = new Set(this.o.candidates().filter(c => c.kind === 'reflexive').map(c => c.host))
    const behindOurs = a.remote.some(c => c.kind === 'reflexive' && ourHosts.has(c.host))
    const pick = behindOurs ? a.remote.find(c => c.kind === 'lan') : a.remote.find(c => c.kind !== 'lan')
    return pick === undefined ? null : candidateAddress(pick)
  }

  /** The stranger budget: one offer per stranger per STRANGER_PUNCH_PER_PEER_MS, and a global trickle. */
  #admitStranger (fingerprint: string, now: number): boolean {
    if (this.o.acceptStrangers !== true) {
      this.stats.notContact++
      return false
    }
    this.#strangerBudget ??= new TokenBucket({ ratePerS: STRANGER_PUNCH_RATE_PER_S, burst: STRANGER_PUNCH_BURST }, now)
    if (!this.#strangerBudget.peek(now) || !this.#strangerPeers.take(fingerprint, now)) {
      this.stats.strangersCapped++
      return false
    }
    this.#strangerBudget.take(now)
    this.stats.strangers++
    return true
  }

  /** A's side: the answer, through the rendezvous. */
  #onAnswer (sealed: Uint8Array, now: number): Outgoing[] {
    const p = this.#open(sealed, ['answer'], now)
    if (p === null) return []
    // whoever we offered to may answer, contact or not (a contact request's first punch, §5.4)
    const a = this.#attempts.get(hex(p.punchId))
    if (a === undefined || a.role !== 'offer' || a.fingerprint !== p.fingerprint || a.answered) return []
    this.stats.answersReceived++
    a.answered = true
    if (p.relay !== undefined) this.events.push({ type: 'relay', fingerprint: p.fingerprint, dhPublic: p.sender.dhPublic, offer: p.relay, dial: true })
    a.natKind = p.natKind
    const usable = this.o.usable ?? (() => true)
    const known = new Set(a.remote.map(candidateAddress))
    a.remote = orderCandidates([...p.candidates.filter(c => usable(c) && !known.has(candidateAddress(c))), ...a.remote])
    a.probing = a.remote.length > 0
    a.sent = 0 // the answerer's NAT opens now: start the rounds again
    if (a.done) return []
    // the answer's NAT kind is the answerer's own view: a record read earlier may not have known it
    if (!this.#bday.startHard(a, p.natKind)) this.#bday.startEasy(a, p.natKind, now)
    return [...this.#probe(a, now), ...this.#bday.spray(a, now)]
  }

  /** Opened, of an expected role, fresh, not seen before; else null (counted). Who sent it is the caller's check. */
  #open (sealed: Uint8Array, roles: Array<OpenedPunch['role']>, now: number): OpenedPunch | null {
    const p = openPunch(sealed, this.o.identity)
    if (p === null || !roles.includes(p.role)) {
      this.stats.undecryptable++
      return null
    }
    const wall = this.o.wallNow()
    const key = `${p.role}:${hex(p.punchId)}`
    if (Math.abs(wall - p.sentAt) > PUNCH_MAX_SKEW_MS || this.#seen.has(key)) {
      this.stats.replays++
      return null
    }
    if (this.#seen.size >= 4096) this.#seen.delete(this.#seen.keys().next().value!)
    // the freshness check reads the wall clock (the stamp is the sender's), but the list is pruned in
    // tick() against `now`, the monotonic clock: an entry stamped in wall time would never leave it
    this.#seen.set(key, now + 2 * PUNCH_MAX_SKEW_MS)
    return p
  }

  /**
   * Probes due: the first round to every candidate at once, in order (at most 8 of 19 bytes: the
   * path that works is rarely the first candidate, the LAN one, and a paced first round made the
   * reflexive probe wait 10 ms per candidate before it, on both sides); then one paced probe to
   * the next candidate (RFC 8445 §6.1.4.2: one check per Ta). traversal.md §6.1.
   */
  #probe (a: Attempt, now: number): Outgoing[] {
    if (!a.probing || a.remote.length === 0) return []
    const out: Outgoing[] = []
    do {
      if (a.sent >= PROBE_ROUNDS * a.remote.length) {
        a.probing = false
        break
      }
      const c = a.remote[a.sent % a.remote.length]!
      const round = Math.floor(a.sent / a.remote.length)
      a.sent++
      a.probeAt = now + PROBE_PACE_MS
      const to = candidateAddress(c)
      if (to === null) continue
      a.lastSentTo.set(to, now)
      this.stats.probesSent++
      out.push({ to, bytes: encodeTraversal({ type: TraversalType.PROBE, punchId: a.punchId, round, answerer: a.role === 'answer' }) })
    } while (a.sent < a.remote.length)
    return out
  }

  #onProbe (type: number, punchId: Uint8Array, round: number, answerer: boolean, from: string, now: number, via: SlotRef | undefined): PunchOutgoing[] {
    const id = hex(punchId)
    const a = this.#attempts.get(id)
    if (a === undefined) return [] // not ours (or over): no answer to a stranger's probe
    if (via !== undefined && (via.attempt !== id || a.bday?.released !== false)) return [] // another attempt's side socket, or one being closed
    // our own probe come back (a candidate that is our own address, or a hairpin): not the peer
    if (answerer === (a.role === 'answer')) return []
    const out: PunchOutgoing[] = []
    // same size as the probe: an answer only to the address the probe came from, from the socket it reached
    if (type === TraversalType.PROBE) out.push({ to: from, bytes: encodeTraversal({ type: TraversalType.PROBE_ACK, punchId, round, answerer: a.role === 'answer' }), ...(via === undefined ? {} : { via }) })
    if (a.done) return out
    a.done = true
    a.probing = false
    const c = a.remote.find(r => candidateAddress(r) === from)
    const sentAt = a.lastSentTo.get(from)
    if (via !== undefined || (a.bday?.role === 'easy' && c === undefined)) this.stats.birthdayPaths++
    this.#bday.release(a, via === undefined ? null : { slot: via.slot, peer: from })
    this.stats.paths++
    this.events.push({
      type: 'path', fingerprint: a.fingerprint, address: from, kind: c?.kind ?? 'peer-reflexive',
      rttMs: type === TraversalType.PROBE_ACK && sentAt !== undefined ? now - sentAt : null, role: a.role, elapsedMs: now - a.startedAt
    })
    return out
  }

  #fail (a: Attempt): void {
    if (!a.wanted) return
    this.stats.failed++
    // an answer we sent is as good as one we got: both sides have the candidates, no probe got through
    const reason = a.role === 'answer' || a.answered ? 'no-path' : 'no-answer'
    this.events.push({ type: 'failed', fingerprint: a.fingerprint, reason, natKind: a.natKind })
  }
}
