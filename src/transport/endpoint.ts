// The node's one socket (proto-spec/session.md §8, wire.md §1): a thin I/O adapter around the
// pure SessionManager. Every datagram is demultiplexed by the wire layer — STUN to the 'stun'
// hook, DHT types to the 'dht' hook, handshakes and session packets to the manager — and what
// the manager returns is carried out: datagrams sent, events emitted, connect() promises settled,
// one timer armed for the next deadline. Nothing from the network throws out of here.
import { EventEmitter } from 'node:events'
import { classifyDatagram, isTraversalDatagram } from '../wire/packet.js'
import { RELAY_TYPE_FIRST, RELAY_TYPE_LAST } from '../wire/constants.js'
import { DROP_REASONS, type DropReason } from '../wire/drops.js'
import type { Identity } from '../crypto/identity.js'
import { errors, type DmessError } from '../errors.js'
import { SessionManager, type ManagerAction, type ConnectOptions, type ManagerStats } from './manager.js'
import { Session, type SessionOwner } from './session.js'
import { realScheduler, type Scheduler } from '../io/scheduler.js'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import { udpSockets } from '../io/udp.js'
import type { SessionCore } from './session-core.js'
import type { SessionTuning } from './constants.js'
import { SESSION_DROP_REASONS, sameAddress, type PeerAddress, type SessionDropReason } from './types.js'
import { SideSockets, type SideSocket } from './side-sockets.js'

export type { SideSocket } from './side-sockets.js'

/** `via`: the side socket it came on (traversal.md §6.4), absent for the main socket. */
export type DatagramHook = (datagram: Uint8Array, from: PeerAddress, via?: SideSocket) => void
/** Who else uses the socket (wire.md §1): STUN, the DHT, NAT traversal (proto-spec/traversal.md). */
export type HookKind = 'stun' | 'dht' | 'traversal' | 'relay'

export interface EndpointOptions {
  /** bind address (default 0.0.0.0) and port (default 0: any) for the UDP socket */
  host?: string
  port?: number
  identity: Identity
  /** clock in ms (default: the scheduler's, performance.now()) */
  now?: () => number
  random?: (n: number) => Uint8Array
  /** randomness that is not key material, for session indices, ids and cookies (ManagerOptions.nonKeyRandom) */
  nonKeyRandom?: (n: number) => Uint8Array
  /** timers (default: real ones); src/sim's clock via simScheduler() */
  scheduler?: Scheduler
  /** where the socket comes from (default: real UDP, src/io/udp.ts) */
  sockets?: DatagramSockets
  /** use this already bound socket instead of binding one */
  transport?: DatagramTransport
  tuning?: Partial<SessionTuning>
  /**
   * Is this fingerprint one of the user's contacts? Sessions with anyone else are capped and
   * evicted least recently heard first, with a smaller receive window (session.md §3.7).
   * Without it every peer counts as a contact.
   */
  isContact?: (fingerprint: string) => boolean
  /** Does a session with `fingerprint` at `address` run through a relay of ours? A direct one wins a simultaneous open against it (session.md §3.1). */
  relayed?: (fingerprint: string, address: PeerAddress) => boolean
}

export interface EndpointConnectOptions extends ConnectOptions {
  signal?: AbortSignal
}

export interface EndpointEvents {
  /** a peer opened a session to us (inbound), already authenticated */
  session: [session: Session]
  /** a listener of ours threw (never a network problem) */
  error: [err: unknown]
}

export interface EndpointStats {
  packetsIn: number
  packetsOut: number
  bytesIn: number
  bytesOut: number
  stunIn: number
  dhtIn: number
  sendErrors: number
  listenerErrors: number
  /** datagrams whose processing threw (a bug in this layer; should stay 0) */
  internalErrors: number
  handshakesCompleted: number
  handshakes: ManagerStats['handshakes']
  cookieRepliesSent: number
  halfOpenEvicted: number
  strangersEvicted: number
  sessions: number
  halfOpen: number
  dials: number
  /** side sockets open now, ever opened, carrying a peer now (traversal.md §6.4) */
  sideSockets: { open: number, opened: number, peak: number, carrying: number, refused: number }
  /** every drop; `malformed` sums the wire-level reasons, which `malformedBy` details */
  dropped: Record<SessionDropReason | 'malformed' | 'no-handler', number>
  malformedBy: Record<DropReason, number>
}

interface Pending { resolve: (s: Session) => void, reject: (e: DmessError) => void, cleanup: () => void }

export class Endpoint extends EventEmitter<EndpointEvents> implements SessionOwner {
  readonly #manager: SessionManager
  readonly #scheduler: Scheduler
  readonly #sockets: DatagramSockets
  readonly #now: () => number
  #transport: DatagramTransport
  readonly #handles = new Map<number, Session>()
  readonly #pending = new Map<number, Pending>()
  readonly #sendActions: ManagerAction[] = []
  readonly #recvActions: ManagerAction[] = []
  #receiving = false
  readonly #hooks: Record<HookKind, DatagramHook | null> = { stun: null, dht: null, traversal: null, relay: null }
  readonly #counts = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, stunIn: 0, dhtIn: 0, listenerErrors: 0, internalErrors: 0, noHandler: 0, oldSendErrors: 0 }
  #timer: unknown = null
  #timerAt = Infinity
  #closed = false
  readonly #side: SideSockets

  private constructor (opts: EndpointOptions, transport: DatagramTransport) {
    super()
    this.#scheduler = opts.scheduler ?? realScheduler
    this.#sockets = opts.sockets ?? udpSockets
    this.#now = opts.now ?? (() => this.#scheduler.now())
    this.#manager = new SessionManager({
      identity: opts.identity,
      now: this.#now(),
      random: opts.random,
      nonKeyRandom: opts.nonKeyRandom,
      tuning: opts.tuning,
      wallNow: () => this.#scheduler.wallNow(), // IK timestamps (session.md §6.4)
      isContact: opts.isContact,
      relayed: opts.relayed
    })
    this.#transport = transport
    transport.onDatagram = (bytes, from) => { this.#onDatagram(bytes, from) }
    this.#side = new SideSockets({
      sockets: this.#sockets,
      scheduler: this.#scheduler,
      host: () => this.#transport.local.host,
      deliver: (bytes, from, via) => { this.#onDatagram(bytes, from, via) },
      hasSession: peer => this.#manager.sessions().some(c => c.closed === null && sameAddress(c.address, peer))
    })
  }

  /** Bind the socket (or adopt `transport`) and start serving. */
  static async listen (opts: EndpointOptions): Promise<Endpoint> {
    const transport = opts.transport ?? await (opts.sockets ?? udpSockets).bind({ host: opts.host, port: opts.port })
    return new Endpoint(opts, transport)
  }

  get address (): PeerAddress {
    return { ...this.#transport.local }
  }

  get fingerprint (): string {
    return this.#manager.identity.fingerprint
  }

  /** Register the STUN, DHT, traversal or relay-control handler (wire.md §1); null removes it. */
  setHandler (kind: HookKind, hook: DatagramHook | null): void {
    this.#hooks[kind] = hook
  }

  /** Send a raw datagram on the shared socket (for the STUN, DHT and traversal components). */
  sendDatagram (to: PeerAddress, bytes: Uint8Array): void {
    if (!this.#closed) this.#transmit(to, bytes)
  }

  /**
   * Bind one more UDP socket on our host (any port): its datagrams go through the same
   * demultiplexer, the hooks learn which socket they came on. For birthday punching
   * (traversal.md §6.4); at most SIDE_SOCKETS_MAX at once.
   */
  async openSideSocket (): Promise<SideSocket> {
    if (this.#closed) throw errors.ENDPOINT_CLOSED('openSideSocket: the endpoint is closed')
    return await this.#side.open()
  }

  /** Open sessions. */
  sessions (): Session[] {
    return this.#manager.sessions().map(core => this.#wrap(core))
  }

  /**
   * Handshake with `to` (session.md §3): IK when `remoteStatic` is given, else XX. Resolves with
   * the session once the peer has proven its identity (and `expectFingerprint`, if given).
   * Rejects with HANDSHAKE_TIMEOUT, HANDSHAKE_FAILED, FINGERPRINT_MISMATCH, ABORTED or ENDPOINT_CLOSED.
   */
  async connect (to: PeerAddress, opts: EndpointConnectOptions = {}): Promise<Session> {
    if (this.#closed) throw errors.ENDPOINT_CLOSED('connect: the endpoint is closed')
    const { signal, ...rest } = opts
    if (signal?.aborted === true) throw errors.ABORTED('connect: aborted before it started')
    const { dialId, actions } = this.#manager.connect(to, rest, this.#now())
    const done = new Promise<Session>((resolve, reject) => {
      const onAbort = (): void => { this.#apply(this.#manager.cancel(dialId, errors.ABORTED(`connect to ${to.host}:${to.port}: aborted`))) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => { signal?.removeEventListener('abort', onAbort) }
      this.#pending.set(dialId, { resolve, reject, cleanup })
    })
    this.#apply(actions)
    return await done
  }

  /** Close every session (each peer gets a SESSION_CLOSE), fail pending connects, close the socket. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#apply(this.#manager.shutdown(this.#now()))
    this.#closed = true
    this.#clearTimer()
    await this.#side.closeAll()
    await this.#transport.close()
  }

  /**
   * Move to a new UDP socket (a new local port, as after a network change). Sessions continue:
   * peers follow our first authenticated packet from the new address (session.md §4.5).
   */
  async rebind (opts: { host?: string, port?: number } = {}): Promise<PeerAddress> {
    if (this.#closed) throw errors.ENDPOINT_CLOSED('rebind: the endpoint is closed')
    const next = await this.#sockets.bind({ host: opts.host ?? this.#transport.local.host, port: opts.port ?? 0 })
    const old = this.#transport
    this.#counts.oldSendErrors += old.sendErrors
    this.#transport = next
    next.onDatagram = (bytes, from) => { this.#onDatagram(bytes, from) }
    await old.close()
    return this.address
  }

  stats (): EndpointStats {
    const m = this.#manager.stats()
    const malformedBy = {} as Record<DropReason, number>
    let malformed = 0
    for (const r of DROP_REASONS) {
      malformedBy[r] = m.dropped[r]
      malformed += m.dropped[r]
    }
    const dropped = { malformed, 'no-handler': this.#counts.noHandler } as EndpointStats['dropped']
    for (const r of SESSION_DROP_REASONS) dropped[r] = m.dropped[r]
    const { noHandler: _n, oldSendErrors, ...c } = this.#counts
    return {
      ...c,
      sendErrors: oldSendErrors + this.#transport.sendErrors,
      handshakesCompleted: m.handshakesCompleted,
      handshakes: m.handshakes,
      cookieRepliesSent: m.cookieRepliesSent,
      halfOpenEvicted: m.halfOpenEvicted,
      strangersEvicted: m.strangersEvicted,
      sessions: m.sessions,
      halfOpen: m.halfOpen,
      dials: m.dials,
      sideSockets: { open: this.#side.size, opened: this.#side.opened, peak: this.#side.peak, carrying: this.#side.carrying, refused: this.#side.dropped },
      dropped,
      malformedBy
    }
  }

  // ---- SessionOwner ----

  isContact (fingerprint: string): boolean {
    return this.#manager.isContact(fingerprint)
  }

  sendOn (core: SessionCore, datagram: Uint8Array): boolean {
    if (this.#closed) return false
    // per packet: no action list unless a rekey starts (its initiation goes first)
    const out = this.#sendActions
    const bytes = this.#manager.seal(core, datagram, this.#now(), out)
    if (out.length > 0) this.#apply(out.splice(0))
    if (bytes === null) return false
    this.#transmit(core.address, bytes)
    return true
  }

  closeCore (core: SessionCore): void {
    if (!this.#closed) this.#apply(this.#manager.close(core, this.#now()))
  }

  // ---- inside ----

  #onDatagram (bytes: Uint8Array, from: PeerAddress, via?: SideSocket): void {
    if (this.#closed) return
    this.#counts.packetsIn++
    this.#counts.bytesIn += bytes.length
    if (classifyDatagram(bytes) === 'stun') {
      this.#counts.stunIn++
      return this.#hook('stun', bytes, from, via)
    }
    // relay control messages (wire.md §2.2 0x50–0x5f, proto-spec/relay.md §3) go to the relay
    if (bytes.length >= 2 && bytes[1]! >= RELAY_TYPE_FIRST && bytes[1]! <= RELAY_TYPE_LAST && classifyDatagram(bytes) === 'dmess') {
      return this.#hook('relay', bytes, from, via)
    }
    if (isTraversalDatagram(bytes)) return this.#hook('traversal', bytes, from, via)
    // one action list for every datagram, emptied after use (a datagram handled inside
    // another's actions, which only a synchronous test transport could cause, gets its own)
    const nested = this.#receiving
    const actions = nested ? [] : this.#recvActions
    this.#receiving = true
    try {
      try {
        this.#manager.receive(bytes, from, this.#now(), actions)
      } catch {
        // A bug, never an expected outcome: the manager drops bad input without throwing. One
        // datagram must not take the node down, so count it (tests assert this stays 0).
        this.#counts.internalErrors++
        return
      }
      this.#apply(actions)
    } finally {
      if (!nested) {
        while (actions.length > 0) actions.pop() // (pop is inlined; a length store is a runtime call)
        this.#receiving = false
      }
    }
  }

  #hook (kind: HookKind, bytes: Uint8Array, from: PeerAddress, via: SideSocket | undefined): void {
    const hook = this.#hooks[kind]
    if (hook === null) {
      this.#counts.noHandler++
      return
    }
    this.#safely(() => { hook(bytes, from, via) })
  }

  /** Out the main socket, or the side socket that carries `to` (traversal.md §6.4). */
  #transmit (to: PeerAddress, bytes: Uint8Array): void {
    this.#counts.packetsOut++
    this.#counts.bytesOut += bytes.length
    const out = this.#side.route(to) ?? this.#transport
    out.send(to, bytes)
  }

  #apply (actions: ManagerAction[]): void {
    for (const a of actions) this.#applyOne(a)
    this.#arm()
  }

  #applyOne (a: ManagerAction): void {
    switch (a.type) {
      case 'send': return this.#transmit(a.to, a.bytes)
      case 'dht':
        this.#counts.dhtIn++
        return this.#hook('dht', a.datagram, a.from, undefined)
      case 'session': {
        const s = this.#wrap(a.session)
        return this.#safely(() => this.emit('session', s))
      }
      case 'connected': return this.#settle(a.dialId, p => { p.resolve(this.#wrap(a.session)) })
      case 'connect-failed': return this.#settle(a.dialId, p => { p.reject(a.error) })
      case 'data': return this.#emitData(this.#wrap(a.session), a.data)
      case 'roamed': {
        const s = this.#wrap(a.session)
        return this.#safely(() => s.emit('roam', a.address))
      }
      case 'rekeyed': {
        const s = this.#wrap(a.session)
        return this.#safely(() => s.emit('rekey'))
      }
      case 'closed': {
        const s = this.#wrap(a.session)
        this.#handles.delete(a.session.id)
        return this.#safely(() => s.emit('close', a.reason))
      }
    }
  }

  #settle (dialId: number, fn: (p: Pending) => void): void {
    const p = this.#pending.get(dialId)
    if (p === undefined) return
    this.#pending.delete(dialId)
    p.cleanup()
    fn(p)
  }

  #wrap (core: SessionCore): Session {
    let s = this.#handles.get(core.id)
    if (s === undefined) {
      s = new Session(core, this)
      if (core.closed === null) this.#handles.set(core.id, s)
    }
    return s
  }

  // the per-packet event: #safely without a closure per datagram
  #emitData (s: Session, data: Uint8Array): void {
    try {
      s.emit('data', data)
    } catch (err) {
      this.#listenerThrew(err)
    }
  }

  /** A listener threw: that is the application's bug, not the network's; report it, carry on. */
  #safely (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.#listenerThrew(err)
    }
  }

  #listenerThrew (err: unknown): void {
    this.#counts.listenerErrors++
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else queueMicrotask(() => { throw err }) // like an EventEmitter without an 'error' listener
  }

  // One timer for the manager's next deadline (session.md §7).
  #arm (): void {
    if (this.#closed) return
    const at = this.#manager.nextDeadline
    if (at >= this.#timerAt) return
    this.#clearTimer()
    if (at === Infinity) return
    this.#timerAt = at
    this.#timer = this.#scheduler.setTimer(Math.max(1, at - this.#now()), () => { this.#fire() })
  }

  #fire (): void {
    this.#timer = null
    this.#timerAt = Infinity
    if (this.#closed) return
    this.#apply(this.#manager.tick(this.#now()))
  }

  #clearTimer (): void {
    if (this.#timer !== null) this.#scheduler.clearTimer(this.#timer)
    this.#timer = null
    this.#timerAt = Infinity
  }
}
