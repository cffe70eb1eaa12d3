// Interning of what DHT datagrams repeat (dht.md §3): every NODES or VALUE answer carries up to k
// contacts, mostly ones the process has seen before. Decoding each to a fresh id array and a
// fresh address string made them the largest allocation in a lookup, and in a simulation every
// routing table held its own copies. Interned contacts are shared: callers must never mutate them
// or their ids (ids are treated as immutable throughout src/dht). Each memo is bounded; once full it is
// cleared, so hostile input costs at most `limit` entries and then merely misses. Process-wide on
// purpose: the memos map public bytes to values derived from them alone, so the nodes of a
// process (a simulation, a testnet) share them and one node's flood only makes another miss.
import type { NodeInfo } from './messages.js'

const DEFAULT_LIMIT = 65_536
let limit = DEFAULT_LIMIT

const contacts = new Map<string, NodeInfo>()

/** Entries each memo holds at most (default 65,536). A simulator of 10^5 nodes raises it. */
export function setInternLimit (max: number = DEFAULT_LIMIT): void {
  limit = Math.max(1, Math.floor(max))
  contacts.clear()
}

/** Empties the contact memo (src/dht/ids.ts clearDhtMemos empties them all). */
export function clearInterned (): void {
  contacts.clear()
}

export function internLimit (): number {
  return limit
}

/**
 * The contact whose wire form (id and address) is the `bytes` bytes at `off` of `text` (a Buffer
 * view of the datagram): the shared object when those exact bytes were decoded before, else what
 * `decode()` returns (null if malformed: nothing is kept). One string key and one lookup per contact.
 */
export function internContact (text: Buffer, off: number, bytes: number, decode: () => NodeInfo | null): NodeInfo | null {
  const key = text.toString('latin1', off, off + bytes)
  let c = contacts.get(key)
  if (c === undefined) {
    const fresh = decode()
    if (fresh === null) return null
    if (contacts.size >= limit) contacts.clear()
    contacts.set(key, fresh)
    c = fresh
  }
  return c
}
