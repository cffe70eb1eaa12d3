// Value encoding: every value is one MessagePack item (msgpackr, plain maps, no record
// extension) so any MessagePack reader can inspect a store. proto-spec/storage.md §Values.
import { Packr } from 'msgpackr'
import { errors } from '../errors.js'

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

export function encode (value: unknown): Uint8Array {
  return packr.pack(value)
}

/** Decode a stored value; anything that does not parse is corruption of the named record. */
export function decode<T> (bytes: Uint8Array, what: string): T {
  try {
    return packr.unpack(bytes) as T
  } catch {
    throw errors.STORE_CORRUPT(`${what}: value is not valid MessagePack`)
  }
}

/** Decode bytes that may be garbage (an unauthenticated peek, §Search); undefined when they do not parse. */
export function tryDecode (bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes)
  } catch {
    return undefined
  }
}

/**
 * Associated data for an encrypted field: a MessagePack array of a purpose label and the
 * fields that locate the record, so a ciphertext moved to another record fails to open
 * (proto-spec/storage.md §Encryption).
 */
export function aad (label: string, ...parts: Array<string | number>): Uint8Array {
  return packr.pack([label, ...parts])
}

/** Copy a decoded binary field out of the (larger) buffer it was decoded from. */
export function bytes (v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw errors.STORE_CORRUPT(`${what}: expected bytes`)
  return new Uint8Array(v)
}
