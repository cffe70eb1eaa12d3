// HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the subkey step that turns XChaCha20-Poly1305 into
// node:crypto's ChaCha20-Poly1305 (§2.3: subkey = HChaCha20(key, nonce[0..16]), then the IETF AEAD
// with nonce 0x00000000 ‖ nonce[16..24]). Node 20 has no XChaCha; doing only this step in JS keeps
// the bulk of the work in OpenSSL and spares every process a pure-JS cipher library.

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] // "expand 32-byte k" (RFC 8439 §2.3)

function rotl (v: number, n: number): number {
  return (v << n) | (v >>> (32 - n))
}

/** RFC 8439 §2.1 quarter round on state words a, b, c, d. */
function quarter (s: Uint32Array, a: number, b: number, c: number, d: number): void {
  s[a] = (s[a]! + s[b]!) | 0; s[d] = rotl(s[d]! ^ s[a]!, 16)
  s[c] = (s[c]! + s[d]!) | 0; s[b] = rotl(s[b]! ^ s[c]!, 12)
  s[a] = (s[a]! + s[b]!) | 0; s[d] = rotl(s[d]! ^ s[a]!, 8)
  s[c] = (s[c]! + s[d]!) | 0; s[b] = rotl(s[b]! ^ s[c]!, 7)
}

/** 32-byte subkey from a 32-byte key and the first 16 bytes of an XChaCha nonce. */
export function hchacha20 (key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  if (key.length !== 32 || nonce16.length !== 16) throw new RangeError('hchacha20: key must be 32 bytes and nonce 16')
  const s = new Uint32Array(16)
  const kv = new DataView(key.buffer, key.byteOffset, 32)
  const nv = new DataView(nonce16.buffer, nonce16.byteOffset, 16)
  s.set(SIGMA, 0)
  for (let i = 0; i < 8; i++) s[4 + i] = kv.getUint32(i * 4, true)
  for (let i = 0; i < 4; i++) s[12 + i] = nv.getUint32(i * 4, true)
  for (let i = 0; i < 10; i++) { // 20 rounds: column then diagonal (RFC 8439 §2.3)
    quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15)
    quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14)
  }
  // §2.2: no feed-forward; the subkey is words 0..3 and 12..15, little-endian
  const out = new Uint8Array(32)
  const ov = new DataView(out.buffer)
  for (let i = 0; i < 4; i++) {
    ov.setUint32(i * 4, s[i]!, true)
    ov.setUint32(16 + i * 4, s[12 + i]!, true)
  }
  s.fill(0)
  return out
}
