// NAT traversal on the node's one socket (proto-spec/traversal.md): the Endpoint's 'traversal'
// hook feeds three pure parts — the rendezvous role every node plays for others (rendezvous.ts),
// our own registrations with rendezvous nodes when we are not directly reachable (registrar.ts),
// and hole punches with contacts (punch.ts) — and this class carries out what they return:
// datagrams sent, one timer for the nearest deadline, events to the node. What the presence
// record should say (candidates, NAT kind, rendezvous entries) is read from here by the DHT
// component, which is told to republish when it changes. Birthday punching's side sockets
// (traversal.md §6.4) are opened here through the socket's `openSideSocket`, on the puncher's
// command, and closed on its command — but for a winner, which is handed to the Endpoint to carry
// the session (SideSocket.carry).
import type { Identity } from '../crypto/identity.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import type { Random } from '../io/random.js'
import { addressOf, peerAddressOf, type PeerAddress } from '../io/address.js'
import { decodeTraversal } from './messages.js'
import { RendezvousServer, type Outgoing } from './rendezvous.js'
import { Registrar } from './registrar.js'
import { Puncher, type PunchEvent, type PunchTarget, type PunchOutgoing, type SlotRef, type SocketCommand, type StrangerOffer } from './punch.js'
import type { SideSocket } from '../transport/side-sockets.js'
import type { RelayOffer } from '../relay/client.js'
import { gatherCandidates, directlyReachable, type AddressObserver, type Candidate, type NatKind } from './candidates.js'
import { TraversalType } from './constants.js'

/** The part of the Endpoint this needs (wire.md §1: the shared socket and its demultiplexer). */
export interface TraversalSocket {
  setHandler: (kind: 'traversal', hook: ((datagram: Uint8Array, from: PeerAddress, via?: SideSocket) => void) | null) => void
  sendDatagram: (to: PeerAddress, bytes: Uint8Array) => void
  readonly address: PeerAddress
  /** one more socket on our host (birthday punching, traversal.md §6.4); without it, no birthday punching from this side */
  openSideSocket?: () => Promise<SideSocket>
}

/** The side sockets of one attempt, while they are its. */
interface SideSet { sockets: SideSocket[], closed: boolean }

export interface TraversalOptions {
  socket: () => TraversalSocket
  identity: Identity
  scheduler: Scheduler
  random: Random
  /** the DHT's PONGs today (candidates.ts dhtObserver), a STUN client later */
  observer?: AddressObserver
  /** our interface addresses with the bound port (LAN / public candidates) */
  interfaces: () => PeerAddress[]
  /** reachable dmess nodes we could register with, best first ("ip:port"): bootstrap nodes, DHT contacts */
  servers: () => string[]
  isContact: (fingerprint: string) => boolean
  /** which of a peer's candidates this node may send to (address scope, family) */
  usable?: (c: Candidate) => boolean
  /** a punch found a path (the offerer dials it) */
  onPath?: (ev: Extract<PunchEvent, { type: 'path' }>) => void
  /**
   * Punching gave up (no rendezvous answered, or no probe got through: e.g. both NATs
   * symmetric). The relay fallback hooks in here (traversal.md §7).
   */
  onGiveUp?: (ev: Extract<PunchEvent, { type: 'failed' }>) => void
  /** the peer offered a relay allocation to join (traversal.md §7) */
  onRelay?: (ev: Extract<PunchEvent, { type: 'relay' }>) => void
  /** a contact's offer answered: dial its address now (traversal.md §5.3, the answerer's early dial) */
  onOffered?: (ev: Extract<PunchEvent, { type: 'offered' }>) => void
  /** a stranger's offer within the stranger budget: answer it with answerWithRelay, or not (§5.4); absent: strangers are dropped */
  onStranger?: (offer: StrangerOffer) => void
  /** what the presence record should say changed: republish it */
  onChange?: () => void
  /**
   * The steps of our punches as they happen, for a debug log: an offer or answer sent or
   * received, and per punch the first probe sent and the first heard (no keys, no contents).
   */
  trace?: (step: string, fields: Record<string, unknown>) => void
}

/** Punch ids whose first probe sent and first heard were traced: the newest this many. */
const TRACED_PROBES = 64

/** What the presence record carries for traversal (dht.md §5.2). */
export interface RecordTraversal {
  candidates: Candidate[]
  natKind: NatKind
  rendezvous: Array<{ host: string, port: number, tag: Uint8Array }>
}

/** How often the registrations are reconsidered (servers replaced, reachability rechecked). */
const MAINTAIN_MS = 5000

export class TraversalService {
  readonly server: RendezvousServer
  readonly registrar: Registrar
  readonly puncher: Puncher
  readonly counters = { received: 0, malformed: 0, sideStray: 0, sideBindFailed: 0 }
  readonly #sides = new Map<string, SideSet>()
  readonly #slots = new Map<SideSocket, SlotRef>()
  #timer: TimerHandle | null = null
  #timerAt = Infinity
  #nextMaintain = 0
  #version = -1
  #socket: TraversalSocket | null = null
  readonly #traced = new Set<string>()

  constructor (private readonly o: TraversalOptions) {
    const random = (n: number): Uint8Array => o.random.bytes(n)
    this.server = new RendezvousServer({ random })
    this.registrar = new Registrar({ random, bound: () => this.#bound(), own: a => this.#own(a) })
    this.puncher = new Puncher({
      identity: o.identity,
      random,
      wallNow: () => o.scheduler.wallNow(),
      isContact: o.isContact,
      candidates: () => this.candidates(),
      natKind: () => this.natKind(),
      usable: o.usable,
      acceptStrangers: o.onStranger !== undefined
    })
  }

  start (): void {
    const socket = this.o.socket()
    this.#socket = socket
    socket.setHandler('traversal', (bytes, from, via) => { this.#receive(bytes, from, via) })
    this.#maintain(this.o.scheduler.now())
    this.#arm()
  }

  stop (): void {
    this.#socket?.setHandler('traversal', null)
    this.#socket = null
    for (const attempt of [...this.#sides.keys()]) this.#closeSides(attempt, null)
    if (this.#timer !== null) this.o.scheduler.clearTimer(this.#timer)
    this.#timer = null
    this.#timerAt = Infinity
  }

  /** Our candidates now, in preference order (traversal.md §2). */
  candidates (): Candidate[] {
    const reflexive = [...this.registrar.reflexive().flatMap(a => { const p = peerAddressOf(a); return p === null ? [] : [p] }), ...(this.o.observer?.reflexive() ?? [])]
    const observer: AddressObserver = { reflexive: () => reflexive, natKind: () => this.natKind(), mapped: this.o.observer?.mapped }
    return gatherCandidates(this.o.interfaces(), observer).filter(c => c.kind !== 'reflexive' || !this.#own(addressOf(c.host, c.port) ?? ''))
  }

  /** What our registrations saw (traversal.md §2), else the observer's guess. */
  natKind (): NatKind {
    const fromServers = this.registrar.natKind()
    if (fromServers !== 'unknown') return fromServers
    // a rendezvous saw us at another address than our own: there is a NAT, whatever a LAN peer's PONGs say
    if (this.registrar.reflexive().some(a => !this.#own(a))) return 'unknown'
    return this.o.observer?.natKind() ?? 'unknown'
  }

  /** What the presence record should carry now. */
  recordFields (): RecordTraversal {
    const now = this.o.scheduler.now()
    const rendezvous = this.registrar.entries(now).flatMap(e => {
      const p = peerAddressOf(e.address)
      return p === null ? [] : [{ host: p.host, port: p.port, tag: e.tag }]
    })
    return { candidates: this.candidates(), natKind: this.natKind(), rendezvous }
  }

  /** Punch toward a contact whose record lists rendezvous nodes; false if one is running already or it cannot start. */
  punch (target: PunchTarget): boolean {
    if (this.#socket === null || this.puncher.active(target.fingerprint)) return false
    const now = this.o.scheduler.now()
    this.o.trace?.('punch started', { peer: target.fingerprint, natKind: target.natKind, ours: this.natKind(), candidates: target.candidates.length, rendezvous: target.rendezvous.length, relay: target.relay !== undefined })
    this.#send(this.puncher.start(target, now))
    this.#commands()
    this.#arm()
    return this.puncher.active(target.fingerprint)
  }

  /** Offer `relay` to `target` through a rendezvous (traversal.md §7.2); false if it lists none. */
  sendRelay (target: Pick<PunchTarget, 'fingerprint' | 'dhPublic' | 'rendezvous'>, relay: RelayOffer): boolean {
    const out = this.puncher.sendRelay(target, relay)
    this.#send(out)
    return out.length > 0
  }

  /** Answer an admitted stranger's offer with a relay allocation only (traversal.md §5.4). */
  answerWithRelay (s: StrangerOffer, relay: RelayOffer): void {
    this.#send(this.puncher.answerWithRelay(s, relay))
  }

  /** The session with `fingerprint` is up: stop probing. */
  connected (fingerprint: string): void {
    this.puncher.connected(fingerprint)
    this.#commands()
  }

  /** Side sockets held for birthday attempts now (not those carrying sessions: the Endpoint's). */
  get sideSockets (): number {
    let n = 0
    for (const s of this.#sides.values()) n += s.sockets.length
    return n
  }

  // ---- inside ----

  /** `a` ("ip:port") is our bound address, or one of our interface addresses with our port (bound to the wildcard). */
  #own (a: string): boolean {
    return a === this.#bound() || this.o.interfaces().some(i => addressOf(i.host, i.port) === a)
  }

  #bound (): string {
    const a = this.#socket?.address
    return a === undefined ? '' : (addressOf(a.host, a.port) ?? '')
  }

  #receive (bytes: Uint8Array, from: PeerAddress, via?: SideSocket): void {
    const m = decodeTraversal(bytes)
    const src = addressOf(from.host, from.port)
    if (m === null || src === null) {
      this.counters.malformed++
      return
    }
    const slot = via === undefined ? undefined : this.#slots.get(via)
    if (via !== undefined && slot === undefined) {
      this.counters.sideStray++ // a socket no attempt holds any more (one carrying a session): probing is over there
      return
    }
    this.counters.received++
    if (this.o.trace !== undefined) this.#trace('in', m.type, bytes, src)
    const now = this.o.scheduler.now()
    switch (m.type) {
      case TraversalType.REGISTER: case TraversalType.PUNCH_REQUEST: case TraversalType.PUNCH_REPLY:
        this.#send(this.server.receive(m, src, now)); break
      case TraversalType.REGISTERED:
        this.registrar.receive(m, src, now)
        // Once every server has answered, the maintenance's decision (traversal.md §3.1) is taken
        // now rather than up to 5 s later: answers that show us directly reachable (all saw our
        // own address: no NAT) end the registering before a record lists rendezvous it does not
        // need, only to be sealed and stored again without them. Not on the first answer alone:
        // a server on our own LAN sees our interface address whatever NAT is in front of us.
        if (this.registrar.allAnswered && directlyReachable(this.natKind(), this.candidates(), this.o.observer)) this.#maintain(now)
        this.#changed()
        break
      default: {
        const out = this.puncher.receive(m, src, now, slot)
        // the answerer's early dial (traversal.md §5.3) goes before its probes: at the offerer its
        // message 1 is then answered before a probe makes the offerer's own dial (session.md §3.1,
        // an answered initiation), not crossed by it
        this.#events('offered')
        this.#send(out)
      }
    }
    this.#commands() // before the events: a winning side socket carries the peer before anyone dials it
    this.#events()
    this.#arm()
  }

  #send (out: Array<Outgoing | PunchOutgoing>): void {
    const socket = this.#socket
    if (socket === null) return
    for (const o of out) {
      const to = peerAddressOf(o.to)
      if (to === null) continue
      const via = 'via' in o ? o.via : undefined
      if (this.o.trace !== undefined) this.#trace('out', o.bytes[1] ?? 0, o.bytes, o.to)
      if (via === undefined) socket.sendDatagram(to, o.bytes)
      else this.#sides.get(via.attempt)?.sockets[via.slot]?.send(to, o.bytes)
    }
  }

  /** The punch steps for `trace`: each offer and answer, and per punch id its first probe each way. */
  #trace (dir: 'in' | 'out', type: number, bytes: Uint8Array, peer: string): void {
    const trace = this.o.trace
    if (trace === undefined) return
    switch (type) {
      case TraversalType.PUNCH_REQUEST: if (dir === 'out') trace('punch offer sent', { to: peer }); return
      case TraversalType.PUNCH_FORWARD: if (dir === 'in') trace('punch offer received', { from: peer }); return
      case TraversalType.PUNCH_REPLY: if (dir === 'out') trace('punch answer sent', { to: peer }); return
      case TraversalType.PUNCH_ANSWER: trace('punch answer received', { from: peer }); return
      case TraversalType.PUNCH_UNKNOWN: trace('punch rendezvous does not know the peer', { from: peer }); return
      case TraversalType.PROBE: case TraversalType.PROBE_ACK: {
        const m = decodeTraversal(bytes)
        if (m === null || (m.type !== TraversalType.PROBE && m.type !== TraversalType.PROBE_ACK)) return
        const key = `${dir}:${Buffer.from(m.punchId).toString('hex')}`
        if (this.#traced.has(key)) return
        this.#traced.add(key)
        if (this.#traced.size > 2 * TRACED_PROBES) this.#traced.delete(this.#traced.values().next().value!)
        trace(dir === 'out' ? 'first probe sent' : 'first probe heard', { [dir === 'out' ? 'to' : 'from']: peer, ack: m.type === TraversalType.PROBE_ACK, round: m.round })
      }
    }
  }

  /** Carry out the puncher's side-socket commands (traversal.md §6.4). */
  #commands (): void {
    for (const c of this.puncher.sockets.splice(0)) {
      if (c.op === 'open') this.#openSides(c)
      else this.#closeSides(c.attempt, c.keep)
    }
  }

  #openSides (c: Extract<SocketCommand, { op: 'open' }>): void {
    const set: SideSet = { sockets: [], closed: false }
    this.#sides.set(c.attempt, set)
    const socket = this.#socket
    if (socket?.openSideSocket === undefined) { this.#opened(c.attempt, set); return }
    void Promise.allSettled(Array.from({ length: c.count }, async () => await socket.openSideSocket!())).then(results => {
      for (const r of results) {
        if (r.status === 'fulfilled') set.sockets.push(r.value)
        else this.counters.sideBindFailed++
      }
      if (set.closed || this.#socket === null) {
        for (const s of set.sockets.splice(0)) void s.close()
        return
      }
      this.#opened(c.attempt, set)
    })
  }

  #opened (attempt: string, set: SideSet): void {
    set.sockets.forEach((s, slot) => { this.#slots.set(s, { attempt, slot }) })
    const out = this.puncher.socketsOpened(attempt, set.sockets.length, this.o.scheduler.now())
    if (out === null) this.#closeSides(attempt, null)
    else this.#send(out)
    this.#commands()
    this.#arm()
  }

  /** Close an attempt's side sockets; the winner (`keep`) carries its peer on the Endpoint from now on. */
  #closeSides (attempt: string, keep: { slot: number, peer: string } | null): void {
    const set = this.#sides.get(attempt)
    if (set === undefined) return
    this.#sides.delete(attempt)
    set.closed = true
    const peer = keep === null ? null : peerAddressOf(keep.peer)
    set.sockets.forEach((s, slot) => {
      this.#slots.delete(s)
      if (peer !== null && slot === keep?.slot) s.carry(peer)
      else void s.close()
    })
    set.sockets.length = 0
  }

  /** The puncher's events, in order; `only`: those of that type, the rest left for later. */
  #events (only?: PunchEvent['type']): void {
    const all = this.puncher.events
    const now = only === undefined ? all.splice(0) : all.filter(ev => ev.type === only)
    if (only !== undefined) all.splice(0, all.length, ...all.filter(ev => ev.type !== only))
    for (const ev of now) {
      if (ev.type === 'path') this.o.onPath?.(ev)
      else if (ev.type === 'failed') this.o.onGiveUp?.(ev)
      else if (ev.type === 'relay') this.o.onRelay?.(ev)
      else if (ev.type === 'offered') this.o.onOffered?.(ev)
      else this.o.onStranger?.(ev.offer)
    }
  }

  #changed (): void {
    if (this.registrar.version === this.#version) return
    this.#version = this.registrar.version
    this.o.onChange?.()
  }

  /** Register while we are not directly reachable; stop when we are (traversal.md §3.1). */
  #maintain (now: number): void {
    this.#nextMaintain = now + MAINTAIN_MS
    const reachable = directlyReachable(this.natKind(), this.candidates(), this.o.observer)
    if (reachable) this.registrar.clear()
    else this.registrar.consider(this.o.servers(), now)
    this.#changed()
  }

  #fire (): void {
    this.#timer = null
    this.#timerAt = Infinity
    if (this.#socket === null) return
    const now = this.o.scheduler.now()
    if (now >= this.#nextMaintain) this.#maintain(now)
    this.#send(this.registrar.tick(now))
    this.#send(this.puncher.tick(now))
    this.#commands()
    this.#changed()
    this.#events()
    this.#arm()
  }

  #arm (): void {
    if (this.#socket === null) return
    const at = Math.min(this.#nextMaintain, this.registrar.nextDeadline, this.puncher.nextDeadline)
    if (at >= this.#timerAt) return
    if (this.#timer !== null) this.o.scheduler.clearTimer(this.#timer)
    this.#timerAt = at
    this.#timer = this.o.scheduler.setTimer(Math.max(1, at - this.o.scheduler.now()), () => { this.#fire() })
  }
}
