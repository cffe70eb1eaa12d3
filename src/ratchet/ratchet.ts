// The Double Ratchet with header encryption (Signal, "The Double Ratchet Algorithm", rev. 4, §3
// and §4) and a hybrid ML-KEM-768 step in every DH ratchet step (proto-spec/ratchet.md §2, §5).
// Pure: no I/O, no clock, randomness passed in. Every function returns a new state and never
// changes the one it was given, so the caller commits the new state (encrypted, atomically with
// the message) before the ciphertext leaves, and a failed decryption changes nothing (§3.5).
import { mlKem768 } from '../crypto/ml-kem.js'
import { errors } from '../errors.js'
import { x25519, constantTimeEqual, copySecretKey, wipe } from '../crypto/primitives.js'
import {
  ENC_HEADER_BYTES, AEAD_TAG_BYTES, HEADER_BYTES, HEADER_NONCE_BYTES, KEM_SEED_BYTES, KEM_MSG_BYTES, X25519_BYTES,
  MAX_AD_BYTES, MAX_COUNTER, MAX_SKIP, MAX_SKIPPED_KEYS, MAX_SKIPPED_CHAINS, SKIPPED_MAX_AGE_MESSAGES, SKIPPED_MAX_AGE_MS
} from './constants.js'
import { kdfInit, kdfRoot, kdfChain, encryptBodyInto, decryptBody, encryptHeaderInPlace, decryptHeader } from './kdf.js'
import { encodeHeaderInto, decodeHeader, type Header } from './header.js'
import { disposeState, ekOf, type RatchetState, type SkippedKey } from './state.js'

/** n cryptographically secure random bytes (the platform's randomBytes; a seeded stream in tests). */
export type RandomBytes = (n: number) => Uint8Array

export type DecryptFailure =
  | 'malformed' // too short, or a header that is not canonical
  | 'no-header-key' // no current, next or skipped header key opens the header
  | 'old-message' // a number already used or expired in its chain: a duplicate, or too late
  | 'too-many-skipped' // it would skip more than MAX_SKIP keys in one chain
  | 'bad-kem' // the KEM fields break §5 (ciphertext missing or unexpected, invalid encapsulation key)
  | 'bad-dh' // the peer's ratchet key is of low order
  | 'decrypt-failed' // the body does not authenticate

export type DecryptResult =
  | { ok: true, state: RatchetState, plaintext: Uint8Array }
  | { ok: false, reason: DecryptFailure }

/**
 * The key pairs a DH step puts in place of ours (ratchet.md §5 step 3), made ahead of time by
 * `generateKeyPairs` so that a step on the path does only its DHs and KEM operations. Secrets:
 * one set is used by at most one step (ratchet.md §7, keys made ahead).
 */
export interface NextKeyPairs {
  readonly dh: { readonly secretKey: Uint8Array, readonly publicKey: Uint8Array }
  /** ML-KEM-768 decapsulation key (FIPS 203 dk, which embeds ek) */
  readonly kemDk: Uint8Array
}

/**
 * Hands out a set made ahead, removing it from wherever it was kept, or undefined (the step then
 * draws its own). Called only by a step that goes ahead, after its checks on the header passed.
 */
export type TakeKeyPairs = () => NextKeyPairs | undefined

export interface DecryptOptions {
  /** the caller's clock in ms: skipped keys expire by it (SKIPPED_MAX_AGE_MS) */
  now: number
  random: RandomBytes
  /** key pairs made ahead for a DH step; without them (or when it gives none) the step draws 32 + 64 bytes as §5 lists */
  takeKeyPairs?: TakeKeyPairs
  /** per-message associated data the sender bound (an envelope header, say); default empty */
  associated?: Uint8Array
  /** if given, counts the work this call did (ratchet.md §6: what one message can cost) */
  meter?: WorkMeter
}

/** Work done by ratchetDecrypt calls: header decryptions tried, chain (KDF_CK) steps, DH + KEM steps. */
export interface WorkMeter { headerDecryptions: number, chainSteps: number, dhSteps: number }

const NO_METER: WorkMeter = { headerDecryptions: 0, chainSteps: 0, dhSteps: 0 }

type Draft = { -readonly [K in keyof RatchetState]: RatchetState[K] }

const EMPTY = new Uint8Array(0)

/**
 * The key pairs of a DH step (or of the initiator's start), made ahead of time: draws 32 bytes
 * (X25519 secret) then 64 (ML-KEM seed), the same draws in the same order as a step that makes
 * its own (§5), so a set made from the same bytes gives the same step.
 */
export function generateKeyPairs (random: RandomBytes): NextKeyPairs {
  const dh = newDhPair(random)
  return { dh, kemDk: mlKem768.keygen(take(random, KEM_SEED_BYTES)).secretKey }
}

/**
 * RatchetInitAliceHE (§4.3), the initiator: `sk` and `ad` from PQXDH, `bobRatchetPublic` the
 * responder's signed prekey (PQXDH §3.3). Draws 32 bytes (DH secret) then 64 (ML-KEM seed), or
 * nothing when `takeKeyPairs` gives a set made ahead.
 */
export function initAlice (p: { sk: Uint8Array, ad: Uint8Array, bobRatchetPublic: Uint8Array }, random: RandomBytes, takeKeyPairs?: TakeKeyPairs): RatchetState {
  checkInit(p.sk, p.ad)
  const { rk: rk0, hka, nhkb } = kdfInit(p.sk)
  const { dh: dhs, kemDk } = takeKeyPairs?.() ?? generateKeyPairs(random)
  const { rk, ck, nhk } = kdfRoot(rk0, x25519.dh(dhs.secretKey, p.bobRatchetPublic)) // §5: no KEM secret yet
  return {
    dhs, dhr: p.bobRatchetPublic.slice(), rk, cks: ck, ckr: null, ns: 0, nr: 0, pn: 0,
    hks: hka, hkr: null, nhks: nhk, nhkr: nhkb, kemDk, kemCt: null, received: 0, skipped: [], ad: p.ad.slice()
  }
}

/** RatchetInitBobHE (§4.3), the responder: its signed prekey pair is its first ratchet key pair. */
export function initBob (p: { sk: Uint8Array, ad: Uint8Array, ratchetKeyPair: { publicKey: Uint8Array, secretKey: Uint8Array } }): RatchetState {
  checkInit(p.sk, p.ad)
  const { rk, hka, nhkb } = kdfInit(p.sk)
  return {
    dhs: { secretKey: copySecretKey(p.ratchetKeyPair.secretKey), publicKey: p.ratchetKeyPair.publicKey.slice() },
    dhr: null, rk, cks: null, ckr: null, ns: 0, nr: 0, pn: 0,
    hks: null, hkr: null, nhks: nhkb, nhkr: hka, kemDk: null, kemCt: null, received: 0, skipped: [], ad: p.ad.slice()
  }
}

/**
 * RatchetEncryptHE (§4.3). Returns the next state and the message; commit the state first, then
 * send (a crash between the two loses one message, never reuses a key). Draws 24 bytes (header nonce).
 * Throws CRYPTO for local misuse: sending before a responder has received anything.
 */
export function ratchetEncrypt (s: RatchetState, plaintext: Uint8Array, random: RandomBytes, associated: Uint8Array = EMPTY): { state: RatchetState, message: Uint8Array } {
  if (s.cks === null || s.hks === null || s.kemDk === null) throw errors.CRYPTO('ratchet: the responder cannot send before the first message arrives')
  if (s.ns >= MAX_COUNTER) throw errors.CRYPTO('ratchet: sending chain exhausted')
  const { ck, mk } = kdfChain(s.cks)
  // one array for the whole message: header encoded and sealed in place, then the body after it
  const message = new Uint8Array(ENC_HEADER_BYTES + plaintext.length + AEAD_TAG_BYTES)
  const encHeader = message.subarray(0, ENC_HEADER_BYTES)
  encodeHeaderInto({ dh: s.dhs.publicKey, pn: s.pn, n: s.ns, ek: ekOf(s.kemDk), ct: s.kemCt }, encHeader.subarray(HEADER_NONCE_BYTES, HEADER_NONCE_BYTES + HEADER_BYTES))
  encryptHeaderInPlace(s.hks, take(random, HEADER_NONCE_BYTES), s.ad, encHeader)
  encryptBodyInto(mk, plaintext, bodyAad(s.ad, associated, encHeader), message.subarray(ENC_HEADER_BYTES))
  mk.fill(0)
  return { state: { ...s, cks: ck, ns: s.ns + 1 }, message }
}

/** RatchetDecryptHE (§4.3) with bounded skipping and expiry (ratchet.md §6). Never throws on bad input. */
export function ratchetDecrypt (s: RatchetState, message: Uint8Array, o: DecryptOptions): DecryptResult {
  if (message.length < ENC_HEADER_BYTES + AEAD_TAG_BYTES) return { ok: false, reason: 'malformed' }
  const encHeader = message.subarray(0, ENC_HEADER_BYTES)
  const body = message.subarray(ENC_HEADER_BYTES)
  const aad = bodyAad(s.ad, o.associated ?? EMPTY, encHeader)
  const meter = o.meter ?? NO_METER
  const open = (hk: Uint8Array): Uint8Array | null => { meter.headerDecryptions++; return decryptHeader(hk, encHeader, s.ad) }
  // the current receiving chain: in-order messages, or an earlier one of it that was skipped
  const cur = s.hkr === null ? null : open(s.hkr)
  if (cur !== null) {
    const h = decodeHeader(cur)
    if (h === null) return { ok: false, reason: 'malformed' }
    if (h.n < s.nr) return fromSkipped(s, s.hkr!, h.n, body, aad, o.now)
    return fromChain(s, h, false, body, aad, o)
  }
  const next = open(s.nhkr)
  if (next !== null) {
    const h = decodeHeader(next)
    if (h === null) return { ok: false, reason: 'malformed' }
    return fromChain(s, h, true, body, aad, o)
  }
  // TrySkippedMessageKeysHE: one header decryption per older chain that still has skipped keys
  for (const hk of skippedChains(s.skipped)) {
    if (s.hkr !== null && hk === s.hkr) continue
    const pt = open(hk)
    if (pt === null) continue
    const h = decodeHeader(pt)
    return h === null ? { ok: false, reason: 'malformed' } : fromSkipped(s, hk, h.n, body, aad, o.now)
  }
  return { ok: false, reason: 'no-header-key' }
}

function fromSkipped (s: RatchetState, hk: Uint8Array, n: number, body: Uint8Array, aad: Uint8Array, now: number): DecryptResult {
  const i = s.skipped.findIndex(k => k.n === n && constantTimeEqual(k.hk, hk))
  if (i < 0) return { ok: false, reason: 'old-message' }
  const plaintext = decryptBody(s.skipped[i]!.mk, body, aad)
  if (plaintext === null) return { ok: false, reason: 'decrypt-failed' }
  const d: Draft = { ...s, skipped: s.skipped.filter((_, j) => j !== i) }
  return finish(d, plaintext, now)
}

function fromChain (s: RatchetState, h: Header, step: boolean, body: Uint8Array, aad: Uint8Array, o: DecryptOptions): DecryptResult {
  const d: Draft = { ...s }
  const meter = o.meter ?? NO_METER
  // a failure drops the draft: the secrets it made (skipped keys, a step's chains and key pairs) are wiped, the state's own kept
  const fail = (reason: DecryptFailure): DecryptResult => { disposeState(d, s); return { ok: false, reason } }
  if (step) {
    const skip = skipMessageKeys(d, h.pn, o.now, meter)
    if (skip !== null) return fail(skip)
    meter.dhSteps++
    const failed = dhRatchet(d, h, o.random, o.takeKeyPairs)
    if (failed !== null) return fail(failed)
  }
  const skip = skipMessageKeys(d, h.n, o.now, meter)
  if (skip !== null) return fail(skip)
  meter.chainSteps++
  const { ck, mk } = kdfChain(d.ckr!)
  const plaintext = decryptBody(mk, body, aad)
  mk.fill(0)
  if (plaintext === null) return fail('decrypt-failed')
  d.ckr = ck
  d.nr = h.n + 1
  return finish(d, plaintext, o.now)
}

/** SkipMessageKeysHE (§4.3), bounded by MAX_SKIP per call and MAX_SKIPPED_KEYS / _CHAINS overall. */
function skipMessageKeys (d: Draft, until: number, now: number, meter: WorkMeter): DecryptFailure | null {
  if (d.ckr === null || until <= d.nr) return null
  if (until - d.nr > MAX_SKIP) return 'too-many-skipped'
  meter.chainSteps += until - d.nr
  const added: SkippedKey[] = []
  let ck = d.ckr
  for (let n = d.nr; n < until; n++) {
    const next = kdfChain(ck)
    added.push({ hk: d.hkr!, n, mk: next.mk, seq: d.received, at: now })
    ck = next.ck
  }
  d.ckr = ck
  d.nr = until
  d.skipped = bound([...d.skipped, ...added])
  return null
}

/**
 * DHRatchetHE (§4.3) with the hybrid KEM step (ratchet.md §5). Draws 32 (encapsulation), then 32
 * (DH secret) and 64 (ML-KEM seed) unless `takeKeyPairs` gives a set made ahead. That set is asked
 * for only once the header's KEM and DH fields have passed, so a refused header takes none.
 */
function dhRatchet (d: Draft, h: Header, random: RandomBytes, takeKeyPairs?: TakeKeyPairs): DecryptFailure | null {
  // §5: a ciphertext is due exactly when we have published an encapsulation key
  if ((h.ct === null) !== (d.kemDk === null)) return 'bad-kem'
  const received = h.ct === null ? undefined : mlKem768.decapsulate(h.ct, d.kemDk!)
  let sent: { cipherText: Uint8Array, sharedSecret: Uint8Array }
  try {
    sent = mlKem768.encapsulate(h.ek, take(random, KEM_MSG_BYTES))
  } catch {
    return 'bad-kem' // FIPS 203 §7.2 input check of ek
  }
  let dhIn: Uint8Array
  try {
    dhIn = x25519.dh(d.dhs.secretKey, h.dh)
  } catch {
    return 'bad-dh'
  }
  d.pn = d.ns; d.ns = 0; d.nr = 0
  d.hks = d.nhks; d.hkr = d.nhkr; d.dhr = h.dh
  const r = kdfRoot(d.rk, dhIn, received)
  d.rk = r.rk; d.ckr = r.ck; d.nhkr = r.nhk
  const next = takeKeyPairs?.() ?? generateKeyPairs(random)
  d.dhs = next.dh
  d.kemDk = next.kemDk
  d.kemCt = sent.cipherText
  const dhOut = x25519.dh(d.dhs.secretKey, h.dh)
  const s = kdfRoot(d.rk, dhOut, sent.sharedSecret)
  d.rk = s.rk; d.cks = s.ck; d.nhks = s.nhk
  wipe(dhIn, dhOut, received, sent.sharedSecret)
  return null
}

/** Count the message, expire old skipped keys (ratchet.md §6) and hand out the new state. */
function finish (d: Draft, plaintext: Uint8Array, now: number): DecryptResult {
  d.received += 1
  const fresh = (k: SkippedKey): boolean => d.received - k.seq <= SKIPPED_MAX_AGE_MESSAGES && now - k.at <= SKIPPED_MAX_AGE_MS
  if (!d.skipped.every(fresh)) d.skipped = d.skipped.filter(fresh)
  return { ok: true, state: d, plaintext }
}

/** Oldest first: drop whole chains past MAX_SKIPPED_CHAINS, then single keys past MAX_SKIPPED_KEYS. */
function bound (list: SkippedKey[]): SkippedKey[] {
  const chains = skippedChains(list)
  if (chains.length > MAX_SKIPPED_CHAINS) {
    const dropped = new Set(chains.slice(0, chains.length - MAX_SKIPPED_CHAINS))
    list = list.filter(k => !dropped.has(k.hk))
  }
  return list.length > MAX_SKIPPED_KEYS ? list.slice(list.length - MAX_SKIPPED_KEYS) : list
}

/** The distinct header keys of the skipped list, oldest chain first (entries of one chain share one key object). */
function skippedChains (list: readonly SkippedKey[]): Uint8Array[] {
  const seen = new Set<Uint8Array>()
  for (const k of list) seen.add(k.hk)
  return [...seen]
}

/** Body AD (§3.1 CONCAT): u32 len ‖ ad ‖ u32 len ‖ associated ‖ encrypted header. */
function bodyAad (ad: Uint8Array, associated: Uint8Array, encHeader: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + ad.length + associated.length + encHeader.length)
  const v = new DataView(out.buffer)
  v.setUint32(0, ad.length); out.set(ad, 4)
  v.setUint32(4 + ad.length, associated.length); out.set(associated, 8 + ad.length)
  out.set(encHeader, 8 + ad.length + associated.length)
  return out
}

/** Local misuse: PQXDH gives a 32-byte SK and an AD the state can store (ratchet.md §7). */
function checkInit (sk: Uint8Array, ad: Uint8Array): void {
  if (sk.length !== 32) throw errors.CRYPTO(`ratchet: SK must be 32 bytes, got ${sk.length}`)
  if (ad.length > MAX_AD_BYTES) throw errors.CRYPTO(`ratchet: AD must be at most ${MAX_AD_BYTES} bytes, got ${ad.length}`)
}

function newDhPair (random: RandomBytes): { secretKey: Uint8Array, publicKey: Uint8Array } {
  const secretKey = take(random, X25519_BYTES)
  return { secretKey, publicKey: x25519.publicFromSecret(secretKey) }
}

function take (random: RandomBytes, n: number): Uint8Array {
  const b = random(n)
  if (b.length !== n) throw errors.CRYPTO(`ratchet: random source gave ${b.length} bytes, wanted ${n}`)
  return b
}
