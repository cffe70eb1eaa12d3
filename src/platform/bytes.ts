// Buffers whose every byte the caller writes before anyone reads it, allocated without zeroing.
// A 32–64 KiB `new Uint8Array(n)` or `new ArrayBuffer(n)` is a calloc and a memset: on a file
// transfer's path that is one per chunk on each side and one per datagram sealed, 4% of a sender's
// CPU in a profile (docs/performance.md §10.7). Node's Buffer.allocUnsafeSlow takes the same
// allocator without the zeroing; its ArrayBuffer is exactly `n` bytes and is not shared with
// Node's pool (allocUnsafe's is), and the callers get a plain view, not a Buffer (whose slice()
// would share rather than copy).
//
// Only for bytes that are wholly written before they are read or sent: what was freed before is
// in them until then.

/** `n` bytes, not zeroed: the caller writes every one before any is read. */
export function unzeroedBytes (n: number): Uint8Array {
  return new Uint8Array(unzeroedArrayBuffer(n), 0, n)
}

/** An ArrayBuffer of `n` bytes, not zeroed, for carving views that are each written whole before use. */
export function unzeroedArrayBuffer (n: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer
}
