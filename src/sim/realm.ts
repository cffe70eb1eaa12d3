// Address realms of the simulated network (RFC 4787 §3: a NAT joins an internal realm to an
// external one). The public realm is the one every SimNetwork starts with; each SimNat opens an
// inner realm whose hosts use addresses that mean nothing outside it. Addresses are compared as
// whole "host:port" strings; only NAT code splits them, with src/io/address.ts (the public realm
// also takes bare names).
import type { SimEndpoint } from './network.js'
import type { SimNat } from './nat.js'
import { hostOf } from '../io/address.js'

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
