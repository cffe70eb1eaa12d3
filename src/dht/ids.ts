// Node ids and keys: 256-bit strings compared by XOR distance (Kademlia §2.1). A node id is the
// hash of a per-node DHT public key, never of the user's identity, whose first 21 bits are fixed
// by the node's IP address as BitTorrent's BEP 42 fixes them (dht.md §1.1).
import { sha256 } from '../crypto/primitives.js'
import { ipScope } from '../io/address.js'
import { addressFacts, clearAddressFacts } from './address-facts.js'
import { ID_BITS, NODE_ID_DOMAIN, DHT_PUBLIC_KEY_BYTES } from './constants.js'

// A module-local copy: hot loops below read it millions of times in a simulation, and some
// loaders (tsx) turn imported bindings into getter calls.
const ID_BYTES = 32
import { errors } from '../errors.js'
import { clearInterned, internLimit } from './intern.js'
import { clearOpenedRecords } from './presence-lookup.js'
import { clearDerivedKeys } from './presence-keys.js'

export type NodeId = Uint8Array

// Every datagram names its sender by public key, so the same keys are hashed over and over;
// a bounded memo (pure function, public inputs) saves a SHA-256 per datagram.
const idMemo = new Map<string, NodeId>()

/** dht.md §1: id = SHA-256("dmess-dht-node-id-v1\0" || DHT public key). Callers must not mutate it. */
export function nodeIdOf (dhtPublicKey: Uint8Array): NodeId {
  if (dhtPublicKey.length !== DHT_PUBLIC_KEY_BYTES) {
    throw errors.BAD_ARGUMENT(`DHT public key: expected ${DHT_PUBLIC_KEY_BYTES} bytes, got ${dhtPublicKey.length}`)
  }
  const memoKey = Buffer.from(dhtPublicKey.buffer, dhtPublicKey.byteOffset, DHT_PUBLIC_KEY_BYTES).toString('latin1')
  let id = idMemo.get(memoKey)
  if (id === undefined) {
    if (idMemo.size >= internLimit()) idMemo.clear()
    id = sha256(NODE_ID_DOMAIN, dhtPublicKey)
    idMemo.set(memoKey, id)
  }
  return id
}

// ---- placement by address (dht.md §1.1, BEP 42) ----

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; RFC 3720 §B.4), the checksum BEP 42 uses.
const CRC32C_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

export function crc32c (bytes: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

// BEP 42: only these bits of the address count (the high 64 bits of an IPv6 address).
const V4_MASK = [0x03, 0x0f, 0x3f, 0xff]
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff]

/** BEP 42: crc32c((ip & mask) | r << 29 (IPv4) / r << 61 (IPv6)); an id's first 21 bits are its top 21. */
export function placementCrc (ip: Uint8Array, r: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK
  const masked = new Uint8Array(mask.length)
  for (let i = 0; i < mask.length; i++) masked[i] = ip[i]! & mask[i]!
  masked[0] = masked[0]! | ((r & 7) << 5)
  return crc32c(masked)
}

/**
 * BEP 42 exempts local networks (a node there has no global address to be tied to): every IP
 * that is not public (src/io/address.ts ipScope: loopback, private, link-local, …). Such a node's
 * id is its key hash unchanged.
 */
export function placementExempt (ip: Uint8Array): boolean {
  return ipScope(ip) !== 'public'
}

/** Overwrites the first 21 bits of `id` with BEP 42's prefix for `ip`, r = the id's last 3 bits. */
function place (id: Uint8Array, ip: Uint8Array): void {
  const crc = placementCrc(ip, id[ID_BYTES - 1]! & 7)
  id[0] = crc >>> 24
  id[1] = (crc >>> 16) & 0xff
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 7)
}

const placedMemo = new Map<string, NodeId>()

/**
 * Empties every memo of public bytes (the ids here, the addresses of address-facts.ts, the
 * contacts of intern.ts, the presence records opened and the presence keys derived,
 * presence-lookup.ts, presence-keys.ts). They only save work, so nothing changes but speed; a
 * heap measurement takes them out of its figure (src/platform/heap.ts), since how full a bounded
 * memo is says nothing about retention.
 */
export function clearDhtMemos (): void {
  idMemo.clear()
  placedMemo.clear()
  clearAddressFacts()
  clearInterned()
  clearOpenedRecords()
  clearDerivedKeys()
}

/**
 * dht.md §1.1: the id of the node with DHT key `dhtPublicKey` seen at canonical address `addr`:
 * the key hash (nodeIdOf) with its first 21 bits taken from the IP as BEP 42 does, r being the
 * hash's own last 3 bits; the key hash itself for an exempt IP (or an unparsable address).
 * Callers must not mutate it.
 */
export function nodeIdAt (dhtPublicKey: Uint8Array, addr: string): NodeId {
  const base = nodeIdOf(dhtPublicKey)
  const p = addressFacts(addr)
  if (p === null || p.scope !== 'public') return base // placementExempt
  const memoKey = Buffer.from(base.buffer, base.byteOffset, ID_BYTES).toString('latin1') + p.host
  let id = placedMemo.get(memoKey)
  if (id === undefined) {
    if (placedMemo.size >= internLimit()) placedMemo.clear()
    id = base.slice()
    place(id, p.ip)
    placedMemo.set(memoKey, id)
  }
  return id
}

/**
 * BEP 42's check of a contact a third party names: its id is valid for its address (any id for an
 * exempt IP). A contact that fails cannot be the node it claims to be at that address.
 */
export function idValidFor (id: NodeId, addr: string): boolean {
  const p = addressFacts(addr)
  if (p === null) return false
  if (p.scope !== 'public') return true // placementExempt
  const crc = placementCrc(p.ip, id[ID_BYTES - 1]! & 7)
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8)
}

export function isId (v: unknown): v is NodeId {
  return v instanceof Uint8Array && v.length === ID_BYTES
}

export function idEquals (a: NodeId, b: NodeId): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[i]) return false
  return true
}

/** a XOR b, the Kademlia distance as bytes (big-endian: byte 0 is the most significant). */
export function xorDistance (a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES)
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** < 0 when `a` is closer to `target` than `b`, > 0 when farther, 0 when a = b. No allocation. */
export function compareDistance (a: NodeId, b: NodeId, target: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const t = target[i]!
    const d = (a[i]! ^ t) - (b[i]! ^ t)
    if (d !== 0) return d
  }
  return 0
}

/** Leading bits a and b share (ID_BITS when equal): the index of b's bucket in a's table. */
export function commonPrefixLength (a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return ID_BITS
}

/**
 * A random id that shares exactly `cpl` leading bits with `self` (bit `cpl` differs): a target
 * inside bucket `cpl`, for a bucket refresh (Kademlia §2.3).
 */
export function randomIdInBucket (self: NodeId, cpl: number, random: (n: number) => Uint8Array): NodeId {
  if (!Number.isInteger(cpl) || cpl < 0 || cpl >= ID_BITS) throw errors.BAD_ARGUMENT(`bucket index out of range: ${cpl}`)
  const id = random(ID_BYTES).slice(0, ID_BYTES)
  const byte = cpl >> 3
  const bit = 0x80 >> (cpl & 7)
  for (let i = 0; i < byte; i++) id[i] = self[i]!
  const keepMask = (0xff00 >> (cpl & 7)) & 0xff // the bits of this byte above `bit`
  id[byte] = (self[byte]! & keepMask) | (~self[byte]! & bit) | (id[byte]! & (bit - 1))
  return id
}

export function idToHex (id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
}

export function idFromHex (hex: string): NodeId | null {
  if (!/^[0-9a-f]{64}$/.test(hex)) return null
  return new Uint8Array(Buffer.from(hex, 'hex'))
}
