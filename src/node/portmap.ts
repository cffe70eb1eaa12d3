// Port mapping as a node component (proto-spec/portmap.md §4, §5): once the endpoint's socket is
// bound, ask the default gateway (PCP, NAT-PMP and UPnP IGD probed at once, the best that answers
// used) to forward a public UDP port to it, keep the mapping renewed, and delete it at stop. The
// first attempt runs in the background: a node without a mapping works as before, and a gateway
// that never answers does not delay start.
// A socket bound to loopback is never mapped (a router cannot forward to 127.0.0.1): that is every
// test node unless a test asks for mapping on purpose.
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { World } from '../io/world.js'
import { isLoopbackHost, type PeerAddress } from '../io/address.js'
import { PortMapper, type PortMapperOptions, type PortmapStatus } from '../portmap/client.js'
import { defaultGateway } from '../portmap/gateway.js'

/** What `dmess status` shows (proto-spec/ipc.md §4). */
export interface PortmapReport {
  enabled: boolean
  state: PortmapStatus['state'] | 'off'
  protocol?: string
  gateway?: string
  /** "host:port" the gateway forwards to our socket */
  mapped?: string
  /** true only for a mapping on a public address (not behind a second NAT) */
  publiclyReachable: boolean
  /** why there is no usable mapping */
  reason?: string
  /** seconds until it lapses unless renewed (for a permanent UPnP mapping: until it is re-added) */
  expiresInS?: number
  /** UPnP: the router grants only permanent mappings; this one is deleted on stop */
  permanent?: boolean
}

export interface PortmapComponentOptions {
  world: World
  /** the endpoint's bound address, read at start */
  bound: () => PeerAddress
  log: Logger
  /** test hooks and tuning over the defaults (gateway finder, server port, timings) */
  mapper?: Partial<Omit<PortMapperOptions, 'sockets' | 'scheduler' | 'random' | 'internalPort' | 'log'>>
}

export class PortmapComponent implements Component {
  readonly name = 'portmap'
  #mapper: PortMapper | null = null
  #skipped: string | null = null

  constructor (private readonly opts: PortmapComponentOptions) {}

  async start (): Promise<void> {
    const bound = this.opts.bound()
    if (isLoopbackHost(bound.host)) { this.#skipped = `bound to loopback (${bound.host})`; return }
    const { world, log } = this.opts
    this.#mapper = new PortMapper({
      sockets: world.sockets,
      scheduler: world.scheduler,
      random: world.random,
      internalPort: bound.port,
      findGateway: defaultGateway,
      log,
      ...this.opts.mapper
    })
    void this.#mapper.start().catch(err => { log.warn({ err: (err as Error).message }, 'port mapping failed to start') })
  }

  async stop (): Promise<void> {
    await this.#mapper?.stop()
  }

  /** The address the gateway forwards to us, if there is a mapping. */
  mappedAddress (): PeerAddress | null {
    return this.#mapper?.status().mapping?.external ?? null
  }

  /** Does the mapping make this node reachable from the internet (not behind a second NAT)? */
  get publiclyReachable (): boolean {
    return this.#mapper?.status().mapping?.publiclyReachable === true
  }

  report (): PortmapReport {
    const s = this.#mapper?.status()
    if (s === undefined) return { enabled: true, state: 'off', publiclyReachable: false, reason: this.#skipped ?? 'not started' }
    const m = s.mapping
    const base: PortmapReport = { enabled: true, state: s.state, publiclyReachable: m?.publiclyReachable === true }
    if (m === null) return s.reason === undefined ? base : { ...base, reason: s.reason }
    const expiresInS = Math.max(0, Math.round((m.expiresAt - this.opts.world.scheduler.now()) / 1000))
    return { ...base, protocol: m.protocol, gateway: m.gateway, mapped: `${m.external.host}:${m.external.port}`, expiresInS, ...(m.permanent === true ? { permanent: true } : {}), ...(m.note === undefined ? {} : { reason: m.note }) }
  }
}
