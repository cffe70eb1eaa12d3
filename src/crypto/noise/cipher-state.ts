// Noise §5.1 CipherState: a key k (or none) and a 64-bit nonce counter n.
// After Split() (§5.2) each direction of a session owns one CipherState.
import { wipe } from '../primitives.js'
import { errors } from '../../errors.js'
import { MAX_MESSAGE_BYTES, MAX_NONCE, TAG_BYTES, type CipherFunctions } from './suites.js'

export class CipherState {
  readonly #cipher: CipherFunctions
  #k: Uint8Array | null = null
  #n = 0n

  constructor (cipher: CipherFunctions, k?: Uint8Array) {
    this.#cipher = cipher
    if (k !== undefined) this.initializeKey(k)
  }

  /** §5.1 InitializeKey(key): takes ownership of `key` (it is wiped on the next change). */
  initializeKey (key: Uint8Array | null): void {
    if (this.#k !== null) wipe(this.#k)
    this.#k = key
    this.#n = 0n
  }

  hasKey (): boolean {
    return this.#k !== null
  }

  /** Next nonce to be used. */
  get nonce (): bigint {
    return this.#n
  }

  /** §5.1 SetNonce(): for transports that carry an explicit nonce (§11.4 out-of-order). */
  setNonce (n: bigint): void {
    if (n < 0n || n > MAX_NONCE) throw errors.NOISE_STATE(`nonce must be in [0, 2^64-1], got ${n}`)
    this.#n = n
  }

  /** §5.1 EncryptWithAd(); without a key the plaintext is returned as is (and n is untouched). */
  encryptWithAd (ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkSize(plaintext.length + (this.#k === null ? 0 : TAG_BYTES))
    if (this.#k === null) return plaintext.slice()
    this.#checkNonce()
    const ct = this.#cipher.encrypt(this.#k, this.#n, ad, plaintext)
    this.#n++
    return ct
  }

  /**
   * EncryptWithAd() writing ciphertext ‖ tag into `out` (exactly plaintext.length + 16 bytes)
   * — for a transport that frames it (wire.md §4.6). Needs a key: without one EncryptWithAd
   * returns the plaintext itself, which has no place in a sealed packet.
   */
  encryptWithAdInto (ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
    checkSize(plaintext.length + TAG_BYTES)
    if (this.#k === null) throw errors.NOISE_STATE('encryptWithAdInto: this CipherState has no key')
    this.#checkNonce()
    this.#cipher.encryptInto(this.#k, this.#n, ad, plaintext, out)
    this.#n++
  }

  /**
   * §5.1 DecryptWithAd(). Throws NOISE_DECRYPT on authentication failure (n is then NOT
   * incremented, §5.1), NOISE_BAD_MESSAGE above 65535 bytes, NOISE_NONCE_EXHAUSTED at 2^64-1.
   */
  decryptWithAd (ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const pt = this.tryDecryptWithAd(ad, ciphertext)
    if (pt !== null) return pt
    if (ciphertext.length > MAX_MESSAGE_BYTES) {
      throw errors.NOISE_BAD_MESSAGE(`ciphertext of ${ciphertext.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
    }
    throw errors.NOISE_DECRYPT(`authentication failed at nonce ${this.#n}`)
  }

  /** Like decryptWithAd, but returns null for bad input (network data is dropped, never thrown on: proto-spec/wire.md §5). */
  tryDecryptWithAd (ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (ciphertext.length > MAX_MESSAGE_BYTES) return null
    if (this.#k === null) return ciphertext.slice()
    this.#checkNonce()
    const pt = this.#cipher.decrypt(this.#k, this.#n, ad, ciphertext)
    if (pt === null) return null
    this.#n++
    return pt
  }

  /** §11.3 Rekey(): k = REKEY(k); n is left as is. */
  rekey (): void {
    if (this.#k === null) throw errors.NOISE_STATE('rekey: this CipherState has no key')
    const next = this.#cipher.rekey(this.#k)
    wipe(this.#k)
    this.#k = next
  }

  /** Forget the key (best effort: wipes our copy). The state then has no key. */
  wipe (): void {
    this.initializeKey(null)
  }

  #checkNonce (): void {
    // §5.1: once n reaches 2^64-1 further EncryptWithAd()/DecryptWithAd() calls are errors
    if (this.#n >= MAX_NONCE) throw errors.NOISE_NONCE_EXHAUSTED('nonce space exhausted: start a new handshake')
  }
}

function checkSize (bytes: number): void {
  if (bytes > MAX_MESSAGE_BYTES) {
    throw errors.NOISE_TOO_LARGE(`message of ${bytes} bytes exceeds the Noise limit of ${MAX_MESSAGE_BYTES} (§3)`)
  }
}
