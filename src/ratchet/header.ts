// The ratchet header's plaintext (proto-spec/ratchet.md §4): fixed length, so every encrypted
// header is the same size whether or not it carries a KEM ciphertext.
import {
  HEADER_BYTES, HEADER_FLAG_CT, KEM_CT_BYTES, KEM_EK_BYTES, X25519_BYTES
} from './constants.js'

export interface Header {
  /** the sender's current ratchet public key (X25519) */
  dh: Uint8Array
  /** number of messages in the sender's previous sending chain */
  pn: number
  /** this message's number in the current sending chain */
  n: number
  /** the sender's current ML-KEM-768 encapsulation key */
  ek: Uint8Array
  /** the sender's ML-KEM-768 ciphertext to the receiver's last encapsulation key; absent in the initiator's first chain */
  ct: Uint8Array | null
}

const OFF_PN = X25519_BYTES
const OFF_N = OFF_PN + 4
const OFF_FLAGS = OFF_N + 4
const OFF_EK = OFF_FLAGS + 1
const OFF_CT = OFF_EK + KEM_EK_BYTES

export function encodeHeader (h: Header): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES)
  encodeHeaderInto(h, out)
  return out
}

/** encodeHeader into `out` (HEADER_BYTES long, a view into a whole message, say). */
export function encodeHeaderInto (h: Header, out: Uint8Array): void {
  const v = new DataView(out.buffer, out.byteOffset, HEADER_BYTES)
  out.set(h.dh, 0)
  v.setUint32(OFF_PN, h.pn)
  v.setUint32(OFF_N, h.n)
  out[OFF_FLAGS] = h.ct === null ? 0 : HEADER_FLAG_CT
  out.set(h.ek, OFF_EK)
  if (h.ct !== null) out.set(h.ct, OFF_CT)
  else out.fill(0, OFF_CT, OFF_CT + KEM_CT_BYTES)
}

/** The header, or null when it is not canonical (unknown flags, or ct bytes without the flag). `ek` and `ct` are views into `b`. */
export function decodeHeader (b: Uint8Array): Header | null {
  if (b.length !== HEADER_BYTES) return null
  const v = new DataView(b.buffer, b.byteOffset, b.length)
  const flags = b[OFF_FLAGS]
  if (flags !== 0 && flags !== HEADER_FLAG_CT) return null
  const ct = b.subarray(OFF_CT, OFF_CT + KEM_CT_BYTES)
  if (flags === 0 && ct.some(x => x !== 0)) return null
  return {
    dh: b.slice(0, X25519_BYTES),
    pn: v.getUint32(OFF_PN),
    n: v.getUint32(OFF_N),
    ek: b.subarray(OFF_EK, OFF_EK + KEM_EK_BYTES), // views, not copies: only a DH step reads them
    ct: flags === 0 ? null : ct
  }
}
