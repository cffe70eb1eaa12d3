// The port-mapping client (proto-spec/portmap.md §4): asks the default gateway to forward a UDP
// port on its public address to the node's own socket. PCP (RFC 6887), NAT-PMP (RFC 6886) and
// UPnP IGD (portmap.md §5, upnp.ts) are probed at once, and the best that answered maps (probe.ts:
// PCP, then NAT-PMP, then UPnP); renews at half the granted lifetime; asks the gateway's epoch now
// and then (UPnP: whether it still holds the mapping) and re-maps at once when it shows the
// gateway lost its table (a reboot, RFC 6887 §8.5, RFC 6886 §3.6), or probes afresh when the
// default gateway changed; deletes the mapping on stop. A mapped address that is itself private
// (the gateway sits behind a carrier-grade NAT: double NAT) is reported (mapping.ts), but not as
// publicly reachable.
//
// Requests go from sockets of their own, one per protocol so that the probes run side by side,
// bound to our address toward the gateway (PCP's client address must be the packet's source,
// RFC 6887 §8.1); the mapping names the endpoint's port.
import type { Logger } from 'pino'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import type { Random } from '../io/random.js'
import type { Scheduler } from '../io/scheduler.js'
import { natPmpEpochLost, pcpEpochLost, type EpochSample } from './epoch.js'
import type { ExchangeCounters, RetransmitPolicy } from './exchange.js'
import type { Gateway, GatewayFinder } from './gateway.js'
import { PCP_NONCE_BYTES, PCP_SERVER_PORT } from './pcp.js'
import { natPmpAddress, natPmpMap, natPmpProbe, pcpEpoch, pcpMap, pcpProbe, type MapOutcome, type ProbeOutcome, type RequestIo } from './requests.js'
import { nodeHttpClient } from './http.js'
import { UpnpClient, type UpnpOptions } from './upnp.js'
import { ProbeRound, type PortmapProtocol } from './probe.js'
import { PORTMAP_DEFAULTS, PORTMAP_PROTOCOLS, reachability, type PortmapStatus, type PortmapTuning, type PortMapping } from './mapping.js'

export type { PortmapProtocol } from './probe.js'
export { PORTMAP_DEFAULTS, PORTMAP_PROTOCOLS, reachability } from './mapping.js'
export type { PortmapState, PortmapStatus, PortmapTuning, PortMapping } from './mapping.js'

export interface PortMapperOptions {
  sockets: DatagramSockets
  scheduler: Scheduler
  random: Random
  /** the node's own UDP port: what is mapped */
  internalPort: number
  findGateway: GatewayFinder
  /** the gateway's PCP/NAT-PMP port (tests use a fake on another port) */
  serverPort?: number
  /** which protocols, in order of preference (all are probed at once) */
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
  /** one request socket per protocol, bound to our address toward the gateway */
  #sockets = new Map<PortmapProtocol, DatagramTransport>()
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
    if (m !== null && this.#sockets.has(m.protocol) && this.#gateway !== null) {
      const io = this.#io(m.protocol, { attempts: this.#t.deleteAttempts }, false)
      const out = await this.#request(m.protocol, io, 0, m.external.port)
      this.#o.log?.info({ protocol: m.protocol, result: out.kind }, 'port mapping deleted')
    }
    await this.#closeSockets()
    this.#set({ state: 'stopped', mapping: null, reason: 'stopped' })
  }

  #enqueue (step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step).catch(err => {
      this.#o.log?.warn({ err: (err as Error).message }, 'port mapping step failed')
    })
    this.#queue = next
    return next
  }

  /**
   * Map, or renew (the same request, RFC 6887 §11.2.1, RFC 6886 §3.3) with the protocol that
   * mapped. A first mapping, one on a new network, or one after every protocol failed probes all
   * protocols at once (portmap.md §4.2); after a reset the protocol that worked is asked first.
   */
  async #map (why: string, suggestPort?: number, prefer?: PortmapProtocol): Promise<void> {
    if (this.#abort.signal.aborted) return
    let prev = this.#status.mapping
    if (prev === null) this.#set({ state: 'mapping' })
    const found = await this.#ensureSockets()
    if (found === null) { this.#unavailable(this.#status.reason ?? 'no default gateway'); return }
    const { gw, changed } = found
    if (prev !== null && changed) {
      // the mapping is on the old network's gateway: this one is probed afresh
      this.#o.log?.info({ gateway: gw.gateway, was: prev.gateway }, 'the default gateway changed: mapping anew')
      this.#set({ state: 'mapping', mapping: null, reason: 'the network changed' })
      prev = null
      suggestPort = undefined
      prefer = undefined
    }
    const port = prev?.external.port ?? suggestPort ?? this.#o.internalPort
    const all = this.#o.protocols ?? PORTMAP_PROTOCOLS
    const known = prev?.protocol ?? (prefer !== undefined && all.includes(prefer) ? prefer : undefined)
    const reasons = new Map<PortmapProtocol, string>()
    const skip = new Set<PortmapProtocol>()
    if (known !== undefined) {
      // the protocol that worked, asked alone: the others' silence would cost seconds
      const out = await this.#request(known, this.#io(known, {}, true), this.#t.lifetimeS, port)
      if (this.#abort.signal.aborted) return
      if (out.kind === 'mapped') { this.#mapped(known, gw, out, why); return }
      reasons.set(known, reasonOf(known, out, gw.gateway))
      // a renewal keeps to its protocol until the mapping lapses (#failed)
      if (prev !== null) { this.#failed(reasons.get(known)!); return }
      skip.add(known)
      if (out.kind === 'refused' && known !== 'upnp') skip5351(skip)
    }
    await this.#probeAndMap(gw, why, port, all, reasons, skip)
  }

  /**
   * Probes every protocol of `all` not in `skip` at once (probe.ts) and maps with the best that
   * answered; if it refuses, with the next. Ends the probes still running once mapped.
   */
  async #probeAndMap (gw: Gateway, why: string, port: number, all: readonly PortmapProtocol[], reasons: Map<PortmapProtocol, string>, skip: Set<PortmapProtocol>): Promise<void> {
    const stopProbes = new AbortController()
    const onStop = (): void => { stopProbes.abort() }
    this.#abort.signal.addEventListener('abort', onStop, { once: true })
    const probed = all.filter(p => !skip.has(p))
    const round = new ProbeRound(probed, async p => await this.#probe(p, gw, stopProbes.signal), this.#o.scheduler, this.#t.probeGraceMs)
    try {
      for (let p = await round.next(skip); p !== null; p = await round.next(skip)) {
        skip.add(p)
        const probe = round.outcome(p)
        const out = await this.#request(p, this.#io(p, {}, true), this.#t.lifetimeS, port, probe?.kind === 'present' ? probe.externalAddress : undefined)
        if (this.#abort.signal.aborted) return
        if (out.kind === 'mapped') { this.#mapped(p, gw, out, why); return }
        reasons.set(p, reasonOf(p, out, gw.gateway))
        if (out.kind === 'refused' && p !== 'upnp') skip5351(skip)
      }
    } finally {
      round.close()
      stopProbes.abort()
      this.#abort.signal.removeEventListener('abort', onStop)
    }
    if (this.#abort.signal.aborted) return
    for (const p of probed) {
      const o = round.outcome(p)
      if (!reasons.has(p) && o !== undefined && o.kind !== 'present') reasons.set(p, reasonOf(p, o, gw.gateway))
    }
    this.#failed(all.filter(p => reasons.has(p)).map(p => reasons.get(p)!).join('; '))
  }

  /** One protocol's probe: does the gateway speak it? (PCP ANNOUNCE, NAT-PMP address request, UPnP discovery.) */
  async #probe (p: PortmapProtocol, gw: Gateway, signal: AbortSignal): Promise<ProbeOutcome> {
    const io = { ...this.#io(p, {}, false), signal }
    if (p === 'pcp') return await pcpProbe(io, gw.local)
    return p === 'nat-pmp' ? await natPmpProbe(io) : await this.#upnp.probe(io)
  }

  /** `knownAddress`: NAT-PMP's public address, when its probe just read it. */
  async #request (protocol: PortmapProtocol, io: RequestIo, lifetimeS: number, externalPort: number, knownAddress?: string): Promise<MapOutcome> {
    const ask = { local: this.#gateway!.local, internalPort: this.#o.internalPort, externalPort, lifetimeS, nonce: this.#nonce }
    if (protocol === 'upnp') return lifetimeS === 0 ? await this.#upnp.unmap(io, externalPort) : await this.#upnp.map(io, ask)
    return protocol === 'pcp' ? await pcpMap(io, ask) : await natPmpMap(io, ask, knownAddress)
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

  /**
   * Between renewals: has the network changed (another default gateway or address: probe it
   * afresh), or has the gateway restarted (lost our mapping)? If so, map again now.
   */
  async #checkEpoch (): Promise<void> {
    const m = this.#status.mapping
    if (m === null || this.#gateway === null || !this.#sockets.has(m.protocol)) return
    const gw = await this.#o.findGateway()
    if (this.#abort.signal.aborted) return
    // no route at this moment may be a flap: the mapping stands until a renewal finds otherwise
    if (gw !== null && (gw.gateway !== this.#gateway.gateway || gw.local !== this.#gateway.local)) { await this.#map('network change'); return }
    const io = this.#io(m.protocol, {}, true)
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

  /**
   * Finds the gateway and (re)binds our request sockets to our address toward it; `changed` when
   * it is not the gateway (or address) of before: a new network.
   */
  async #ensureSockets (): Promise<{ gw: Gateway, changed: boolean } | null> {
    const gw = await this.#o.findGateway()
    if (gw === null) { this.#set({ reason: 'no default gateway' }); return null }
    const protocols = this.#o.protocols ?? PORTMAP_PROTOCOLS
    const same = this.#gateway?.local === gw.local && this.#gateway.gateway === gw.gateway
    if (same && protocols.every(p => this.#sockets.has(p))) return { gw, changed: false }
    const changed = this.#gateway !== null && !same
    await this.#closeSockets()
    if (changed) {
      // a new network: a new mapping with a new nonce, and no epoch history to compare with
      this.#nonce = this.#o.random.bytes(PCP_NONCE_BYTES)
      this.#epoch = null
      this.#upnp.forget()
    }
    this.#gateway = gw
    try {
      for (const p of protocols) this.#sockets.set(p, await this.#o.sockets.bind({ host: gw.local, port: 0 }))
    } catch (err) {
      await this.#closeSockets()
      this.#set({ reason: `cannot bind a socket on ${gw.local}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      return null
    }
    return { gw, changed }
  }

  async #closeSockets (): Promise<void> {
    const open = [...this.#sockets.values()]
    this.#sockets.clear()
    for (const socket of open) await socket.close()
  }

  #io (protocol: PortmapProtocol, policy: Partial<RetransmitPolicy>, abortable: boolean): RequestIo {
    return {
      socket: this.#sockets.get(protocol)!,
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
 * A PCP/NAT-PMP server that answered and said no would say no in the other protocol too (one
 * server, port 5351); UPnP is another server on the router, with its own settings.
 */
function skip5351 (skip: Set<PortmapProtocol>): void {
  skip.add('pcp')
  skip.add('nat-pmp')
}

/** Why a protocol gave no mapping, for `status` (portmap.md §4.2). */
function reasonOf (p: PortmapProtocol, out: Exclude<MapOutcome, { kind: 'mapped' }> | Exclude<ProbeOutcome, { kind: 'present' }>, gateway: string): string {
  return out.kind === 'timeout' ? `${p}: no answer from ${gateway}` : out.reason
}

function clamp (x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi)
}
