// Node ids and keys: 256-bit strings compared by XOR distance (Kademlia §2.1). A node id is the
// hash of a per-node DHT public key, never of the user's identity (dht.md §1).
import { sha256 } from '../crypto/primitives.js'
import { ID_BITS, NODE_ID_DOMAIN, DHT_PUBLIC_KEY_BYTES } from './constants.js'

// A module-local copy: hot loops below read it millions of times in a simulation, and some
// loaders (tsx) turn imported bindings into getter calls.
const ID_BYTES = 32
import { errors } from '../errors.js'
import { internLimit } from './intern.js'

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
