// The machine's own IP addresses (node:os), for telling whether a STUN server saw us at one of
// them (no NAT in the way, src/stun/classify.ts) and for noticing that the network changed.
import { networkInterfaces } from 'node:os'

/** Every address of every interface, loopback included (tests run STUN on 127.0.0.0/8). */
export function interfaceAddresses (): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.push(a.scopeid !== undefined && a.scopeid !== 0 ? `${a.address}%${a.scopeid}` : a.address)
  }
  return out
}
