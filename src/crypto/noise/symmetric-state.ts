// Noise §5.2 SymmetricState: chaining key ck, handshake hash h, and a CipherState.
// Noise §4.3 HKDF is RFC 5869 with salt = ck and empty info, over the suite's HMAC-HASH
// (BLAKE2b included, which node's hkdf cannot do), so we build it from HMAC directly.
import { wipe, utf8, KEY_BYTES } from '../primitives.js'
import { CipherState } from './cipher-state.js'
import type { CipherSuite, HashFunctions } from './suites.js'

const EMPTY = new Uint8Array(0)
const BYTE = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])] as const

/** Noise §4.3 HKDF(chaining_key, input_key_material, num_outputs), num_outputs 2 or 3. */
export function hkdf (hash: HashFunctions, ck: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const tempKey = hash.hmac(ck, ikm)
  const out1 = hash.hmac(tempKey, BYTE[0])
  const out2 = hash.hmac(tempKey, out1, BYTE[1])
  const result = [out1, out2]
  if (outputs === 3) result.push(hash.hmac(tempKey, out2, BYTE[2]))
  wipe(tempKey)
  return result
}

/** Cipher keys are 32 bytes; §5.2 truncates a 64-byte HKDF output. Wipes the source. */
function cipherKey (out: Uint8Array): Uint8Array {
  const k = out.slice(0, KEY_BYTES)
  wipe(out)
  return k
}

export class SymmetricState {
  readonly #suite: CipherSuite
  readonly #cs: CipherState
  #ck: Uint8Array
  #h: Uint8Array

  /** §5.2 InitializeSymmetric(protocol_name). */
  constructor (suite: CipherSuite, protocolName: string) {
    this.#suite = suite
    const name = utf8.encode(protocolName)
    const { hashLen } = suite.hash
    if (name.length <= hashLen) {
      this.#h = new Uint8Array(hashLen)
      this.#h.set(name)
    } else {
      this.#h = suite.hash.hash(name)
    }
    this.#ck = this.#h.slice()
    this.#cs = new CipherState(suite.cipher)
  }

  /** §5.2 MixKey(input_key_material); wipes the input (a DH output). */
  mixKey (ikm: Uint8Array): void {
    const [ck, tempK] = hkdf(this.#suite.hash, this.#ck, ikm, 2) as [Uint8Array, Uint8Array]
    wipe(this.#ck, ikm)
    this.#ck = ck
    this.#cs.initializeKey(cipherKey(tempK))
  }

  /** §5.2 MixHash(data): h = HASH(h || data). */
  mixHash (data: Uint8Array): void {
    this.#h = this.#suite.hash.hash(this.#h, data)
  }

  hasKey (): boolean {
    return this.#cs.hasKey()
  }

  /** §5.2 EncryptAndHash(): the ciphertext is bound to the transcript so far (ad = h). */
  encryptAndHash (plaintext: Uint8Array): Uint8Array {
    const ct = this.#cs.encryptWithAd(this.#h, plaintext)
    this.mixHash(ct)
    return ct
  }

  /** §5.2 DecryptAndHash(); throws NOISE_DECRYPT when authentication fails. */
  decryptAndHash (ciphertext: Uint8Array): Uint8Array {
    const pt = this.#cs.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return pt
  }

  /** §5.2 Split(): two CipherStates, the first for initiator→responder. Wipes ck and k. */
  split (): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#suite.hash, this.#ck, EMPTY, 2) as [Uint8Array, Uint8Array]
    const c1 = new CipherState(this.#suite.cipher, cipherKey(k1))
    const c2 = new CipherState(this.#suite.cipher, cipherKey(k2))
    this.wipe()
    return [c1, c2]
  }

  /** §5.2 GetHandshakeHash() (a copy). */
  getHandshakeHash (): Uint8Array {
    return this.#h.slice()
  }

  /** Forget ck and the handshake key (h is kept: it is the public channel-binding value). */
  wipe (): void {
    wipe(this.#ck)
    this.#cs.wipe()
  }
}
