// Where to send PCP and NAT-PMP requests: the default route's gateway (RFC 6887 §8.1, RFC 6886
// §3: the client sends to its default gateway), and our own address on that interface (a PCP
// request names the client's address, which must be the packet's source, RFC 6887 §8.1 and
// §12.3 ADDRESS_MISMATCH; so the client socket is bound to it).
import { readFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'

export interface Gateway {
  /** the router's IPv4 address */
  gateway: string
  /** our IPv4 address on the interface that route leaves by */
  local: string
  /** that interface, for logs */
  interface: string
}

/** How a client finds its gateway; injectable (tests name a loopback one). */
export type GatewayFinder = () => Promise<Gateway | null>

export interface RouteEntry { interface: string, gateway: string, metric: number }

const RTF_UP = 0x1
const RTF_GATEWAY = 0x2

/**
 * The default routes in Linux's /proc/net/route (header line, then tab-separated: Iface,
 * Destination, Gateway, Flags, RefCnt, Use, Metric, Mask, …; addresses as little-endian hex),
 * lowest metric first. Malformed lines are skipped.
 */
export function parseDefaultRoutes (table: string): RouteEntry[] {
  const out: RouteEntry[] = []
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const [iface, dest, gw, flagsHex, , , metric, mask] = f as [string, string, string, string, string, string, string, string]
    const flags = Number.parseInt(flagsHex, 16)
    if (dest !== '00000000' || mask !== '00000000' || (flags & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue
    const gateway = hexIpv4LittleEndian(gw)
    if (gateway === null) continue
    out.push({ interface: iface, gateway, metric: Number(metric) || 0 })
  }
  return out.sort((a, b) => a.metric - b.metric)
}

function hexIpv4LittleEndian (hex: string): string | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null
  const n = Number.parseInt(hex, 16)
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.')
}

/** The machine's default IPv4 gateway and our address toward it; null off Linux or with no default route. */
export async function defaultGateway (): Promise<Gateway | null> {
  let table: string
  try {
    table = await readFile('/proc/net/route', 'utf8')
  } catch {
    return null // not Linux, or /proc not mounted: port mapping says "no gateway found"
  }
  const interfaces = networkInterfaces()
  for (const route of parseDefaultRoutes(table)) {
    const local = interfaces[route.interface]?.find(a => a.family === 'IPv4' && !a.internal)
    if (local !== undefined) return { gateway: route.gateway, local: local.address, interface: route.interface }
  }
  return null
}
