// PQXDH key agreement (proto-spec/pqxdh.md §4), after Signal's "The PQXDH Key Agreement Protocol"
// §3.3 (sending the initial message) and §3.4 (receiving it), without one-time prekeys (§6 says
// what stands in for them). Output: SK and AD for the Double Ratchet, and the responder's SPK,
// which the ratchet takes as the responder's first ratchet key (Double Ratchet §3.3:
// RatchetInitAlice(SK, SPK_B) / RatchetInitBob(SK, SPK_B key pair)). Pure: the caller passes
// `now` and, for the initiator, randomness.
import { errors } from '../errors.js'
import { x25519, hkdfSha256, randomBytes, wipe, copySecretKey, type KeyPair } from '../crypto/primitives.js'
import { verifyPublicIdentity, fingerprintOf, type Identity, type PublicIdentity } from '../crypto/identity.js'
import { mlkem768 } from './kem.js'
import { openBundle } from './bundle.js'
import {
  PQXDH_INFO, KDF_F, KDF_SALT, SHARED_SECRET_BYTES, X25519_KEY_BYTES, MLKEM768_ENCAPS_RANDOM_BYTES, MAX_SEEN_PER_PREKEY
} from './constants.js'
import { encodeEC, encodeInitialMessage, decodeInitialMessage, ok, fail, type PqxdhResult } from './codec.js'
import { findSet, hasSeen, rememberInitial, type KeyRandom, type PrekeyRing } from './prekeys.js'

/** What both sides get (the seam with src/ratchet: pqxdh.md §4.4). */
export interface PqxdhSecrets {
  /** SK, 32 bytes: the Double Ratchet's initial root key. Wipe it once the ratchet holds it. */
  sk: Uint8Array
  /** AD = EncodeEC(IK_A) ‖ EncodeEC(IK_B) ‖ signPublic_A ‖ signPublic_B, 130 bytes */
  ad: Uint8Array
  /** the prekey pair the session started from */
  prekeyId: number
}

export interface Initiation extends PqxdhSecrets {
  /** the initial message to send ahead of (or with) the first ratchet message */
  initialMessage: Uint8Array
  /** SPK_B: the responder's first ratchet public key (RatchetInitAlice(SK, SPK_B)) */
  responderRatchetPublic: Uint8Array
  /** the responder, as the bundle named it (the fingerprint the caller asked for) */
  responder: PublicIdentity
}

export interface Response extends PqxdhSecrets {
  /** who started the session (verified identity; the fingerprint is the caller's to judge) */
  initiator: PublicIdentity
  initiatorFingerprint: string
  /** EK_A: what the replay memory keeps for this start (§6) */
  ephemeral: Uint8Array
  /** our SPK pair for this prekey id: the first ratchet key pair (RatchetInitBob(SK, SPK_B)) */
  ratchetKeyPair: KeyPair
  /**
   * The ring with this initial message remembered (§6). Commit it only once the first ratchet
   * message decrypted, and before anything is delivered; a ring committed with it refuses a replay.
   */
  ring: PrekeyRing
}

/** PQXDH §2.2 KDF(KM) = HKDF-SHA256(F ‖ KM, salt = 32 zero bytes, info), 32 bytes. */
export function pqxdhKdf (km: Uint8Array): Uint8Array {
  const ikm = new Uint8Array(KDF_F.length + km.length)
  ikm.set(KDF_F, 0)
  ikm.set(km, KDF_F.length)
  try {
    return hkdfSha256(ikm, KDF_SALT, PQXDH_INFO, SHARED_SECRET_BYTES)
  } finally {
    wipe(ikm)
  }
}

/** §4.3: the associated data, binding both whole identities (their fingerprints). */
export function associatedData (initiator: PublicIdentity, responder: PublicIdentity): Uint8Array {
  const ad = new Uint8Array(2 * 33 + 2 * 32)
  ad.set(encodeEC(initiator.dhPublic), 0)
  ad.set(encodeEC(responder.dhPublic), 33)
  ad.set(initiator.signPublic, 66)
  ad.set(responder.signPublic, 98)
  return ad
}

function deriveSk (dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array, ss: Uint8Array): Uint8Array {
  const km = new Uint8Array(4 * 32)
  km.set(dh1, 0)
  km.set(dh2, 32)
  km.set(dh3, 64)
  km.set(ss, 96)
  try {
    return pqxdhKdf(km)
  } finally {
    wipe(km, dh1, dh2, dh3, ss)
  }
}

const publicOf = (id: PublicIdentity): PublicIdentity =>
  ({ signPublic: id.signPublic.slice(), dhPublic: id.dhPublic.slice(), dhSignature: id.dhSignature.slice() })

/**
 * PQXDH §3.3 for `me` (Alice) towards the owner of `bundleBytes`, who must be `responderFingerprint`.
 * The bundle is opened first (bundle.ts): a bad one is a typed error and nothing is computed.
 */
export function initiate (me: Identity, bundleBytes: Uint8Array, responderFingerprint: string, nowMs: number,
  random: KeyRandom = randomBytes): PqxdhResult<Initiation> {
  const opened = openBundle(bundleBytes, responderFingerprint, nowMs)
  if (!opened.ok) return opened
  const b = opened.value
  const ekSecret = random(X25519_KEY_BYTES)
  const m = random(MLKEM768_ENCAPS_RANDOM_BYTES)
  try {
    const ekPublic = x25519.publicFromSecret(ekSecret)
    const { cipherText, sharedSecret } = mlkem768.encapsulate(b.pqspk, m)
    const sk = deriveSk(x25519.dh(me.dhSecret, b.spk), x25519.dh(ekSecret, b.owner.dhPublic), x25519.dh(ekSecret, b.spk), sharedSecret)
    return ok({
      sk,
      ad: associatedData(me, b.owner),
      prekeyId: b.prekeyId,
      initialMessage: encodeInitialMessage({ initiator: publicOf(me), prekeyId: b.prekeyId, ephemeral: ekPublic, kemCiphertext: cipherText }),
      responderRatchetPublic: b.spk.slice(),
      responder: b.owner
    })
  } finally {
    wipe(ekSecret, m) // PQXDH §3.3: Alice deletes her ephemeral private key and the DH outputs
  }
}

/**
 * PQXDH §3.4 for `me` (Bob) with our prekey `ring`: checks the initiator's identity and keys,
 * finds the prekey pair, refuses a replay (§6), and derives SK and AD. Typed errors, never a throw.
 */
export function respond (me: Identity, ring: PrekeyRing, initialMessage: Uint8Array): PqxdhResult<Response> {
  const decoded = decodeInitialMessage(initialMessage)
  if (!decoded.ok) return decoded
  const msg = decoded.value
  if (!verifyPublicIdentity(msg.initiator)) return fail(errors.PQXDH_BAD_IDENTITY("initial message: the initiator's identity keys are not validly signed"))
  if (!x25519.isValidPublicKey(msg.ephemeral)) return fail(errors.PQXDH_BAD_KEY('initial message: EK_A is not a canonical X25519 key of large order'))
  const set = findSet(ring, msg.prekeyId)
  if (set === undefined) return fail(errors.PQXDH_UNKNOWN_PREKEY(`initial message: prekey ${msg.prekeyId} is not (or no longer) ours`))
  if (hasSeen(set, msg.ephemeral)) return fail(errors.PQXDH_REPLAY(`initial message: already accepted under prekey ${msg.prekeyId}`))
  if (set.seen.size >= MAX_SEEN_PER_PREKEY) return fail(errors.PQXDH_PREKEY_FULL(`initial message: prekey ${msg.prekeyId} takes no more session starts`))
  const ss = mlkem768.decapsulate(msg.kemCiphertext, set.pqspk.secretKey)
  const sk = deriveSk(x25519.dh(set.spk.secretKey, msg.initiator.dhPublic), x25519.dh(me.dhSecret, msg.ephemeral),
    x25519.dh(set.spk.secretKey, msg.ephemeral), ss)
  return ok({
    sk,
    ad: associatedData(msg.initiator, me),
    prekeyId: set.id,
    initiator: msg.initiator,
    initiatorFingerprint: fingerprintOf(msg.initiator),
    ephemeral: msg.ephemeral,
    ratchetKeyPair: { publicKey: set.spk.publicKey.slice(), secretKey: copySecretKey(set.spk.secretKey) },
    ring: rememberInitial(ring, set.id, msg.ephemeral)
  })
}
