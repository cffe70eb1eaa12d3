// How a node is put together: the one composition root (the daemon adds only its pidfile and
// IPC socket around it; the testnet builds many in one process). A node is, in start order:
//
//   store      LevelDB of messages, contacts, outbox (proto-spec/storage.md), on world.storage
//   prekeys    the PQXDH prekey ring in <home>/prekeys, rotated weekly, when given its key (proto-spec/pqxdh.md §5)
//   endpoint   the one UDP socket: Noise sessions, with the DHT's hook (proto-spec/session.md)
//   portmap    asks the home router to forward a public port to the socket, when enabled (proto-spec/portmap.md)
//   relay      the relay client, and the relay service when the node serves (proto-spec/relay.md)
//   dht        Kademlia on the endpoint's socket, when given bootstrap nodes (proto-spec/dht.md)
//   nat        STUN on the endpoint's socket: reflexive address, NAT kind, serving (proto-spec/stun.md)
//   traversal  rendezvous and hole punching on the same socket, with the DHT (proto-spec/traversal.md)
//   auto-relay picks a relay when no direct path exists, and answers strangers with one (traversal.md §5.4, §7)
//   messaging  links to contacts, mDNS, outbox, requests, receipts (proto-spec/messaging.md)
//
// and they stop in reverse. Every part takes time, randomness, sockets and storage from one
// World (src/io/world.ts): the real machine, or the simulator (src/sim/io.ts).
import { isIPv4 } from 'node:net'
import type { Logger } from 'pino'
import type { HomePaths } from '../config/home.js'
import type { Identity } from '../crypto/identity.js'
import type { Component } from '../runtime/component.js'
import { EventBus } from '../runtime/events.js'
import { errors } from '../errors.js'
import type { PeerAddress } from '../io/address.js'
import { formatHostPort, isLoopbackHost, peerAddressOf } from '../io/address.js'
import type { World } from '../io/world.js'
import type { DhtNodeOptions } from '../dht/node.js'
import { LOOPBACK_SETTINGS } from '../dht/loopback.js'
import { MessagingService } from '../messaging/service.js'
import { MessagingActions } from '../messaging/actions.js'
import { FileService } from '../files/service.js'
import { defaultDownloadDir, realFileDisk, type FileDisk } from '../files/disk.js'
import type { PeerConnectorOptions } from '../messaging/peer-connector.js'
import type { Store } from '../store/index.js'
import { PrekeyService, PREKEY_FILE_NAME } from '../pqxdh/index.js'
import { EndpointComponent } from './endpoint.js'
import { DhtComponent, type FoundRecord } from './dht.js'
import { BootstrapMemory, BOOTSTRAP_MEMORY_FILE } from './bootstrap-memory.js'
import { RelayComponent } from '../relay/component.js'
import { PortmapComponent, type PortmapComponentOptions } from './portmap.js'
import { NatComponent, type NatSettings } from './nat.js'
import { TraversalComponent } from './traversal.js'
import type { PunchEvent } from '../traversal/punch.js'
import { dhtObserver, type AddressObserver } from '../traversal/candidates.js'
import { foundPresence } from '../messaging/dht-lookups.js'
import { AutoRelay, type RelookedUp } from './auto-relay.js'

export interface NodeOptions {
  world: World
  identity: Identity
  /** the node's home: its store, and the messaging state file beside it */
  paths: HomePaths
  /** opens the store; closed by the node at stop (the daemon's waits out a CLI holding the lock) */
  openStore: () => Promise<Store>
  host: string
  /** UDP port; 0 picks a free one */
  port: number
  mdns: boolean
  /** peers to dial at start (--peer); one with a fingerprint can be answered (proto-spec/wire.md §4.1.1) */
  peers: Array<PeerAddress & { fingerprint?: string }>
  /** DHT bootstrap nodes (none: the node waits to be found, as the first node of a network) */
  bootstrap: PeerAddress[]
  /** DHT settings over the defaults (loopback relaxes the per-IP defences by itself), or false for no DHT */
  dht?: Partial<DhtNodeOptions> | false
  /** port mapping with PCP/NAT-PMP/UPnP IGD (proto-spec/portmap.md): true, or test hooks and tuning; default off */
  portmap?: boolean | PortmapComponentOptions['mapper']
  /** STUN settings (servers to ask, when to serve), or false for no STUN at all */
  stun?: NatSettings | false
  log: Logger
  events?: EventBus
  /** the name we offer in CONTACT_REQUESTs */
  profileName?: () => Promise<string | undefined>
  /** test capture of envelope v2 (MessagingServiceOptions.envelopeTrace) */
  envelopeTrace?: (line: string) => void
  /** tests of mixed versions (MessagingServiceOptions.legacyPresence) */
  legacyPresence?: boolean
  /**
   * the key of the prekey file (prekeyFileKey of the store key, proto-spec/pqxdh.md §5.2); the
   * node owns it and wipes it at stop. None: the node keeps no PQXDH prekeys.
   */
  prekeyFileKey?: Uint8Array
  /**
   * serve as a relay for others (proto-spec/relay.md §1): true always, false never (default), or
   * 'when-public': while STUN finds the node open (not through a port mapping: servesRelays)
   */
  relay?: boolean | 'when-public'
  /** where the reflexive address and NAT kind come from (default: the DHT's PONGs; a STUN client) */
  addressObserver?: AddressObserver
  /** the relay fallback: a punch to a contact gave up (proto-spec/traversal.md §7) */
  onPunchGiveUp?: (ev: Extract<PunchEvent, { type: 'failed' }>) => void
  /** file transfer (proto-spec/files.md): the disk (default the real one), where files go, what is taken unasked */
  files?: NodeFileOptions
  /** each peer link's send buffer in bytes (default 8 MiB, the reliable session's); tests only */
  linkSendBufferBytes?: number
}

export interface NodeFileOptions {
  disk?: FileDisk
  /** default: $XDG_DOWNLOAD_DIR/dmess, else ~/Downloads/dmess */
  downloadDir?: () => string
  /** default 16 MiB */
  autoAcceptBytes?: () => number
  /** default 64 MiB (files.md §3.1) */
  autoAcceptPendingBytes?: () => number
  /** ended transfers are forgotten after this long (0: not by age; default 30 days) and beyond this many (default 500) (files.md §5.3) */
  keepEndedMs?: () => number
  keepEnded?: () => number
  /** test hook (files.md §6): the sender corrupts this chunk once */
  corruptChunk?: number
}

/** Offers up to this size are accepted without asking (files.md §3.1). */
export const DEFAULT_AUTO_ACCEPT_BYTES = 16 * 1024 * 1024
/** ... while what is accepted from the contact and not yet received stays within this (files.md §3.1). */
export const DEFAULT_AUTO_ACCEPT_PENDING_BYTES = 64 * 1024 * 1024
/** Ended transfers are kept this long and at most this many (files.md §5.3). */
export const DEFAULT_KEEP_ENDED_MS = 30 * 86_400_000
export const DEFAULT_KEEP_ENDED = 500

/** mDNS follows the UDP bind: one interface when bound to one IPv4 address (else all of them). */
export function mdnsOptions (host: string, enabled: boolean): PeerConnectorOptions['mdns'] {
  if (!enabled) return null
  if (isIPv4(host) && host !== '0.0.0.0') return { interface: host, bind: '0.0.0.0' }
  return {}
}

export class Node {
  readonly events: EventBus
  readonly storage: StoreComponent
  /** our PQXDH prekeys (null when the node was given no prekeyFileKey) */
  readonly prekeys: PrekeyService | null
  readonly udp: EndpointComponent
  readonly relay: RelayComponent
  readonly dht: DhtComponent | null
  readonly portmap: PortmapComponent | null
  readonly nat: NatComponent | null
  /** NAT traversal; present with the DHT (its rendezvous entries travel in the presence record) */
  readonly traversal: TraversalComponent | null
  /** relays picked and used automatically (traversal.md §7); present with traversal */
  readonly autoRelay: AutoRelay | null
  readonly messaging: MessagingService
  /** what users do (send, read, accept, block, …), as IPC methods call it */
  readonly actions: MessagingActions
  /** file transfer over the messaging links (proto-spec/files.md) */
  readonly files: FileService
  readonly #started: Component[] = []

  constructor (readonly opts: NodeOptions) {
    const { world, identity, log } = opts
    this.events = opts.events ?? new EventBus()
    this.storage = new StoreComponent(opts.openStore)
    this.prekeys = opts.prekeyFileKey === undefined
      ? null
      : new PrekeyService({
        path: `${opts.paths.home}/${PREKEY_FILE_NAME}`,
        fileKey: opts.prekeyFileKey,
        identity,
        scheduler: world.scheduler,
        storage: world.storage,
        onError: err => { log.warn({ err: (err as Error).message }, 'prekey rotation failed; tried again within the hour') }
      })
    // contacts' sessions are never evicted as strangers' are (session.md §3.7); the cache is
    // loaded when messaging starts, after the socket: until then every peer is a stranger
    const isContact = (fp: string): boolean => this.messaging.ctx.contacts.has(fp)
    this.udp = new EndpointComponent({ host: opts.host, port: opts.port, identity, world, log: log.child({ c: 'udp' }), isContact, relayed: (fp, address) => (this.autoRelay?.relayedVia(fp, address) ?? null) !== null })
    this.relay = new RelayComponent({
      endpoint: () => this.udp.endpoint,
      world,
      serve: opts.relay === 'when-public' ? () => this.servesRelays() : opts.relay === true
    })
    this.dht = opts.dht === false
      ? null
      : new DhtComponent({
        endpoint: () => this.udp.endpoint,
        identity,
        world,
        bootstrap: opts.bootstrap.map(formatHostPort),
        log: log.child({ c: 'dht' }),
        node: { ...(isLoopbackHost(opts.host) ? LOOPBACK_SETTINGS : {}), ...opts.dht },
        // the nodes we meet, kept for the next start (dht.md §6.4)
        memory: new BootstrapMemory(`${opts.paths.home}/${BOOTSTRAP_MEMORY_FILE}`, identity.dhSecret, world.storage),
        traversal: () => this.traversal?.recordFields() ?? null
      })
    this.portmap = opts.portmap === undefined || opts.portmap === false
      ? null
      : new PortmapComponent({ world, bound: () => this.udp.endpoint.address, log: log.child({ c: 'portmap' }), ...(opts.portmap === true ? {} : { mapper: opts.portmap }) })
    const dht = this.dht
    // every contact runs a DHT node on the address it talks from: a bootstrap candidate too
    if (dht !== null) {
      this.events.on(ev => {
        if (ev.type === 'presence' && ev.contact === true && typeof ev.address === 'string' && ev.state !== 'offline') dht.noteCandidate(ev.address, 'contact')
      })
    }
    this.nat = opts.stun === false
      ? null
      : new NatComponent({
        ...opts.stun,
        endpoint: () => this.udp.endpoint,
        world,
        log: log.child({ c: 'nat' }),
        // bootstrap nodes always answer STUN; DHT contacts do when public (proto-spec/stun.md §6)
        candidates: () => [...opts.bootstrap, ...stunCandidates(dht)],
        observed: () => dht?.node?.observedAddress() ?? null
      })
    const autoRelay = this.autoRelay = dht === null
      ? null
      : new AutoRelay({
        scheduler: world.scheduler,
        log: log.child({ c: 'relay' }),
        endpoint: () => this.udp.endpoint,
        client: () => this.relay.client,
        traversal: () => this.traversal?.service ?? null,
        bootstrap: opts.bootstrap,
        adopt: (session, path) => { this.messaging.network.adopt(session, path) },
        lookup: async (fp, signal) => this.#relookup(fp, await dht.lookup(fp, signal)),
        isContact,
        onGiveUp: opts.onPunchGiveUp
      })
    this.traversal = dht === null
      ? null
      : new TraversalComponent({
        endpoint: () => this.udp.endpoint,
        dht,
        identity,
        world,
        log: log.child({ c: 'traversal' }),
        bootstrap: opts.bootstrap.map(formatHostPort),
        isContact,
        observer: opts.addressObserver ?? this.#addressObserver(dht),
        onPath: ev => {
          const to = peerAddressOf(ev.address)
          const path = { candidate: ev.kind, rttMs: ev.rttMs }
          // relayed to it: move the session direct (relay.md §8); else dial the path
          if (to !== null && autoRelay?.punched(ev.fingerprint, to, path) !== true) this.messaging.network.punched(ev.fingerprint, to, path)
        },
        onGiveUp: ev => { autoRelay?.gaveUp(ev) },
        onRelay: ev => { autoRelay?.joinOffered(ev) },
        onStranger: offer => { autoRelay?.answerStranger(offer) },
        onOffered: ev => {
          const to = peerAddressOf(ev.address)
          if (to !== null) this.messaging.network.offered(ev.fingerprint, ev.dhPublic, to)
        }
      })
    const traversal = this.traversal
    // a stranger answered with a relay who becomes a contact: that relayed session tries to go
    // direct (traversal.md §5.4, §7.3), when it is added or when the session comes up after
    if (autoRelay !== null) {
      this.events.on(ev => {
        const fp = (ev.contact as { fingerprint?: unknown } | null | undefined)?.fingerprint
        if (ev.type === 'contact' && ev.action === 'added' && typeof fp === 'string') autoRelay.contactAdded(fp)
        if (ev.type === 'presence' && ev.state === 'online' && typeof ev.peer === 'string') autoRelay.sessionUp(ev.peer)
      })
    }
    this.messaging = new MessagingService({
      paths: opts.paths,
      identity,
      world,
      events: this.events,
      log: log.child({ c: 'messaging' }),
      endpoint: () => this.udp.endpoint,
      store: () => this.store,
      staticPeers: opts.peers,
      mdns: mdnsOptions(opts.host, opts.mdns),
      // a contact with no known address is looked up in the DHT (messaging.md §5.2)
      lookupPresence: dht === null ? null : async (fp: string, signal: AbortSignal): Promise<FoundRecord | null> => await dht.lookup(fp, signal),
      // a contact behind a NAT that filters is reached through its rendezvous (traversal.md §5)
      punch: traversal === null
        ? null
        : (fp, dhPublic, info) => { autoRelay?.punch({ fingerprint: fp, dhPublic, ...info }) },
      relayedVia: (fp, address) => autoRelay?.relayedVia(fp, address) ?? null,
      profileName: opts.profileName,
      // peers that ask get our PQXDH bundle over the session (pqxdh.md §8)
      prekeyBundle: this.prekeys === null ? undefined : (prekeys => () => prekeys.bundle())(this.prekeys),
      // contacts' session starts are answered from our prekey ring (envelope.md §8)
      prekeys: this.prekeys ?? undefined,
      envelopeTrace: opts.envelopeTrace,
      legacyPresence: opts.legacyPresence,
      linkSendBufferBytes: opts.linkSendBufferBytes
    })
    this.actions = new MessagingActions(this.messaging)
    const fileOpts = opts.files ?? {}
    this.files = new FileService({
      messaging: this.messaging,
      store: () => this.store,
      disk: fileOpts.disk ?? realFileDisk,
      partialDir: `${opts.paths.home}/files`,
      downloadDir: fileOpts.downloadDir ?? (() => defaultDownloadDir()),
      autoAcceptBytes: fileOpts.autoAcceptBytes ?? (() => DEFAULT_AUTO_ACCEPT_BYTES),
      autoAcceptPendingBytes: fileOpts.autoAcceptPendingBytes ?? (() => DEFAULT_AUTO_ACCEPT_PENDING_BYTES),
      keepEndedMs: fileOpts.keepEndedMs ?? (() => DEFAULT_KEEP_ENDED_MS),
      keepEnded: fileOpts.keepEnded ?? (() => DEFAULT_KEEP_ENDED),
      events: this.events,
      log: log.child({ c: 'files' }),
      scheduler: world.scheduler,
      now: () => world.scheduler.wallNow(),
      randomBytes: n => world.random.bytes(n),
      ...(fileOpts.corruptChunk === undefined ? {} : { corruptChunk: fileOpts.corruptChunk })
    })
  }

  get store (): Store {
    const s = this.storage.store
    if (s === undefined) throw errors.DAEMON_FAILED('the store is not open')
    return s
  }

  get fingerprint (): string { return this.opts.identity.fingerprint }

  /** Where peers reach us (the bound UDP address). */
  get address (): PeerAddress { return this.udp.endpoint.address }

  /** The public address the home router forwards to our socket (PCP/NAT-PMP/UPnP), if it gave one. */
  mappedAddress (): PeerAddress | null { return this.portmap?.mappedAddress() ?? null }

  /**
   * Whether others can reach this node unasked: STUN found no NAT in front of it (stun.md §5), or
   * the home router forwards a public port to it (portmap.md §4). Relays need more than this
   * (servesRelays).
   */
  publiclyReachable (): boolean {
    return (this.nat?.publiclyReachable() ?? false) || (this.portmap?.publiclyReachable ?? false)
  }

  /**
   * Whether a 'when-public' node takes relay allocations now (relay.md §1): only when STUN finds no
   * NAT in front of it. A port mapping (portmap.md §4) forwards the one port our socket is on; an
   * allocation's two fresh ports would have no mapping, and nobody could bind them.
   */
  servesRelays (): boolean {
    return this.nat?.publiclyReachable() ?? false
  }

  /** A record looked up again for a relayed peer (traversal.md §7.3): punch it, or dial it. */
  #relookup (fp: string, rec: FoundRecord | null): RelookedUp {
    const v6 = this.udp.endpoint.address.host.includes(':')
    const found = foundPresence(fp, rec, a => v6 || !a.host.includes(':'))
    if (found === null) return null
    if (found.punch !== undefined) return { punch: { fingerprint: fp, dhPublic: found.dhPublic, ...found.punch } }
    // LAN addresses last: one in a private block we are on may be another house's (traversal.md §6.1)
    const lan = new Set((rec?.addresses ?? []).filter(a => a.kind === 'lan').map(a => formatHostPort(a)))
    return { addresses: [...found.addresses.filter(a => !lan.has(formatHostPort(a))), ...found.addresses.filter(a => lan.has(formatHostPort(a)))] }
  }

  /**
   * What NAT traversal learns its addresses from (traversal.md §2): STUN's reflexive addresses
   * and NAT kind when it has them, else the DHT's PONGs; the port mapping, if any.
   */
  #addressObserver (dht: DhtComponent): AddressObserver {
    const fromDht = dhtObserver(() => dht.node?.observedAddress() ?? null, () => this.udp.endpoint.address)
    return {
      reflexive: () => {
        const stun = this.nat?.reflexive() ?? []
        return stun.length > 0 ? stun : fromDht.reflexive()
      },
      natKind: () => {
        const kind = this.nat?.natKind() ?? 'unknown'
        return kind !== 'unknown' ? kind : fromDht.natKind()
      },
      mapped: () => this.mappedAddress(),
      // a full cone (stun.md §5.1): no rendezvous needed, peers dial the reflexive address
      reachable: () => this.nat?.status().fullCone === true
    }
  }

  /**
   * The node's parts in start order: the store, the prekeys, the socket, its port mapping, the relay, the DHT
   * (before messaging, which looks peers up in it and stops first, cancelling its lookups), STUN,
   * NAT traversal, messaging, file transfer (on messaging's links; it stops first).
   */
  components (): Component[] {
    return [this.storage, ...(this.prekeys === null ? [] : [this.prekeys]), this.udp, ...(this.portmap === null ? [] : [this.portmap]), this.relay, ...(this.dht === null ? [] : [this.dht]), ...(this.nat === null ? [] : [this.nat]), ...(this.traversal === null ? [] : [this.traversal]), ...(this.autoRelay === null ? [] : [this.autoRelay]), this.messaging, this.files]
  }

  /** Starts the parts in order; on a failure stops those started, in reverse, and throws. */
  async start (): Promise<void> {
    try {
      for (const c of this.components()) {
        await c.start()
        this.#started.push(c)
      }
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async stop (): Promise<void> {
    for (const c of this.#started.reverse()) await c.stop().catch(err => this.opts.log.error({ component: c.name, err: (err as Error).message }, 'component failed to stop'))
    this.#started.length = 0
  }
}

/** DHT contacts as STUN server candidates, the most recently heard first. */
function stunCandidates (dht: DhtComponent | null): PeerAddress[] {
  const contacts = dht?.node?.table.all() ?? []
  return [...contacts].sort((a, b) => b.lastSeen - a.lastSeen).map(c => peerAddressOf(c.addr)).filter((a): a is PeerAddress => a !== null)
}

/** The store as a component: opened first, closed last (its queued writes finish: nothing acknowledged is lost). */
export class StoreComponent implements Component {
  readonly name = 'store'
  store: Store | undefined

  constructor (private readonly open: () => Promise<Store>) {}

  async start (): Promise<void> {
    this.store = await this.open()
  }

  async stop (): Promise<void> {
    await this.store?.close()
    this.store = undefined
  }
}
