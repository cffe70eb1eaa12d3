// PCP messages (RFC 6887 §7, §11, §14) as proto-spec/portmap.md §3 writes them down: the MAP and
// ANNOUNCE opcodes, which is all a node needs to open its own UDP port. Bytes in, typed values
// out, no I/O; decoders never throw (a malformed or foreign datagram returns null).
import { formatIp, isV4Mapped, parseIp } from '../io/address.js'

/** RFC 6887 §19.1: the server listens on UDP 5351, the same port as NAT-PMP. */
export const PCP_SERVER_PORT = 5351
export const PCP_VERSION = 2
/** §7: every message is at most 1100 bytes and a multiple of 4. */
export const PCP_MAX_BYTES = 1100
export const PCP_HEADER_BYTES = 24
/** §11.1: nonce 12, protocol 1, reserved 3, internal port 2, external port 2, external address 16. */
export const PCP_MAP_PAYLOAD_BYTES = 36
export const PCP_NONCE_BYTES = 12
/** §7.1/§7.2: the R bit (high bit of the second byte) marks a response. */
export const PCP_RESPONSE_BIT = 0x80

export const PcpOpcode = { ANNOUNCE: 0, MAP: 1, PEER: 2 } as const
/** IANA protocol numbers the MAP opcode carries (§11.1). */
export const IPPROTO_UDP = 17

/** §7.4 result codes. */
export const PcpResult = {
  SUCCESS: 0,
  UNSUPP_VERSION: 1,
  NOT_AUTHORIZED: 2,
  MALFORMED_REQUEST: 3,
  UNSUPP_OPCODE: 4,
  UNSUPP_OPTION: 5,
  MALFORMED_OPTION: 6,
  NETWORK_FAILURE: 7,
  NO_RESOURCES: 8,
  UNSUPP_PROTOCOL: 9,
  USER_EX_QUOTA: 10,
  CANNOT_PROVIDE_EXTERNAL: 11,
  ADDRESS_MISMATCH: 12,
  EXCESSIVE_REMOTE_PEERS: 13
} as const

const RESULT_NAMES = Object.fromEntries(Object.entries(PcpResult).map(([k, v]) => [v, k])) as Record<number, string>

export function pcpResultName (code: number): string {
  return RESULT_NAMES[code] ?? `UNKNOWN_${code}`
}

export interface PcpMapRequest {
  /** the client's own address on the path to the server (§7.1: checked against the source) */
  clientAddress: string
  /** 0 deletes the mapping (§15) */
  lifetimeS: number
  /** §11.1: 96 random bits that tie responses and later renewals to this mapping */
  nonce: Uint8Array
  internalPort: number
  /** suggested external port; 0 = no preference */
  externalPort: number
  /** suggested external address; absent = the family's all-zeros address (no preference, §11.1) */
  externalAddress?: string
}

export interface PcpResponseHeader {
  opcode: number
  result: number
  /** granted lifetime in seconds (§7.2: on an error, how long the error is expected to last) */
  lifetimeS: number
  /** seconds since the server's state began (§8.5) */
  epochS: number
}

export interface PcpMapResponse extends PcpResponseHeader {
  kind: 'map'
  nonce: Uint8Array
  protocol: number
  internalPort: number
  externalPort: number
  externalAddress: string
}
export interface PcpAnnounceResponse extends PcpResponseHeader { kind: 'announce' }
/** Any other opcode, or an error whose payload we do not need. */
export interface PcpOtherResponse extends PcpResponseHeader { kind: 'other' }
export type PcpResponse = PcpMapResponse | PcpAnnounceResponse | PcpOtherResponse

/** §7.1 request header: version, R=0 | opcode, reserved 16 bits, requested lifetime, client address (128 bits). */
function encodeHeader (out: Uint8Array, opcode: number, lifetimeS: number, clientAddress: string): void {
  if (!Number.isInteger(lifetimeS) || lifetimeS < 0 || lifetimeS > 0xffff_ffff) throw new RangeError(`lifetimeS must be a 32-bit count of seconds, got ${lifetimeS}`)
  out[0] = PCP_VERSION
  out[1] = opcode
  new DataView(out.buffer, out.byteOffset).setUint32(4, lifetimeS)
  out.set(ip128(clientAddress, 'clientAddress'), 8)
}

/** §14.1: an ANNOUNCE request (lifetime 0, no payload): is a PCP server there, and what is its epoch? */
export function encodePcpAnnounceRequest (clientAddress: string): Uint8Array {
  const out = new Uint8Array(PCP_HEADER_BYTES)
  encodeHeader(out, PcpOpcode.ANNOUNCE, 0, clientAddress)
  return out
}

/** §11.1: a MAP request for UDP. */
export function encodePcpMapRequest (req: PcpMapRequest): Uint8Array {
  if (req.nonce.length !== PCP_NONCE_BYTES) throw new RangeError(`nonce must be ${PCP_NONCE_BYTES} bytes, got ${req.nonce.length}`)
  if (!Number.isInteger(req.internalPort) || req.internalPort < 1 || req.internalPort > 65535) throw new RangeError(`internalPort must be 1-65535, got ${req.internalPort}`)
  if (!Number.isInteger(req.externalPort) || req.externalPort < 0 || req.externalPort > 65535) throw new RangeError(`externalPort must be 0-65535, got ${req.externalPort}`)
  const out = new Uint8Array(PCP_HEADER_BYTES + PCP_MAP_PAYLOAD_BYTES)
  encodeHeader(out, PcpOpcode.MAP, req.lifetimeS, req.clientAddress)
  const p = PCP_HEADER_BYTES
  out.set(req.nonce, p)
  out[p + 12] = IPPROTO_UDP
  const v = new DataView(out.buffer)
  v.setUint16(p + 16, req.internalPort)
  v.setUint16(p + 18, req.externalPort)
  out.set(req.externalAddress === undefined ? allZerosLike(req.clientAddress) : ip128(req.externalAddress, 'externalAddress'), p + 20)
  return out
}

/**
 * Any PCP response (§7.2): version 2, R = 1, at least the header, at most 1100 bytes, a multiple
 * of 4. A MAP response must carry its 36-byte payload (an error may too; if it does not, it is
 * returned as 'other'). Options after the payload are skipped: none are requested.
 */
export function decodePcpResponse (bytes: Uint8Array): PcpResponse | null {
  if (bytes.length < PCP_HEADER_BYTES || bytes.length > PCP_MAX_BYTES || bytes.length % 4 !== 0) return null
  if (bytes[0] !== PCP_VERSION || (bytes[1]! & PCP_RESPONSE_BIT) === 0) return null
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const header: PcpResponseHeader = { opcode: bytes[1]! & 0x7f, result: bytes[3]!, lifetimeS: v.getUint32(4), epochS: v.getUint32(8) }
  if (header.opcode === PcpOpcode.ANNOUNCE) return { kind: 'announce', ...header }
  if (header.opcode !== PcpOpcode.MAP) return { kind: 'other', ...header }
  if (bytes.length < PCP_HEADER_BYTES + PCP_MAP_PAYLOAD_BYTES) return header.result === PcpResult.SUCCESS ? null : { kind: 'other', ...header }
  const p = PCP_HEADER_BYTES
  return {
    kind: 'map',
    ...header,
    nonce: bytes.slice(p, p + PCP_NONCE_BYTES),
    protocol: bytes[p + 12]!,
    internalPort: v.getUint16(p + 16),
    externalPort: v.getUint16(p + 18),
    externalAddress: ipText(bytes.subarray(p + 20, p + 36))
  }
}

/** §5: IPv4 addresses travel as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
function ip128 (host: string, what: string): Uint8Array {
  const ip = parseIp(host)
  if (ip === null) throw new RangeError(`${what} must be an IP address, got ${JSON.stringify(host)}`)
  if (ip.length === 16) return ip
  const out = new Uint8Array(16)
  out[10] = 0xff
  out[11] = 0xff
  out.set(ip, 12)
  return out
}

/** §11.1: "no preference" is ::ffff:0.0.0.0 for an IPv4 client and :: for an IPv6 one. */
function allZerosLike (clientAddress: string): Uint8Array {
  const ip = parseIp(clientAddress)
  const out = new Uint8Array(16)
  if (ip !== null && ip.length === 4) { out[10] = 0xff; out[11] = 0xff }
  return out
}

function ipText (ip16: Uint8Array): string {
  return isV4Mapped(ip16) ? formatIp(ip16.subarray(12)) : formatIp(ip16)
}
