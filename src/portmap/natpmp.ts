// NAT-PMP messages (RFC 6886 §3), as proto-spec/portmap.md §2 writes them down: bytes in, typed
// values out, no I/O. Decoders never throw: anything that is not a well-formed response returns
// null (the client counts it and moves on).

/** RFC 6886 §1.1: the server listens on UDP 5351 on the gateway (PCP shares the port). */
export const NATPMP_SERVER_PORT = 5351
export const NATPMP_VERSION = 0

/** RFC 6886 §3.2/§3.3 opcodes; a response carries the request's opcode + 128. */
export const NatPmpOp = {
  PUBLIC_ADDRESS: 0,
  MAP_UDP: 1,
  MAP_TCP: 2
} as const
export const NATPMP_RESPONSE_BIT = 0x80

/** RFC 6886 §3.5 result codes. */
export const NatPmpResult = {
  SUCCESS: 0,
  UNSUPPORTED_VERSION: 1,
  NOT_AUTHORIZED: 2,
  NETWORK_FAILURE: 3,
  OUT_OF_RESOURCES: 4,
  UNSUPPORTED_OPCODE: 5
} as const

const RESULT_NAMES = ['SUCCESS', 'UNSUPPORTED_VERSION', 'NOT_AUTHORIZED', 'NETWORK_FAILURE', 'OUT_OF_RESOURCES', 'UNSUPPORTED_OPCODE']

export function natPmpResultName (code: number): string {
  return RESULT_NAMES[code] ?? `UNKNOWN_${code}`
}

/** Sizes (RFC 6886 §3.2, §3.3). */
export const NATPMP_ADDRESS_REQUEST_BYTES = 2
export const NATPMP_ADDRESS_RESPONSE_BYTES = 12
export const NATPMP_MAP_REQUEST_BYTES = 12
export const NATPMP_MAP_RESPONSE_BYTES = 16
/** An error response to any opcode may stop after the epoch (RFC 6886 §3.5: header of 8 bytes). */
export const NATPMP_ERROR_RESPONSE_BYTES = 8

export interface NatPmpMapRequest {
  /** internal port: the port of the node's own socket */
  internalPort: number
  /** suggested external port; 0 = no preference */
  externalPort: number
  /** requested lifetime in seconds; 0 with externalPort 0 deletes the mapping (§3.4) */
  lifetimeS: number
}

/** Every response shares these (§3.5). */
export interface NatPmpHeader {
  /** the request opcode this answers (0, 1 or 2) */
  op: number
  result: number
  /** seconds since the server's port-mapping table was (re)initialised (§3.6) */
  epochS: number
}

export interface NatPmpAddressResponse extends NatPmpHeader { kind: 'address', externalAddress: string }
export interface NatPmpMapResponse extends NatPmpHeader { kind: 'map', internalPort: number, externalPort: number, lifetimeS: number }
/** A non-zero result code with nothing after the epoch, or a short error answer. */
export interface NatPmpErrorResponse extends NatPmpHeader { kind: 'error' }
export type NatPmpResponse = NatPmpAddressResponse | NatPmpMapResponse | NatPmpErrorResponse

/** §3.2: version 0, opcode 0. */
export function encodeNatPmpAddressRequest (): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, NatPmpOp.PUBLIC_ADDRESS)
}

/** §3.3: version, opcode (1 = UDP), reserved 16 bits, internal port, suggested external port, lifetime. */
export function encodeNatPmpMapRequest (req: NatPmpMapRequest, op: number = NatPmpOp.MAP_UDP): Uint8Array {
  checkPort(req.internalPort, 'internalPort', 1)
  checkPort(req.externalPort, 'externalPort', 0)
  if (!Number.isInteger(req.lifetimeS) || req.lifetimeS < 0 || req.lifetimeS > 0xffff_ffff) throw new RangeError(`lifetimeS must be a 32-bit count of seconds, got ${req.lifetimeS}`)
  const out = new Uint8Array(NATPMP_MAP_REQUEST_BYTES)
  const v = new DataView(out.buffer)
  out[0] = NATPMP_VERSION
  out[1] = op
  v.setUint16(4, req.internalPort)
  v.setUint16(6, req.externalPort)
  v.setUint32(8, req.lifetimeS)
  return out
}

/**
 * Any NAT-PMP response (§3.2, §3.3, §3.5): version 0, opcode ≥ 128. A non-success result may be
 * the 8-byte header alone. A PCP-only server answering a version 0 request speaks PCP: that is
 * not for this decoder (version ≠ 0 → null).
 */
export function decodeNatPmpResponse (bytes: Uint8Array): NatPmpResponse | null {
  if (bytes.length < NATPMP_ERROR_RESPONSE_BYTES || bytes.length > 1100) return null
  if (bytes[0] !== NATPMP_VERSION || (bytes[1]! & NATPMP_RESPONSE_BIT) === 0) return null
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const header: NatPmpHeader = { op: bytes[1]! & 0x7f, result: v.getUint16(2), epochS: v.getUint32(4) }
  if (header.op === NatPmpOp.PUBLIC_ADDRESS && bytes.length >= NATPMP_ADDRESS_RESPONSE_BYTES) {
    return { kind: 'address', ...header, externalAddress: `${bytes[8]}.${bytes[9]}.${bytes[10]}.${bytes[11]}` }
  }
  if ((header.op === NatPmpOp.MAP_UDP || header.op === NatPmpOp.MAP_TCP) && bytes.length >= NATPMP_MAP_RESPONSE_BYTES) {
    return { kind: 'map', ...header, internalPort: v.getUint16(8), externalPort: v.getUint16(10), lifetimeS: v.getUint32(12) }
  }
  // a short answer is acceptable only as an error (§3.5); a short success is malformed
  return header.result === NatPmpResult.SUCCESS ? null : { kind: 'error', ...header }
}

function checkPort (port: number, what: string, min: number): void {
  if (!Number.isInteger(port) || port < min || port > 65535) throw new RangeError(`${what} must be ${min}-65535, got ${port}`)
}
