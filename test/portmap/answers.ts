// Gateway answers for the fake gateway, built from the request they answer (RFC 6887 §11.1,
// RFC 6886 §3.3 layouts, as proto-spec/portmap.md §2–§3 draw them).
import { parseIp } from '../../src/io/address.js'

export interface MapAnswer { result?: number, lifetimeS?: number, epochS: number, externalPort?: number, externalAddress?: string }

export const isPcp = (req: Uint8Array): boolean => req[0] === 2
export const isPcpMap = (req: Uint8Array): boolean => req[0] === 2 && req[1] === 1
export const isPcpAnnounce = (req: Uint8Array): boolean => req[0] === 2 && req[1] === 0
export const isNatPmpAddress = (req: Uint8Array): boolean => req[0] === 0 && req[1] === 0
export const isNatPmpMap = (req: Uint8Array): boolean => req[0] === 0 && req[1] === 1

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

export const requestLifetime = (req: Uint8Array): number => isPcp(req) ? view(req).getUint32(4) : view(req).getUint32(8)
export const requestInternalPort = (req: Uint8Array): number => isPcp(req) ? view(req).getUint16(40) : view(req).getUint16(4)
export const requestExternalPort = (req: Uint8Array): number => isPcp(req) ? view(req).getUint16(42) : view(req).getUint16(6)
export const requestNonce = (req: Uint8Array): string => Buffer.from(req.subarray(24, 36)).toString('hex')
export const requestClientAddress = (req: Uint8Array): string => Array.from(req.subarray(20, 24)).join('.')

function mapped16 (host: string): Uint8Array {
  const ip = parseIp(host)!
  if (ip.length === 16) return ip
  const out = new Uint8Array(16)
  out[10] = 0xff; out[11] = 0xff
  out.set(ip, 12)
  return out
}

/** A MAP response echoing the request's nonce, protocol and internal port. */
export function pcpMapAnswer (req: Uint8Array, a: MapAnswer): Uint8Array {
  const out = new Uint8Array(60)
  const v = view(out)
  out[0] = 2; out[1] = 0x81; out[3] = a.result ?? 0
  v.setUint32(4, a.lifetimeS ?? requestLifetime(req))
  v.setUint32(8, a.epochS)
  out.set(req.subarray(24, 40), 24) // nonce, protocol, reserved
  v.setUint16(40, requestInternalPort(req))
  v.setUint16(42, a.externalPort ?? requestExternalPort(req))
  out.set(mapped16(a.externalAddress ?? '203.0.113.7'), 44)
  return out
}

export function pcpAnnounceAnswer (epochS: number): Uint8Array {
  const out = new Uint8Array(24)
  out[0] = 2; out[1] = 0x80
  view(out).setUint32(8, epochS)
  return out
}

export function natPmpAddressAnswer (epochS: number, address = '203.0.113.7', result = 0): Uint8Array {
  const out = new Uint8Array(12)
  out[1] = 0x80
  view(out).setUint16(2, result)
  view(out).setUint32(4, epochS)
  out.set(parseIp(address)!, 8)
  return out
}

export function natPmpMapAnswer (req: Uint8Array, a: MapAnswer): Uint8Array {
  const out = new Uint8Array(16)
  const v = view(out)
  out[1] = 0x81
  v.setUint16(2, a.result ?? 0)
  v.setUint32(4, a.epochS)
  v.setUint16(8, requestInternalPort(req))
  v.setUint16(10, a.externalPort ?? requestExternalPort(req))
  v.setUint32(12, a.lifetimeS ?? requestLifetime(req))
  return out
}

/** RFC 6887 §9: what a NAT-PMP-only gateway says to a PCP request. */
export function natPmpUnsupportedVersion (epochS: number): Uint8Array {
  const out = new Uint8Array(8)
  out[1] = 0x81
  view(out).setUint16(2, 1)
  view(out).setUint32(4, epochS)
  return out
}
