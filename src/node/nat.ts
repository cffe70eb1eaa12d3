// STUN on the node's one UDP socket, as a component (proto-spec/stun.md §6): the Endpoint's 'stun'
// hook feeds a StunService (src/stun/service.ts), whose client the NatProbe uses to learn our
// reflexive address(es) and NAT kind from servers at different IPs, so the address learned is
// the one our Noise traffic leaves from. The node answers Binding requests itself when it is
// publicly reachable (or always, if told: a bootstrap node's role). What the rest of the node
// reads: `reflexive()`, `natKind()`, `publiclyReachable()`, and `status()` for `dmess status`.
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { World } from '../io/world.js'
import { peerAddressOf, type PeerAddress } from '../io/address.js'
import { interfaceAddresses } from '../platform/interfaces.js'
import type { Endpoint } from '../transport/endpoint.js'
import { StunService } from '../stun/service.js'
import { NatProbe, INITIAL_NAT_STATE, type NatObserver, type NatState } from '../stun/probe.js'
import type { NatKind } from '../stun/classify.js'
import type { StunClientOptions } from '../stun/client.js'

/** When this node answers STUN Binding requests. */
export type StunServeMode = 'always' | 'when-public' | 'never'

export interface NatSettings {
  /** STUN servers to ask, best first; default: the DHT bootstrap nodes, then DHT contacts */
  servers?: PeerAddress[]
  /** default 'when-public' */
  serve?: StunServeMode
  intervalMs?: number
  changeCheckMs?: number
  client?: Pick<StunClientOptions, 'rtoMs' | 'maxRequests' | 'finalWaitRtos'>
}

export interface NatComponentOptions extends NatSettings {
  endpoint: () => Endpoint
  world: World
  log: Logger
  /** candidate servers when `servers` is not given (bootstrap list and DHT contacts) */
  candidates: () => PeerAddress[]
  /** the DHT's idea of our address ("host:port"), when there is a DHT */
  observed?: () => string | null
  /** our interface addresses (default: node:os) */
  localIps?: () => string[]
}

export interface NatStatus extends NatState {
  /** answering STUN Binding requests now */
  stunServing: boolean
}

const WILDCARD = new Set(['0.0.0.0', '::', ''])

export class NatComponent implements Component, NatObserver {
  readonly name = 'nat'
  #service: StunService | null = null
  #probe: NatProbe | null = null

  constructor (readonly opts: NatComponentOptions) {}

  get service (): StunService | null { return this.#service }

  async start (): Promise<void> {
    const ep = this.opts.endpoint()
    const { scheduler, random } = this.opts.world
    const service = new StunService({
      send: (to, bytes) => { ep.sendDatagram(to, bytes) },
      scheduler,
      random,
      serve: () => this.serving(),
      client: this.opts.client
    })
    const probe = new NatProbe({
      client: service.client,
      scheduler,
      servers: () => this.opts.servers ?? this.opts.candidates(),
      local: () => ({ port: ep.address.port, ips: WILDCARD.has(ep.address.host) ? (this.opts.localIps ?? interfaceAddresses)() : [ep.address.host] }),
      observed: this.opts.observed,
      intervalMs: this.opts.intervalMs,
      changeCheckMs: this.opts.changeCheckMs,
      onChange: s => { this.opts.log.info({ natKind: s.natKind, reflexive: s.reflexive, answered: s.answered, asked: s.asked }, 'nat probed') }
    })
    ep.setHandler('stun', (bytes, from) => { service.receive(bytes, from) })
    this.#service = service
    this.#probe = probe
    probe.start()
  }

  /** Probe now (tests; a later network-change hook). */
  async probe (): Promise<NatState> {
    return this.#probe === null ? INITIAL_NAT_STATE : await this.#probe.probe()
  }

  natKind (): NatKind { return this.#probe?.state.natKind ?? 'unknown' }
  reflexive (): PeerAddress[] {
    return (this.#probe?.state.reflexive ?? []).map(peerAddressOf).filter((a): a is PeerAddress => a !== null)
  }

  publiclyReachable (): boolean { return this.#probe?.state.publiclyReachable ?? false }

  serving (): boolean {
    const mode = this.opts.serve ?? 'when-public'
    return mode === 'always' || (mode === 'when-public' && this.publiclyReachable())
  }

  status (): NatStatus {
    return { ...(this.#probe?.state ?? INITIAL_NAT_STATE), stunServing: this.serving() }
  }

  async stop (): Promise<void> {
    this.#probe?.stop()
    this.#service?.close()
    try { this.opts.endpoint().setHandler('stun', null) } catch { /* the socket is already gone */ }
    this.#probe = null
    this.#service = null
  }
}
