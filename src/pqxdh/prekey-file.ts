// The prekey file (proto-spec/pqxdh.md §5.2): our prekey ring, sealed with XChaCha20-Poly1305
// under a key derived from the store key (which only the passphrase-protected keystore holds),
// padded to a size class, and replaced atomically through the node's Storage (io/storage.ts: on
// disk, write-fsync-rename with mode 0600; in memory for simulated nodes). A whole-file
// rewrite, not a LevelDB record, so that a deleted prekey is gone from the file at once rather
// than left in a log until compaction. Loading refuses anything that does not open or parse.
import { DmessError, errors } from '../errors.js'
import { diskStorage, type Storage } from '../io/storage.js'
import { xchacha, hkdfSha256, randomBytes, wipe, utf8, AEAD_TAG_BYTES, XCHACHA_NONCE_BYTES, KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/primitives.js'
import { X25519_KEY_BYTES, MLKEM768_SEED_BYTES, MAX_SEEN_PER_PREKEY, MAX_PREKEY_SETS } from './constants.js'
import { prekeySetFrom, type PrekeyRing, type PrekeySet } from './prekeys.js'

export const PREKEY_FILE_MODE = 0o600
/** The file's name in a node's home (pqxdh.md §5.2). */
export const PREKEY_FILE_NAME = 'prekeys'
const MAGIC = utf8.encode('DMPK')
const FILE_VERSION = 1
const HEADER_BYTES = MAGIC.length + 1 + XCHACHA_NONCE_BYTES
const RING_VERSION = 1
/** smallest padded plaintext; larger rings round up to a power of two (§5.2) */
const MIN_PADDED_BYTES = 4096
const SET_FIXED_BYTES = 4 + 4 + 4 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES + 2 * ED25519_SIGNATURE_BYTES + 2
const MAX_RING_BYTES = 1 + 4 + 1 + MAX_PREKEY_SETS * (SET_FIXED_BYTES + MAX_SEEN_PER_PREKEY * 32)
const MAX_FILE_BYTES = HEADER_BYTES + 2 ** Math.ceil(Math.log2(MAX_RING_BYTES)) + AEAD_TAG_BYTES
const KEY_SALT = utf8.encode('dmess-prekey-file-v1\0')
const KEY_INFO = utf8.encode('dmess-prekey-file-key-v1\0')

/** The file's sealing key, from the 32-byte store key of the keystore (keystore.md §1). */
export function prekeyFileKey (storeKey: Uint8Array): Uint8Array {
  if (storeKey.length !== KEY_BYTES) throw errors.BAD_ARGUMENT(`store key: expected ${KEY_BYTES} bytes, got ${storeKey.length}`)
  return hkdfSha256(storeKey, KEY_SALT, KEY_INFO, KEY_BYTES)
}

// ---- the ring as bytes (§5.2) ----

function encodeSet (s: PrekeySet, out: Uint8Array, at: number): number {
  const dv = new DataView(out.buffer, out.byteOffset)
  dv.setUint32(at, s.id); dv.setUint32(at + 4, s.createdS); dv.setUint32(at + 8, s.retiredS)
  at += 12
  for (const part of [s.spk.secretKey, s.kemSeed, s.spkSignature, s.pqspkSignature]) { out.set(part, at); at += part.length }
  dv.setUint16(at, s.seen.size)
  at += 2
  for (const hex of s.seen) { out.set(Buffer.from(hex, 'hex'), at); at += 32 }
  return at
}

/** version ‖ nextId ‖ count ‖ sets, then zero padding to the size class. */
export function encodeRing (ring: PrekeyRing): Uint8Array {
  if (ring.sets.length > MAX_PREKEY_SETS) throw errors.BAD_ARGUMENT(`prekey ring: at most ${MAX_PREKEY_SETS} pairs`)
  const used = 6 + ring.sets.reduce((n, s) => n + SET_FIXED_BYTES + s.seen.size * 32, 0)
  const out = new Uint8Array(Math.max(MIN_PADDED_BYTES, 2 ** Math.ceil(Math.log2(used))))
  out[0] = RING_VERSION
  new DataView(out.buffer).setUint32(1, ring.nextId)
  out[5] = ring.sets.length
  let at = 6
  for (const s of ring.sets) at = encodeSet(s, out, at)
  return out
}

function decodeSet (b: Uint8Array, at: number): { set: PrekeySet, at: number } | null {
  if (at + SET_FIXED_BYTES > b.length) return null
  const dv = new DataView(b.buffer, b.byteOffset)
  const id = dv.getUint32(at)
  const createdS = dv.getUint32(at + 4)
  const retiredS = dv.getUint32(at + 8)
  let p = at + 12
  const take = (n: number): Uint8Array => { const v = b.slice(p, p + n); p += n; return v }
  const spkSecret = take(X25519_KEY_BYTES)
  const kemSeed = take(MLKEM768_SEED_BYTES)
  const spkSignature = take(ED25519_SIGNATURE_BYTES)
  const pqspkSignature = take(ED25519_SIGNATURE_BYTES)
  const count = dv.getUint16(p)
  p += 2
  if (count > MAX_SEEN_PER_PREKEY || p + count * 32 > b.length) return null
  const seen: string[] = []
  for (let i = 0; i < count; i++) seen.push(Buffer.from(take(32)).toString('hex'))
  return { set: prekeySetFrom({ id, createdS, retiredS, spkSecret, kemSeed, spkSignature, pqspkSignature, seen }), at: p }
}

/** The ring, or null when the bytes are not one this version wrote. */
export function decodeRing (b: Uint8Array): PrekeyRing | null {
  if (b.length < 6 || b[0] !== RING_VERSION || (b[5] ?? 0) > MAX_PREKEY_SETS) return null
  const nextId = new DataView(b.buffer, b.byteOffset).getUint32(1)
  const sets: PrekeySet[] = []
  let at = 6
  for (let i = 0; i < (b[5] ?? 0); i++) {
    const r = decodeSet(b, at)
    if (r === null) return null
    sets.push(r.set)
    at = r.at
  }
  if (b.subarray(at).some(x => x !== 0)) return null // the padding is zeros
  if (new Set(sets.map(s => s.id)).size !== sets.length) return null
  if (sets.slice(0, -1).some(s => s.retiredS === 0)) return null // only the last may be current
  return { nextId, sets }
}

// ---- sealing ----

/** MAGIC ‖ version ‖ nonce ‖ XChaCha20-Poly1305(key, nonce, ring, AAD = the 29 bytes before). */
export function sealRing (ring: PrekeyRing, key: Uint8Array, nonce: Uint8Array = randomBytes(XCHACHA_NONCE_BYTES)): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES)
  header.set(MAGIC, 0)
  header[MAGIC.length] = FILE_VERSION
  header.set(nonce, MAGIC.length + 1)
  const plain = encodeRing(ring)
  try {
    const sealed = xchacha.seal(key, nonce, plain, header)
    const out = new Uint8Array(HEADER_BYTES + sealed.length)
    out.set(header, 0)
    out.set(sealed, HEADER_BYTES)
    return out
  } finally {
    wipe(plain)
  }
}

/** The ring in a prekey file; throws PREKEYS_CORRUPT for anything that does not open or parse. */
export function openRing (file: Uint8Array, key: Uint8Array): PrekeyRing {
  if (file.length < HEADER_BYTES + AEAD_TAG_BYTES || !MAGIC.every((c, i) => file[i] === c)) {
    throw errors.PREKEYS_CORRUPT('prekey file: not a dmess prekey file')
  }
  if (file[MAGIC.length] !== FILE_VERSION) throw errors.PREKEYS_CORRUPT(`prekey file: version ${file[MAGIC.length] ?? '?'} is not supported`)
  const nonce = file.subarray(MAGIC.length + 1, HEADER_BYTES)
  const plain = xchacha.open(key, nonce, file.subarray(HEADER_BYTES), file.subarray(0, HEADER_BYTES))
  if (plain === null) throw errors.PREKEYS_CORRUPT('prekey file: does not open under this store key (damaged, or from another identity)')
  try {
    const ring = decodeRing(plain)
    if (ring === null) throw errors.PREKEYS_CORRUPT('prekey file: opens but does not parse')
    return ring
  } finally {
    wipe(plain)
  }
}

/** The ring stored at `path`, or null when there is no file yet. */
export async function loadPrekeyRing (path: string, key: Uint8Array, storage: Storage = diskStorage): Promise<PrekeyRing | null> {
  let file: Uint8Array | null
  try {
    file = await storage.readFile(path)
  } catch (err) {
    throw errors.PREKEYS_CORRUPT(`prekey file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  if (file === null) return null
  if (file.length > MAX_FILE_BYTES) throw errors.PREKEYS_CORRUPT(`prekey file ${path}: ${file.length} bytes, more than any prekey file`)
  try {
    return openRing(file, key)
  } catch (err) {
    if (err instanceof DmessError) throw new DmessError(err.code, `${err.message} (${path})`, err.exitCode)
    throw err
  }
}

/** Replaces the file at `path` with `ring`, atomically (the old ring or the new, never a mix), mode 0600. */
export async function savePrekeyRing (path: string, key: Uint8Array, ring: PrekeyRing, storage: Storage = diskStorage): Promise<void> {
  await storage.writeFileAtomic(path, sealRing(ring, key))
}
