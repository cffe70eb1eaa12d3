// At-rest encryption of record fields (proto-spec/storage.md §Encryption): XChaCha20-Poly1305
// under a subkey HKDF'd from the store key, a random 24-byte nonce per record (XChaCha's nonce
// is long enough that random nonces do not collide), and AAD naming the record.
import { hkdfSha256, randomBytes, utf8, wipe, xchacha, KEY_BYTES, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { errors } from '../errors.js'
import { aad } from './codec.js'

// Purpose labels for HKDF (RFC 5869 §3.2: `info` binds the output to its use).
const HKDF_SALT = utf8.encode('dmess/store')
const HKDF_INFO = utf8.encode('dmess/store/record-key')
const KEY_CHECK_LABEL = 'dmess/store/key-check'
const KEY_CHECK_PLAINTEXT = utf8.encode('dmess store key check')
const LENIENT_UTF8 = new TextDecoder('utf-8', { fatal: false })
/** Nonces are cut from a pool refilled this many at a time: one RNG call per 256 records. */
const NONCE_POOL_COUNT = 256

export class RecordCipher {
  private key: Uint8Array
  private pool: Uint8Array = new Uint8Array(0)
  private poolAt = 0

  constructor (storeKey: Uint8Array) {
    if (!(storeKey instanceof Uint8Array) || storeKey.length !== KEY_BYTES) {
      throw errors.BAD_ARGUMENT(`store key: expected ${KEY_BYTES} bytes, got ${storeKey?.length ?? typeof storeKey}`)
    }
    this.key = hkdfSha256(storeKey, HKDF_SALT, HKDF_INFO, KEY_BYTES)
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
    const nonce = this.nonce()
    const ct = xchacha.seal(this.key, nonce, plaintext, ad)
    const out = new Uint8Array(XCHACHA_NONCE_BYTES + ct.length)
    out.set(nonce, 0)
    out.set(ct, XCHACHA_NONCE_BYTES)
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

  /**
   * The text of a sealed field WITHOUT checking its tag (replacement characters where bytes are
   * not UTF-8): only to decide whether a record is worth opening (search prefilter, §Search).
   */
  peekText (sealed: Uint8Array): string {
    if (sealed.length < XCHACHA_NONCE_BYTES) return ''
    const pt = xchacha.peekUnauthenticated(this.key, sealed.subarray(0, XCHACHA_NONCE_BYTES), sealed.subarray(XCHACHA_NONCE_BYTES))
    return pt === null ? '' : LENIENT_UTF8.decode(pt)
  }

  /** The meta keyCheck value: proves at open time that this key is the one the DB was written with. */
  makeKeyCheck (): Uint8Array {
    return this.seal(KEY_CHECK_PLAINTEXT, aad(KEY_CHECK_LABEL))
  }

  verifyKeyCheck (sealed: Uint8Array): boolean {
    return this.open(sealed, aad(KEY_CHECK_LABEL)) !== null
  }

  wipe (): void {
    wipe(this.key, this.pool)
  }
}
