// Short-lived byte arrays cut from Node's shared allocation pool (Buffer.allocUnsafe: slices of
// an 8 KiB slab for sizes under 4 KiB). V8 keeps a typed array over 64 bytes in a backing store
// of its own: a malloc, and a buffer extension the garbage collector sweeps; measured ~1 µs per
// `new Uint8Array(296)` against ~0.2 µs here, and a burst of messages makes tens per message
// (sealed records, encoded payloads: docs/performance.md §11.2).
//
// The bytes are NOT zeroed: they may hold what an earlier user of the slab left, so a caller
// writes every byte before the array is read or leaves the process. A view keeps its whole slab
// alive, so these are for values that do not outlive their write (a store batch, a datagram).

/** A plain Uint8Array (not a Buffer: `slice` copies) of `n` uninitialised bytes from the pool. */
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
