// Codecs of the traversal packets (proto-spec/traversal.md §4): byte 0 the dmess marker 0xC1,
// byte 1 a type in 0x40–0x4f (wire.md §2.2), then fixed fields. decode returns null for anything
// malformed (the caller counts it); encode throws only on local misuse.
import { errors } from '../errors.js'
import { isTraversalDatagram } from '../wire/packet.js'
import { parseAddress } from '../io/address.js'
import { readAddress, writeAddress } from '../dht/address-codec.js'
import {
  TraversalType, HEADER_BYTES, TAG_BYTES, TXID_BYTES, PUNCH_ID_BYTES, REGISTER_BYTES, PROBE_BYTES,
  PUNCH_SEALED_BYTES
} from './constants.js'

const MARKER = 0xc1

export const RegisterStatus = { OK: 0, FULL: 1 } as const

export type TraversalMessage =
  /** client → rendezvous: keep `tag` registered at my address (traversal.md §4.1) */
  | { type: typeof TraversalType.REGISTER, txid: number, tag: Uint8Array }
  /** rendezvous → client: done (or full), for this long, and where I saw you */
  | { type: typeof TraversalType.REGISTERED, txid: number, status: number, lifetimeS: number, observed: string }
  /** contact → rendezvous: pass this sealed offer to whoever registered `tag` (§4.2) */
  | { type: typeof TraversalType.PUNCH_REQUEST, tag: Uint8Array, sealed: Uint8Array }
  /** rendezvous → registered node: an offer; answer it under `handle` */
  | { type: typeof TraversalType.PUNCH_FORWARD, handle: Uint8Array, sealed: Uint8Array }
  /** registered node → rendezvous: the sealed answer for `handle` */
  | { type: typeof TraversalType.PUNCH_REPLY, handle: Uint8Array, sealed: Uint8Array }
  /** rendezvous → contact: the answer */
  | { type: typeof TraversalType.PUNCH_ANSWER, handle: Uint8Array, sealed: Uint8Array }
  /** rendezvous → contact: nobody is registered under `tag` (try another rendezvous) */
  | { type: typeof TraversalType.PUNCH_UNKNOWN, tag: Uint8Array }
  /** peer → peer at a candidate: can you hear me? (§6) `answerer`: sent by the side that answered the offer */
  | { type: typeof TraversalType.PROBE, punchId: Uint8Array, round: number, answerer: boolean }
  | { type: typeof TraversalType.PROBE_ACK, punchId: Uint8Array, round: number, answerer: boolean }

export { isTraversalDatagram }

function bytes (b: Uint8Array, n: number, what: string): Uint8Array {
  if (b.length !== n) throw errors.BAD_ARGUMENT(`${what}: expected ${n} bytes, got ${b.length}`)
  return b
}

function start (type: number, size: number): { out: Uint8Array, view: DataView } {
  const out = new Uint8Array(size)
  out[0] = MARKER
  out[1] = type
  return { out, view: new DataView(out.buffer) }
}

/** A fixed-width id (tag or handle) then the sealed punch message. */
function idAndSealed (type: number, id: Uint8Array, sealed: Uint8Array, what: string): Uint8Array {
  const { out } = start(type, HEADER_BYTES + 16 + PUNCH_SEALED_BYTES)
  out.set(bytes(id, 16, `${what} id`), HEADER_BYTES)
  out.set(bytes(sealed, PUNCH_SEALED_BYTES, `${what} sealed message`), HEADER_BYTES + 16)
  return out
}

export function encodeTraversal (m: TraversalMessage): Uint8Array {
  switch (m.type) {
    case TraversalType.REGISTER: {
      const { out, view } = start(m.type, REGISTER_BYTES) // zero padding after the tag
      view.setUint32(2, m.txid)
      out.set(bytes(m.tag, TAG_BYTES, 'REGISTER tag'), 2 + TXID_BYTES)
      return out
    }
    case TraversalType.REGISTERED: {
      const a = parseAddress(m.observed)
      if (a === null) throw errors.BAD_ARGUMENT(`REGISTERED observed: expected ip:port, got ${m.observed}`)
      const { out, view } = start(m.type, HEADER_BYTES + TXID_BYTES + 1 + 2 + (a.family === 4 ? 7 : 19))
      view.setUint32(2, m.txid)
      out[6] = m.status
      view.setUint16(7, m.lifetimeS)
      writeAddress(view, out, 9, a)
      return out
    }
    case TraversalType.PUNCH_REQUEST: return idAndSealed(m.type, m.tag, m.sealed, 'PUNCH_REQUEST')
    case TraversalType.PUNCH_FORWARD: case TraversalType.PUNCH_REPLY: case TraversalType.PUNCH_ANSWER:
      return idAndSealed(m.type, m.handle, m.sealed, 'punch')
    case TraversalType.PUNCH_UNKNOWN: {
      const { out } = start(m.type, HEADER_BYTES + TAG_BYTES)
      out.set(bytes(m.tag, TAG_BYTES, 'PUNCH_UNKNOWN tag'), HEADER_BYTES)
      return out
    }
    case TraversalType.PROBE: case TraversalType.PROBE_ACK: {
      const { out } = start(m.type, PROBE_BYTES)
      out.set(bytes(m.punchId, PUNCH_ID_BYTES, 'probe punch id'), HEADER_BYTES)
      out[HEADER_BYTES + PUNCH_ID_BYTES] = (m.answerer ? 0x80 : 0) | (m.round & 0x7f)
      return out
    }
  }
}

/** The message in a traversal datagram, or null (wrong size, unknown type, bad address, nonzero padding). */
export function decodeTraversal (buf: Uint8Array): TraversalMessage | null {
  if (!isTraversalDatagram(buf)) return null
  const type = buf[1]!
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  switch (type) {
    case TraversalType.REGISTER:
      if (buf.length !== REGISTER_BYTES || !buf.subarray(2 + TXID_BYTES + TAG_BYTES).every(b => b === 0)) return null
      return { type, txid: view.getUint32(2), tag: buf.slice(6, 6 + TAG_BYTES) }
    case TraversalType.REGISTERED: {
      const a = buf.length >= 16 ? readAddress(view, buf, 9) : null
      if (a === null || a.off !== buf.length) return null
      return { type, txid: view.getUint32(2), status: buf[6]!, lifetimeS: view.getUint16(7), observed: a.addr }
    }
    case TraversalType.PUNCH_REQUEST: case TraversalType.PUNCH_FORWARD: case TraversalType.PUNCH_REPLY: case TraversalType.PUNCH_ANSWER: {
      if (buf.length !== HEADER_BYTES + 16 + PUNCH_SEALED_BYTES) return null
      const id = buf.slice(2, 2 + 16)
      const sealed = buf.slice(2 + 16)
      return type === TraversalType.PUNCH_REQUEST ? { type, tag: id, sealed } : { type, handle: id, sealed }
    }
    case TraversalType.PUNCH_UNKNOWN:
      return buf.length === HEADER_BYTES + TAG_BYTES ? { type, tag: buf.slice(2) } : null
    case TraversalType.PROBE: case TraversalType.PROBE_ACK:
      if (buf.length !== PROBE_BYTES) return null
      return { type, punchId: buf.slice(2, 2 + PUNCH_ID_BYTES), round: buf[2 + PUNCH_ID_BYTES]! & 0x7f, answerer: (buf[2 + PUNCH_ID_BYTES]! & 0x80) !== 0 }
  }
  return null
}

