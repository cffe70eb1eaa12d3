// The relay's control messages (proto-spec/relay.md §3): one encoder and one decoder per layout.
// Only this file knows byte offsets. Decoders return null for anything malformed; never throw.
import { VERSION_MARKER, WIRE_VERSION } from '../wire/constants.js'
import {
  RelayType, REQUEST_ID_BYTES, ALLOCATION_ID_BYTES, RELAY_COOKIE_BYTES, BIND_KEY_BYTES, PROOF_BYTES,
  RELAY_REQUEST_BYTES, type BoundState, type RefuseReason
} from './constants.js'

const HEADER_BYTES = 2
const BYTE0 = VERSION_MARKER | WIRE_VERSION

export type RelayMessage =
  | { type: typeof RelayType.ALLOCATE, requestId: Uint8Array, cookie: Uint8Array | null, bindKey: Uint8Array }
  | { type: typeof RelayType.ALLOCATE_CHALLENGE, requestId: Uint8Array, cookie: Uint8Array }
  | { type: typeof RelayType.ALLOCATE_OK, requestId: Uint8Array, allocationId: Uint8Array, portA: number, portB: number, idleTimeoutS: number }
  | { type: typeof RelayType.ALLOCATE_REFUSED, requestId: Uint8Array, reason: RefuseReason }
  | { type: typeof RelayType.BIND | typeof RelayType.RELEASE, allocationId: Uint8Array, cookie: Uint8Array | null, proof: Uint8Array }
  | { type: typeof RelayType.BIND_CHALLENGE, allocationId: Uint8Array, cookie: Uint8Array }
  | { type: typeof RelayType.BOUND, allocationId: Uint8Array, state: BoundState }

/** The fixed length of each message (relay.md §3); requests are padded so no answer is larger. */
const LENGTH: Record<RelayType, number> = {
  [RelayType.ALLOCATE]: RELAY_REQUEST_BYTES,
  [RelayType.ALLOCATE_CHALLENGE]: HEADER_BYTES + REQUEST_ID_BYTES + RELAY_COOKIE_BYTES,
  [RelayType.ALLOCATE_OK]: HEADER_BYTES + REQUEST_ID_BYTES + ALLOCATION_ID_BYTES + 6,
  [RelayType.ALLOCATE_REFUSED]: HEADER_BYTES + REQUEST_ID_BYTES + 1,
  [RelayType.BIND]: RELAY_REQUEST_BYTES,
  [RelayType.BIND_CHALLENGE]: HEADER_BYTES + ALLOCATION_ID_BYTES + RELAY_COOKIE_BYTES,
  [RelayType.BOUND]: HEADER_BYTES + ALLOCATION_ID_BYTES + 1,
  [RelayType.RELEASE]: RELAY_REQUEST_BYTES
}

/** Is this datagram (already known to be dmess) one of the relay's control messages? */
export function isRelayControl (buf: Uint8Array): boolean {
  return buf.length >= HEADER_BYTES && buf[0] === BYTE0 && (buf[1] ?? 0) in LENGTH
}

class Writer {
  readonly buf: Uint8Array
  #at = HEADER_BYTES
  constructor (type: RelayType) {
    this.buf = new Uint8Array(LENGTH[type])
    this.buf[0] = BYTE0
    this.buf[1] = type
  }

  bytes (b: Uint8Array | null, n: number): this {
    if (b !== null) this.buf.set(b.subarray(0, n), this.#at) // null: n zero bytes
    this.#at += n
    return this
  }

  u16 (v: number): this {
    this.buf[this.#at++] = (v >>> 8) & 0xff
    this.buf[this.#at++] = v & 0xff
    return this
  }

  u8 (v: number): this {
    this.buf[this.#at++] = v & 0xff
    return this
  }
}

export function encodeRelayMessage (m: RelayMessage): Uint8Array {
  const w = new Writer(m.type)
  switch (m.type) {
    case RelayType.ALLOCATE: return w.bytes(m.requestId, REQUEST_ID_BYTES).bytes(m.cookie, RELAY_COOKIE_BYTES).bytes(m.bindKey, BIND_KEY_BYTES).buf
    case RelayType.ALLOCATE_CHALLENGE: return w.bytes(m.requestId, REQUEST_ID_BYTES).bytes(m.cookie, RELAY_COOKIE_BYTES).buf
    case RelayType.ALLOCATE_OK:
      return w.bytes(m.requestId, REQUEST_ID_BYTES).bytes(m.allocationId, ALLOCATION_ID_BYTES).u16(m.portA).u16(m.portB).u16(m.idleTimeoutS).buf
    case RelayType.ALLOCATE_REFUSED: return w.bytes(m.requestId, REQUEST_ID_BYTES).u8(m.reason).buf
    case RelayType.BIND: case RelayType.RELEASE:
      return w.bytes(m.allocationId, ALLOCATION_ID_BYTES).bytes(m.cookie, RELAY_COOKIE_BYTES).bytes(m.proof, PROOF_BYTES).buf
    case RelayType.BIND_CHALLENGE: return w.bytes(m.allocationId, ALLOCATION_ID_BYTES).bytes(m.cookie, RELAY_COOKIE_BYTES).buf
    case RelayType.BOUND: return w.bytes(m.allocationId, ALLOCATION_ID_BYTES).u8(m.state).buf
  }
  throw new TypeError('unreachable')
}

/** A relay control message, or null: wrong length, non-zero padding, a bad enum value. */
export function decodeRelayMessage (buf: Uint8Array): RelayMessage | null {
  if (!isRelayControl(buf)) return null
  const type = buf[1] as RelayType
  if (buf.length !== LENGTH[type]) return null
  const at = (off: number, n: number): Uint8Array => buf.slice(HEADER_BYTES + off, HEADER_BYTES + off + n)
  const cookieAt = (off: number): Uint8Array | null => {
    const c = at(off, RELAY_COOKIE_BYTES)
    return c.every(b => b === 0) ? null : c
  }
  const u16 = (off: number): number => ((buf[HEADER_BYTES + off] ?? 0) << 8) | (buf[HEADER_BYTES + off + 1] ?? 0)
  switch (type) {
    case RelayType.ALLOCATE:
      if (!zeroFrom(buf, HEADER_BYTES + REQUEST_ID_BYTES + RELAY_COOKIE_BYTES + BIND_KEY_BYTES)) return null
      return { type, requestId: at(0, REQUEST_ID_BYTES), cookie: cookieAt(REQUEST_ID_BYTES), bindKey: at(REQUEST_ID_BYTES + RELAY_COOKIE_BYTES, BIND_KEY_BYTES) }
    case RelayType.ALLOCATE_CHALLENGE: return { type, requestId: at(0, REQUEST_ID_BYTES), cookie: at(REQUEST_ID_BYTES, RELAY_COOKIE_BYTES) }
    case RelayType.ALLOCATE_OK: {
      const portA = u16(16)
      const portB = u16(18)
      if (portA === 0 || portB === 0 || portA === portB) return null
      return { type, requestId: at(0, REQUEST_ID_BYTES), allocationId: at(8, ALLOCATION_ID_BYTES), portA, portB, idleTimeoutS: u16(20) }
    }
    case RelayType.ALLOCATE_REFUSED: {
      const reason = buf[HEADER_BYTES + REQUEST_ID_BYTES]!
      if (reason < 1 || reason > 3) return null
      return { type, requestId: at(0, REQUEST_ID_BYTES), reason: reason as RefuseReason }
    }
    case RelayType.BIND: case RelayType.RELEASE:
      if (!zeroFrom(buf, HEADER_BYTES + ALLOCATION_ID_BYTES + RELAY_COOKIE_BYTES + PROOF_BYTES)) return null
      return { type, allocationId: at(0, ALLOCATION_ID_BYTES), cookie: cookieAt(ALLOCATION_ID_BYTES), proof: at(ALLOCATION_ID_BYTES + RELAY_COOKIE_BYTES, PROOF_BYTES) }
    case RelayType.BIND_CHALLENGE: return { type, allocationId: at(0, ALLOCATION_ID_BYTES), cookie: at(ALLOCATION_ID_BYTES, RELAY_COOKIE_BYTES) }
    case RelayType.BOUND: {
      const state = buf[HEADER_BYTES + ALLOCATION_ID_BYTES]!
      if (state > 1) return null
      return { type, allocationId: at(0, ALLOCATION_ID_BYTES), state: state as BoundState }
    }
  }
  return null
}

function zeroFrom (buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}
