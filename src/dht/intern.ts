// Interning of what DHT datagrams repeat (dht.md §3): every NODES or VALUE answer carries up to k
// contacts, mostly ones the process has seen before. Decoding each to a fresh id array and a
// fresh address string made them the largest allocation in a lookup, and in a simulation every
// routing table held its own copies. Interned values are shared: callers must never mutate them
// (ids are treated as immutable throughout src/dht). Each memo is bounded; once full it is
// cleared, so hostile input costs at most `limit` entries and then merely misses.
import type { NodeId } from './ids.js'

const DEFAULT_LIMIT = 65_536
let limit = DEFAULT_LIMIT

const ids = new Map<string, NodeId>()
const v4 = new Map<number, string>()

/** Entries each memo holds at most (default 65,536). A simulator of 10^5 nodes raises it. */
export function setInternLimit (max: number = DEFAULT_LIMIT): void {
  limit = Math.max(1, Math.floor(max))
  ids.clear()
  v4.clear()
}

export function internLimit (): number {
  return limit
}

/** The 32 bytes at `off` of `text`'s buffer as a shared id (`text` is a Buffer view of it). */
export function internId (text: Buffer, off: number, bytes: number): NodeId {
  const key = text.toString('latin1', off, off + bytes)
  let id = ids.get(key)
  if (id === undefined) {
    if (ids.size >= limit) ids.clear()
    id = new Uint8Array(text.buffer, text.byteOffset + off, bytes).slice()
    ids.set(key, id)
  }
  return id
}

/** The canonical string of IPv4 `ip` (as a u32) and `port`, made once by `format`. */
export function internAddressV4 (ip: number, port: number, format: () => string): string {
  const key = ip * 65_536 + port
  let s = v4.get(key)
  if (s === undefined) {
    if (v4.size >= limit) v4.clear()
    s = format()
    v4.set(key, s)
  }
  return s
}
