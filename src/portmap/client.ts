// The port-mapping client (proto-spec/portmap.md §4): asks the default gateway to forward a UDP
// port on its public address to the node's own socket, PCP first (RFC 6887), NAT-PMP when the
// gateway speaks only that (RFC 6886), UPnP IGD when neither answers (portmap.md §5, upnp.ts);
// renews at half the granted lifetime; asks the gateway's epoch now and then (UPnP: whether it
// still holds the mapping) and re-maps at once when it shows the gateway lost its table (a reboot,
// RFC 6887 §8.5, RFC 6886 §3.6); deletes the mapping on stop. A mapped address that is itself
// private (the gateway sits behind a carrier-grade NAT: double NAT) is reported, but not as
// publicly reachable.
//
// Requests go from a socket of their own bound to our address toward the gateway (PCP's client
// address must be the packet's source, RFC 6887 §8.1); the mapping names the endpoint's port.
import type { Logger } from 'pino'
import { ipScope, parseIp, type PeerAddress } from '../io/address.js'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import type { Random } from '../io/random.js'
import type { Scheduler } from '../io/scheduler.js'
import { natPmpEpochLost, pcpEpochLost, type EpochSample } from './epoch.js'
import type { ExchangeCounters, RetransmitPolicy } from './exchange.js'
import type { Gateway, GatewayFinder } from './gateway.js'
import { PCP_NONCE_BYTES, PCP_SERVER_PORT } from './pcp.js'
import { natPmpAddress, natPmpMap, pcpEpoch, pcpMap, type MapOutcome, type RequestIo } from './requests.js'
import { nodeHttpClient } from './http.js'
import { UpnpClient, type UpnpOptions } from './upnp.js'

export type PortmapProtocol = 'pcp' | 'nat-pmp' | 'upnp'

/** Tried in this order unless told otherwise (portmap.md §4.2). */
export const PORTMAP_PROTOCOLS: readonly PortmapProtocol[] = ['pcp', 'nat-pmp', 'upnp']

/** Tuning (not from the RFCs unless said), in ms unless named otherwise. */
export interface PortmapTuning {
  lifetimeS: number
  initialMs: number
  attempts: number
  deleteAttempts: number
  retryMs: number
  epochCheckMs: number
  minRenewMs: number
  maxRenewMs: number
  /** UPnP: one HTTP exchange with the router (description or SOAP action) */
  httpTimeoutMs: number
}

export const PORTMAP_DEFAULTS: Readonly<PortmapTuning> = {
  /** asked-for lifetime: RFC 6886 §3.3 recommends 7200 s */
  lifetimeS: 7200,
  /** RFC 6886 §3.1's first wait; PCP's 3 s (RFC 6887 §8.1.1) is too slow to fall back on a LAN */
  initialMs: 250,
  /** 250 + 500 + 1000 + 2000 ms: a gateway that says nothing for ~4 s is taken as absent */
  attempts: 4,
  /** a delete on stop gets fewer: the process is shutting down */
  deleteAttempts: 2,
  /** between tries when there is no gateway or no mapping could be had */
  retryMs: 5 * 60_000,
  /** how often the gateway's epoch is read between renewals, to notice a reboot */
  epochCheckMs: 2 * 60_000,
  /** renewals are never sooner than this (a router granting 1 s would otherwise be flooded) */
  minRenewMs: 1000,
  /** nor later (timers cap at 2^31 ms, and a day is long enough to learn of a change) */
  maxRenewMs: 24 * 3600_000,
  /** a LAN round trip is milliseconds; a router's slow web server gets 2 s */
  httpTimeoutMs: 2000
}

export interface PortMapping {
  protocol: PortmapProtocol
  gateway: string
  internalPort: number
  /** the address and port the gateway forwards to us */
  external: PeerAddress
  lifetimeS: number
  /** monotonic ms (the scheduler's clock) when it lapses unless renewed */
  expiresAt: number
  /** false when the external address is private/shared (double NAT) or unusable */
  publiclyReachable: boolean
  /** why it is not publicly reachable */
  note?: string
  /** UPnP only: the router grants no timed lease (725), so the mapping stands until deleted */
  permanent?: boolean
}

export type PortmapState = 'idle' | 'mapping' | 'mapped' | 'unavailable' | 'stopped'

export interface PortmapStatus {
  state: PortmapState
  mapping: PortMapping | null
  /** why there is no mapping, when there is none */
  reason?: string
  /** times the gateway was seen to lose its mappings */
  gatewayResets: number
  /** the gateway's epoch in its last answer (seconds since its mapping state began) */
  epochS?: number
}

export interface PortMapperOptions {
  sockets: DatagramSockets
  scheduler: Scheduler
  random: Random
  /** the node's own UDP port: what is mapped */
  internalPort: number
  findGateway: GatewayFinder
  /** the gateway's PCP/NAT-PMP port (tests use a fake on another port) */
  serverPort?: number
  /** which protocols, in order of preference */
  protocols?: PortmapProtocol[]
  /** UPnP test hooks: HTTP client, the gateway's SSDP port, multicast off */
  upnp?: Partial<Omit<UpnpOptions, 'httpTimeoutMs' | 'log'>>
  tuning?: Partial<PortmapTuning>
  log?: Logger
  /** called after every change of status */
  onChange?: (status: PortmapStatus) => void
}

export class PortMapper {
  readonly counters: ExchangeCounters = { dropped: 0, sent: 0 }
  readonly #o: PortMapperOptions
  readonly #t: PortmapTuning
  readonly #abort = new AbortController()
  #status: PortmapStatus = { state: 'idle', mapping: null, gatewayResets: 0 }
  #socket: DatagramTransport | null = null
  #gateway: Gateway | null = null
  #nonce: Uint8Array
  #epoch: EpochSample | null = null
  #timer: unknown = null
  readonly #upnp: UpnpClient
  /** one operation at a time: map, renew, check, delete */
  #queue: Promise<void> = Promise.resolve()

  constructor (opts: PortMapperOptions) {
    this.#o = opts
    this.#t = { ...PORTMAP_DEFAULTS, ...opts.tuning }
    this.#nonce = opts.random.bytes(PCP_NONCE_BYTES)
    this.#upnp = new UpnpClient({ http: nodeHttpClient, httpTimeoutMs: this.#t.httpTimeoutMs, ...opts.upnp, ...(opts.log === undefined ? {} : { log: opts.log }) })
  }

  status (): PortmapStatus { return { ...this.#status, mapping: this.#status.mapping === null ? null : { ...this.#status.mapping } } }

  /** Starts mapping; resolves when the first attempt has an outcome (mapped or unavailable). */
  async start (): Promise<PortmapStatus> {
    if (this.#status.state !== 'idle') throw new Error(`cannot start a port mapper that is ${this.#status.state}`)
    await this.#enqueue(async () => { await this.#map('start') })
    return this.status()
  }

  /** Deletes the mapping (lifetime 0) if there is one, and closes the socket. Idempotent. */
  async stop (): Promise<void> {
    if (this.#status.state === 'stopped') return
    this.#clearTimer()
    this.#abort.abort()
    // the queue's current step ends at once (its exchange sees the abort); then the delete
    await this.#queue
    const m = this.#status.mapping
    if (m !== null && this.#socket !== null && this.#gateway !== null) {
      const io = this.#io({ attempts: this.#t.deleteAttempts }, false)
      const out = await this.#request(m.protocol, io, 0, m.external.port)
      this.#o.log?.info({ protocol: m.protocol, result: out.kind }, 'port mapping deleted')
    }
    await this.#socket?.close()
    this.#socket = null
    this.#set({ state: 'stopped', mapping: null, reason: 'stopped' })
  }

  #enqueue (step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step).catch(err => {
      this.#o.log?.warn({ err: (err as Error).message }, 'port mapping step failed')
    })
    this.#queue = next
    return next
  }

  /** Map (or renew: the same request, RFC 6887 §11.2.1, RFC 6886 §3.3) with each protocol in turn. */
  async #map (why: string, suggestPort?: number, prefer?: PortmapProtocol): Promise<void> {
    if (this.#abort.signal.aborted) return
    const prev = this.#status.mapping
    if (prev === null) this.#set({ state: 'mapping' })
    const gw = await this.#ensureSocket()
    if (gw === null) { this.#unavailable(this.#status.reason ?? 'no default gateway'); return }
    const all = this.#o.protocols ?? PORTMAP_PROTOCOLS
    // after a reset, the protocol that worked is asked first (the others' silence costs seconds)
    const order = prev !== null ? [prev.protocol] : prefer !== undefined && all.includes(prefer) ? [prefer, ...all.filter(p => p !== prefer)] : all
    const reasons: string[] = []
    let refusedOn5351 = false
    for (const protocol of order) {
      // a PCP/NAT-PMP server that answered and said no would say no in the other protocol too
      // (one server, port 5351); UPnP is another server on the router, with its own settings
      if (refusedOn5351 && protocol !== 'upnp') continue
      const out = await this.#request(protocol, this.#io({}, true), this.#t.lifetimeS, prev?.external.port ?? suggestPort ?? this.#o.internalPort)
      if (this.#abort.signal.aborted) return
      if (out.kind === 'mapped') { this.#mapped(protocol, gw, out, why); return }
      reasons.push(out.kind === 'timeout' ? `${protocol}: no answer from ${gw.gateway}` : out.reason)
      if (out.kind === 'refused' && protocol !== 'upnp') refusedOn5351 = true
    }
    this.#failed(reasons.join('; '))
  }

  async #request (protocol: PortmapProtocol, io: RequestIo, lifetimeS: number, externalPort: number): Promise<MapOutcome> {
    const ask = { local: this.#gateway!.local, internalPort: this.#o.internalPort, externalPort, lifetimeS, nonce: this.#nonce }
    if (protocol === 'upnp') return lifetimeS === 0 ? await this.#upnp.unmap(io, externalPort) : await this.#upnp.map(io, ask)
    return protocol === 'pcp' ? await pcpMap(io, ask) : await natPmpMap(io, ask)
  }

  #mapped (protocol: PortmapProtocol, gw: Gateway, out: Extract<MapOutcome, { kind: 'mapped' }>, why: string): void {
    if (out.lifetimeS === 0 || out.externalPort === 0) { this.#failed(`${protocol}: the gateway granted an unusable mapping (port ${out.externalPort}, lifetime ${out.lifetimeS} s)`); return }
    // UPnP has no epoch: a lost mapping shows in #checkEpoch's GetSpecificPortMappingEntry
    const reset = protocol !== 'upnp' && this.#noteEpoch(protocol, out.epochS)
    const now = this.#o.scheduler.now()
    const reach = reachability(out.externalAddress)
    const mapping: PortMapping = {
      protocol,
      gateway: gw.gateway,
      internalPort: this.#o.internalPort,
      external: { host: out.externalAddress, port: out.externalPort },
      lifetimeS: out.lifetimeS,
      expiresAt: now + out.lifetimeS * 1000,
      publiclyReachable: reach === null,
      ...(reach === null ? {} : { note: reach }),
      ...(out.permanent === true ? { permanent: true } : {})
    }
    const old = this.#status.mapping
    if (old === null || old.external.host !== mapping.external.host || old.external.port !== mapping.external.port) {
      this.#o.log?.info({ protocol, gateway: gw.gateway, external: `${mapping.external.host}:${mapping.external.port}`, lifetimeS: out.lifetimeS, publiclyReachable: mapping.publiclyReachable, why }, 'port mapped')
    }
    this.#set({ state: 'mapped', mapping, reason: undefined, ...(protocol === 'upnp' ? {} : { epochS: out.epochS }), gatewayResets: this.#status.gatewayResets + (reset ? 1 : 0) })
    this.#scheduleNext()
  }

  /** Renew at half the lifetime (RFC 6886 §3.3, RFC 6887 §11.2.1), or read the epoch sooner. */
  #scheduleNext (): void {
    const m = this.#status.mapping
    if (m === null) return
    const now = this.#o.scheduler.now()
    const renewIn = clamp((m.expiresAt - now) / 2, this.#t.minRenewMs, this.#t.maxRenewMs)
    if (this.#t.epochCheckMs < renewIn) this.#after(this.#t.epochCheckMs, async () => { await this.#checkEpoch() })
    else this.#after(renewIn, async () => { await this.#map('renewal') })
  }

  /** Between renewals: has the gateway restarted (lost our mapping)? If so, map again now. */
  async #checkEpoch (): Promise<void> {
    const m = this.#status.mapping
    if (m === null || this.#gateway === null || this.#socket === null) return
    const io = this.#io({}, true)
    if (m.protocol === 'upnp') {
      const held = await this.#upnp.check(io, { local: this.#gateway.local, internalPort: this.#o.internalPort, externalPort: m.external.port, lifetimeS: 0 })
      if (this.#abort.signal.aborted) return
      if (held === 'lost') {
        this.#o.log?.warn({ protocol: 'upnp', external: m.external.port }, 'the gateway no longer holds our UPnP mapping: mapping again')
        this.#set({ state: 'mapping', mapping: null, reason: 'the gateway lost its mappings (rebooted)', gatewayResets: this.#status.gatewayResets + 1 })
        await this.#map('gateway reset', m.external.port, 'upnp')
        return
      }
      this.#scheduleNext()
      return
    }
    const epochS = m.protocol === 'pcp'
      ? await pcpEpoch(io, this.#gateway.local)
      : await natPmpAddress(io).then(a => a.kind === 'address' || a.kind === 'refused' ? a.epochS : null)
    if (this.#abort.signal.aborted) return
    if (epochS !== null && this.#noteEpoch(m.protocol, epochS)) {
      // the mapping is gone with the gateway's state: say so, then ask again for the same port
      this.#set({ state: 'mapping', mapping: null, reason: 'the gateway lost its mappings (rebooted)', epochS, gatewayResets: this.#status.gatewayResets + 1 })
      await this.#map('gateway reset', m.external.port, m.protocol)
      return
    }
    if (epochS !== null) this.#set({ epochS })
    this.#scheduleNext()
  }

  /** Records an epoch value; true when it shows the gateway lost its mapping state (the caller counts it). */
  #noteEpoch (protocol: PortmapProtocol, epochS: number): boolean {
    const sample = { serverS: epochS, clientMs: this.#o.scheduler.now() }
    const prev = this.#epoch
    this.#epoch = sample
    if (prev === null) return false
    const lost = protocol === 'pcp' ? pcpEpochLost(prev, sample) : natPmpEpochLost(prev, sample)
    if (lost) this.#o.log?.warn({ protocol, before: prev.serverS, now: epochS }, 'the gateway lost its port mappings (its epoch went back): mapping again')
    return lost
  }

  #failed (reason: string): void {
    const m = this.#status.mapping
    if (m !== null && m.expiresAt > this.#o.scheduler.now()) {
      // a renewal failed but the mapping still stands: try again well before it lapses
      this.#o.log?.warn({ reason }, 'port mapping renewal failed; retrying')
      this.#after(clamp((m.expiresAt - this.#o.scheduler.now()) / 4, this.#t.minRenewMs, this.#t.retryMs), async () => { await this.#map('renewal retry') })
      return
    }
    this.#unavailable(reason)
  }

  #unavailable (reason: string): void {
    if (this.#status.state !== 'unavailable' || this.#status.reason !== reason) this.#o.log?.info({ reason }, 'no port mapping')
    this.#epoch = null
    this.#set({ state: 'unavailable', mapping: null, reason })
    this.#after(this.#t.retryMs, async () => { await this.#map('retry') })
  }

  /** Finds the gateway and (re)binds our request socket to our address toward it. */
  async #ensureSocket (): Promise<Gateway | null> {
    const gw = await this.#o.findGateway()
    if (gw === null) { this.#set({ reason: 'no default gateway' }); return null }
    if (this.#socket !== null && this.#gateway?.local === gw.local && this.#gateway.gateway === gw.gateway) return gw
    await this.#socket?.close()
    this.#socket = null
    if (this.#gateway !== null && this.#gateway.gateway !== gw.gateway) {
      // a new network: a new mapping with a new nonce, and no epoch history to compare with
      this.#nonce = this.#o.random.bytes(PCP_NONCE_BYTES)
      this.#epoch = null
      this.#upnp.forget()
    }
    this.#gateway = gw
    try {
      this.#socket = await this.#o.sockets.bind({ host: gw.local, port: 0 })
    } catch (err) {
      this.#set({ reason: `cannot bind a socket on ${gw.local}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      return null
    }
    return gw
  }

  #io (policy: Partial<RetransmitPolicy>, abortable: boolean): RequestIo {
    return {
      socket: this.#socket!,
      server: { host: this.#gateway!.gateway, port: this.#o.serverPort ?? PCP_SERVER_PORT },
      scheduler: this.#o.scheduler,
      random: this.#o.random,
      policy: { initialMs: this.#t.initialMs, attempts: this.#t.attempts, ...policy },
      counters: this.counters,
      ...(abortable ? { signal: this.#abort.signal } : {})
    }
  }

  #after (ms: number, step: () => Promise<void>): void {
    this.#clearTimer()
    if (this.#abort.signal.aborted) return
    this.#timer = this.#o.scheduler.setTimer(ms, () => { this.#timer = null; void this.#enqueue(step) })
  }

  #clearTimer (): void {
    if (this.#timer !== null) this.#o.scheduler.clearTimer(this.#timer)
    this.#timer = null
  }

  #set (patch: Partial<PortmapStatus>): void {
    this.#status = { ...this.#status, ...patch }
    if (this.#status.reason === undefined) delete this.#status.reason
    this.#o.onChange?.(this.status())
  }
}

/**
 * null when `host` is a public address; else why a mapping there does not make us reachable from
 * the internet: the gateway's own "public" side is private or shared address space (RFC 1918,
 * RFC 6598 100.64/10: a carrier-grade NAT stands between it and the internet), or unusable.
 */
export function reachability (host: string): string | null {
  const ip = parseIp(host)
  if (ip === null) return `the gateway reported no usable external address (${host})`
  const scope = ipScope(ip)
  if (scope === 'public') return null
  if (scope === 'private') {
    const shared = ip.length === 4 && ip[0] === 100
    return `double NAT: the mapped address ${host} is ${shared ? 'carrier-grade NAT space (RFC 6598)' : 'private (RFC 1918)'}; another NAT stands between the gateway and the internet`
  }
  return `the gateway reported a ${scope} external address (${host})`
}

function clamp (x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi)
}
