// What kind of NAT we are behind, from the reflexive addresses servers at different IPs reported
// for the same local socket (RFC 5780 §4.3, the mapping test, reduced to what we act on; RFC 4787
// §4.1 defines the behaviours), and how it filters, from which CHANGE-REQUEST answers got through
// (RFC 5780 §4.4; RFC 4787 §5). Pure. proto-spec/stun.md §5.
import { addressOf, parseIp, formatIp, type PeerAddress } from '../io/address.js'

/**
 * - 'open': the servers saw our own address and port: no NAT (publicly reachable unless a
 *   firewall filters, which one server address cannot tell us);
 * - 'endpoint-independent': every server saw the same address:port, not ours: a cone NAT (§4.1
 *   endpoint-independent mapping), so the address a rendezvous learns is the one peers can use;
 * - 'address-dependent': servers saw different ports or addresses: address- or
 *   address-and-port-dependent mapping (a "symmetric" NAT), so punching needs guessing;
 * - 'unknown': too few answers to tell.
 */
export type NatKind = 'open' | 'endpoint-independent' | 'address-dependent' | 'unknown'

export interface LocalSocket {
  /** the socket's port */
  port: number
  /** the IPs the socket may send from: the bound IP, or every interface's when bound to 0.0.0.0 / :: */
  ips: readonly string[]
}

export interface Observation {
  server: PeerAddress
  reflexive: PeerAddress
}

const canonicalIp = (host: string): string | null => {
  const ip = parseIp(host)
  return ip === null ? null : formatIp(ip)
}

/** Classify from answers of distinct server IPs (callers pass at most one answer per server IP). */
export function classifyNat (local: LocalSocket, answers: readonly Observation[]): NatKind {
  const seen = new Set(answers.map(a => addressOf(a.reflexive.host, a.reflexive.port)))
  if (answers.length === 0 || seen.has(null)) return 'unknown'
  const localIps = new Set(local.ips.map(canonicalIp))
  const isLocal = (r: PeerAddress): boolean => r.port === local.port && localIps.has(canonicalIp(r.host))
  // every server saw one of our own addresses with our port: no NAT, even when a host with several
  // addresses (bound to 0.0.0.0) reached each server from a different one
  if (answers.every(a => isLocal(a.reflexive))) return 'open'
  if (seen.size > 1) return 'address-dependent'
  return answers.length >= 2 ? 'endpoint-independent' : 'unknown'
}

/** Servers to ask: the first `count` with distinct IPs (a mapping test needs different destination IPs, RFC 5780 §4.3). */
export function pickServers (candidates: readonly PeerAddress[], count: number): PeerAddress[] {
  const ips = new Set<string>()
  const out: PeerAddress[] = []
  for (const c of candidates) {
    const ip = canonicalIp(c.host)
    if (ip === null || ips.has(ip)) continue
    ips.add(ip)
    out.push(c)
    if (out.length >= count) break
  }
  return out
}

/**
 * RFC 4787 §5 filtering, from RFC 5780 §4.4's tests against a server with two IPs and two ports:
 * - 'endpoint-independent': an answer from the server's other IP and port got through (test II):
 *   anyone may send to our mapping;
 * - 'address-dependent': only the answer from the same IP's other port did (test III);
 * - 'address-and-port-dependent': neither did: only the address:port we sent to gets in;
 * - 'unknown': no server with a second address answered, or one answered with an error.
 */
export type FilteringKind = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown'

/** What became of one CHANGE-REQUEST: answered, nothing came (the NAT dropped it), or the server refused. */
export type ChangeOutcome = 'answered' | 'silent' | 'refused'

export function classifyFiltering (changeIpAndPort: ChangeOutcome, changePort: ChangeOutcome): FilteringKind {
  if (changeIpAndPort === 'answered') return 'endpoint-independent'
  if (changeIpAndPort === 'refused' || changePort === 'refused') return 'unknown'
  return changePort === 'answered' ? 'address-dependent' : 'address-and-port-dependent'
}

/** No NAT in the way, unless the filtering test found a firewall filtering: anyone reaches any of our ports. */
export function publiclyReachable (nat: NatKind, filtering: FilteringKind): boolean {
  return nat === 'open' && (filtering === 'endpoint-independent' || filtering === 'unknown')
}

/**
 * A "full cone" (RFC 4787 §4.1, §5): an endpoint-independent mapping with endpoint-independent
 * filtering. Strangers reach the socket our traffic keeps mapped, at its reflexive address, without
 * a punch — but not a fresh port (a relay allocation's), which has no mapping yet.
 */
export function fullCone (nat: NatKind, filtering: FilteringKind): boolean {
  return nat === 'endpoint-independent' && filtering === 'endpoint-independent'
}
