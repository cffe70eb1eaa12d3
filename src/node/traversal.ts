// NAT traversal as a node component (proto-spec/traversal.md): the TraversalService on the
// Endpoint's socket, with what the node knows put in — our interface addresses (the record's
// LAN candidates), the DHT's PONGs as the source of our reflexive address until a STUN client
// gives a better one (an AddressObserver), the bootstrap nodes and DHT contacts as rendezvous
// servers, and the contact list (only contacts make us punch). It starts after the DHT (it reads
// its routing table) and before messaging (which asks it to punch).
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { Identity } from '../crypto/identity.js'
import type { World } from '../io/world.js'
import { addressOf, isLoopbackHost, parseIp, peerAddressOf, type PeerAddress } from '../io/address.js'
import type { Endpoint } from '../transport/endpoint.js'
import { TraversalService, type TraversalOptions, type RecordTraversal } from '../traversal/service.js'
import { dhtObserver, type AddressObserver, type Candidate } from '../traversal/candidates.js'
import { dialable } from '../dht/address-scope.js'
import type { DhtComponent } from './dht.js'
import { announcedAddresses, localNetworks } from './dht.js'

export interface TraversalComponentOptions {
  endpoint: () => Endpoint
  dht: DhtComponent
  identity: Identity
  world: World
  log: Logger
  /** "host:port" bootstrap nodes: the first rendezvous candidates */
  bootstrap: string[]
  isContact: (fingerprint: string) => boolean
  /** a better source of reflexive addresses and the NAT kind than the DHT's PONGs (a STUN client) */
  observer?: AddressObserver
  onPath?: TraversalOptions['onPath']
  /** the relay fallback: called when punching gives up (traversal.md §7) */
  onGiveUp?: TraversalOptions['onGiveUp']
  /** a relay offer to join, a stranger's offer to answer with a relay (traversal.md §5.4, §7) */
  onRelay?: TraversalOptions['onRelay']
  onStranger?: TraversalOptions['onStranger']
  onOffered?: TraversalOptions['onOffered']
}

/** DHT contacts offered as rendezvous, besides the bootstrap nodes. */
const CONTACT_SERVERS = 8

export class TraversalComponent implements Component {
  readonly name = 'traversal'
  service: TraversalService | null = null

  constructor (private readonly o: TraversalComponentOptions) {}

  async start (): Promise<void> {
    const ep = this.o.endpoint()
    const bound = (): PeerAddress => ep.address
    const observer = this.o.observer ?? dhtObserver(() => this.o.dht.node?.observedAddress() ?? null, bound)
    const scope = { loopback: isLoopbackHost(ep.address.host), localNetworks: localNetworks(ep.address) }
    const v6 = ep.address.host.includes(':')
    this.service = new TraversalService({
      socket: () => ep,
      identity: this.o.identity,
      scheduler: this.o.world.scheduler,
      random: this.o.world.random,
      observer,
      interfaces: () => announcedAddresses(ep.address).map(a => ({ host: a.host, port: a.port })),
      servers: () => this.#servers(),
      isContact: this.o.isContact,
      usable: (c: Candidate) => dialable(c.host, scope) && (v6 || parseIp(c.host)?.length === 4),
      onPath: ev => {
        this.o.log.debug({ peer: ev.fingerprint, kind: ev.kind, rtt: ev.rttMs, role: ev.role, ms: ev.elapsedMs, punch: this.service?.puncher.stats }, 'punch found a path')
        this.o.onPath?.(ev)
      },
      onGiveUp: ev => {
        this.o.log.debug({ peer: ev.fingerprint, reason: ev.reason, nat: ev.natKind, punch: this.service?.puncher.stats, counters: this.service?.counters }, 'punch gave up')
        this.o.onGiveUp?.(ev)
      },
      onRelay: this.o.onRelay,
      onStranger: this.o.onStranger,
      onOffered: ev => {
        this.o.log.debug({ peer: ev.fingerprint, to: ev.address }, 'early dial')
        this.o.onOffered?.(ev)
      },
      onChange: () => { this.o.dht.republish() },
      ...(this.o.log.isLevelEnabled('debug') ? { trace: (step: string, fields: Record<string, unknown>) => { this.o.log.debug(fields, step) } } : {})
    })
    this.service.start()
  }

  /** What the presence record should carry (read by the DHT component at every announce). */
  /**
   * For `dmess status`: the rendezvous nodes we are registered with (traversal.md §3), and how many
   * registrations we hold for others as a rendezvous.
   */
  report (): { registeredWith: string[], servingRegistrations: number } {
    const s = this.service
    if (s === null) return { registeredWith: [], servingRegistrations: 0 }
    return { registeredWith: s.registrar.entries(this.o.world.scheduler.now()).map(e => e.address), servingRegistrations: s.server.size }
  }

  recordFields (): RecordTraversal | null {
    return this.service?.recordFields() ?? null
  }

  #servers (): string[] {
    const contacts = (this.o.dht.node?.table.all() ?? [])
      .filter(c => c.failures === 0)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, CONTACT_SERVERS)
      .map(c => c.addr)
    const bootstrap = this.o.bootstrap.flatMap(b => {
      const p = peerAddressOf(b)
      const a = p === null ? null : addressOf(p.host, p.port)
      return a === null ? [] : [a]
    })
    return [...new Set([...bootstrap, ...contacts])]
  }

  async stop (): Promise<void> {
    this.service?.stop()
    this.service = null
  }
}
