// Address realms of the simulated network (RFC 4787 §3: a NAT joins an internal realm to an
// external one). The public realm is the one every SimNetwork starts with; each SimNat opens an
// inner realm whose hosts use addresses that mean nothing outside it. Addresses are compared as
// whole "host:port" strings; only NAT code splits them (the public realm also takes bare names).
import type { SimEndpoint } from './network.js'
import type { SimNat } from './nat.js'

export class Realm {
  /** Endpoints bound in this realm, by their address here. */
  readonly endpoints = new Map<string, SimEndpoint>()
  /** NATs whose external side is in this realm, by each of their external IPs. */
  readonly natsByIp = new Map<string, SimNat>()

  /**
   * @param id prefixes link keys so equal private addresses in two realms are distinct links
   * @param gateway the NAT whose inside this realm is; null for the public realm
   */
  constructor (readonly id: string, readonly gateway: SimNat | null) {}

  /** Whether `address` is something in this realm: a bound endpoint or a NAT's external address. */
  holds (address: string): boolean {
    return this.endpoints.has(address) || this.natsByIp.has(hostOf(address))
  }
}

/** The host (IP) part of "host:port"; a string without a colon is all host. */
export function hostOf (address: string): string {
  const i = address.lastIndexOf(':')
  return i < 0 ? address : address.slice(0, i)
}

/** The port of "host:port", or null when there is no valid UDP port (1..65535). */
export function portOf (address: string): number | null {
  const i = address.lastIndexOf(':')
  if (i < 0) return null
  const text = address.slice(i + 1)
  if (!/^\d{1,5}$/.test(text)) return null
  const port = Number(text)
  return port >= 1 && port <= 65535 ? port : null
}
