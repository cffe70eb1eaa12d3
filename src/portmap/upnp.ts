// The UPnP IGD side of the port-mapping client (proto-spec/portmap.md §5): find the gateway's
// Internet Gateway Device by SSDP (UPnP Device Architecture 1.1 §1.3), read its description for
// the WAN connection service (WANIPConnection:2, :1, WANPPPConnection:1), and call that service's
// SOAP actions — GetExternalIPAddress, AddPortMapping, GetSpecificPortMappingEntry,
// DeletePortMapping — over HTTP to the address the SSDP answer came from, which must be the
// gateway itself (a router maps ports for the hosts it NATs; a device elsewhere on the LAN could
// not forward to us, and following its URLs would let it aim our requests anywhere).
//
// The device found is kept between calls; a call that gets no HTTP answer forgets it and searches
// once more (a rebooted router's HTTP server may be on another port), so renewals and checks find
// a router that came back.
import type { Logger } from 'pino'
import type { PeerAddress } from '../io/address.js'
import type { RequestIo, MapOutcome, ProbeOutcome } from './requests.js'
import { sameHost } from './exchange.js'
import type { HttpClient } from './http.js'
import { checkLanUrl, decodeSoapResponse, DESCRIPTION_MAX_BYTES, encodeSoapRequest, parseDescription, SOAP_MAX_BYTES, UpnpError, upnpErrorName, type IgdService, type SoapArgs } from './igd.js'
import { encodeMSearch, parseSsdpAnswer, SSDP_MULTICAST, SSDP_PORT } from './ssdp.js'

/** Shown to the router's user beside the mapping. */
export const UPNP_DESCRIPTION = 'dmess'
/** 718 ConflictInMappingEntry: this many other external ports are tried (random, ≥ 1024). */
export const UPNP_CONFLICT_RETRIES = 3

export interface UpnpOptions {
  http: HttpClient
  /** one HTTP exchange, connect to last byte */
  httpTimeoutMs: number
  /** the gateway's SSDP port (tests use another) */
  ssdpPort?: number
  /** also send the search to 239.255.255.250 (off in loopback tests) */
  multicast?: boolean
  log?: Logger
}

export interface UpnpDevice {
  /** the gateway's address: where the SSDP answer came from, and all HTTP goes */
  host: string
  location: string
  service: IgdService
}

export interface UpnpAsk {
  local: string
  internalPort: number
  /** suggested external port (0: none) */
  externalPort: number
  lifetimeS: number
}

type Soap = { kind: 'ok', args: Map<string, string> } | { kind: 'fault', code: number, reason: string } | { kind: 'failed', reason: string }

export class UpnpClient {
  #device: UpnpDevice | null = null
  /** the router said 725 OnlyPermanentLeasesSupported: lease 0 from now on */
  #permanentOnly = false

  constructor (private readonly o: UpnpOptions) {}

  get device (): UpnpDevice | null { return this.#device }

  /** A new network: nothing known about its router. */
  forget (): void {
    this.#device = null
    this.#permanentOnly = false
  }

  /**
   * GetExternalIPAddress, then AddPortMapping for our UDP port with a lease of `lifetimeS` (0 only
   * on a router that refuses leases: then the mapping is permanent, `lifetimeS` in the outcome
   * says when to re-add it). 718 moves to another external port; 724 to the internal one.
   */
  async map (io: RequestIo, ask: UpnpAsk): Promise<MapOutcome> {
    const found = await this.#ensureDevice(io)
    if (found !== null) return found
    const ip = await this.#call(io, 'GetExternalIPAddress', [])
    if (ip.kind === 'failed') return { kind: 'unsupported', reason: ip.reason }
    if (ip.kind === 'fault') return { kind: 'refused', reason: ip.reason, epochS: 0 }
    const externalAddress = ip.args.get('NewExternalIPAddress') ?? ''
    let port = ask.externalPort >= 1024 ? ask.externalPort : randomPort(io)
    let conflicts = 0
    let permanentRetried = false
    let samePortRetried = false
    for (;;) {
      const lease = this.#permanentOnly ? 0 : ask.lifetimeS
      const add = await this.#call(io, 'AddPortMapping', [
        ['NewRemoteHost', ''], ['NewExternalPort', port], ['NewProtocol', 'UDP'], ['NewInternalPort', ask.internalPort],
        ['NewInternalClient', ask.local], ['NewEnabled', 1], ['NewPortMappingDescription', UPNP_DESCRIPTION], ['NewLeaseDuration', lease]
      ])
      if (io.signal?.aborted === true) return { kind: 'timeout' }
      if (add.kind === 'ok') {
        // the router may grant less than asked (or keep it without a lease): it says so when asked back
        const granted = lease === 0 ? 0 : await this.#grantedLeaseS(io, port, ask.local)
        const permanent = granted === 0
        return { kind: 'mapped', externalAddress, externalPort: port, lifetimeS: granted === null || permanent ? ask.lifetimeS : granted, epochS: 0, permanent }
      }
      if (add.kind === 'failed') return { kind: 'unsupported', reason: add.reason }
      if (add.code === UpnpError.ONLY_PERMANENT_LEASES_SUPPORTED && !this.#permanentOnly && !permanentRetried) {
        permanentRetried = true
        this.#permanentOnly = true
        this.o.log?.info('the router grants only permanent UPnP mappings (725): mapping with lease 0, deleted on stop')
        continue
      }
      if (add.code === UpnpError.CONFLICT_IN_MAPPING_ENTRY && conflicts < UPNP_CONFLICT_RETRIES) {
        conflicts++
        port = randomPort(io)
        continue
      }
      if (add.code === UpnpError.SAME_PORT_VALUES_REQUIRED && !samePortRetried && port !== ask.internalPort) {
        samePortRetried = true
        port = ask.internalPort
        continue
      }
      return { kind: 'refused', reason: add.reason, epochS: 0 }
    }
  }

  /** The probe (portmap.md §4.2): find the router's IGD (SSDP, then its description), mapping nothing. */
  async probe (io: RequestIo): Promise<ProbeOutcome> {
    return await this.#ensureDevice(io) ?? { kind: 'present' }
  }

  /**
   * The lease the router holds for our new mapping (GetSpecificPortMappingEntry's NewLeaseDuration:
   * seconds left, 0 for none, i.e. permanent); null when it does not say (a fault, no answer, not
   * a number, or an entry that is not ours). One try: the mapping is made either way.
   */
  async #grantedLeaseS (io: RequestIo, externalPort: number, local: string): Promise<number | null> {
    const r = await this.#soap(io, 'GetSpecificPortMappingEntry', [['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', 'UDP']])
    if (r.kind !== 'ok' || r.args.get('NewInternalClient') !== local) return null
    const text = r.args.get('NewLeaseDuration') ?? ''
    return /^\d{1,10}$/.test(text) ? Number(text) : null
  }

  /** DeletePortMapping (searching for the device again if a failure made us forget it); 714 (already gone) counts as done. */
  async unmap (io: RequestIo, externalPort: number): Promise<MapOutcome> {
    const del = await this.#call(io, 'DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', 'UDP']])
    if (del.kind === 'ok' || (del.kind === 'fault' && del.code === UpnpError.NO_SUCH_ENTRY_IN_ARRAY)) return { kind: 'mapped', externalAddress: '', externalPort, lifetimeS: 0, epochS: 0 }
    return del.kind === 'failed' ? { kind: 'unsupported', reason: del.reason } : { kind: 'refused', reason: del.reason, epochS: 0 }
  }

  /**
   * Between renewals, UPnP's stand-in for an epoch: does the router still hold our mapping
   * (GetSpecificPortMappingEntry, to us)? 'lost' when it says 714 or names another client; null
   * when it cannot be told.
   */
  async check (io: RequestIo, ask: UpnpAsk): Promise<'present' | 'lost' | null> {
    const r = await this.#call(io, 'GetSpecificPortMappingEntry', [['NewRemoteHost', ''], ['NewExternalPort', ask.externalPort], ['NewProtocol', 'UDP']])
    if (r.kind === 'failed') return null
    if (r.kind === 'fault') return r.code === UpnpError.NO_SUCH_ENTRY_IN_ARRAY ? 'lost' : null
    const ours = r.args.get('NewInternalClient') === ask.local && Number(r.args.get('NewInternalPort')) === ask.internalPort
    return ours ? 'present' : 'lost'
  }

  /** null when a device is known (now or already); else why there is none. */
  async #ensureDevice (io: RequestIo): Promise<Exclude<MapOutcome, { kind: 'mapped' }> | null> {
    if (this.#device !== null && sameHost(this.#device.host, io.server.host)) return null
    const found = await discoverIgd(io, this.o)
    if (found.kind !== 'device') return found
    this.#device = found.device
    this.o.log?.debug({ location: found.device.location, service: found.device.service.serviceType }, 'UPnP IGD found')
    return null
  }

  /** One SOAP action; on no usable HTTP answer, one fresh search and one more try. */
  async #call (io: RequestIo, action: string, args: SoapArgs): Promise<Soap> {
    const first = await this.#soap(io, action, args)
    if (first.kind !== 'failed' || io.signal?.aborted === true) return first
    // the router may have restarted with its HTTP server elsewhere (miniupnpd picks a port)
    this.#device = null
    if (await this.#ensureDevice(io) !== null) return first
    return await this.#soap(io, action, args)
  }

  async #soap (io: RequestIo, action: string, args: SoapArgs): Promise<Soap> {
    const dev = this.#device
    if (dev === null) return { kind: 'failed', reason: 'UPnP: no device known' }
    const { soapAction, body } = encodeSoapRequest(dev.service.serviceType, action, args)
    const res = await this.o.http({
      method: 'POST',
      url: new URL(dev.service.controlUrl),
      headers: { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: soapAction },
      body,
      localAddress: io.socket.local.host,
      timeoutMs: this.o.httpTimeoutMs,
      maxBytes: SOAP_MAX_BYTES,
      ...(io.signal === undefined ? {} : { signal: io.signal })
    })
    if (!res.ok) return { kind: 'failed', reason: `UPnP ${action}: ${res.error}` }
    const answer = decodeSoapResponse(res.body, action)
    if (answer.kind === 'fault') return { kind: 'fault', code: answer.code, reason: `UPnP ${action}: ${answer.code} ${upnpErrorName(answer.code)}` }
    if (answer.kind === 'malformed') return { kind: 'failed', reason: `UPnP ${action}: HTTP ${res.status}, ${answer.error}` }
    if (res.status !== 200) return { kind: 'failed', reason: `UPnP ${action}: HTTP ${res.status}` }
    return answer
  }
}

type Discovery = { kind: 'device', device: UpnpDevice } | Exclude<MapOutcome, { kind: 'mapped' }>

/**
 * SSDP search (to the multicast group and to the gateway directly, each try), then the
 * description of the first answer from the gateway whose LOCATION is on the gateway.
 */
export async function discoverIgd (io: RequestIo, o: UpnpOptions): Promise<Discovery> {
  const gateway = io.server.host
  let refused: string | undefined
  const answer = await ssdpSearch(io, o, (loc, from) => {
    const checked = checkLanUrl(loc, from.host.replace(/^::ffff:/, ''))
    if (!checked.ok) { refused = `UPnP: description URL refused: ${checked.error}`; return null }
    return checked.url
  })
  if (answer === null) return refused === undefined ? { kind: 'timeout' } : { kind: 'unsupported', reason: refused }
  const res = await o.http({
    method: 'GET',
    url: answer,
    localAddress: io.socket.local.host,
    timeoutMs: o.httpTimeoutMs,
    maxBytes: DESCRIPTION_MAX_BYTES,
    ...(io.signal === undefined ? {} : { signal: io.signal })
  })
  if (!res.ok) return { kind: 'unsupported', reason: `UPnP: GET ${answer.href}: ${res.error}` }
  if (res.status !== 200) return { kind: 'unsupported', reason: `UPnP: GET ${answer.href}: HTTP ${res.status}` }
  const desc = parseDescription(res.body, answer.href, gateway)
  if (!desc.ok) return { kind: 'unsupported', reason: `UPnP: ${desc.error}` }
  return { kind: 'device', device: { host: gateway, location: answer.href, service: desc.service } }
}

/**
 * Sends M-SEARCH with the retransmission of exchange.ts (doubling waits with jitter, bounded
 * tries) and resolves with the first answer from the gateway's address (any port: devices answer
 * from the socket of their choosing) that `accept` takes; null when none comes or on abort.
 */
async function ssdpSearch (io: RequestIo, o: UpnpOptions, accept: (location: string, from: PeerAddress) => URL | null): Promise<URL | null> {
  const { socket, scheduler, random, policy, counters, signal } = io
  if (signal?.aborted === true) return null
  const request = encodeMSearch()
  const targets: PeerAddress[] = [{ host: io.server.host, port: o.ssdpPort ?? SSDP_PORT }]
  if (o.multicast !== false) targets.push({ host: SSDP_MULTICAST, port: SSDP_PORT })
  return await new Promise<URL | null>(resolve => {
    let timer: unknown
    let tries = 0
    let waitMs = policy.initialMs
    const finish = (v: URL | null): void => {
      scheduler.clearTimer(timer)
      socket.onDatagram = null
      signal?.removeEventListener('abort', onAbort)
      resolve(v)
    }
    const onAbort = (): void => { finish(null) }
    const send = (): void => {
      if (tries >= policy.attempts) { finish(null); return }
      tries++
      for (const to of targets) { counters.sent++; socket.send(to, request) }
      const jittered = waitMs * (0.9 + 0.2 * random.float())
      waitMs *= 2
      timer = scheduler.setTimer(jittered, send)
    }
    socket.onDatagram = (bytes, from) => {
      const a = sameHost(from.host, io.server.host) ? parseSsdpAnswer(bytes) : null
      const url = a === null ? null : accept(a.location, from)
      if (url === null) { counters.dropped++; return }
      finish(url)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    send()
  })
}

/** UDA's wildcard-free choice of an external port: random in 1024–65535 (below 1024 many routers refuse). */
function randomPort (io: RequestIo): number {
  return 1024 + Math.floor(io.random.float() * (65536 - 1024))
}
