// What the port-mapping client (client.ts) reports and how it is tuned (proto-spec/portmap.md §4):
// the mapping, the status `dmess status` shows (ipc.md §4), the tuning and its defaults, and
// whether a mapped address makes the node reachable from the internet.
import { ipScope, parseIp, type PeerAddress } from '../io/address.js'
import type { PortmapProtocol } from './probe.js'

/** Preferred in this order unless told otherwise (portmap.md §4.2). */
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
  /** how long a protocol that answered its probe waits for better ones that have not (probe.ts) */
  probeGraceMs: number
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
  /** a better protocol's first retransmission (initialMs ± 10 %) and the answer to it */
  probeGraceMs: 500,
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
