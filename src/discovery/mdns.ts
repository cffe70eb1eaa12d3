// MdnsDiscovery: finds dmess nodes on the LAN with mDNS/DNS-SD and announces ours
// (proto-spec/discovery.md). The records, parsing and cache are pure (mdns-records.ts,
// mdns-parse.ts, mdns-cache.ts); this file owns the socket, and takes its timers, clock and
// randomness from the node's seam (src/io/scheduler.ts) like every other part of a node.
// Everything it reports is a hint: a peer is who it says only after a Noise handshake (§6).
// It announces no fingerprint: a rotating token that only those who know ours can recognise,
// under names that are random per window (§2.4, token.ts); and it recognises the tokens of the
// fingerprints it is given (our contacts), so strangers' nodes never become peers here.
import { EventEmitter } from 'node:events'
import { networkInterfaces as osNetworkInterfaces } from 'node:os'
import type { Packet } from 'dns-packet'
import {
  ANNOUNCE_COUNT, ANNOUNCE_FIRST_INTERVAL_MS, FIRST_QUERY_DELAY_MIN_MS, FIRST_QUERY_DELAY_MAX_MS,
  QUERY_INTERVAL_MIN_MS, QUERY_INTERVAL_MAX_MS, INTERFACE_POLL_MS, LABEL_BYTES, TOKEN_WINDOW_MS
} from './constants.js'
import { TokenBook, discoveryToken, tokenKey, tokenWindow } from './token.js'
import {
  type LocalService, type LocalRecords, localRecords, allRecords, announcement, goodbye, browseQuery,
  checkLocalService, instanceName, hostName, normalizeHostLabel, defaultHostLabel
} from './mdns-records.js'
import { type DropReason, type Source, DROP_REASONS, checkResponseHeader, checkQueryHeader, extractObservations } from './mdns-parse.js'
import { PeerCache, type DiscoveredPeer, type LostPeer, type PeerChange } from './mdns-cache.js'
import { type Link, type InterfaceTable, readLinks, activeLinks, linkFor, sendAddress, linkAddresses, linksKey } from './links.js'
import { MdnsSocket, type MdnsFactory } from './mdns-socket.js'
import { Responder } from './responder.js'
import { isCanonicalFingerprint } from '../crypto/fingerprint.js'
import { randomBytes } from '../crypto/primitives.js'
import { WIRE_VERSION } from '../wire/constants.js'
import { errors } from '../errors.js'
import { realScheduler, type Scheduler, type TimerHandle } from '../io/scheduler.js'
import type { DatagramSockets } from '../io/datagram.js'
import { udpSockets } from '../io/udp.js'

export interface MdnsDiscoveryOptions {
  /** Our fingerprint (canonical form): never published; our TXT `t` token is made from it (§2.4). */
  fingerprint: string
  /** The fingerprints whose nodes we look for (our contacts); read whenever a TXT arrives. Default: none. */
  contacts?: () => Iterable<string>
  /** Length of a token window (ms); default TOKEN_WINDOW_MS. Every node on the link must use the same. */
  tokenWindowMs?: number
  /** Our dmess UDP port: published in SRV. */
  port: number
  /** IPv4 address of the one interface to use (e.g. '127.0.0.1'); default: every interface. */
  interface?: string
  /** Address the mDNS socket binds to; with `interface` 127.0.0.1 use '0.0.0.0': on Linux a socket bound to a unicast address never receives what is sent to the multicast group. */
  bind?: string | false
  /** Our host label (`name` or `name.local`), kept across windows (so linkable); default `dmess-<label>`, new each window. */
  hostname?: string
  /** One TTL in seconds for our records; default 120 for SRV/A/AAAA, 4500 for PTR/TXT. */
  ttl?: number
  /** Wire protocol version we announce in TXT `v`; default WIRE_VERSION. */
  protocolVersion?: number
  /** The first window's instance label (16 hex characters); default random, and random for every later window. */
  label?: string
  /** Timers; default real time. */
  scheduler?: Scheduler
  /** Wall clock in ms (lastSeen, TTLs, token windows other nodes share); default the scheduler's wallNow. */
  now?: () => number
  /** [0, 1) for delays and jitter; default Math.random (timing only, nothing secret). */
  random?: () => number
  /** Where the mDNS socket comes from (src/io/datagram.ts openMulticast); default the real UDP sockets. */
  sockets?: DatagramSockets
  /** Builds the multicast-dns instance; default the multicast-dns package. */
  mdnsFactory?: MdnsFactory
  /** Interface table source, polled for changes; default os.networkInterfaces. */
  networkInterfaces?: () => InterfaceTable
  /** How often to poll it (ms); default INTERFACE_POLL_MS. */
  interfacePollMs?: number
  /** Debug logging (pino-compatible); default silent. */
  logger?: { debug: (obj: object, msg?: string) => void }
}

export interface DiscoveryStats {
  /** Datagrams decoded. */
  received: number
  announcements: number
  queries: number
  responses: number
  goodbyes: number
  /** Socket warnings (membership or send failures). */
  warnings: number
  drops: Record<DropReason, number>
  /** Instances in the cache (complete or not). */
  cached: number
}

export interface MdnsDiscoveryEvents {
  peer: [DiscoveredPeer]
  'peer-lost': [LostPeer]
  warning: [Error]
}

export class MdnsDiscovery extends EventEmitter<MdnsDiscoveryEvents> {
  private readonly opts: MdnsDiscoveryOptions
  private svc: LocalService
  private readonly key: Uint8Array
  private readonly windowMs: number
  private readonly book: TokenBook
  private rotateTimer: TimerHandle | null = null
  private readonly now: () => number
  private readonly random: () => number
  private readonly cache: PeerCache
  private readonly counters = { received: 0, announcements: 0, queries: 0, responses: 0, goodbyes: 0, warnings: 0 }
  private readonly drops = Object.fromEntries(DROP_REASONS.map(r => [r, 0])) as Record<DropReason, number>
  private socket: MdnsSocket | null = null
  private responder: Responder | null = null
  private links: Link[] = []
  private linksSeen = ''
  private readonly timers = new Set<TimerHandle>()
  private readonly scheduler: Scheduler
  private cacheTimer: TimerHandle | null = null
  private queryTimer: TimerHandle | null = null
  private announceTimer: TimerHandle | null = null
  private pollTimer: TimerHandle | null = null
  private queryInterval = QUERY_INTERVAL_MIN_MS
  private state: 'idle' | 'starting' | 'running' | 'stopping' = 'idle'
  private starting: Promise<void> | null = null

  constructor (opts: MdnsDiscoveryOptions) {
    super()
    if (!isCanonicalFingerprint(opts.fingerprint)) throw errors.BAD_FINGERPRINT(`not a canonical fingerprint: '${String(opts.fingerprint)}'`)
    this.opts = opts
    this.scheduler = opts.scheduler ?? realScheduler
    this.now = opts.now ?? this.scheduler.wallNow
    this.random = opts.random ?? Math.random
    this.key = tokenKey(opts.fingerprint)
    this.windowMs = opts.tokenWindowMs ?? TOKEN_WINDOW_MS
    this.book = new TokenBook(this.windowMs)
    this.svc = this.service(opts.label)
    this.cache = new PeerCache({ ownFingerprint: opts.fingerprint, ownInstance: this.instanceName, ownHost: this.hostName, random: this.random })
  }

  /** This window's instance name: a random label, nothing about our identity. */
  get instanceName (): string { return instanceName(this.svc) }
  get hostName (): string { return hostName(this.svc) }

  /** What we announce in the current window: its token, a fresh random label (§2.4). */
  private service (label = Buffer.from(randomBytes(LABEL_BYTES)).toString('hex')): LocalService {
    const svc: LocalService = {
      token: discoveryToken(this.key, tokenWindow(this.now(), this.windowMs)),
      label,
      port: this.opts.port,
      protocolVersion: this.opts.protocolVersion ?? WIRE_VERSION,
      hostLabel: this.opts.hostname === undefined ? defaultHostLabel(label) : normalizeHostLabel(this.opts.hostname),
      ttl: this.opts.ttl
    }
    checkLocalService(svc)
    return svc
  }

  /** Whose token this is (heard at `atMs`, default now): ours (another node with our identity) or a contact's, else null. */
  private recognise (token: string, atMs = this.now()): string | null {
    const known = [this.opts.fingerprint, ...(this.opts.contacts?.() ?? [])]
    return this.book.recognise(token, atMs, known)
  }

  /** Opens the socket, announces us (RFC 6762 §8.3) and starts browsing (§5.2). */
  async start (): Promise<void> {
    if (this.state !== 'idle') throw errors.BAD_ARGUMENT(`MdnsDiscovery.start() while ${this.state}`)
    this.state = 'starting'
    this.starting = this.open()
    try {
      await this.starting
    } finally {
      this.starting = null
    }
  }

  private async open (): Promise<void> {
    let socket: MdnsSocket | null = null
    try {
      socket = new MdnsSocket(
        { sockets: this.opts.sockets ?? udpSockets, interface: this.opts.interface, bind: this.opts.bind, factory: this.opts.mdnsFactory },
        { packet: (p, r) => this.onPacket(p, r), warning: (e) => this.onSocketWarning(e) })
      this.socket = socket
      await socket.ready()
    } catch (err) {
      this.state = 'idle'
      this.socket = null
      await socket?.close().catch(() => {})
      throw err
    }
    this.responder = new Responder({
      socket, now: this.now, random: this.random, later: (fn, ms) => this.later(fn, ms), onSent: () => { this.counters.responses++ },
      onError: (err) => this.onWarning(err),
      onLimited: () => { this.drops['rate-limited']++ }
    })
    this.refreshLinks()
    this.state = 'running'
    this.startAnnouncing()
    this.startQuerying()
    this.scheduleRotation()
    this.scheduleCache() // after a restart, what was cached still expires on time
    const pollMs = this.opts.interfacePollMs ?? INTERFACE_POLL_MS
    const poll = (): void => { this.pollTimer = this.later(() => { this.pollInterfaces(); poll() }, pollMs) }
    poll()
  }

  /** Says goodbye (TTL 0, RFC 6762 §10.1), stops every timer and closes the socket. */
  async stop (): Promise<void> {
    if (this.starting !== null) await this.starting.catch(() => {})
    if (this.state !== 'running') return
    this.state = 'stopping'
    this.clearTimers()
    const socket = this.socket
    this.socket = null
    this.responder = null
    if (socket !== null) {
      await Promise.all(this.links.map(l => this.sendGoodbye(socket, l))).catch(err => this.onWarning(err as Error))
      await socket.close()
    }
    this.state = 'idle'
  }

  /** The peers currently known (complete, unexpired), each a hint to be handshaken. */
  peers (): DiscoveredPeer[] {
    return this.cache.peers()
  }

  stats (): DiscoveryStats {
    return { ...this.counters, drops: { ...this.drops }, cached: this.cache.size }
  }

  /** Browses again now and restarts the query backoff (e.g. the user asked for a refresh). */
  requery (): void {
    if (this.state === 'running') this.startQuerying(0)
  }

  /**
   * The contact list changed (discovery.md §2.4): the tokens we recognise are derived again, a
   * node already cached under a newly known token becomes a peer now (one gone from the list
   * stops being one), and we browse now, so a contact whose records we had not heard answers at
   * once instead of at its next announcement.
   */
  contactsChanged (): void {
    if (this.state !== 'running') return
    this.emitChanges(this.cache.reidentify((token, heardAt) => this.recognise(token, heardAt)))
    this.scheduleCache()
    this.startQuerying(0)
  }

  // ---- receiving ----

  private onPacket (packet: Packet, rinfo: Source): void {
    if (this.state !== 'running') return
    this.counters.received++
    const link = linkFor(rinfo.address, this.links)
    if (link === null) return this.drop('off-link', rinfo)
    if (packet.type === 'query') this.onQuery(packet, rinfo, link)
    else this.onResponse(packet, rinfo)
  }

  private onQuery (packet: Packet, rinfo: Source, link: Link): void {
    const bad = checkQueryHeader(packet)
    if (bad !== null) return this.drop(bad, rinfo)
    this.responder?.answer(packet, rinfo, link, this.recordsOn(link))
  }

  private onResponse (packet: Packet, rinfo: Source): void {
    const bad = checkResponseHeader(packet, rinfo)
    if (bad !== null) return this.drop(bad, rinfo)
    const { observations, drops } = extractObservations(packet, rinfo, h => this.cache.knowsHost(h), token => this.recognise(token))
    const result = this.cache.ingest(observations, this.now())
    for (const d of [...drops, ...result.drops]) this.drop(d, rinfo)
    this.emitChanges(result.changes)
    this.scheduleCache()
  }

  private drop (reason: DropReason, rinfo: Source): void {
    this.drops[reason]++
    this.opts.logger?.debug({ reason, from: `${rinfo.address}:${rinfo.port}` }, 'mdns drop')
  }

  /** Socket trouble (it has a `syscall`) is a warning; anything else is a datagram that did not decode. */
  private onSocketWarning (err: Error): void {
    if ((err as { syscall?: string }).syscall !== undefined) return this.onWarning(err)
    this.drops.undecodable++
    this.opts.logger?.debug({ reason: 'undecodable', err: err.message }, 'mdns drop')
  }

  private onWarning (err: Error): void {
    this.counters.warnings++
    this.opts.logger?.debug({ err: err.message }, 'mdns warning')
    this.emit('warning', err)
  }

  private emitChanges (changes: PeerChange[]): void {
    for (const c of changes) {
      if (c.type === 'peer') this.emit('peer', c.peer)
      else this.emit('peer-lost', c.lost)
    }
  }

  // ---- cache maintenance: expiry and refresh queries (RFC 6762 §5.2, §10) ----

  private scheduleCache (): void {
    if (this.cacheTimer !== null) this.forget(this.cacheTimer)
    this.cacheTimer = null
    const at = this.cache.nextDeadline()
    if (at === null || this.state !== 'running') return
    this.cacheTimer = this.later(() => { this.cacheTimer = null; this.runCache() }, Math.max(0, at - this.now()))
  }

  private runCache (): void {
    const now = this.now()
    this.emitChanges(this.cache.expire(now))
    const questions = this.cache.dueQuestions(now)
    if (questions.length > 0) this.multicastAll(() => ({ type: 'query', id: 0, flags: 0, questions }), 'queries')
    this.scheduleCache()
  }

  // ---- announcing (RFC 6762 §8.3) and browsing (§5.2) ----

  private startAnnouncing (): void {
    if (this.announceTimer !== null) this.forget(this.announceTimer)
    const step = (n: number, interval: number): void => {
      this.announceTimer = null
      if (this.state !== 'running') return
      this.multicastAll(l => announcement(this.recordsOn(l)), 'announcements', l => this.responder?.noteMulticast(l, allRecords(this.recordsOn(l))))
      if (n + 1 < ANNOUNCE_COUNT) this.announceTimer = this.later(() => step(n + 1, interval * 2), interval)
    }
    step(0, ANNOUNCE_FIRST_INTERVAL_MS)
  }

  private startQuerying (firstDelayMs?: number): void {
    if (this.queryTimer !== null) this.forget(this.queryTimer)
    this.queryInterval = QUERY_INTERVAL_MIN_MS
    const first = firstDelayMs ?? FIRST_QUERY_DELAY_MIN_MS + this.random() * (FIRST_QUERY_DELAY_MAX_MS - FIRST_QUERY_DELAY_MIN_MS)
    this.queryTimer = this.later(() => this.browse(), first)
  }

  private browse (): void {
    this.queryTimer = null
    if (this.state !== 'running') return
    this.multicastAll(() => browseQuery(this.cache.knownAnswers(this.now())), 'queries')
    const wait = this.queryInterval
    this.queryInterval = Math.min(this.queryInterval * 2, QUERY_INTERVAL_MAX_MS)
    this.queryTimer = this.later(() => this.browse(), wait)
  }

  // ---- token windows (discovery.md §2.4) ----

  private scheduleRotation (): void {
    const next = (tokenWindow(this.now(), this.windowMs) + 1) * this.windowMs
    this.rotateTimer = this.later(() => { this.rotateTimer = null; this.rotate() }, Math.max(0, next - this.now()))
  }

  /** A new window: goodbye to the old names, then the new token under new random names. */
  private rotate (): void {
    if (this.state !== 'running' || this.socket === null) return
    const socket = this.socket
    const old = this.svc
    this.svc = this.service()
    this.cache.ownNames(this.instanceName, this.hostName)
    const keepAddresses = old.hostLabel === this.svc.hostLabel // a fixed `hostname`: its addresses stay
    // the new names first, then the goodbye (sends leave in call order): a contact holds the new
    // instance before the old one goes, so it never sees us lost however late it reads (discovery.md §3.3)
    this.startAnnouncing()
    for (const link of this.links) {
      const r = localRecords(old, linkAddresses(link))
      this.counters.goodbyes++
      socket.multicast(goodbye([r.ptr, r.srv, r.txt, ...(keepAddresses ? [] : r.addresses)]), sendAddress(link))
        .catch(err => this.onWarning(err as Error))
    }
    this.scheduleRotation()
  }

  private async sendGoodbye (socket: MdnsSocket, link: Link): Promise<void> {
    const r = this.recordsOn(link)
    // the enumeration PTR is shared with every other dmess node on the link: no goodbye for it
    const answers = [r.ptr, r.srv, r.txt, ...r.addresses]
    this.counters.goodbyes++
    await socket.multicast(goodbye(answers), sendAddress(link))
  }

  private multicastAll (build: (l: Link) => Packet, counter: 'announcements' | 'queries', after?: (l: Link) => void): void {
    const socket = this.socket
    if (socket === null) return
    for (const link of this.links) {
      this.counters[counter]++
      socket.multicast(build(link), sendAddress(link)).catch(err => this.onWarning(err as Error))
      after?.(link)
    }
  }

  private recordsOn (link: Link): LocalRecords {
    return localRecords(this.svc, linkAddresses(link))
  }

  // ---- interfaces (RFC 6762 §8.3: announce again when connectivity changes) ----

  private refreshLinks (): boolean {
    const table = (this.opts.networkInterfaces ?? osNetworkInterfaces)()
    const links = activeLinks(readLinks(table), this.opts.interface)
    const key = linksKey(links)
    const changed = key !== this.linksSeen
    const before = this.links
    this.links = links
    this.linksSeen = key
    if (changed && this.socket !== null && before.length > 0) this.goodbyeRemoved(this.socket, before, links)
    return changed
  }

  /** Addresses we announced on a link that is still there but no longer holds them: TTL 0. */
  private goodbyeRemoved (socket: MdnsSocket, before: Link[], after: Link[]): void {
    for (const old of before) {
      const now = after.find(l => l.name === old.name)
      if (now === undefined) continue
      const kept = new Set([...linkAddresses(now).ipv4, ...linkAddresses(now).ipv6])
      const gone = this.recordsOn(old).addresses.filter(a => !kept.has(String((a as { data?: unknown }).data)))
      if (gone.length === 0) continue
      this.counters.goodbyes++
      socket.multicast(goodbye(gone), sendAddress(now)).catch(err => this.onWarning(err as Error))
    }
  }

  private pollInterfaces (): void {
    if (this.state !== 'running') return
    let changed: boolean
    try {
      changed = this.refreshLinks()
    } catch (err) {
      return this.onWarning(err as Error) // the interface table could not be read this time
    }
    if (!changed) return
    this.opts.logger?.debug({ links: this.linksSeen }, 'mdns interfaces changed')
    this.socket?.updateMemberships()
    this.startAnnouncing()
    this.startQuerying()
  }

  // ---- timers ----

  /** A timer of the scheduler's (real ones never keep the process alive), dropped by clearTimers. */
  private later (fn: () => void, ms: number): TimerHandle {
    const t = this.scheduler.setTimer(ms, () => { this.timers.delete(t); fn() })
    this.timers.add(t)
    return t
  }

  private forget (t: TimerHandle): void {
    this.scheduler.clearTimer(t)
    this.timers.delete(t)
  }

  private clearTimers (): void {
    for (const t of this.timers) this.scheduler.clearTimer(t)
    this.timers.clear()
    this.cacheTimer = this.queryTimer = this.announceTimer = this.rotateTimer = this.pollTimer = null
  }
}
