// The requests a port-mapping client makes, one function per question, over exchange.ts: map (or
// delete) our UDP port with PCP or with NAT-PMP, read the server's epoch (PCP ANNOUNCE, NAT-PMP
// public address request), and probe whether the gateway speaks PCP (ANNOUNCE again). Each validates the answer against its request (RFC 6887 §11.3: nonce,
// protocol, internal port; RFC 6886 §3.3: opcode and internal port), since a router that answers
// something else has not mapped what we asked for.
import type { PeerAddress } from '../io/address.js'
import type { DatagramTransport } from '../io/datagram.js'
import type { Random } from '../io/random.js'
import type { Scheduler } from '../io/scheduler.js'
import { timingSafeEqual } from 'node:crypto'
import { exchange, type ExchangeCounters, type RetransmitPolicy } from './exchange.js'
import { decodeNatPmpResponse, encodeNatPmpAddressRequest, encodeNatPmpMapRequest, natPmpResultName, NatPmpOp, NatPmpResult } from './natpmp.js'
import { decodePcpResponse, encodePcpAnnounceRequest, encodePcpMapRequest, IPPROTO_UDP, pcpResultName, PcpResult } from './pcp.js'

export interface RequestIo {
  socket: DatagramTransport
  server: PeerAddress
  scheduler: Scheduler
  random: Random
  policy: RetransmitPolicy
  counters: ExchangeCounters
  signal?: AbortSignal
}

/** What the gateway answered to a MAP. */
export type MapOutcome =
  /** `permanent`: UPnP lease 0 (the router grants no timed lease), to be deleted on stop */
  | { kind: 'mapped', externalAddress: string, externalPort: number, lifetimeS: number, epochS: number, permanent?: boolean }
  /** the server is there and said no (result code named) */
  | { kind: 'refused', reason: string, epochS: number }
  /** this protocol is not spoken here: try the other (RFC 6887 §9) */
  | { kind: 'unsupported', reason: string }
  /** no acceptable answer within the tries */
  | { kind: 'timeout' }

/** What a probe learned of one protocol on the gateway (portmap.md §4.2): spoken, or why not. */
export type ProbeOutcome =
  /** NAT-PMP's probe also brings the public address (RFC 6886 §3.2) */
  | { kind: 'present', externalAddress?: string }
  | Exclude<MapOutcome, { kind: 'mapped' }>

export interface MapAsk {
  /** our address toward the gateway (PCP's client address field) */
  local: string
  internalPort: number
  /** suggested external port (0: none) */
  externalPort: number
  lifetimeS: number
  /** PCP only: this mapping's nonce */
  nonce: Uint8Array
}

/** RFC 6887 §11: a MAP request for our UDP port; lifetime 0 deletes it (§15). */
export async function pcpMap (io: RequestIo, ask: MapAsk): Promise<MapOutcome> {
  const req = encodePcpMapRequest({ clientAddress: ask.local, lifetimeS: ask.lifetimeS, nonce: ask.nonce, internalPort: ask.internalPort, externalPort: ask.externalPort })
  const answer = await exchange(io.socket, io.server, req, bytes => {
    if (isNatPmpUnsupportedVersion(bytes)) return { kind: 'unsupported', reason: 'the gateway speaks NAT-PMP only' } as const
    const r = decodePcpResponse(bytes)
    if (r === null) return null
    if (r.result === PcpResult.UNSUPP_VERSION) return { kind: 'unsupported', reason: 'PCP UNSUPP_VERSION' } as const
    if (r.kind !== 'map') return null
    // §11.3: a response for another mapping (nonce, protocol, port) is not ours
    if (!timingSafeEqual(r.nonce, ask.nonce) || r.protocol !== IPPROTO_UDP || r.internalPort !== ask.internalPort) return null
    if (r.result !== PcpResult.SUCCESS) return { kind: 'refused', reason: `PCP ${pcpResultName(r.result)}`, epochS: r.epochS } as const
    return { kind: 'mapped', externalAddress: r.externalAddress, externalPort: r.externalPort, lifetimeS: r.lifetimeS, epochS: r.epochS } as const
  }, io)
  return answer ?? { kind: 'timeout' }
}

/** RFC 6887 §14.1: ANNOUNCE (a lifetime-0 request with no payload) answers with the server's epoch. */
export async function pcpEpoch (io: RequestIo, local: string): Promise<number | null> {
  return await exchange(io.socket, io.server, encodePcpAnnounceRequest(local), bytes => {
    const r = decodePcpResponse(bytes)
    return r?.kind === 'announce' && r.result === PcpResult.SUCCESS ? r.epochS : null
  }, io)
}

/**
 * RFC 6887 §14.1: ANNOUNCE as a probe, since it maps nothing (a probe that loses the race to
 * another protocol leaves nothing on the router). Any PCP answer but UNSUPP_VERSION says PCP is
 * spoken (the MAP that follows says whether we may map); a NAT-PMP UNSUPPORTED_VERSION says only
 * NAT-PMP is (§9).
 */
export async function pcpProbe (io: RequestIo, local: string): Promise<ProbeOutcome> {
  const answer = await exchange(io.socket, io.server, encodePcpAnnounceRequest(local), bytes => {
    if (isNatPmpUnsupportedVersion(bytes)) return { kind: 'unsupported', reason: 'the gateway speaks NAT-PMP only' } as const
    const r = decodePcpResponse(bytes)
    if (r === null) return null
    if (r.result === PcpResult.UNSUPP_VERSION) return { kind: 'unsupported', reason: 'PCP UNSUPP_VERSION' } as const
    return r.kind === 'announce' ? { kind: 'present' } as const : null
  }, io)
  return answer ?? { kind: 'timeout' }
}

/** RFC 6886 §3.2 as a probe: the public address request maps nothing and brings the address the map needs. */
export async function natPmpProbe (io: RequestIo): Promise<ProbeOutcome> {
  const a = await natPmpAddress(io)
  return a.kind === 'address' ? { kind: 'present', externalAddress: a.externalAddress } : a
}

/**
 * RFC 6886 §3.2 then §3.3: the public address (unless a probe just read it), then the mapping (a
 * map response does not carry the address). Lifetime 0 with suggested port 0 deletes (§3.4).
 */
export async function natPmpMap (io: RequestIo, ask: MapAsk, knownAddress?: string): Promise<MapOutcome> {
  let externalAddress = knownAddress ?? '0.0.0.0'
  if (ask.lifetimeS > 0 && knownAddress === undefined) {
    const addr = await natPmpAddress(io)
    if (addr.kind !== 'address') return addr
    externalAddress = addr.externalAddress
  }
  const req = encodeNatPmpMapRequest({ internalPort: ask.internalPort, externalPort: ask.lifetimeS === 0 ? 0 : ask.externalPort, lifetimeS: ask.lifetimeS })
  const answer = await exchange(io.socket, io.server, req, bytes => {
    const r = decodeNatPmpResponse(bytes)
    if (r === null || r.op !== NatPmpOp.MAP_UDP) return null
    if (r.result !== NatPmpResult.SUCCESS) return refusedOrUnsupported(r.result, r.epochS)
    if (r.kind !== 'map' || r.internalPort !== ask.internalPort) return null
    return { kind: 'mapped', externalAddress, externalPort: r.externalPort, lifetimeS: r.lifetimeS, epochS: r.epochS } as const
  }, io)
  return answer ?? { kind: 'timeout' }
}

type AddressOutcome = { kind: 'address', externalAddress: string, epochS: number } | Exclude<MapOutcome, { kind: 'mapped' }>

/** RFC 6886 §3.2: the gateway's public address and its epoch. */
export async function natPmpAddress (io: RequestIo): Promise<AddressOutcome> {
  const answer = await exchange(io.socket, io.server, encodeNatPmpAddressRequest(), bytes => {
    const r = decodeNatPmpResponse(bytes)
    if (r === null || r.op !== NatPmpOp.PUBLIC_ADDRESS) return null
    if (r.result !== NatPmpResult.SUCCESS) return refusedOrUnsupported(r.result, r.epochS)
    return r.kind === 'address' ? { kind: 'address', externalAddress: r.externalAddress, epochS: r.epochS } as const : null
  }, io)
  return answer ?? { kind: 'timeout' }
}

function refusedOrUnsupported (result: number, epochS: number): Exclude<MapOutcome, { kind: 'mapped' | 'timeout' }> {
  return result === NatPmpResult.UNSUPPORTED_VERSION || result === NatPmpResult.UNSUPPORTED_OPCODE
    ? { kind: 'unsupported', reason: `NAT-PMP ${natPmpResultName(result)}` }
    : { kind: 'refused', reason: `NAT-PMP ${natPmpResultName(result)}`, epochS }
}

/** RFC 6887 §9: a NAT-PMP-only server answers a PCP request with version 0, result 1. */
function isNatPmpUnsupportedVersion (bytes: Uint8Array): boolean {
  const r = decodeNatPmpResponse(bytes)
  return r !== null && r.result === NatPmpResult.UNSUPPORTED_VERSION
}
