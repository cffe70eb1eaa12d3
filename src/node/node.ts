// How a node is put together: the one composition root (the daemon adds only its pidfile and
// IPC socket around it; the testnet builds many in one process). A node is, in start order:
//
//   store      LevelDB of messages, contacts, outbox (proto-spec/storage.md), on world.storage
//   endpoint   the one UDP socket: Noise sessions, with the DHT's hook (proto-spec/session.md)
//   dht        Kademlia on the endpoint's socket, when given bootstrap nodes (proto-spec/dht.md)
//   traversal  rendezvous and hole punching on the same socket, with the DHT (proto-spec/traversal.md)
//   messaging  links to contacts, mDNS, outbox, requests, receipts (proto-spec/messaging.md)
//
// and they stop in reverse. Every part takes time, randomness, sockets and storage from one
// World (src/io/world.ts): the real machine, or the simulator (src/sim/world.ts).
import { isIPv4 } from 'node:net'
import type { Logger } from 'pino'
import type { HomePaths } from '../config/home.js'
import type { Identity } from '../crypto/identity.js'
import type { Component } from '../runtime/component.js'
import { EventBus } from '../runtime/events.js'
import { errors } from '../errors.js'
import type { PeerAddress } from '../io/address.js'
import { formatHostPort, peerAddressOf } from '../io/address.js'
import type { World } from '../io/world.js'
import type { DhtNodeOptions } from '../dht/node.js'
import { LOOPBACK_SETTINGS, isLoopbackHost } from '../dht/loopback.js'
import { MessagingService } from '../messaging/service.js'
import { MessagingActions } from '../messaging/actions.js'
import type { NetworkOptions } from '../messaging/network.js'
import type { Store } from '../store/index.js'
import { EndpointComponent } from './endpoint.js'
import { DhtComponent, type FoundRecord } from './dht.js'
import { TraversalComponent } from './traversal.js'
import type { PunchEvent } from '../traversal/punch.js'
import type { AddressObserver } from '../traversal/candidates.js'

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
  log: Logger
  events?: EventBus
  /** the name we offer in CONTACT_REQUESTs */
  profileName?: () => Promise<string | undefined>
  /** where the reflexive address and NAT kind come from (default: the DHT's PONGs; a STUN client) */
  addressObserver?: AddressObserver
  /** the relay fallback: a punch to a contact gave up (proto-spec/traversal.md §7) */
  onPunchGiveUp?: (ev: Extract<PunchEvent, { type: 'failed' }>) => void
}

/** mDNS follows the UDP bind: one interface when bound to one IPv4 address (else all of them). */
export function mdnsOptions (host: string, enabled: boolean): NetworkOptions['mdns'] {
  if (!enabled) return null
  if (isIPv4(host) && host !== '0.0.0.0') return { interface: host, bind: '0.0.0.0' }
  return {}
}

export class Node {
  readonly events: EventBus
  readonly storage: StoreComponent
  readonly udp: EndpointComponent
  readonly dht: DhtComponent | null
  /** NAT traversal; present with the DHT (its rendezvous entries travel in the presence record) */
  readonly traversal: TraversalComponent | null
  readonly messaging: MessagingService
  /** what users do (send, read, accept, block, …), as IPC methods call it */
  readonly actions: MessagingActions
  readonly #started: Component[] = []

  constructor (readonly opts: NodeOptions) {
    const { world, identity, log } = opts
    this.events = opts.events ?? new EventBus()
    this.storage = new StoreComponent(opts.openStore)
    // contacts' sessions are never evicted as strangers' are (session.md §3.7); the cache is
    // loaded when messaging starts, after the socket: until then every peer is a stranger
    const isContact = (fp: string): boolean => this.messaging.ctx.contacts.has(fp)
    this.udp = new EndpointComponent({ host: opts.host, port: opts.port, identity, world, log: log.child({ c: 'udp' }), isContact })
    this.dht = opts.dht === false
      ? null
      : new DhtComponent({
        endpoint: () => this.udp.endpoint,
        identity,
        world,
        bootstrap: opts.bootstrap.map(formatHostPort),
        log: log.child({ c: 'dht' }),
        node: { ...(isLoopbackHost(opts.host) ? LOOPBACK_SETTINGS : {}), ...opts.dht },
        traversal: () => this.traversal?.recordFields() ?? null
      })
    const dht = this.dht
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
        observer: opts.addressObserver,
        onPath: ev => {
          const to = peerAddressOf(ev.address)
          if (to !== null) this.messaging.network.punched(ev.fingerprint, to, { candidate: ev.kind, rttMs: ev.rttMs })
        },
        onGiveUp: opts.onPunchGiveUp
      })
    const traversal = this.traversal
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
        : (fp, dhPublic, info) => { traversal.service?.punch({ fingerprint: fp, dhPublic, ...info }) },
      profileName: opts.profileName
    })
    this.actions = new MessagingActions(this.messaging)
  }

  get store (): Store {
    const s = this.storage.store
    if (s === undefined) throw errors.DAEMON_FAILED('the store is not open')
    return s
  }

  get fingerprint (): string { return this.opts.identity.fingerprint }

  /** Where peers reach us (the bound UDP address). */
  get address (): PeerAddress { return this.udp.endpoint.address }

  /**
   * The node's parts in start order: the store, the socket, the DHT (before messaging, which looks
   * peers up in it and stops first, cancelling its lookups), NAT traversal, messaging.
   */
  components (): Component[] {
    return [this.storage, this.udp, ...(this.dht === null ? [] : [this.dht]), ...(this.traversal === null ? [] : [this.traversal]), this.messaging]
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
