// At-rest encryption of records (proto-spec/storage.md §Encryption): XChaCha20-Poly1305
// under a subkey HKDF'd from the store key, a random 24-byte nonce per record (XChaCha's nonce
// is long enough that random nonces do not collide), and AAD naming the record. Keys that must
// be found again by fingerprint or id are keyed hashes (HMAC-SHA-256, RFC 2104) under a second
// subkey, so no fingerprint or id is stored in clear (§Keys).
import { AEAD_TAG_BYTES, hkdfSha256, hmac, randomBytes, utf8, wipe, xchacha, KEY_BYTES, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { errors } from '../errors.js'
import { aad } from './codec.js'
import { padInto, sizeClass, unpad } from './padding.js'
import { pooledBytes } from '../platform/bytes.js'

// Purpose labels for HKDF (RFC 5869 §3.2: `info` binds the output to its use).
const HKDF_SALT = utf8.encode('dmess/store')
const HKDF_INFO = utf8.encode('dmess/store/record-key')
const HKDF_INFO_INDEX = utf8.encode('dmess/store/index-key')
/** Bytes of HMAC-SHA-256 kept in a key tag: 128 bits, so tags of distinct inputs do not collide. */
export const TAG_BYTES = 16
const KEY_CHECK_LABEL = 'dmess/store/key-check'
const KEY_CHECK_PLAINTEXT = utf8.encode('dmess store key check')
/** Nonces are cut from a pool refilled this many at a time: one RNG call per 256 records. */
const NONCE_POOL_COUNT = 256
/**
 * Records sealed under one random 16-byte nonce prefix (and so one HChaCha20 subkey, derived once
 * for all of them): each nonce is prefix ‖ its index in the group (1 byte) ‖ 7 random bytes,
 * distinct within the group by its index and across groups by the prefix (§Encryption).
 */
const NONCE_GROUP = 256
const NONCE_PREFIX_BYTES = 16

export class RecordCipher {
  private key: Uint8Array
  private indexKey: Uint8Array
  private pool: Uint8Array = new Uint8Array(0)
  private poolAt = 0
  /** the current nonce group's prefix and subkey, and how many of its nonces are used */
  private prefix: Uint8Array = new Uint8Array(NONCE_PREFIX_BYTES)
  private subkey: Uint8Array = new Uint8Array(KEY_BYTES)
  private grouped = NONCE_GROUP

  constructor (storeKey: Uint8Array) {
    if (!(storeKey instanceof Uint8Array) || storeKey.length !== KEY_BYTES) {
      throw errors.BAD_ARGUMENT(`store key: expected ${KEY_BYTES} bytes, got ${storeKey?.length ?? typeof storeKey}`)
    }
    this.key = hkdfSha256(storeKey, HKDF_SALT, HKDF_INFO, KEY_BYTES)
    this.indexKey = hkdfSha256(storeKey, HKDF_SALT, HKDF_INFO_INDEX, KEY_BYTES)
  }

  /**
   * Key tag: lower-case hex of the first TAG_BYTES of HMAC-SHA-256(index key, MessagePack
   * [label, ...parts]) (§Keys). Deterministic, so a record is found again by what it is about,
   * and meaningless without the key. The label keeps tags of different kinds unlinkable.
   */
  tag (label: string, ...parts: Array<string | number>): string {
    const h = hmac('sha256', this.indexKey, aad(label, ...parts))
    return Buffer.from(h.buffer, h.byteOffset, TAG_BYTES).toString('hex') // a view of the digest: no copy
  }

  /**
   * A whole record value: nonce ‖ XChaCha20-Poly1305(pad(content)) (§Encryption, §Padding),
   * padded and sealed in place in the one array it returns.
   */
  sealValue (content: Uint8Array, floor: number, ad: Uint8Array): Uint8Array {
    const n = sizeClass(content.length, floor)
    // from the pool (src/platform/bytes.ts): every byte is written below (nonce, padded content, tag)
    const out = pooledBytes(XCHACHA_NONCE_BYTES + n + AEAD_TAG_BYTES)
    if (this.grouped === NONCE_GROUP) {
      wipe(this.subkey)
      this.prefix = this.nonce().slice(0, NONCE_PREFIX_BYTES)
      this.subkey = xchacha.subkey(this.key, this.prefix)
      this.grouped = 0
    }
    out.set(this.nonce(), 0) // its last 7 bytes stay
    out.set(this.prefix, 0)
    out[NONCE_PREFIX_BYTES] = this.grouped++
    const padded = out.subarray(XCHACHA_NONCE_BYTES, XCHACHA_NONCE_BYTES + n)
    padInto(content, padded)
    xchacha.sealIntoSubkey(this.subkey, out.subarray(NONCE_PREFIX_BYTES, XCHACHA_NONCE_BYTES), padded, ad, out.subarray(XCHACHA_NONCE_BYTES))
    return out
  }

  /** The content of a sealed value; null when it does not authenticate or its padding is bad. */
  openValue (sealed: Uint8Array, ad: Uint8Array): Uint8Array | null {
    const padded = this.open(sealed, ad)
    return padded === null ? null : unpad(padded)
  }

  /** The content of a sealed value WITHOUT checking its tag: only to pick records worth opening (§Search). */
  peekValue (sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < XCHACHA_NONCE_BYTES) return null
    const pt = xchacha.peekUnauthenticated(this.key, sealed.subarray(0, XCHACHA_NONCE_BYTES), sealed.subarray(XCHACHA_NONCE_BYTES))
    return pt === null ? null : unpad(pt)
  }

  private nonce (): Uint8Array {
    if (this.poolAt + XCHACHA_NONCE_BYTES > this.pool.length) {
      this.pool = randomBytes(XCHACHA_NONCE_BYTES * NONCE_POOL_COUNT)
      this.poolAt = 0
    }
    const n = this.pool.subarray(this.poolAt, this.poolAt + XCHACHA_NONCE_BYTES)
    this.poolAt += XCHACHA_NONCE_BYTES
    return n
  }

  /** nonce ‖ ciphertext ‖ tag */
  seal (plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
    const out = new Uint8Array(XCHACHA_NONCE_BYTES + plaintext.length + AEAD_TAG_BYTES)
    const nonce = out.subarray(0, XCHACHA_NONCE_BYTES)
    nonce.set(this.nonce())
    xchacha.sealInto(this.key, nonce, plaintext, ad, out.subarray(XCHACHA_NONCE_BYTES))
    return out
  }

  /** null when the field does not authenticate (wrong key, tampered, or moved to another record). */
  open (sealed: Uint8Array, ad: Uint8Array): Uint8Array | null {
    if (sealed.length < XCHACHA_NONCE_BYTES) return null
    return xchacha.open(this.key, sealed.subarray(0, XCHACHA_NONCE_BYTES), sealed.subarray(XCHACHA_NONCE_BYTES), ad)
  }

  sealText (text: string, ad: Uint8Array): Uint8Array {
    return this.seal(utf8.encode(text), ad)
  }

  /** Throws STORE_CORRUPT naming `what` if the field does not authenticate. */
  openText (sealed: unknown, ad: Uint8Array, what: string): string {
    const pt = sealed instanceof Uint8Array ? this.open(sealed, ad) : null
    if (pt === null) throw errors.STORE_CORRUPT(`${what}: encrypted field does not authenticate`)
    try {
      return utf8.decode(pt)
    } catch {
      throw errors.STORE_CORRUPT(`${what}: encrypted field is not UTF-8`)
    }
  }

  /** The meta keyCheck value: proves at open time that this key is the one the DB was written with. */
  makeKeyCheck (): Uint8Array {
    return this.seal(KEY_CHECK_PLAINTEXT, aad(KEY_CHECK_LABEL))
  }

  verifyKeyCheck (sealed: Uint8Array): boolean {
    return this.open(sealed, aad(KEY_CHECK_LABEL)) !== null
  }

  wipe (): void {
    wipe(this.key, this.indexKey, this.pool, this.subkey)
  }
}
