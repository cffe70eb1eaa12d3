// A NAT box for SimNetwork (RFC 4787, NAT behaviour for unicast UDP). A SimNat owns one or more
// external IPs in its outer realm (the public one, or another NAT's inside: carrier-grade NAT is
// one NAT behind another) and opens an inner realm where hosts bind private "ip:port" addresses.
//
//   const net = createSimNetwork({ seed: 1, latencyMs: { base: 20 } })
//   const home = net.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.portRestrictedCone })
//   const host = home.bind('192.168.1.2:5000', onDatagram)  // or net.bind(addr, fn, { realm: home })
//   const cgn = net.createNat({ externalIps: ['198.51.100.1'], ...NAT_PRESETS.symmetric })
//   const behindTwo = cgn.createNat({ externalIps: ['100.64.0.2'] }).bind('10.0.0.2:4000')
//
// The model, with the RFC sections each part follows:
// - Routing (network.ts): a packet to an address held in the sender's own realm goes straight
//   there. Anything else leaves through the realm's NAT, is translated, and is routed again in
//   the outer realm, up to the public one; an address no realm on the way holds is unroutable
//   there, so a private address of another realm never arrives (§4.4). Translation on the way
//   out happens when the packet is sent, translation on the way in when it arrives (after the
//   link's delay), so two hosts punching at once each open their NAT before the other's packet
//   gets there. Only the end-to-end link has impairments: a host's hop to its NAT has none.
// - Mapping (§4.1): endpoint-independent mappings are keyed by the internal endpoint,
//   address-dependent ones also by the destination IP, address-and-port-dependent ones by the
//   destination IP and port. Each external ip:port belongs to one mapping (no port overloading,
//   §4.2.1 REQ-3); external IPs are chosen per internal IP ('paired') or per mapping.
// - Port assignment (§4.2.1, §4.2.2): port preservation with a random fallback, or random ports;
//   optionally with the internal port's parity. Random choices use the network's seeded RNG.
// - Refresh (§4.3): a mapping idle for mappingTimeoutMs of simulated time is gone; outbound
//   packets refresh it, inbound ones only with inboundRefresh. Expiry is noticed lazily, when the
//   NAT next looks at the mapping, so a NAT never puts events on the clock.
// - Filtering (§5): a mapping remembers the IPs and ip:ports it has sent to; inbound packets
//   from others are dropped by address-dependent or address-and-port-dependent filtering.
// - Hairpinning (§6): a packet from inside to one of the NAT's own external addresses is
//   translated out (its source becomes the sender's external address, REQ-9) and then in, as if
//   it had arrived from outside; with hairpinning off it is dropped and counted.
// - Port forwards (`forward`): what a PCP MAP or NAT-PMP mapping asks the router for (RFC 6887
//   §11, RFC 6886 §3.3): one internal endpoint gets one external port that admits anyone and
//   never idles out, and its outbound packets leave by that port whatever their destination
//   (pcp-gateway.ts answers the requests).
// Every drop is counted in `stats`; nothing a packet carries can make the NAT throw.
import { errors } from '../errors.js'
import type { SimClock } from './clock.js'
import type { DatagramHandler, SimEndpoint, SimNetwork } from './network.js'
import { NAT_DEFAULTS, type NatBehaviour, type NatBehaviourOptions, type ResolvedNatBehaviour } from './nat-options.js'
import { Realm } from './realm.js'
import { hostOf, portOf } from '../io/address.js'
import type { Rng } from './rng.js'

export interface NatOptions extends NatBehaviourOptions {
  /** The NAT's addresses in its outer realm (IPs without ports). */
  externalIps: readonly string[]
  /** The NAT whose inner realm this one sits in; default the public realm. */
  realm?: SimNat
}

export interface NatStats {
  /** Packets translated, each direction counted (a hairpinned packet counts twice). */
  translations: number
  mappingsCreated: number
  mappingsExpired: number
  /** Inbound packets dropped by the filter (§5). */
  filtered: number
  /** Inbound packets to an external address with no live mapping. */
  noMapping: number
  /** Packets that would have hairpinned with hairpinning off (§6). */
  hairpinDrops: number
  hairpinned: number
  /** Outbound packets dropped because no external port was free. */
  portsExhausted: number
}

/** A live mapping, as `mappings()` reports it. */
export interface NatMapping {
  internal: string
  external: string
  lastActiveAt: number
}

interface Mapping extends NatMapping {
  key: string
  /** a port forward: admits anyone, never expires (until unforwarded) */
  forwarded?: true
  /** Remote IPs and remote ip:ports this mapping has sent to: what filtering admits (§5). */
  sentToHosts: Set<string>
  sentTo: Set<string>
}

/** Random draws before scanning for a free port. */
const RANDOM_PORT_TRIES = 16

export class SimNat {
  readonly id: string
  readonly externalIps: readonly string[]
  readonly behaviour: ResolvedNatBehaviour
  readonly stats: NatStats = {
    translations: 0, mappingsCreated: 0, mappingsExpired: 0, filtered: 0, noMapping: 0, hairpinDrops: 0, hairpinned: 0, portsExhausted: 0
  }

  /** The realm this NAT's external addresses live in. */
  readonly outer: Realm
  /** The realm behind it. */
  readonly inner: Realm

  readonly #net: SimNetwork
  readonly #clock: SimClock
  readonly #rng: Rng
  readonly #byKey = new Map<string, Mapping>()
  readonly #byExternal = new Map<string, Mapping>()
  readonly #pairedIp = new Map<string, string>()
  /** port forwards by internal endpoint */
  readonly #forwards = new Map<string, Mapping>()

  /** Made by SimNetwork.createNat (which also registers the external IPs in `outer`). */
  constructor (net: SimNetwork, id: string, outer: Realm, opts: NatOptions, rng: Rng) {
    this.#net = net
    this.#clock = net.clock
    this.#rng = rng
    this.id = id
    this.outer = outer
    this.inner = new Realm(id, this)
    this.externalIps = [...opts.externalIps]
    const { externalIps: _ips, realm: _realm, ...behaviour } = opts
    this.behaviour = { ...NAT_DEFAULTS, ...behaviour }
    checkBehaviour(this.behaviour)
  }

  /** Bind an endpoint at a private "ip:port" in this NAT's inner realm. */
  bind (address: string, onDatagram: DatagramHandler | null = null): SimEndpoint {
    return this.#net.bind(address, onDatagram, { realm: this })
  }

  /** A NAT inside this one's realm (a home router behind carrier-grade NAT). */
  createNat (opts: Omit<NatOptions, 'realm'>): SimNat {
    return this.#net.createNat({ ...opts, realm: this })
  }

  /**
   * The NAT restarts: every mapping is forgotten at once (a home router's reboot, or its
   * conntrack table flushed). Hosts behind it get new mappings — new ports with random port
   * assignment — on their next outbound packet; packets to the old ones find no mapping.
   */
  reboot (): void {
    this.#byKey.clear()
    this.#byExternal.clear()
    this.#pairedIp.clear()
    this.#forwards.clear()
  }

  /**
   * Forward an external port to `internal` ("ip:port" inside), the port asked for if free, else
   * one the NAT picks. Returns the external "ip:port", or null when no port is free. Asking again
   * for the same internal endpoint returns the forward it has.
   */
  forward (internal: string, externalPort = 0): string | null {
    const had = this.#forwards.get(internal)
    if (had !== undefined) return had.external
    const ip = this.#externalIpFor(hostOf(internal))
    const external = externalPort > 0 && this.#free(ip, externalPort) ? `${ip}:${externalPort}` : this.#allocate(internal)
    if (external === null) return null
    const m: Mapping = { key: `forward\u0000${internal}`, internal, external, lastActiveAt: this.#clock.now, sentToHosts: new Set(), sentTo: new Set(), forwarded: true }
    this.#forwards.set(internal, m)
    this.#byExternal.set(external, m)
    return external
  }

  /** Remove the forward to `internal` (a mapping deleted or lapsed); false if there was none. */
  unforward (internal: string): boolean {
    const m = this.#forwards.get(internal)
    if (m === undefined) return false
    this.#forwards.delete(internal)
    this.#byExternal.delete(m.external)
    return true
  }

  /** The live mappings (expired ones are dropped and counted first). */
  mappings (): NatMapping[] {
    for (const m of [...this.#byKey.values()]) if (this.#expired(m)) this.#expire(m)
    return [...this.#byKey.values()].map(({ internal, external, lastActiveAt }) => ({ internal, external, lastActiveAt }))
  }

  /**
   * Outbound packet from the inner realm: returns the source address it leaves with, creating or
   * refreshing the mapping, or null when it is dropped (counted). Called by SimNetwork.
   */
  translateOut (from: string, to: string): string | null {
    const hairpin = this.externalIps.includes(hostOf(to))
    if (hairpin && !this.behaviour.hairpinning) {
      this.stats.hairpinDrops++
      return null
    }
    const fwd = this.#forwards.get(from)
    if (fwd !== undefined) {
      // a forwarded endpoint's packets leave by its forwarded port, to any destination
      fwd.lastActiveAt = this.#clock.now
      this.stats.translations++
      if (hairpin) this.stats.hairpinned++
      return fwd.external
    }
    const key = this.#mappingKey(from, to)
    let m = this.#byKey.get(key)
    if (m !== undefined && this.#expired(m)) {
      this.#expire(m)
      m = undefined
    }
    if (m === undefined) {
      const external = this.#allocate(from)
      if (external === null) {
        this.stats.portsExhausted++
        return null
      }
      m = { key, internal: from, external, lastActiveAt: 0, sentToHosts: new Set(), sentTo: new Set() }
      this.#byKey.set(key, m)
      this.#byExternal.set(external, m)
      this.stats.mappingsCreated++
    }
    m.lastActiveAt = this.#clock.now
    m.sentToHosts.add(hostOf(to))
    m.sentTo.add(to)
    this.stats.translations++
    if (hairpin) this.stats.hairpinned++
    return m.external
  }

  /**
   * Inbound packet to one of the external addresses: returns the internal address it goes to, or
   * null when it is dropped (counted). Called by SimNetwork when the packet arrives.
   */
  translateIn (from: string, to: string): string | null {
    const m = this.#byExternal.get(to)
    if (m === undefined || this.#expired(m)) {
      if (m !== undefined) this.#expire(m)
      this.stats.noMapping++
      return null
    }
    if (!this.#admits(m, from)) {
      this.stats.filtered++
      return null
    }
    if (this.behaviour.inboundRefresh) m.lastActiveAt = this.#clock.now
    this.stats.translations++
    return m.internal
  }

  #mappingKey (from: string, to: string): string {
    switch (this.behaviour.mapping) {
      case 'endpoint-independent': return from
      case 'address-dependent': return `${from}\u0000${hostOf(to)}`
      case 'address-and-port-dependent': return `${from}\u0000${to}`
    }
  }

  #admits (m: Mapping, from: string): boolean {
    if (m.forwarded === true) return true
    switch (this.behaviour.filtering) {
      case 'endpoint-independent': return true
      case 'address-dependent': return m.sentToHosts.has(hostOf(from))
      case 'address-and-port-dependent': return m.sentTo.has(from)
    }
  }

  #expired (m: Mapping): boolean {
    if (m.forwarded === true) return false
    return this.#clock.now - m.lastActiveAt >= this.behaviour.mappingTimeoutMs
  }

  #expire (m: Mapping): void {
    this.#byKey.delete(m.key)
    this.#byExternal.delete(m.external)
    this.stats.mappingsExpired++
  }

  #externalIpFor (internalIp: string): string {
    const ips = this.externalIps
    if (ips.length === 1) return ips[0]!
    if (this.behaviour.pooling === 'arbitrary') return ips[this.#rng.int(ips.length)]!
    let ip = this.#pairedIp.get(internalIp)
    if (ip === undefined) {
      ip = ips[this.#rng.int(ips.length)]!
      this.#pairedIp.set(internalIp, ip)
    }
    return ip
  }

  #free (ip: string, port: number): boolean {
    const m = this.#byExternal.get(`${ip}:${port}`)
    if (m === undefined) return true
    if (!this.#expired(m)) return false
    this.#expire(m)
    return true
  }

  // §4.2.1: preserve the port when free; otherwise (or always, for 'random') draw ports from the
  // range, with the internal port's parity if asked (§4.2.2), then scan from a random start so a
  // nearly full NAT still finds the last free port.
  #allocate (internal: string): string | null {
    const ip = this.#externalIpFor(hostOf(internal))
    const want = portOf(internal) ?? 0
    const { portAssignment, portParity, portRange: [lo, hi] } = this.behaviour
    if (portAssignment === 'preserve' && want > 0 && this.#free(ip, want)) return `${ip}:${want}`
    const fits = (p: number): boolean => !portParity || (p & 1) === (want & 1)
    const span = hi - lo + 1
    for (let i = 0; i < RANDOM_PORT_TRIES; i++) {
      const p = lo + this.#rng.int(span)
      if (fits(p) && this.#free(ip, p)) return `${ip}:${p}`
    }
    const start = this.#rng.int(span)
    for (let k = 0; k < span; k++) {
      const p = lo + (start + k) % span
      if (fits(p) && this.#free(ip, p)) return `${ip}:${p}`
    }
    return null
  }
}

const BEHAVIOURS: readonly NatBehaviour[] = ['endpoint-independent', 'address-dependent', 'address-and-port-dependent']

function checkBehaviour (b: ResolvedNatBehaviour): void {
  const bad = (what: string): never => { throw errors.BAD_ARGUMENT(`NAT option ${what}`) }
  if (!BEHAVIOURS.includes(b.mapping)) bad(`mapping: ${String(b.mapping)}`)
  if (!BEHAVIOURS.includes(b.filtering)) bad(`filtering: ${String(b.filtering)}`)
  if (b.portAssignment !== 'preserve' && b.portAssignment !== 'random') bad(`portAssignment: ${String(b.portAssignment)}`)
  if (b.pooling !== 'paired' && b.pooling !== 'arbitrary') bad(`pooling: ${String(b.pooling)}`)
  const [lo, hi] = b.portRange
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi || (b.portParity && lo === hi)) {
    bad(`portRange: [${lo}, ${hi}]`)
  }
  if (!(b.mappingTimeoutMs > 0)) bad(`mappingTimeoutMs: ${b.mappingTimeoutMs}`)
}
