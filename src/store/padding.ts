// Size classes for sealed records (proto-spec/storage.md §Padding): a record's plaintext is
// padded before encryption so its ciphertext length shows a size class, not the exact length
// of the body, name or payload inside it.
//
// Class: the larger of a floor and Padmé(L) (Nikitin et al., "Reducing Metadata Leakage from
// Encrypted Files and Communication with PURBs", PETS 2019, §4): L rounded up so that only its
// top ~log2(log2 L) + 1 bits can be non-zero, at most ~12% overhead and O(log log L) bits leaked.
// Padding bytes: 0x80 then zeros (ISO/IEC 7816-4), so the end of the content is unambiguous.

const PAD_MARKER = 0x80

/** Padmé (PURBs §4, Algorithm 1) of a length L ≥ 1. */
export function padme (length: number): number {
  if (length < 2) return length
  const e = Math.floor(Math.log2(length))
  const s = Math.floor(Math.log2(e)) + 1
  const step = 2 ** (e - s)
  return Math.ceil(length / step) * step
}

/** Padded plaintext length for `contentLength` bytes of content (one marker byte included). */
export function sizeClass (contentLength: number, floor: number): number {
  return Math.max(floor, padme(contentLength + 1))
}

/** content ‖ 0x80 ‖ 0x00… up to sizeClass(content.length, floor). */
export function pad (content: Uint8Array, floor: number): Uint8Array {
  const out = new Uint8Array(sizeClass(content.length, floor))
  padInto(content, out)
  return out
}

/** pad into `out`, longer than the content (a sealed record's own array, whose bytes may be anything: every one is written). */
export function padInto (content: Uint8Array, out: Uint8Array): void {
  out.set(content, 0)
  out[content.length] = PAD_MARKER
  out.fill(0, content.length + 1)
}

/** The content of a padded plaintext; null when the padding is malformed. */
export function unpad (padded: Uint8Array): Uint8Array | null {
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  if (end < 0 || padded[end] !== PAD_MARKER) return null
  return padded.subarray(0, end)
}
