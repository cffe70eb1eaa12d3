// The router's side of PCP (RFC 6887), as much of it as a home gateway needs to answer our own
// client (client.ts): ANNOUNCE (§14.1) and MAP for UDP (§11), pure — bytes in, bytes out, the
// forwarding itself left to the caller. The simulator's gateways use it (src/node/sim-gateway.ts)
// so that whole nodes on the simulated network get a port mapping the way a daemon behind a
// miniupnpd router does (portmap.md §4). Anything it does not handle is not answered, as a
// router that drops it would not.
import { formatIp, parseIp } from '../io/address.js'
import {
  IPPROTO_UDP, PCP_HEADER_BYTES, PCP_MAP_PAYLOAD_BYTES, PCP_MAX_BYTES, PCP_NONCE_BYTES, PCP_RESPONSE_BIT, PCP_VERSION,
  PcpOpcode, PcpResult
} from './pcp.js'

export interface PcpServerContext {
  /** seconds since the server's mapping state began (§8.5): a reboot starts it again */
  epochS: number
  /** the router's external IPv4 address */
  externalIp: string
  /** longest lifetime granted, seconds (§15: a server may shorten what is asked) */
  maxLifetimeS: number
  /** forward `externalPort` (suggested, 0: any) to `internal` ("ip:port"); the port given, or null when none is free */
  map: (internal: string, suggestedPort: number) => number | null
  /** remove the forward to `internal` (a request with lifetime 0, §15) */
  unmap: (internal: string) => void
}

/**
 * The answer to one request from `fromHost`, or null when none is due (not a PCP request, or a
 * response). A MAP whose client address is not its source gets ADDRESS_MISMATCH (§8.1).
 */
export function answerPcpRequest (bytes: Uint8Array, fromHost: string, ctx: PcpServerContext): Uint8Array | null {
  if (bytes.length < PCP_HEADER_BYTES || bytes.length > PCP_MAX_BYTES || bytes.length % 4 !== 0) return null
  if ((bytes[1]! & PCP_RESPONSE_BIT) !== 0) return null
  const opcode = bytes[1]! & 0x7f
  if (bytes[0] !== PCP_VERSION) return header(PcpResult.UNSUPP_VERSION, opcode, 0, ctx.epochS, PCP_HEADER_BYTES)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (opcode === PcpOpcode.ANNOUNCE) return header(PcpResult.SUCCESS, opcode, 0, ctx.epochS, PCP_HEADER_BYTES)
  if (opcode !== PcpOpcode.MAP) return header(PcpResult.UNSUPP_OPCODE, opcode, 0, ctx.epochS, PCP_HEADER_BYTES)
  if (bytes.length < PCP_HEADER_BYTES + PCP_MAP_PAYLOAD_BYTES) return header(PcpResult.MALFORMED_REQUEST, opcode, 0, ctx.epochS, PCP_HEADER_BYTES)
  const p = PCP_HEADER_BYTES
  const out = header(PcpResult.SUCCESS, opcode, 0, ctx.epochS, PCP_HEADER_BYTES + PCP_MAP_PAYLOAD_BYTES)
  const ov = new DataView(out.buffer)
  out.set(bytes.subarray(p, p + PCP_NONCE_BYTES), p) // §11.3: the nonce, protocol and internal port are echoed
  out[p + 12] = bytes[p + 12]!
  const internalPort = v.getUint16(p + 16)
  ov.setUint16(p + 16, internalPort)
  const fail = (result: number): Uint8Array => { out[3] = result; return out }
  if (ipText(bytes.subarray(8, 24)) !== fromHost) return fail(PcpResult.ADDRESS_MISMATCH)
  if (bytes[p + 12] !== IPPROTO_UDP) return fail(PcpResult.UNSUPP_PROTOCOL)
  if (internalPort === 0) return fail(PcpResult.MALFORMED_REQUEST)
  const internal = `${fromHost}:${internalPort}`
  const lifetimeS = v.getUint32(4)
  if (lifetimeS === 0) {
    ctx.unmap(internal)
    return out
  }
  const port = ctx.map(internal, v.getUint16(p + 18))
  if (port === null) return fail(PcpResult.NO_RESOURCES)
  ov.setUint32(4, Math.min(lifetimeS, ctx.maxLifetimeS))
  ov.setUint16(p + 18, port)
  const ip = parseIp(ctx.externalIp)!
  out[p + 30] = 0xff
  out[p + 31] = 0xff
  out.set(ip, p + 32) // §5: IPv4 as ::ffff:a.b.c.d
  return out
}

/** §7.2 response header: version, R | opcode, reserved, result, lifetime, epoch, 96 reserved bits. */
function header (result: number, opcode: number, lifetimeS: number, epochS: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  out[0] = PCP_VERSION
  out[1] = PCP_RESPONSE_BIT | opcode
  out[3] = result
  v.setUint32(4, lifetimeS)
  v.setUint32(8, epochS)
  return out
}

function ipText (ip16: Uint8Array): string | null {
  const mapped = ip16.subarray(0, 10).every(b => b === 0) && ip16[10] === 0xff && ip16[11] === 0xff
  return mapped ? formatIp(ip16.subarray(12)) : formatIp(ip16)
}
