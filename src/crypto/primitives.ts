// Thin wrappers over the primitives we use. node:crypto wherever Node 20 has the primitive (13–36×
// faster than the pure-JS @noble equivalents, measured on this machine), except ChaCha20-Poly1305, which calls the
// same OpenSSL through a small addon when it is built (native-aead.ts); what Node lacks: XChaCha20-Poly1305
// (HChaCha20 in hchacha.ts + node's ChaCha20-Poly1305), Argon2id (@noble/hashes, loaded on
// first use), Ed25519 point validation (ed25519-point.ts). All keys are raw bytes at this boundary.
// Policy for edge cases (tested against Wycheproof in test/crypto/wycheproof.test.ts) is written
// down in proto-spec/crypto-policy.md.
import {
  createPrivateKey, createPublicKey, diffieHellman, sign as nodeSign, verify as nodeVerify,
  createCipheriv, createDecipheriv, createHash, createHmac, hash as nodeHashOnce, randomBytes as nodeRandomBytes,
  timingSafeEqual, generateKeyPairSync, type KeyObject, type CipherGCM, type JsonWebKey
} from 'node:crypto'
import { errors } from '../errors.js'
import { BoundedCache } from '../runtime/bounded-cache.js'
import { isStrictEd25519PublicKey } from './ed25519-point.js'
import { hchacha20 } from './hchacha.js'
import { processNativeAddon, type NativeChaChaPoly } from './native-aead.js'

// DER prefixes for raw 32-byte keys (RFC 8410 §7 PKCS#8 and §4 SubjectPublicKeyInfo).
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex')

export const KEY_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64
export const AEAD_TAG_BYTES = 16
export const CHACHA_NONCE_BYTES = 12
export const XCHACHA_NONCE_BYTES = 24

export function randomBytes (n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n))
}

/** Bytes drawn from the OS at a time for publicRandomBytes: one RNG call per ~170 nonces. */
const PUBLIC_POOL_BYTES = 4096
let publicPool: Uint8Array = new Uint8Array(0)
let publicPoolAt = 0

/**
 * Random bytes for values that go out in the clear (nonces, message ids), cut from a pool that
 * is refilled PUBLIC_POOL_BYTES at a time: a message costs no RNG call of its own. Never for
 * keys or seeds (the pool holds bytes before they are used; randomBytes does not). A fresh copy.
 */
export function publicRandomBytes (n: number): Uint8Array {
  if (n > PUBLIC_POOL_BYTES) return randomBytes(n)
  if (publicPoolAt + n > publicPool.length) {
    publicPool = randomBytes(PUBLIC_POOL_BYTES)
    publicPoolAt = 0
  }
  const out = publicPool.slice(publicPoolAt, publicPoolAt + n)
  publicPoolAt += n
  return out
}

/** Overwrite secret material we no longer need (best effort: JS may have copied it). */
export function wipe (...bufs: Array<Uint8Array | X25519SecretHandle | undefined>): void {
  for (const b of bufs) {
    if (b === undefined) continue
    if (b instanceof X25519SecretHandle) {
      b.wipe()
      continue
    }
    privateKeyCache.delete(b)
    for (const forget of wipeListeners) forget(b)
    b.fill(0)
  }
}

// Caches above this layer that keep secrets derived from a key array (the DHT's period signing
// key, derived from the identity seed) register here, so wiping the key wipes what came from it.
const wipeListeners: Array<(key: Uint8Array) => void> = []

/** Calls `forget` with every array `wipe()` is given, before it is zeroed. */
export function onWipe (forget: (key: Uint8Array) => void): void {
  wipeListeners.push(forget)
}

/** Constant-time equality; different lengths are unequal (length is not secret). */
export function constantTimeEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  return timingSafeEqual(a, b)
}

function checkLen (what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw errors.CRYPTO(`${what}: expected ${n} bytes, got ${b.length}`)
}

// Importing a raw key into OpenSSL costs more than the operation itself (measured here: PKCS#8
// DER import ~800/s against ~8,000 X25519 DH/s). Private keys are few and reused (our static keys,
// a handshake's ephemeral), so their KeyObjects are cached per Uint8Array instance; `wipe()`
// drops the entry. Public keys come from the network and are imported as JWK (~35,000/s).
// Process-wide, as is the public-key cache below: a KeyObject is a pure function of the key's
// bytes, so nodes sharing a process share work and never state (a WeakMap entry is reachable only
// through the key array its owner holds).
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>()

/**
 * A copy of a raw private key that shares the KeyObject already imported for the original: a
 * prekey's secret is copied into every session a PQXDH response starts (src/pqxdh/pqxdh.ts, then
 * the ratchet state, src/ratchet/ratchet.ts initBob), and each copy was imported again at its first
 * DH. Each copy is wiped on its own (wipe() drops its entry); the KeyObject, immutable, lives as
 * long as any array maps to it.
 */
export function copySecretKey (secret: Uint8Array): Uint8Array {
  const copy = secret.slice()
  const key = privateKeyCache.get(secret)
  if (key !== undefined) privateKeyCache.set(copy, key)
  return copy
}

// Ed25519 public keys are always long-term (identities, signing keys: the protocol has no
// ephemeral Ed25519 key), and each is verified against again and again: every envelope from a
// contact, every handshake with a peer. So their KeyObjects are kept, the most recently used 256
// of them: ~25 µs of JWK import saved per verify. X25519 public keys are mostly ephemerals, each
// used in two DHs in a row and never again (a Noise handshake's es and ss with the peer's static
// key, ee and se with its ephemeral, noise.md; a ratchet step's two DHs with the peer's new ratchet
// key, src/ratchet/ratchet.ts): the last few are kept, so the second DH imports nothing.
const ED25519_PUBLIC_CACHE_SIZE = 256
const ed25519PublicCache = new BoundedCache<string, KeyObject>(ED25519_PUBLIC_CACHE_SIZE)

function ed25519PublicKeyObject (x: string): KeyObject {
  return ed25519PublicCache.getOrSet(x, () => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }))
}

const x25519RecentCache = new BoundedCache<string, KeyObject>(16)

// The peer of ephemeralDh is a long-term key too (HPKE to a contact's identity key: every envelope
// to that contact), so its KeyObjects are kept the same way, in a cache of their own.
const x25519LongTermCache = new BoundedCache<string, KeyObject>(ED25519_PUBLIC_CACHE_SIZE)

function x25519LongTermKeyObject (raw: Uint8Array): KeyObject {
  checkLen('x25519 public key', raw, KEY_BYTES)
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url')
  return x25519LongTermCache.getOrSet(x, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' }))
}

function rawKeyObject (prefix: Buffer, raw: Uint8Array, isPrivate: boolean): KeyObject {
  checkLen('key', raw, KEY_BYTES)
  if (!isPrivate) {
    const x = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url')
    if (prefix === ED25519_SPKI) return ed25519PublicKeyObject(x)
    return x25519RecentCache.getOrSet(x, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' }))
  }
  let key = privateKeyCache.get(raw)
  if (key === undefined) {
    key = importPrivate(prefix, raw)
    privateKeyCache.set(raw, key)
  }
  return key
}

// A raw private key is imported as a JWK (RFC 8037 §2), not as PKCS#8 DER: OpenSSL 3's DER
// decoders cost ~1.2 ms per import here, the JWK route ~0.15 ms (Node hands `d` straight to
// EVP_PKEY_new_raw_private_key). Every ratchet step imports a new secret (src/ratchet/ratchet.ts),
// as does every PQXDH start and prekey load. Node 20 requires the JWK's `x` to be a string but
// builds a private key from `d` alone (lib/internal/crypto/keys.js, getKeyObjectHandleFromJwk), so
// `x` is a placeholder: nothing reads it, and the public half is always derived from the imported
// key (publicOf). Should a later Node check `x` against `d`, the DER route takes over. A wrong
// `x` can never be used with `d` (an Ed25519 signature made with a public key not its own would
// leak the secret): OpenSSL's raw private-key constructor takes no public key and derives it.
const KEY_BASE64URL_CHARS = 43 // ceil(32 * 8 / 6), unpadded (RFC 8037 §2)
const JWK_X_PLACEHOLDER = 'A'.repeat(KEY_BASE64URL_CHARS)

function importPrivate (prefix: Buffer, raw: Uint8Array): KeyObject {
  const crv = prefix === ED25519_PKCS8 ? 'Ed25519' : 'X25519'
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv, d: Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url'), x: JWK_X_PLACEHOLDER }, format: 'jwk' })
  } catch {
    return createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' })
  }
}

// The raw public half of a private KeyObject: its public KeyObject's JWK `x` (~14 µs here, against
// ~360 µs for an SPKI DER export). Never called on a key generation job's own KeyObject (see
// `generated` below): those are not exported at all.
function publicOf (privateKey: KeyObject): Uint8Array {
  return rawFromJwk(createPublicKey(privateKey).export({ format: 'jwk' }).x)
}

// A fresh pair comes out of OpenSSL JWK-encoded by the key generation job itself (RFC 8037 §2:
// `x` is the raw public key, `d` the raw private key) and its KeyObject is imported from that JWK.
// The DER route cost ~340 µs per pair here (OpenSSL 3's encoders: 87 µs PKCS#8, 165 µs SPKI), the
// JWK route ~170 µs, and every HPKE seal and handshake makes a pair. Not `KeyObject.export({format:
// 'jwk'})` on the generated key: Node 20 allocates the JWK strings while holding the key's lock,
// and a GC in between that finalizes the generation job (which takes the same lock) deadlocks the
// process (seen here within a few thousand pairs). Encoding inside the job shares that lock with
// nothing, and the imported KeyObject is not tied to the job.
const JWK_PAIR = { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { format: 'jwk' } } as const
// Node supports these since v16.6; @types/node 20 has no overloads for them (rawFromJwk checks the result).
const generateJwkPair = generateKeyPairSync as unknown as
  (kind: 'x25519' | 'ed25519', options: typeof JWK_PAIR) => { publicKey: JsonWebKey, privateKey: JsonWebKey }

const JWK_PUBLIC = { publicKeyEncoding: { format: 'jwk' } } as const
const generateEphemeral = generateKeyPairSync as unknown as
  (kind: 'x25519', options: typeof JWK_PUBLIC) => { publicKey: JsonWebKey, privateKey: KeyObject }

function agree (privateKey: KeyObject, peerPublic: Uint8Array, longTerm = false): Uint8Array {
  checkLen('x25519 public key', peerPublic, KEY_BYTES)
  try {
    const publicKey = longTerm ? x25519LongTermKeyObject(peerPublic) : rawKeyObject(X25519_SPKI, peerPublic, false)
    return new Uint8Array(diffieHellman({ privateKey, publicKey }))
  } catch {
    throw errors.CRYPTO('x25519: peer public key is of low order (all-zero shared secret)')
  }
}

function generated (kind: 'x25519' | 'ed25519'): KeyPair {
  const { privateKey: jwk } = generateJwkPair(kind, JWK_PAIR)
  const secretKey = rawFromJwk(jwk.d)
  privateKeyCache.set(secretKey, createPrivateKey({ key: jwk, format: 'jwk' }))
  return { publicKey: rawFromJwk(jwk.x), secretKey }
}

// Decoded into a buffer of its own (Buffer.from(string) would put a secret in the shared 8 KiB
// pool, beyond the reach of wipe()). The JWK's own string is garbage until V8 collects it, as the
// DER buffer it replaces was.
function rawFromJwk (field: unknown): Uint8Array {
  const raw = new Uint8Array(KEY_BYTES)
  const n = typeof field === 'string' && field.length === KEY_BASE64URL_CHARS ? Buffer.from(raw.buffer).write(field, 'base64url') : 0
  if (n !== KEY_BYTES) throw errors.CRYPTO(`generated key: expected ${KEY_BYTES} bytes`)
  return raw
}

export interface KeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

/**
 * An X25519 secret that never leaves OpenSSL: the private KeyObject of a key generation job,
 * never exported (so the Node 20 JWK-export deadlock above cannot occur). For a handshake's
 * ephemeral, which only ever takes part in DHs: no secret bytes in JavaScript memory, and no
 * ~77 µs private-key import per handshake. Only x25519.dh accepts it; after wipe() it refuses.
 */
export class X25519SecretHandle {
  #key: KeyObject | null
  constructor (key: KeyObject) { this.#key = key }
  get wiped (): boolean { return this.#key === null }
  /** The key, for x25519.dh; throws CRYPTO once wiped. */
  keyObject (): KeyObject {
    if (this.#key === null) throw errors.CRYPTO('x25519: a wiped ephemeral secret was used')
    return this.#key
  }

  /** Drop the reference: OpenSSL frees (and cleanses) the key when V8 collects the KeyObject. */
  wipe (): void { this.#key = null }
}

/** A key pair whose secret may be an X25519SecretHandle (a Noise ephemeral). */
export interface DhKeyPair { publicKey: Uint8Array, secretKey: Uint8Array | X25519SecretHandle }

// ---- X25519 (RFC 7748) ----
export const x25519 = {
  generateKeyPair (): KeyPair {
    return generated('x25519')
  },
  publicFromSecret (secretKey: Uint8Array): Uint8Array {
    return publicOf(rawKeyObject(X25519_PKCS8, secretKey, true))
  },
  /**
   * Diffie-Hellman. Throws on a low-order peer key (all-zero shared secret, RFC 7748 §6.1):
   * OpenSSL refuses to derive it, and so do we. See proto-spec/crypto-policy.md.
   */
  dh (secretKey: Uint8Array | X25519SecretHandle, peerPublic: Uint8Array): Uint8Array {
    const privateKey = secretKey instanceof X25519SecretHandle ? secretKey.keyObject() : rawKeyObject(X25519_PKCS8, secretKey, true)
    return agree(privateKey, peerPublic)
  },
  /**
   * A key pair for DHs only (a handshake's ephemeral): the secret stays inside OpenSSL as an
   * X25519SecretHandle. Only the public half is JWK-encoded, inside the generation job.
   */
  generateEphemeral (): { publicKey: Uint8Array, secretKey: X25519SecretHandle } {
    const { publicKey, privateKey } = generateEphemeral('x25519', JWK_PUBLIC)
    return { publicKey: rawFromJwk(publicKey.x), secretKey: new X25519SecretHandle(privateKey) }
  },
  /**
   * A one-use key pair and its agreement with `peerPublic` (HPKE Encap, RFC 9180 §4.1): the
   * private half never leaves OpenSSL, so there is no secret in our memory to wipe and no ~77 µs
   * import. Only the public half is JWK-encoded, inside the generation job (see `generated`); the
   * private KeyObject is used for one DH and never exported. `peerPublic` is taken to be a
   * long-term key (a recipient's identity key): its KeyObject is kept. Throws like dh().
   */
  ephemeralDh (peerPublic: Uint8Array): { publicKey: Uint8Array, shared: Uint8Array } {
    const { publicKey, privateKey } = generateEphemeral('x25519', JWK_PUBLIC)
    return { publicKey: rawFromJwk(publicKey.x), shared: agree(privateKey, peerPublic, true) }
  },
  /**
   * Strict check for keys we bind to an identity (crypto-policy.md §1.2): canonical encoding
   * (top bit clear, u < p) and not of low order. dh() itself stays as lenient as RFC 7748 §5 asks.
   */
  isValidPublicKey (publicKey: Uint8Array): boolean {
    if (publicKey.length !== KEY_BYTES || !isCanonicalFieldElement(publicKey)) return false
    try {
      // Any clamped scalar is a multiple of the cofactor 8, so the product is the all-zero
      // point exactly when the peer point has low order; OpenSSL then refuses (dh() throws).
      x25519.dh(LOW_ORDER_PROBE_SCALAR, publicKey)
      return true
    } catch {
      return false
    }
  }
}

const LOW_ORDER_PROBE_SCALAR = new Uint8Array(KEY_BYTES).fill(0x42)

/** True when the little-endian 255-bit value with bit 255 clear is < p = 2^255 - 19. */
function isCanonicalFieldElement (le: Uint8Array): boolean {
  if ((le[31] ?? 0) > 0x7f) return false
  if (le[31] !== 0x7f) return true
  for (let i = 30; i >= 1; i--) if (le[i] !== 0xff) return true
  return (le[0] ?? 0) < 0xed
}

// ---- Ed25519 (RFC 8032) ----
export const ed25519 = {
  generateKeyPair (): KeyPair {
    return generated('ed25519')
  },
  /** secretKey is the 32-byte RFC 8032 seed. */
  publicFromSecret (secretKey: Uint8Array): Uint8Array {
    return publicOf(rawKeyObject(ED25519_PKCS8, secretKey, true))
  },
  sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, rawKeyObject(ED25519_PKCS8, secretKey, true)))
  },
  /** Returns false (never throws) for any malformed key or signature. */
  verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== KEY_BYTES) return false
    try {
      return nodeVerify(null, message, rawKeyObject(ED25519_SPKI, publicKey, false), signature)
    } catch {
      return false
    }
  },
  /**
   * Strict check for keys we bind to an identity (crypto-policy.md §2.2). OpenSSL's verify accepts
   * non-canonical (y >= p) and small-order public keys; with a small-order key a signature
   * (R = identity, S = 0) verifies for every message, so such keys must never name anyone.
   */
  isValidPublicKey (publicKey: Uint8Array): boolean {
    // RFC 8032 §5.1.3 decoding (y < p, no x = 0 with the sign bit set), then 8·P ≠ identity
    return publicKey.length === KEY_BYTES && isStrictEd25519PublicKey(publicKey)
  }
}

// ---- ChaCha20-Poly1305 (RFC 8439): native OpenSSL addon, or node:crypto ----
/**
 * One ChaCha20-Poly1305 implementation. Both write ciphertext ‖ tag into `out` (exactly
 * plaintext.length + 16 bytes, so a caller that frames the result needs no second copy), and
 * both are run against RFC 8439 and Wycheproof; their output is byte-identical.
 */
export interface ChaChaPolyImplementation {
  readonly name: 'openssl-addon' | 'node:crypto'
  sealInto: (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array) => void
  /** the plaintext, or null when authentication fails; inputs already size-checked */
  open: (key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array | undefined) => Uint8Array | null
}

const AEAD_OPTIONS = { authTagLength: AEAD_TAG_BYTES } as const // one object, not one per packet
// setAAD without options: Node reads `plaintextLength` only for CCM (crypto docs, cipher.setAAD);
// @types/node insists on it for chacha20-poly1305, so the call goes through the GCM signature.
// Passing it cost ~10 % of a ping-pong round trip's CPU (docs/performance.md §4).
type AadSetter = Pick<CipherGCM, 'setAAD'>

/** node:crypto: a new OpenSSL cipher context per call (~8-10 us of set-up each, docs/performance.md §2). */
export const nodeCryptoChaChaPoly: ChaChaPolyImplementation = {
  name: 'node:crypto',
  sealInto (key, nonce, plaintext, aad, out) {
    const c = createCipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS)
    if (aad) (c as AadSetter).setAAD(aad)
    const head = c.update(plaintext)
    const tail = c.final() // empty for a stream cipher; kept for form
    out.set(head, 0)
    if (tail.length > 0) out.set(tail, head.length)
    out.set(c.getAuthTag(), plaintext.length)
  },
  open (key, nonce, ciphertext, aad) {
    const ctLen = ciphertext.length - AEAD_TAG_BYTES
    const d = createDecipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS)
    d.setAuthTag(ciphertext.subarray(ctLen))
    if (aad) (d as unknown as AadSetter).setAAD(aad)
    try {
      const head = d.update(ciphertext.subarray(0, ctLen))
      const tail = d.final()
      return tail.length === 0 ? new Uint8Array(head.buffer, head.byteOffset, head.length) : new Uint8Array(Buffer.concat([head, tail]))
    } catch {
      return null
    }
  }
}

const NO_AAD = new Uint8Array(0)

/** The same OpenSSL through native/chacha20poly1305.c: one context per direction (~1 us per 1 KiB). */
export function nativeChaChaPoly (addon: NativeChaChaPoly): ChaChaPolyImplementation {
  return {
    name: 'openssl-addon',
    sealInto (key, nonce, plaintext, aad, out) { addon.seal(key, nonce, aad ?? NO_AAD, plaintext, out) },
    open (key, nonce, ciphertext, aad) {
      const out = new Uint8Array(ciphertext.length - AEAD_TAG_BYTES)
      return addon.open(key, nonce, aad ?? NO_AAD, ciphertext, out) ? out : null
    }
  }
}

const nativeLoad = processNativeAddon()
const chachaPolyInUse = nativeLoad.ok ? nativeChaChaPoly(nativeLoad.addon) : nodeCryptoChaChaPoly

/** Which ChaCha20-Poly1305 this process uses, and why not the native one (benchmarks, status). */
export function chachaPolyImplementation (): { name: ChaChaPolyImplementation['name'], fallbackReason?: string } {
  return nativeLoad.ok ? { name: chachaPolyInUse.name } : { name: chachaPolyInUse.name, fallbackReason: nativeLoad.reason }
}

/** ChaCha20-Poly1305 over `impl`, with every size checked (crypto-policy.md §3). */
export function chacha20poly1305With (impl: ChaChaPolyImplementation): {
  seal: (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) => Uint8Array
  sealInto: (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array) => void
  open: (key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array) => Uint8Array | null
} {
  const aead = {
    seal (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
      const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES)
      aead.sealInto(key, nonce, plaintext, aad, out)
      return out
    },
    /** `seal` writing ciphertext ‖ tag into `out` (exactly plaintext.length + 16 bytes). */
    sealInto (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array): void {
      checkLen('chacha20-poly1305 key', key, KEY_BYTES)
      checkLen('chacha20-poly1305 nonce', nonce, CHACHA_NONCE_BYTES)
      checkLen('chacha20-poly1305 output', out, plaintext.length + AEAD_TAG_BYTES)
      impl.sealInto(key, nonce, plaintext, aad, out)
    },
    /** Returns null when authentication fails. */
    open (key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array | null {
      checkLen('chacha20-poly1305 key', key, KEY_BYTES)
      checkLen('chacha20-poly1305 nonce', nonce, CHACHA_NONCE_BYTES)
      if (ciphertext.length < AEAD_TAG_BYTES) return null
      return impl.open(key, nonce, ciphertext, aad)
    }
  }
  return aead
}

export const chacha20poly1305 = chacha20poly1305With(chachaPolyInUse)

// ---- XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2.3): HChaCha20 subkey + node:crypto ----
/** The subkey and the 12-byte IETF nonce (4 zero bytes ‖ the nonce's last 8) of §2.3. */
function xchachaSubkey (key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array, ietfNonce: Uint8Array } {
  const ietfNonce = new Uint8Array(CHACHA_NONCE_BYTES)
  ietfNonce.set(nonce.subarray(16, XCHACHA_NONCE_BYTES), 4)
  return { subkey: hchacha20(key, nonce.subarray(0, 16)), ietfNonce }
}

export const xchacha = {
  seal (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES)
    xchacha.sealInto(key, nonce, plaintext, aad, out)
    return out
  },
  /**
   * `seal` writing ciphertext ‖ tag into `out` (exactly plaintext.length + 16 bytes), which may
   * start at the plaintext itself (in place): a caller that frames the result allocates once.
   */
  sealInto (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array): void {
    checkLen('xchacha20-poly1305 key', key, KEY_BYTES)
    checkLen('xchacha20-poly1305 nonce', nonce, XCHACHA_NONCE_BYTES)
    const { subkey, ietfNonce } = xchachaSubkey(key, nonce)
    try {
      chacha20poly1305.sealInto(subkey, ietfNonce, plaintext, aad, out)
    } finally {
      wipe(subkey)
    }
  },
  /**
   * The HChaCha20 subkey of every nonce that starts with `prefix` (its first 16 bytes, §2.3): a
   * caller sealing many values under nonces sharing a prefix derives it once and seals each with
   * sealIntoSubkey. The caller wipes it.
   */
  subkey (key: Uint8Array, prefix: Uint8Array): Uint8Array {
    checkLen('xchacha20-poly1305 key', key, KEY_BYTES)
    checkLen('xchacha20-poly1305 nonce prefix', prefix, 16)
    return hchacha20(key, prefix)
  },
  /**
   * sealInto with the nonce's subkey from `subkey` (derived from its first 16 bytes) and its last
   * 8 bytes, `tail`: the same output as sealInto(key, prefix ‖ tail, …).
   */
  sealIntoSubkey (subkey: Uint8Array, tail: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array): void {
    checkLen('xchacha20-poly1305 nonce tail', tail, XCHACHA_NONCE_BYTES - 16)
    const ietfNonce = new Uint8Array(CHACHA_NONCE_BYTES)
    ietfNonce.set(tail, 4)
    chacha20poly1305.sealInto(subkey, ietfNonce, plaintext, aad, out)
  },
  open (key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array | null {
    checkLen('xchacha20-poly1305 key', key, KEY_BYTES)
    checkLen('xchacha20-poly1305 nonce', nonce, XCHACHA_NONCE_BYTES)
    const { subkey, ietfNonce } = xchachaSubkey(key, nonce)
    try {
      return chacha20poly1305.open(subkey, ietfNonce, ciphertext, aad)
    } finally {
      wipe(subkey)
    }
  },
  /**
   * NOT AUTHENTICATED: XOR the ciphertext part of a `seal` output with its XChaCha20 keystream
   * (block counter 1, as the AEAD encrypts the payload, RFC 8439 §2.8), ignoring the tag. Gives
   * the plaintext only if the ciphertext is authentic. For cheap prefiltering alone (the store's
   * search, ~3× cheaper than `open` for short records): confirm anything you keep with `open`.
   */
  peekUnauthenticated (key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    checkLen('xchacha20 key', key, KEY_BYTES)
    checkLen('xchacha20 nonce', nonce, XCHACHA_NONCE_BYTES)
    if (ciphertext.length < AEAD_TAG_BYTES) return null
    const { subkey, ietfNonce } = xchachaSubkey(key, nonce)
    try {
      // OpenSSL's chacha20 IV is the 32-bit little-endian block counter followed by the nonce
      const iv = new Uint8Array(16)
      iv[0] = 1
      iv.set(ietfNonce, 4)
      const c = createCipheriv('chacha20', subkey, iv)
      return new Uint8Array(c.update(ciphertext.subarray(0, ciphertext.length - AEAD_TAG_BYTES)))
    } finally {
      wipe(subkey)
    }
  }
}

// ---- Hashes and KDFs ----
/** SHA-256 of one buffer in one call: no hash object to make (the Merkle tree's inner nodes, src/files/merkle.ts). */
export function sha256Once (data: Uint8Array): Uint8Array {
  return nodeHashOnce('sha256', data, 'buffer')
}

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export function sha512 (...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** BLAKE2b-512 (node:crypto's blake2b512; Noise's BLAKE2b has HASHLEN 64). */
export function blake2b (...parts: Uint8Array[]): Uint8Array {
  const h = createHash('blake2b512')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export type HmacHash = 'sha256' | 'sha512' | 'blake2b512'

/**
 * HMAC (RFC 2104) over a node:crypto hash. OpenSSL pads the key to the hash's block length
 * (64 for SHA-256, 128 for SHA-512 and BLAKE2b-512), which is what Noise §4.3 HMAC-HASH needs.
 * SHA-256 goes through hmacSha256 (the addon when it is built).
 */
export function hmac (hash: HmacHash, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  if (hash === 'sha256') return hmacSha256(key, parts.length === 1 ? parts[0]! : joined(parts))
  const h = createHmac(hash, key)
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

export const SHA256_BYTES = 32

const nativeHmacSha256 = nativeLoad.ok ? nativeLoad.addon.hmacSha256 : undefined

/**
 * HMAC-SHA-256 (RFC 2104) of one buffer: the addon's kept digest context (~0.5 µs for a short
 * input) when it is built, else createHmac (a context per call, ~5 µs; docs/performance.md §11).
 */
export function hmacSha256 (key: Uint8Array, data: Uint8Array): Uint8Array {
  if (nativeHmacSha256 === undefined) return new Uint8Array(createHmac('sha256', key).update(data).digest())
  const out = new Uint8Array(SHA256_BYTES)
  nativeHmacSha256(key, data, out)
  return out
}

function joined (parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  n = 0
  for (const p of parts) { out.set(p, n); n += p.length }
  return out
}

export const HKDF_SHA256_MAX_BYTES = 255 * 32

/**
 * HKDF-SHA256 (RFC 5869) as its two steps of HMAC-SHA-256: node's hkdfSync builds a KeyObject
 * per call (~20 µs here against ~12 µs for the three createHmac calls of a 44-byte output, ~2 µs
 * on the addon's HMAC), and the ratchet derives a message key per message. Same bytes
 * (RFC 5869 and Wycheproof vectors, test/crypto/primitives.test.ts).
 */
export function hkdfSha256 (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  // RFC 5869 §2.3: L <= 255 * HashLen
  if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_BYTES) {
    throw errors.CRYPTO(`hkdf-sha256: output length must be 0..${HKDF_SHA256_MAX_BYTES}, got ${length}`)
  }
  // §2.2 extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zeros, the same HMAC key as an empty one
  const prk = hmacSha256(salt, ikm)
  // §2.3 expand: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), T(0) empty
  const out = new Uint8Array(length)
  const block = new Uint8Array(SHA256_BYTES + info.length + 1)
  block.set(info, SHA256_BYTES)
  for (let i = 1, at = 0; at < length; i++, at += SHA256_BYTES) {
    block[block.length - 1] = i
    const t = hmacSha256(prk, i === 1 ? block.subarray(SHA256_BYTES) : block)
    out.set(length - at >= SHA256_BYTES ? t : t.subarray(0, length - at), at)
    block.set(t, 0)
    t.fill(0)
  }
  wipe(prk, block)
  return out
}

export interface Argon2idParams {
  /** iterations (t) */
  t: number
  /** memory in KiB (m) */
  m: number
  /** parallelism (p) */
  p: number
}

/** Argon2id (RFC 9106), 32-byte output. */
export async function argon2id (password: Uint8Array, salt: Uint8Array, params: Argon2idParams): Promise<Uint8Array> {
  // loaded on first use: only the keystore needs it, not every process that runs a session
  const { argon2idAsync } = await import('@noble/hashes/argon2.js')
  return await argon2idAsync(password, salt, { t: params.t, m: params.m, p: params.p, dkLen: KEY_BYTES })
}

/** One encoder and one decoder for the process: neither keeps state between calls (no `stream` option). */
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

export const utf8 = {
  encode: (s: string): Uint8Array => textEncoder.encode(s),
  decode: (b: Uint8Array): string => textDecoder.decode(b)
}
