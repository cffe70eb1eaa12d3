// HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the subkey step that turns XChaCha20-Poly1305 into
// node:crypto's ChaCha20-Poly1305 (§2.3: subkey = HChaCha20(key, nonce[0..16]), then the IETF AEAD
// with nonce 0x00000000 ‖ nonce[16..24]). Node 20 has no XChaCha; doing only this step in JS keeps
// the bulk of the work in OpenSSL and spares every process a pure-JS cipher library.

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] // "expand 32-byte k" (RFC 8439 §2.3)

/**
 * 32-byte subkey from a 32-byte key and the first 16 bytes of an XChaCha nonce. The state lives in
 * 16 locals, not an array: every record sealed at rest and every ratchet header runs this once,
 * and V8 keeps locals in registers (~4x faster than quarter rounds over a Uint32Array here).
 */
export function hchacha20 (key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  if (key.length !== 32 || nonce16.length !== 16) throw new RangeError('hchacha20: key must be 32 bytes and nonce 16')
  const kv = new DataView(key.buffer, key.byteOffset, 32)
  const nv = new DataView(nonce16.buffer, nonce16.byteOffset, 16)
  let x0 = SIGMA[0]!; let x1 = SIGMA[1]!; let x2 = SIGMA[2]!; let x3 = SIGMA[3]!
  let x4 = kv.getUint32(0, true); let x5 = kv.getUint32(4, true); let x6 = kv.getUint32(8, true); let x7 = kv.getUint32(12, true)
  let x8 = kv.getUint32(16, true); let x9 = kv.getUint32(20, true); let x10 = kv.getUint32(24, true); let x11 = kv.getUint32(28, true)
  let x12 = nv.getUint32(0, true); let x13 = nv.getUint32(4, true); let x14 = nv.getUint32(8, true); let x15 = nv.getUint32(12, true)
  for (let i = 0; i < 10; i++) { // 20 rounds: column then diagonal, RFC 8439 §2.1 quarter rounds (§2.3)
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 16); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 12)
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 8); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 7)
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 16); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 12)
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 8); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 7)
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 16); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 12)
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 8); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 7)
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 16); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 12)
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 8); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 7)
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 16); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 12)
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 8); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 7)
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 16); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 12)
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 8); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 7)
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 16); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 12)
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 8); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 7)
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 16); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 12)
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 8); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 7)
  }
  // §2.2: no feed-forward; the subkey is words 0..3 and 12..15, little-endian
  const out = new Uint8Array(32)
  const ov = new DataView(out.buffer)
  ov.setUint32(0, x0, true); ov.setUint32(4, x1, true); ov.setUint32(8, x2, true); ov.setUint32(12, x3, true)
  ov.setUint32(16, x12, true); ov.setUint32(20, x13, true); ov.setUint32(24, x14, true); ov.setUint32(28, x15, true)
  return out
}

function rotl (v: number, n: number): number {
  return (v << n) | (v >>> (32 - n))
}
