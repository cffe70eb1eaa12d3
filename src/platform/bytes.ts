// Byte arrays allocated without zeroing, for bytes the caller writes whole before anyone reads
// them: what an earlier user of the memory left is in them until then. Two kinds:
//
// - **Pooled** (`pooledBytes`, `pooledCopy`): short-lived arrays cut from Node's shared
//   allocation pool (Buffer.allocUnsafe: slices of an 8 KiB slab for sizes under 4 KiB). V8 keeps
//   a typed array over 64 bytes in a backing store of its own: a malloc, and a buffer extension
//   the garbage collector sweeps; measured ~1 µs per `new Uint8Array(296)` against ~0.2 µs here,
//   and a burst of messages makes tens per message (sealed records, encoded payloads:
//   docs/performance.md §11.2). A view keeps its whole slab alive, so these are for values that
//   do not outlive their write (a store batch, a datagram).
// - **Unzeroed, of their own** (`unzeroedBytes`, `unzeroedArrayBuffer`): a 32–64 KiB
//   `new Uint8Array(n)` or `new ArrayBuffer(n)` is a calloc and a memset: on a file transfer's
//   path that is one per chunk on each side and one per datagram sealed, 4% of a sender's CPU in
//   a profile (docs/performance.md §10.7). Node's Buffer.allocUnsafeSlow takes the same allocator
//   without the zeroing; its ArrayBuffer is exactly `n` bytes and not shared with Node's pool.
//
// Callers get plain Uint8Array views, not Buffers (whose slice() would share rather than copy).

/** A plain Uint8Array of `n` uninitialised bytes from the pool. */
export function pooledBytes (n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

/** A pooled copy of `src`. */
export function pooledCopy (src: Uint8Array): Uint8Array {
  const out = pooledBytes(src.length)
  out.set(src)
  return out
}

/** `n` bytes of their own, not zeroed: the caller writes every one before any is read. */
export function unzeroedBytes (n: number): Uint8Array {
  return new Uint8Array(unzeroedArrayBuffer(n), 0, n)
}

/** An ArrayBuffer of `n` bytes, not zeroed, for carving views that are each written whole before use. */
export function unzeroedArrayBuffer (n: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer
}
