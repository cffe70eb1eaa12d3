// The peer connector, the messaging service's side of the network (proto-spec/messaging.md §5):
// the I/O adapter of the ConnectionManager core (connections.ts). It carries out the
// ConnectionManager's dials through the Endpoint (Noise XX: a static or discovered peer's key
// may be unknown; a discovered one's fingerprint is still checked; IK with the key from a DHT
// presence record) and its DHT lookups (§5.2), turns sessions — dialled or inbound — into
// PeerLinks, feeds mDNS discoveries in, and refuses sessions from blocked peers.
import { isIPv6 } from 'node:net'
import type { Endpoint } from '../transport/endpoint.js'
import type { Session } from '../transport/session.js'
import { MdnsDiscovery, type MdnsDiscoveryOptions } from '../discovery/index.js'
import type { DiscoveredPeer } from '../discovery/index.js'
import { ConnectionManager, type Address, type ConnAction, type FoundPresence, type PeerPath, type PeerState, type PunchInfo } from './connections.js'
import { PresenceLookups, type LookupPresence } from './dht-lookups.js'
import { PeerLink } from './link.js'
import type { PeerJson } from './json.js'
import { formatHostPort, formatHostPortOrNull } from '../io/address.js'
import type { MessagingContext } from './context.js'

/** A dial gives up after this long (handshake retransmissions at 1, 2, 4, 8 s fit in it). */
export const DIAL_TIMEOUT_MS = 20_000

export interface PeerConnectorOptions {
  /** --peer entries; one with a fingerprint can be answered (wire.md §4.1.1) */
  staticPeers: Array<Address & { fingerprint?: string }>
  /** options for LAN discovery, or null for none (--no-mdns) */
  mdns: Pick<MdnsDiscoveryOptions, 'interface' | 'bind'> | null
  /** where the DHT says a fingerprint is (the daemon's DhtComponent.lookup), or none */
  lookupPresence?: LookupPresence | null
  /**
   * Start a hole punch to a contact whose record shows no directly reachable address
   * (proto-spec/traversal.md §5); its result comes back through PeerConnector.punched(). None: no punching.
   */
  punch?: ((fingerprint: string, dhPublic: Uint8Array, info: PunchInfo) => void) | null
  /** the relay ("host:port") a session with `fingerprint` at `address` runs through, or null: direct (traversal.md §7.4) */
  relayedVia?: (fingerprint: string, address: Address) => string | null
  /** each link's send buffer in bytes (default the reliable session's, 8 MiB); tests set a small one to fill it */
  linkSendBufferBytes?: number
}

export interface PeerConnectorHooks {
  /** never dialled, looked up or taken from mDNS */
  isBlocked: (fp: string) => boolean
  /** its inbound sessions are closed as they complete (a cooling-off stranger, messaging.md §6.1) */
  refusesSession: (fp: string) => boolean
  linkUp: (link: PeerLink) => void
  linkDown: (link: PeerLink) => void
  /** a link closed after a newer one to the same peer took its place (the peer is still up) */
  linkReplaced: (link: PeerLink) => void
  frame: (link: PeerLink, bytes: Uint8Array) => void
  /** the session was rekeyed: a restarted peer shows up this way (link.ts), so probe the link */
  rekey: (link: PeerLink) => void
  state: (fp: string, state: PeerState, address: Address | null) => void
  rearm: () => void
}

export class PeerConnector {
  readonly conn: ConnectionManager
  readonly links = new Map<string, PeerLink>()
  /** dials running, by peer key */
  readonly #dials = new Map<string, AbortController>()
  /** where each running dial goes: a punched path to the same address does not abort it */
  readonly #dialTo = new WeakMap<AbortController, Address>()
  /** dials aborted because a session with their peer came up meanwhile: their end is no failure */
  readonly #needless = new WeakSet<AbortController>()
  #mdns: MdnsDiscovery | null = null
  #endpoint: Endpoint | null = null
  #stopped = false
  readonly #lookups: PresenceLookups | null
  /** the record key of each peer we punched toward (the dial after the punch is IK) */
  readonly #punchKeys = new Map<string, Uint8Array>()
  /** the peer dialled us (a handshake on our endpoint): a dial of ours to it is needless now (#attach) */
  readonly #onSession = (s: Session): void => { this.#inbound(s, true) }

  constructor (private readonly ctx: MessagingContext, private readonly opts: PeerConnectorOptions, private readonly hooks: PeerConnectorHooks) {
    const lookup = opts.lookupPresence ?? null
    this.conn = new ConnectionManager({ random: ctx.random, lookups: lookup !== null })
    this.#lookups = lookup === null
      ? null
      : new PresenceLookups({
        lookup,
        scheduler: ctx.scheduler,
        done: (fp, found) => { this.#lookedUp(fp, found) },
        usable: a => this.#reachable(a),
        failed: (fp, err) => { this.ctx.log.debug({ peer: fp, err: (err as Error).message }, 'dht lookup failed') }
      })
  }

  async start (endpoint: Endpoint): Promise<void> {
    this.#endpoint = endpoint
    endpoint.on('session', this.#onSession)
    const now = this.ctx.now()
    for (const a of this.opts.staticPeers) this.conn.addStatic({ host: a.host, port: a.port }, now, a.fingerprint)
    if (this.opts.mdns !== null) await this.#startMdns(endpoint, this.opts.mdns)
  }

  async stop (): Promise<void> {
    this.#stopped = true
    this.#endpoint?.off('session', this.#onSession)
    this.#lookups?.stop()
    for (const c of this.#dials.values()) c.abort()
    await this.#mdns?.stop().catch(() => {})
    this.#mdns = null
  }

  link (fp: string): PeerLink | undefined {
    const l = this.links.get(fp)
    return l === undefined || l.closed ? undefined : l
  }

  /** The link runs through a relay path of ours (traversal.md §7): its address lives only as long as that path. */
  relayed (link: PeerLink): boolean {
    return (this.opts.relayedVia?.(link.fingerprint, link.address) ?? null) !== null
  }

  /** Close the link to `fp` (blocked, or a stalled link). */
  closeLink (fp: string): void {
    this.links.get(fp)?.close()
  }

  tick (now: number): void {
    this.apply(this.conn.tick(now))
  }

  /** tick() outside the service's timer: only while running (a dial needs the endpoint; before start() and after stop() the timer does nothing either). */
  #tickNow (now: number): void {
    if (this.#endpoint !== null && !this.#stopped) this.tick(now)
  }

  get nextDeadline (): number { return this.conn.nextDeadline }

  /**
   * We want a link to `fp` (or no longer): see ConnectionManager.demand. A lookup or dial that
   * this makes due starts now, in this turn: through the service's timer it waited a turn of the
   * event loop or more (1 ms at least; several on a busy machine) before the first packet left.
   */
  demand (fp: string, wanted: boolean): void {
    const now = this.ctx.now()
    this.apply(this.conn.demand(fp, wanted, now))
    if (wanted) this.#tickNow(now)
    this.hooks.rearm()
  }

  /** The user wants `fp` now (a message sent): a backed-off lookup may go at once. */
  renew (fp: string): void {
    this.conn.renew(fp, this.ctx.now())
    this.hooks.rearm()
  }

  /** The contact list changed: mDNS recognises the tokens of whom we know now, and browses (discovery.md §2.4). */
  contactsChanged (): void {
    this.#mdns?.contactsChanged()
  }

  apply (actions: readonly ConnAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'dial': this.#dial(a.key, a.address, a.expectFingerprint, a.remoteStatic); break
        case 'lookup': this.#lookup(a.fingerprint); break
        case 'cancel-lookup': this.#lookups?.cancel(a.fingerprint); break
        case 'state': this.hooks.state(a.fingerprint, a.state, a.address); break
      }
    }
  }

  peers (): PeerJson[] {
    return this.conn.list().map(p => {
      const fp = p.fingerprint
      const link = fp === null ? undefined : this.link(fp)
      const contact = fp === null ? undefined : this.ctx.contacts.get(fp)
      const rtt = link?.rttMs ?? null
      const relay = link === undefined || fp === null ? null : this.opts.relayedVia?.(fp, link.address) ?? null
      const path: PeerJson['path'] = link === undefined
        ? null
        : relay !== null
          ? { via: 'relayed', relay, rttMs: rtt === null ? null : Math.round(rtt * 10) / 10 }
          : { via: 'direct', candidate: p.path?.candidate ?? null, probeRttMs: p.path?.rttMs ?? null }
      return {
        path,
        fingerprint: fp,
        address: formatHostPortOrNull(link?.address ?? p.address),
        source: p.source,
        state: p.state,
        rtt: rtt === null ? null : Math.round(rtt * 10) / 10,
        name: contact?.name ?? null,
        contact: contact !== undefined,
        lastSeen: contact?.lastSeen ?? null
      }
    })
  }

  // ---- inside ----

  #inbound (session: Session, peerDialled = false): void {
    if (this.#stopped) return
    if (this.hooks.refusesSession(session.remoteFingerprint)) {
      this.ctx.counters.sessionsRefused++
      session.close()
      return
    }
    this.#attach(session, peerDialled)
  }

  #lookup (fp: string): void {
    if (this.#lookups === null || this.#stopped || this.hooks.isBlocked(fp)) {
      this.conn.lookupDone(fp, null, this.ctx.now())
      return
    }
    this.ctx.counters.lookupsStarted++
    this.ctx.log.debug({ peer: fp }, 'dht lookup started')
    this.#lookups.start(fp)
  }

  #lookedUp (fp: string, found: FoundPresence | null): void {
    if (this.#stopped) return
    if (found !== null) this.ctx.counters.lookupsFound++
    this.ctx.log.debug({ peer: fp, addresses: found?.addresses.map(formatHostPort) ?? null }, 'dht lookup done')
    this.conn.lookupDone(fp, found, this.ctx.now())
    // a record of unknown NAT kind is dialled too (dht-lookups.ts): that dial may be running already
    const state = this.conn.state(fp)
    if (found?.punch !== undefined && this.opts.punch != null && (state === 'offline' || state === 'connecting')) {
      this.#punchKeys.set(fp, found.dhPublic)
      this.opts.punch(fp, found.dhPublic, found.punch)
    }
    this.hooks.rearm()
  }

  /**
   * A session someone else set up for us (through a relay, traversal.md §7, or moved direct from
   * one): taken like a dialled one; `path` says which punch candidate carried a direct one.
   */
  adopt (session: Session, path: PeerPath | null): void {
    if (this.#stopped) return
    this.conn.setPath(session.remoteFingerprint, path)
    this.#inbound(session)
  }

  /**
   * A punch toward `fp` found a path (traversal.md §6): dial it now with the record's key. A dial
   * still running toward the record's addresses (a NAT of unknown kind, §5.3) is given up: the
   * punched address is known to pass, and that dial may wait seconds for its next retransmission.
   */
  punched (fp: string, address: Address, path: PeerPath): void {
    const key = this.#punchKeys.get(fp)
    if (this.#stopped || key === undefined) return
    const now = this.ctx.now()
    const running = this.#dials.get(fp)
    const to = running === undefined ? undefined : this.#dialTo.get(running)
    const there = to !== undefined && to.host === address.host && to.port === address.port
    if (this.conn.punched(fp, address, key, path, now, there)) running?.abort()
    else this.#tickNow(now) // the handshake goes now, while the probes keep the NATs open (not a timer's turn later)
    this.hooks.rearm()
  }

  /**
   * We answered a punch offer from the contact `fp` (traversal.md §5.3): dial the offerer's
   * `address` now with Noise IK toward the offer's key, without waiting for a probe to come back.
   * The offer was sealed to us with that key (Noise X's `ss`) and named a contact, so the key is
   * the contact's. Its probes, sent with the offer, have opened its NAT toward us; its IK message
   * 2 is then the first authenticated byte, a round trip sooner than its own dial of the path.
   */
  offered (fp: string, dhPublic: Uint8Array, address: Address): void {
    if (this.#stopped || !this.#reachable(address)) return
    this.#punchKeys.set(fp, dhPublic) // the path's dial, if the probes find another address, is IK too
    const now = this.ctx.now()
    if (this.conn.offered(fp, address, dhPublic, now)) this.#tickNow(now)
    this.hooks.rearm()
  }

  /** A udp4 socket cannot reach IPv6 addresses. */
  #reachable (a: Address): boolean {
    const ep = this.#endpoint
    return ep !== null && (isIPv6(ep.address.host) || !isIPv6(a.host))
  }

  #dial (key: string, address: Address, expect: string | null, remoteStatic: Uint8Array | null): void {
    const endpoint = this.#endpoint
    if (endpoint === null || this.#stopped) return
    const ctl = new AbortController()
    this.#dials.set(key, ctl)
    this.#dialTo.set(ctl, address)
    this.ctx.counters.dialsStarted++
    this.ctx.log.debug({ to: formatHostPort(address), peer: expect, ik: expect !== null && remoteStatic !== null }, 'dial started')
    const opts = {
      signal: ctl.signal,
      timeoutMs: DIAL_TIMEOUT_MS,
      ...(expect === null ? {} : { expectFingerprint: expect }),
      // Noise IK (noise.md §1): the key is known, so one round trip; the Endpoint falls back to XX
      ...(expect === null || remoteStatic === null ? {} : { remoteStatic })
    }
    endpoint.connect(address, opts).then(session => {
      if (this.#dials.get(key) === ctl) this.#dials.delete(key) // done: #attach must not abort it
      this.conn.dialSucceeded(key, session.remoteFingerprint)
      this.#inbound(session)
    }, (err: Error) => {
      if (this.#needless.has(ctl)) { this.conn.dialSucceeded(key, expect ?? key); return } // the peer reached us first (#attach)
      this.ctx.counters.dialsFailed++
      this.ctx.log.debug({ to: formatHostPort(address), err: err.message }, 'dial failed')
      if (!this.#stopped) this.apply(this.conn.dialFailed(key, this.ctx.now()))
    }).finally(() => {
      if (this.#dials.get(key) === ctl) this.#dials.delete(key)
      this.hooks.rearm()
    })
  }

  /**
   * One link per session; the Endpoint keeps one session per fingerprint (a rekey keeps it).
   * `peerDialled`: the peer's own handshake reached us directly (not a relay's or a punch's
   * session, which a direct dial of ours may still better).
   */
  #attach (session: Session, peerDialled: boolean): void {
    const fp = session.remoteFingerprint
    const existing = this.links.get(fp)
    if (existing !== undefined && existing.session === session && !existing.closed) return
    // Our own dial to the peer, still retrying its handshake (e.g. sent before the peer's node
    // was up), is needless now: left running, it would complete a second session within the
    // simultaneous-open window (session.md §3.1) that may supersede this one, closing the link
    // mid-traffic and making the outbox resend what was in flight on it.
    const dial = peerDialled ? this.#dials.get(fp) : undefined
    if (dial !== undefined) {
      this.#needless.add(dial)
      this.#dials.delete(fp)
      dial.abort()
    }
    const link = new PeerLink(session, this.ctx.now, this.ctx.scheduler, this.opts.linkSendBufferBytes)
    // outbound: our handshake (we dialled), else the peer's
    this.ctx.log.debug({ peer: fp, from: formatHostPort(session.remoteAddress), outbound: session.outbound }, 'session up')
    this.links.set(fp, link)
    link.on('frame', bytes => { this.hooks.frame(link, bytes) })
    link.on('rekey', () => { this.hooks.rekey(link) })
    link.on('roam', a => { this.conn.moved(fp, a) })
    link.once('close', () => { this.#detach(link) })
    this.apply(this.conn.sessionUp(fp, session.remoteAddress, this.ctx.now()))
    this.hooks.linkUp(link)
    this.hooks.rearm()
  }

  #detach (link: PeerLink): void {
    if (link.stalls > 0) this.ctx.counters.linkStalls++
    if (this.links.get(link.fingerprint) !== link) { this.hooks.linkReplaced(link); return }
    this.links.delete(link.fingerprint)
    if (!this.#stopped) this.apply(this.conn.sessionDown(link.fingerprint, this.ctx.now()))
    this.hooks.linkDown(link)
    this.hooks.rearm()
  }

  async #startMdns (endpoint: Endpoint, o: NonNullable<PeerConnectorOptions['mdns']>): Promise<void> {
    // our contacts' nodes are the ones we can recognise on the LAN (discovery.md §2.4)
    const contacts = (): string[] => this.ctx.contacts.all().map(c => c.fingerprint)
    const mdns = new MdnsDiscovery({ fingerprint: this.ctx.identity.fingerprint, port: endpoint.address.port, contacts, scheduler: this.ctx.scheduler, random: this.ctx.random, sockets: this.ctx.sockets, ...o })
    mdns.on('peer', p => { this.#discovered(p, endpoint) })
    mdns.on('peer-lost', p => { this.conn.lost(p.fingerprint) })
    mdns.on('warning', err => { this.ctx.log.debug({ err: err.message }, 'mdns warning') })
    try {
      await mdns.start()
      this.#mdns = mdns
    } catch (err) {
      // the node still works with --peer and inbound sessions; say so once
      this.ctx.log.warn({ err: (err as Error).message }, 'mDNS discovery unavailable; continuing without it')
    }
  }

  #discovered (p: DiscoveredPeer, endpoint: Endpoint): void {
    if (this.#stopped || this.hooks.isBlocked(p.fingerprint)) return
    // a udp4 socket cannot reach IPv6 addresses
    const v6 = isIPv6(endpoint.address.host)
    const addrs = p.addresses.filter(a => v6 || !isIPv6(a.host))
    if (addrs.length === 0) return
    this.conn.discovered(p.fingerprint, addrs, this.ctx.now())
    this.hooks.rearm()
  }
}
