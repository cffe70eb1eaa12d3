// The messaging service: the daemon component that wires the pure cores (outbox scheduler,
// connection manager, request book, inbound gate and fair queue) to the Endpoint, mDNS, the
// store and the event bus (proto-spec/messaging.md). It starts after the Endpoint and before
// IPC; what users do (send, read, accept, block, …) is in actions.ts, on top of this.
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { DaemonEvent, EventBus } from '../runtime/events.js'
import type { Endpoint } from '../transport/endpoint.js'
import type { Identity } from '../crypto/identity.js'
import type { HomePaths } from '../config/home.js'
import type { Store } from '../store/index.js'
import type { TimerHandle } from '../io/scheduler.js'
import type { World } from '../io/world.js'
import { CAP_BATCH, CAP_MESSAGES_WAITING, CAP_STARTS_FIRST, CAP_WAITING_STARTS, PayloadType } from '../wire/constants.js'
import type { ContactRequestPayload, PresencePayload } from '../wire/payloads.js'
import { encodePresenceFrame } from './frames.js'
import { ContactCache } from './contact-cache.js'
import { newCounters, type MessagingContext } from './context.js'
import { PrekeyExchange } from './prekey-exchange.js'
import { RatchetSessions, type PrekeyResponder } from './ratchet-sessions.js'
import { Inbound } from './inbound.js'
import { Outbound } from './outbound.js'
import { PeerConnector, type PeerConnectorOptions } from './peer-connector.js'
import { RequestBook, type RequestOutcome } from './requests.js'
import { RequestFiles } from './request-files.js'
import { TypingTracker } from './signals.js'
import { StateFile, type RememberedAddress } from './state-file.js'
import { StatusWaiters } from './waiters.js'
import { messageJson, requestJson } from './json.js'
import { formatHostPortOrNull } from '../io/address.js'
import { contactJson } from '../app/contact-json.js'
import { checkName } from '../app/contacts.js'
import type { Contact } from '../store/index.js'
import type { PendingRequest } from './requests.js'
import type { PeerLink } from './link.js'
import type { Address, PeerState } from './connections.js'

/**
 * Work that was due at the timer's last run and is due still (an item the cores could not act on
 * then: a dial over the concurrent-dial cap) waits at least this long after that run, so it cannot
 * spin. Work that fell due after the last run (a punch found a path, a lookup ended, a contact was
 * added, the outbox asks for a connection) runs at once: each such hop waited up to this long.
 */
const MIN_TIMER_MS = 20
/** The timer wakes at least this often while requests wait to expire (a timer cannot be armed 30 days ahead). */
const MAX_TIMER_MS = 3600_000
/** Counts of what the request book turned away are written at most this often (and at stop). */
const COUNTS_PERSIST_MS = 1000

export interface MessagingServiceOptions extends PeerConnectorOptions {
  paths: HomePaths
  identity: Identity
  events: EventBus
  log: Logger
  endpoint: () => Endpoint
  store: () => Store
  /** the name we offer in CONTACT_REQUESTs */
  profileName?: () => Promise<string | undefined>
  /** time, randomness and storage (src/io/world.ts) */
  world: World
  /** our current PQXDH prekey bundle, for peers that ask (pqxdh.md §8); none: we answer no request */
  prekeyBundle?: () => Uint8Array
  /** our prekey ring answering session starts; none: every envelope we send is v1 (envelope.md §8.7) */
  prekeys?: PrekeyResponder
  /** test capture of v2 envelopes (RatchetSessions): hashes, session bases, ratchet public keys and numbers, never secrets or bodies */
  envelopeTrace?: (line: string) => void
  /**
   * tests of mixed versions: behave as a node from before the PRESENCE frame (messaging.md §7):
   * PRESENCE only as envelopes (caps BATCH), PRESENCE frames dropped as unknown, and no link-up
   * start rule (envelope.md §8.3): each end starts a session when it has something to send
   */
  legacyPresence?: boolean
}

/** What file transfer (src/files/, which sits on top of messaging) needs from links. */
export interface FileFrameHandler {
  frame: (link: PeerLink, body: Uint8Array) => void
  linkUp: (link: PeerLink) => void
  linkDown: (link: PeerLink) => void
  /** a link closed after a newer one to the same peer took its place */
  linkReplaced: (link: PeerLink) => void
}

export class MessagingService implements Component {
  readonly name = 'messaging'
  readonly ctx: MessagingContext
  readonly requests = new RequestBook()
  readonly typing = new TypingTracker()
  readonly waiters: StatusWaiters
  readonly outbound: Outbound
  readonly inbound: Inbound
  readonly network: PeerConnector
  /** PQXDH bundles asked for and sent over links */
  readonly prekeyExchange: PrekeyExchange
  /** envelope v2: Double Ratchet sessions with contacts (envelope.md §8) */
  readonly sessions: RatchetSessions
  /** contacts our CONTACT_REQUEST has been queued for */
  readonly introduced = new Set<string>()
  readonly remembered = new Map<string, RememberedAddress>()
  presence: 'online' | 'away' = 'online'
  /** file transfer (src/files/), set by the node that has one: FILE frames and link changes go to it */
  fileHandler: FileFrameHandler | null = null
  profileName: string | undefined
  readonly #state: StateFile
  readonly #requestFiles: RequestFiles
  #timer: TimerHandle | null = null
  #countsTimer: TimerHandle | null = null
  #timerAt = Infinity
  /** when the timer last ran (MIN_TIMER_MS) */
  #firedAt = -Infinity
  #unlisten: (() => void) | null = null
  #running = false
  /** links whose peer's link-up PRESENCE came as an envelope (a node from before the frame), answered with ours as one, once */
  readonly #answeredAsEnvelope = new WeakSet<PeerLink>()
  /**
   * The caps of each link's first PRESENCE frame, the peer's and ours: the link-up frames, whose
   * bit 3 (messages waiting) decides who starts a session (envelope.md §8.3); later frames
   * (a presence change, a rekey) never carry it. A link with the peer's is one whose peer sent a
   * PRESENCE frame (messaging.md §7): it reads them, so our PRESENCEs on it go as frames too (#framed)
   */
  readonly #linkUpCaps = new WeakMap<PeerLink, { peer?: number, ours?: number }>()

  constructor (readonly opts: MessagingServiceOptions) {
    const log = opts.log
    this.ctx = {
      store: opts.store,
      identity: opts.identity,
      events: opts.events,
      log,
      scheduler: opts.world.scheduler,
      now: () => opts.world.scheduler.wallNow(),
      random: () => opts.world.random.float(),
      randomBytes: n => opts.world.random.bytes(n),
      sockets: opts.world.sockets,
      contacts: new ContactCache(opts.store),
      counters: newCounters()
    }
    this.waiters = new StatusWaiters(opts.world.scheduler)
    this.#state = new StateFile(`${opts.paths.home}/messaging.state`, opts.identity.dhSecret, err => log.warn({ err: err.message }, 'messaging state'), opts.world.storage, this.ctx.now)
    this.#requestFiles = new RequestFiles(`${opts.paths.home}/requests`, opts.identity.dhSecret, opts.world.storage, err => log.warn({ err: err.message }, 'request file'), this.ctx.now)
    const rearm = (): void => { this.rearm() }
    // the outbox's deadline only matters when it is sooner than the timer's (a send, an ACK and a
    // receipt each change it: this skips the other cores' deadlines, O(peers), on every message)
    const rearmOutbox = (at: number): void => { if (at < this.#timerAt) this.rearm() }
    this.prekeyExchange = new PrekeyExchange(this.ctx, opts.prekeyBundle)
    this.sessions = new RatchetSessions(this.ctx, this.prekeyExchange, opts.prekeys, link => this.#starter(link), opts.envelopeTrace)
    // a blocked peer (messaging.md §6.1): its link carries only our receipts; our outbox waits for the unblock
    const blocked = (fp: string): boolean => this.inbound.gate.isBlocked(fp)
    this.outbound = new Outbound(this.ctx, {
      link: fp => blocked(fp) ? undefined : this.network.link(fp),
      receiptLink: fp => this.network.link(fp),
      wantConnection: fp => { if (!blocked(fp)) this.network.conn.poke(fp, this.ctx.now()) },
      rearm: rearmOutbox,
      inboundBusy: () => this.inbound.busy,
      sessions: this.sessions
    }, this.waiters)
    this.inbound = new Inbound(this.ctx, this.outbound, {
      requests: this.requests,
      typing: this.typing,
      requestSettled: async (fp, outcome) => { await this.#requestSettled(fp, outcome) },
      refusedEarly: () => { this.#persistCountsSoon() },
      presenceOn: (link, p, asFrame) => { this.#presenceFrom(link, p, asFrame) },
      mutualRequest: async (fp, req) => { await this.#mutual(fp, req) },
      prekeyFrame: (link, frame) => { this.prekeyExchange.onFrame(link, frame) },
      fileFrame: (link, body) => {
        if (this.fileHandler === null) this.ctx.counters.malformed++
        else this.fileHandler.frame(link, body)
      },
      sessions: this.sessions,
      sessionLost: link => {
        this.sessions.recover(link, () => {
          this.#sessionReset(link.fingerprint)
          void this.sendPresence(link.fingerprint, true) // the envelope carries the new start (§8.6)
        })
      },
      sessionReset: fp => { this.#sessionReset(fp) }
    }, this.waiters)
    this.network = new PeerConnector(this.ctx, opts, {
      isBlocked: fp => this.inbound.gate.isBlocked(fp) || (!this.ctx.contacts.has(fp) && this.inbound.gate.isCoolingOff(fp, this.ctx.now())),
      // a blocked peer's sessions are taken (what it sends is acknowledged and dropped, §6.1): its outbox then stops resending
      refusesSession: fp => !this.ctx.contacts.has(fp) && !this.inbound.gate.isBlocked(fp) && this.inbound.gate.isCoolingOff(fp, this.ctx.now()),
      linkUp: link => { this.#linkUp(link); this.fileHandler?.linkUp(link) },
      linkDown: link => { this.#linkDown(link); this.fileHandler?.linkDown(link) },
      linkReplaced: link => { this.fileHandler?.linkReplaced(link) },
      frame: (link, bytes) => { this.inbound.onFrame(link, bytes) },
      rekey: link => { if (this.ctx.contacts.has(link.fingerprint)) void this.sendPresence(link.fingerprint) },
      state: (fp, state, address) => { this.#seen(fp, state); this.#emitPresence(fp, state, address) },
      rearm
    })
  }

  get peerCount (): number { return this.network.conn.onlineCount }

  async start (): Promise<void> {
    const store = this.ctx.store()
    const saved = await this.#state.load()
    this.requests.restore({ pending: await this.#requestFiles.loadAll(), declined: saved.declined, tally: saved.tally })
    if (saved.pending.length > 0) await this.#migrate(saved.pending)
    this.#expire()
    for (const fp of saved.introduced) this.introduced.add(fp)
    for (const a of saved.addresses) this.remembered.set(a.fingerprint, a)
    this.inbound.gate.setBlocked((await store.listBlocked()).map(b => b.fingerprint))
    await this.ctx.contacts.load()
    await this.sessions.load()
    await this.outbound.load()
    this.profileName = await this.opts.profileName?.()
    this.#running = true
    this.#unlisten = this.ctx.events.on(ev => { this.#onBusEvent(ev) })
    await this.network.start(this.opts.endpoint())
    const now = this.ctx.now()
    for (const a of this.remembered.values()) {
      if (!this.ctx.contacts.has(a.fingerprint)) continue
      // an address mDNS found in an earlier run is not "mdns" in a run without it (messaging.md §5)
      const source = a.source === 'mdns' && this.opts.mdns === null ? 'inbound' : a.source
      this.network.conn.remember(a.fingerprint, { host: a.host, port: a.port }, source, now)
      this.network.apply(this.network.conn.demand(a.fingerprint, true, now))
    }
    // every contact is wanted: with a DHT, one with no known address is looked up (messaging.md §5.2)
    for (const c of this.ctx.contacts.all()) if (!this.inbound.gate.isBlocked(c.fingerprint)) this.network.apply(this.network.conn.demand(c.fingerprint, true, now))
    // contacts added while no daemon ran still get our CONTACT_REQUEST (messaging.md §3.1)
    for (const c of this.ctx.contacts.all()) if (!this.introduced.has(c.fingerprint)) await this.introduce(c.fingerprint)
    // a request accepted just before a crash (its messages stored, its file not yet gone): finish it
    for (const r of this.requests.list()) if (this.ctx.contacts.has(r.fingerprint)) await this.admitRequest(r.fingerprint)
    this.rearm()
  }

  async stop (): Promise<void> {
    this.#running = false
    this.#unlisten?.()
    if (this.#timer !== null) this.ctx.scheduler.clearTimer(this.#timer)
    this.#timer = null
    if (this.#countsTimer !== null) this.ctx.scheduler.clearTimer(this.#countsTimer)
    this.#countsTimer = null
    this.waiters.close()
    // the batch in progress finishes first: what it holds is persisted before it is receipted
    await this.inbound.stop()
    this.outbound.stop()
    this.sessions.stop()
    await this.network.stop()
    await this.persist().catch(() => {}) // the request book's counts
    await this.#requestFiles.flush()
    await this.#state.flush()
    this.#state.close() // later saves are refused, never written under a wiped key
    this.#requestFiles.close()
  }

  /** Writes declines, the request book's counts, introductions and remembered addresses (messaging.md §10). */
  async persist (): Promise<void> {
    await this.#state.save({
      pending: [], // one file each (messaging.md §10.2)
      declined: this.requests.snapshot(this.ctx.now()).declined,
      tally: { ...this.requests.tally },
      introduced: [...this.introduced],
      addresses: [...this.remembered.values()]
    })
  }

  /** Brings `fp`'s request file in line with the book (written, or removed once the request left it). */
  async persistRequest (fp: string): Promise<void> {
    await this.#requestFiles.save(fp, () => this.requests.get(fp))
  }

  /** How the request book stands and what it turned away (`requests.counts`, messaging.md §3.2). */
  requestCounts (): { pending: number, heldBytes: number, budgetBytes: number } & RequestBook['tally'] {
    return { pending: this.requests.size, heldBytes: this.requests.totalBytes, budgetBytes: this.requests.limits.maxTotalHeldBytes, ...this.requests.tally }
  }

  async #requestSettled (fp: string, outcome: RequestOutcome): Promise<void> {
    this.#removed()
    if (outcome === 'new' || outcome === 'updated') await this.persistRequest(fp)
    else if (outcome === 'duplicate') await this.#requestFiles.settled(fp)
    else if (outcome === 'full') this.#persistCountsSoon()
  }

  /** Requests the book evicted or expired: their files go, clients hear of it, the counts are kept. */
  #removed (): void {
    const gone = this.requests.drainRemoved()
    for (const { request, why } of gone) {
      this.persistRequest(request.fingerprint).catch(() => {})
      this.ctx.events.emit({ type: 'request', action: why, request: requestJson(request) })
    }
    if (gone.length > 0) this.persist().catch(() => {})
  }

  /** The request book's counts changed: written within COUNTS_PERSIST_MS (a flood of refusals is one write a second, not one each). */
  #persistCountsSoon (): void {
    if (this.#countsTimer !== null || !this.#running) return
    this.#countsTimer = this.ctx.scheduler.setTimer(COUNTS_PERSIST_MS, () => {
      this.#countsTimer = null
      this.persist().catch(() => {})
    })
  }

  #expire (): void {
    if (this.requests.expire(this.ctx.now()) > 0) this.#removed()
  }

  /** A version 1 state file held the whole book: each request gets its file, then the state file drops them. */
  async #migrate (pending: PendingRequest[]): Promise<void> {
    const onDisk = new Set(this.requests.list().map(r => r.fingerprint))
    this.requests.restore({ pending: pending.filter(r => !onDisk.has(r.fingerprint)) })
    for (const r of pending) await this.persistRequest(r.fingerprint)
    await this.persist()
    this.ctx.log.info({ requests: pending.length }, 'request book moved to one file per request')
  }

  /** Queues our CONTACT_REQUEST to `fp` (sent when reachable, until receipted). */
  async introduce (fp: string): Promise<void> {
    this.introduced.add(fp)
    if (this.outbound.pendingOfType(fp, PayloadType.CONTACT_REQUEST).length === 0) {
      const id = this.ctx.identity
      const req: ContactRequestPayload = { signPublic: id.signPublic, dhPublic: id.dhPublic, dhSignature: id.dhSignature }
      if (this.profileName !== undefined && this.profileName !== '') req.name = this.profileName
      await this.outbound.enqueue(fp, PayloadType.CONTACT_REQUEST, req, { timestamp: this.ctx.now(), ack: 'receipt' })
    }
    await this.persist()
  }

  /**
   * Our PRESENCE to a linked contact (messaging.md §7): a frame on a link whose peer sent us one
   * (it reads them), else an envelope; `envelope`: an envelope always (one that carries a session
   * start, envelope.md §8.3, §8.6).
   */
  async sendPresence (fp: string, envelope = false): Promise<boolean> {
    const link = envelope || this.opts.legacyPresence === true ? undefined : this.network.link(fp)
    if (link !== undefined && this.#framed(link) && !this.inbound.gate.isBlocked(fp)) return await this.#presenceFrame(link)
    return await this.outbound.sendNow(fp, PayloadType.PRESENCE, this.#ourPresence())
  }

  /** caps: we open BATCH (envelope.md §3.6, §3.7) and follow §8.3's link-up start rule, as revised */
  #ourPresence (): PresencePayload { return { state: this.presence, caps: this.opts.legacyPresence === true ? CAP_BATCH : CAP_BATCH | CAP_STARTS_FIRST | CAP_WAITING_STARTS } }

  /**
   * envelope.md §8.3: who starts the session at this link-up when there is none. Between two
   * ends that follow the revised rule, the one whose link-up frame said it has messages waiting,
   * if the other's did not; else the smaller fingerprint, and the larger waits for it if the
   * peer follows the rule at all (its frame's bit 1). Our link-up frame goes before our bundle
   * and the peer's before its own, so when either end decides (the bundle in hand) both are known.
   */
  #starter (link: PeerLink): 'us' | 'peer' | null {
    const smaller = this.ctx.identity.fingerprint < link.fingerprint
    if (this.opts.legacyPresence === true) return smaller ? 'us' : null
    const { peer = 0, ours = 0 } = this.#linkUpCaps.get(link) ?? {}
    if ((peer & CAP_WAITING_STARTS) !== 0) {
      const theirs = (peer & CAP_MESSAGES_WAITING) !== 0
      const mine = (ours & CAP_MESSAGES_WAITING) !== 0
      if (mine !== theirs) return mine ? 'us' : 'peer'
    }
    return smaller ? 'us' : (peer & CAP_STARTS_FIRST) !== 0 ? 'peer' : null
  }

  /** The peer on `link` sent a PRESENCE frame (messaging.md §7). */
  #framed (link: PeerLink): boolean { return this.#linkUpCaps.get(link)?.peer !== undefined }

  /** `linkUp`: the link-up frame, which says whether we have messages waiting for the peer (envelope.md §8.3). */
  async #presenceFrame (link: PeerLink, linkUp = false): Promise<boolean> {
    try {
      this.ctx.counters.presenceFramesOut++
      const p = this.#ourPresence()
      if (linkUp) {
        const caps = (p.caps ?? 0) | (this.outbound.waiting(link.fingerprint) ? CAP_MESSAGES_WAITING : 0)
        const seen = this.#linkUpCaps.get(link)
        if (seen === undefined) this.#linkUpCaps.set(link, { ours: caps })
        else seen.ours ??= caps
        p.caps = caps
      }
      await link.send(encodePresenceFrame(p))
      return true
    } catch {
      this.ctx.counters.sendFailures++
      return false
    }
  }

  /**
   * A contact's PRESENCE on `link`, as a frame or an envelope (messaging.md §7). A link whose
   * peer sends its link-up PRESENCE as an envelope has a node from before the frame at its other
   * end, which dropped ours (an unknown frame type): it gets ours as an envelope, once per link,
   * so it learns our caps.
   */
  #presenceFrom (link: PeerLink, p: PresencePayload, asFrame: boolean): void {
    const fp = link.fingerprint
    if (asFrame && this.opts.legacyPresence === true) { this.ctx.counters.malformed++; return } // a frame type it does not know
    this.outbound.peerCaps(fp, p.caps ?? 0)
    if (asFrame) {
      const seen = this.#linkUpCaps.get(link)
      if (seen === undefined) this.#linkUpCaps.set(link, { peer: p.caps ?? 0 })
      else seen.peer ??= p.caps ?? 0
    }
    else if (!this.#framed(link) && !this.#answeredAsEnvelope.has(link) && this.network.link(fp) === link) {
      this.#answeredAsEnvelope.add(link)
      void this.sendPresence(fp, true)
    }
    this.network.apply(this.network.conn.presence(fp, p.state, this.ctx.now()))
  }

  /** One timer for every core's next deadline. */
  rearm (): void {
    if (!this.#running) return
    const expiry = this.requests.size === 0 ? Infinity : Math.min(this.requests.nextExpiry, this.ctx.now() + MAX_TIMER_MS)
    const at = Math.min(this.outbound.nextDeadline, this.network.nextDeadline, this.typing.nextDeadline, expiry)
    if (at === Infinity || at >= this.#timerAt) return
    if (this.#timer !== null) this.ctx.scheduler.clearTimer(this.#timer)
    this.#timerAt = at
    const now = this.ctx.now()
    const floor = at > this.#firedAt ? 0 : this.#firedAt + MIN_TIMER_MS - now
    this.#timer = this.ctx.scheduler.setTimer(Math.max(0, at - now, floor), () => { this.#fire() })
  }

  #fire (): void {
    this.#timer = null
    this.#timerAt = Infinity
    if (!this.#running) return
    const now = this.ctx.now()
    this.#firedAt = now
    for (const fp of this.typing.expire(now)) this.ctx.events.emit({ type: 'typing', peer: fp, typing: false })
    this.outbound.tick(now)
    this.network.tick(now)
    this.inbound.gate.prune(now)
    this.#expire()
    this.rearm()
  }

  #linkUp (link: PeerLink): void {
    const fp = link.fingerprint
    const now = this.ctx.now()
    const c = this.ctx.contacts.get(fp)
    // our PRESENCE first, as a frame: its caps reach the contact before our bundle does, so it
    // knows whether to wait for our session start (envelope.md §8.3); a node from before the
    // frame drops it and sends its own as an envelope, answered with ours as one (#presenceFrom)
    if (c !== undefined && !this.inbound.gate.isBlocked(fp)) void (this.opts.legacyPresence === true ? this.sendPresence(fp, true) : this.#presenceFrame(link, true))
    // a contact we hold no session with gets our bundle unasked (pqxdh.md §8.2)
    if (c !== undefined && !this.inbound.gate.isBlocked(fp) && this.sessions.activeBase(fp) === null) this.prekeyExchange.offer(link)
    // a contact that may open v2 is asked for its bundle first, so the outbox starts the session
    // (envelope.md §8.7); the larger fingerprint's outbox then waits for the smaller's start (§8.3)
    const gate = c === undefined ? null : this.sessions.gate(link)
    if (gate !== null) {
      if (!this.inbound.gate.isBlocked(fp)) this.outbound.early(fp, link)
      void gate.then(() => { if (this.#running && this.network.link(fp) === link) this.#outboxUp(link) })
    } else {
      this.#outboxUp(link)
    }
    if (c === undefined || this.inbound.gate.isBlocked(fp)) return // a blocked contact is not remembered, redialled or told our presence
    // a relayed link's address is a relay port that dies with its path: redialled after a restart it
    // would hold the contact's reconnect for a whole dial timeout before the DHT lookup that punches
    // and picks a relay anew (traversal.md §7.5); so it is not remembered, and replaces what was
    if (this.network.relayed(link)) this.#forget(fp, now)
    else this.#remember(fp, link.address, now)
    this.ctx.store().touchLastSeen(fp, now).catch(() => {})
    if (c.signPublic === undefined) void this.#learnKeys(fp, link.identity)
  }

  /**
   * The outbox goes out on `link`. Then, with no session yet between us, the smaller fingerprint
   * starts one even if the outbox had nothing to send (envelope.md §8.3): a PRESENCE envelope
   * carries it, so the larger one, waiting for it, need not start its own.
   */
  #outboxUp (link: PeerLink): void {
    const fp = link.fingerprint
    this.outbound.peerUp(fp, link)
    if (this.opts.legacyPresence !== true && this.ctx.contacts.has(fp) && !this.inbound.gate.isBlocked(fp) && this.sessions.startsFirst(link)) void this.sendPresence(fp, true)
  }

  /**
   * A session with a contact started anew because one side lost its state (envelope.md §8.6):
   * the identity is the same, but messages of the old session that the lost side never got are
   * sent again on the new one. Clients show it (ipc.md §11: `contact` event, action `session-reset`).
   */
  #sessionReset (fp: string): void {
    const c = this.ctx.contacts.get(fp)
    if (c !== undefined) this.ctx.events.emit({ type: 'contact', action: 'session-reset', contact: contactJson(c) })
  }

  #linkDown (link: PeerLink): void {
    const fp = link.fingerprint
    this.outbound.peerDown(fp)
    if (this.typing.set(fp, false, this.ctx.now())) this.ctx.events.emit({ type: 'typing', peer: fp, typing: false })
  }

  #remember (fp: string, a: Address, now: number): void {
    const old = this.remembered.get(fp)
    if (old !== undefined && old.host === a.host && old.port === a.port) return
    const source = this.network.conn.list().find(p => p.fingerprint === fp)?.source ?? 'inbound'
    this.remembered.set(fp, { fingerprint: fp, host: a.host, port: a.port, source })
    this.network.apply(this.network.conn.demand(fp, true, now))
    this.persist().catch(() => {})
  }

  /** The contact is wanted still, but where it was is no longer worth dialling (a relay port). */
  #forget (fp: string, now: number): void {
    this.network.apply(this.network.conn.demand(fp, true, now))
    if (!this.remembered.delete(fp)) return
    this.persist().catch(() => {})
  }

  /**
   * A contact's "last seen" (the store's lastSeen, ms): when its session came up and when it
   * ended, so an offline contact shows when it was last reachable (`dmess peers`, presence events).
   */
  #seen (fp: string, state: PeerState): void {
    const c = this.ctx.contacts.get(fp)
    if (c === undefined || state === 'connecting' || this.inbound.gate.isBlocked(fp)) return
    const now = this.ctx.now()
    if (c.lastSeen !== undefined && c.lastSeen >= now) return
    this.ctx.contacts.set({ ...c, lastSeen: now })
    this.ctx.store().touchLastSeen(fp, now).catch(err => {
      this.ctx.log.warn({ peer: fp, err: (err as Error).message }, 'cannot record last seen')
    })
  }

  #emitPresence (fp: string, state: PeerState, address: Address | null): void {
    const c = this.ctx.contacts.get(fp)
    this.ctx.events.emit({ type: 'presence', peer: fp, state, address: formatHostPortOrNull(address), contact: c !== undefined, name: c?.name ?? null, lastSeen: c?.lastSeen ?? null })
  }

  /** A contact's keys, learned from the session that proved them (it was added by fingerprint). */
  async #learnKeys (fp: string, identity: PeerLink['identity']): Promise<void> {
    const c = await this.ctx.contacts.refresh(fp)
    if (c === undefined || c.signPublic !== undefined) return
    const next = { ...c, signPublic: identity.signPublic, dhPublic: identity.dhPublic, dhSignature: identity.dhSignature }
    await this.ctx.store().putContact(next)
    this.ctx.contacts.set(next)
    this.ctx.events.emit({ type: 'contact', action: 'updated', contact: contactJson(next) })
  }

  /** A contact sent us a CONTACT_REQUEST: both have added each other, no request to show. */
  async #mutual (fp: string, req: ContactRequestPayload): Promise<void> {
    await this.#learnKeys(fp, req)
    const c = this.ctx.contacts.get(fp)
    if (c !== undefined && c.name === undefined && req.name !== undefined && usableName(req.name) !== undefined) {
      await this.ctx.store().renameContact(fp, req.name)
      await this.ctx.contacts.refresh(fp)
    }
    // ours to them is now redundant: they have us (that is why they wrote)
    for (const id of this.outbound.pendingOfType(fp, PayloadType.CONTACT_REQUEST)) this.outbound.apply(this.outbound.scheduler.acknowledged(id))
    if (!this.introduced.has(fp)) {
      this.introduced.add(fp)
      await this.persist()
    }
  }

  /** Contacts change through IPC methods of other files: keep the cache and the network in step. */
  #onBusEvent (ev: DaemonEvent): void {
    if (ev.type !== 'contact' || !this.#running) return
    const fp = (ev.contact as { fingerprint?: unknown } | null | undefined)?.fingerprint
    if (typeof fp !== 'string') return
    this.ctx.contacts.refresh(fp).then(async c => {
      if (ev.action === 'added' || c === undefined) this.network.contactsChanged() // LAN discovery recognises whom we know (discovery.md §2.4)
      if (c === undefined) {
        // removed: if added again, we introduce ourselves again, on a new session
        this.sessions.forget(fp)
        this.network.demand(fp, false)
        if (this.introduced.delete(fp)) await this.persist()
        return
      }
      if (ev.action === 'added') await this.onContactAdded(fp)
    }).catch(err => this.ctx.log.warn({ err: (err as Error).message }, 'contact refresh failed'))
  }

  /**
   * A new contact (added by the user, or by accepting a request). If they had written to us as a
   * stranger, adding them accepts that request: its messages become the conversation.
   */
  async onContactAdded (fp: string): Promise<void> {
    // a link that was up before the add came up as a stranger's: it is taken up again as a
    // contact's below. One that comes up during the writes below is a contact's already (the
    // cache has it): taken up twice, its outbox would go out twice, a second attempt of each entry.
    const before = this.network.link(fp)
    if (this.requests.get(fp) !== undefined) await this.admitRequest(fp)
    // the lookup (or dial) starts while our CONTACT_REQUEST is written: the outbox sends it once a link is up
    this.network.demand(fp, true)
    if (!this.introduced.has(fp)) await this.introduce(fp)
    const link = this.network.link(fp)
    if (link !== undefined && link === before) this.#linkUp(link)
    this.rearm()
  }

  /**
   * Turns a pending request into a contact with a conversation: the contact record (keys from
   * the request), the held messages stored in the order they arrived (messaging.md §3.3).
   * Returns the contact and how many messages were moved, or undefined if nothing was pending.
   */
  async admitRequest (fp: string): Promise<{ contact: Contact, messages: number } | undefined> {
    const pending = this.requests.get(fp)
    if (pending === undefined) return undefined
    const store = this.ctx.store()
    const existing = await store.getContact(fp)
    const name = existing?.name ?? (pending.name === undefined ? undefined : usableName(pending.name))
    const contact: Contact = {
      verified: false, addedAt: this.ctx.now(), ...existing, fingerprint: fp, ...pending.identity, ...(name === undefined ? {} : { name })
    }
    await store.putContact(contact)
    // from here to addMessages in one turn: a message arriving meanwhile is either held (and
    // moved with the others) or stored after them as a contact's message, never lost or ahead
    const r = this.requests.accept(fp)
    if (r === undefined) return undefined
    this.ctx.contacts.set(contact)
    const adding = store.addMessages(r.held.map(h => ({
      id: h.id, peer: fp, direction: 'in' as const, text: h.text, timestamp: h.timestamp, receivedAt: h.receivedAt, status: 'received' as const, read: false
    })))
    const added = await adding
    // only now, with the messages in the store, does the request's file go (a crash before: start() finishes this)
    await this.persistRequest(fp)
    await this.persist()
    this.ctx.events.emit({ type: 'request', action: 'accepted', request: requestJson(r) })
    if (existing === undefined) this.ctx.events.emit({ type: 'contact', action: 'added', contact: contactJson(contact) })
    for (const a of added) if (!a.duplicate) this.ctx.events.emit({ type: 'message', peer: fp, message: messageJson(a.message) })
    return { contact, messages: added.filter(a => !a.duplicate).length }
  }
}

/** A name a stranger chose for themselves, if it is acceptable as a contact name. */
function usableName (name: string): string | undefined {
  try {
    return checkName(name)
  } catch {
    return undefined
  }
}
