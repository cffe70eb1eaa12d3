// Opening a prekey bundle someone sent us (proto-spec/pqxdh.md §3.4): the checks an initiator
// makes before it uses any key in it (PQXDH §3.3: "Alice verifies the prekey signatures and
// aborts the protocol if verification fails"), each failure a typed error, never a throw.
import { errors } from '../errors.js'
import { BoundedCache } from '../runtime/bounded-cache.js'
import { verifyPublicIdentity, fingerprintOf } from '../crypto/identity.js'
import { ed25519, x25519 } from '../crypto/primitives.js'
import { isValidKemPublicKey } from './kem.js'
import { BUNDLE_MAX_AGE_MS, CLOCK_SKEW_MS } from './constants.js'
import {
  decodeBundle, spkSignedMessage, pqspkSignedMessage, ok, fail, type PrekeyBundle, type PqxdhResult
} from './codec.js'

/**
 * Decodes `bytes` and checks, in this order: structure; the owner's public identity (identity.md
 * §1); that the owner is `expectedFingerprint`; SPK's signature; PQSPK's signature; both keys
 * (X25519 canonical and not of low order, ML-KEM-768 FIPS 203 §7.2); the age against `nowMs`.
 */
export function openBundle (bytes: Uint8Array, expectedFingerprint: string, nowMs: number): PqxdhResult<PrekeyBundle> {
  const decoded = decodeBundle(bytes)
  if (!decoded.ok) return decoded
  const b = decoded.value
  const id = `${expectedFingerprint} ${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')}`
  if (verified.get(id) === true) return fresh(b, nowMs)
  const checked = check(b, expectedFingerprint)
  if (!checked.ok) return checked
  verified.set(id, true)
  return fresh(b, nowMs)
}

// The checks below are a pure function of the bundle's bytes and the fingerprint expected, and a
// session start opens the same bundle twice (when it arrives, src/messaging/prekey-exchange.ts,
// and in initiate(), pqxdh.ts): three signature verifications, a DH and the ML-KEM key check each
// time. So the bundles that passed are remembered (the most recent 256, by their exact bytes);
// the age is checked at every open.
const verified = new BoundedCache<string, true>(256)

function check (b: PrekeyBundle, expectedFingerprint: string): PqxdhResult<PrekeyBundle> {
  if (!verifyPublicIdentity(b.owner)) return fail(errors.PQXDH_BAD_IDENTITY("prekey bundle: the owner's identity keys are not validly signed"))
  if (fingerprintOf(b.owner) !== expectedFingerprint) {
    return fail(errors.PQXDH_WRONG_IDENTITY(`prekey bundle: made by ${fingerprintOf(b.owner)}, not by ${expectedFingerprint}`))
  }
  if (!ed25519.verify(b.spkSignature, spkSignedMessage(b.prekeyId, b.createdS, b.spk), b.owner.signPublic)) {
    return fail(errors.PQXDH_BAD_SPK_SIGNATURE(`prekey bundle: the signature on signed prekey ${b.prekeyId} does not verify`))
  }
  if (!ed25519.verify(b.pqspkSignature, pqspkSignedMessage(b.prekeyId, b.createdS, b.pqspk), b.owner.signPublic)) {
    return fail(errors.PQXDH_BAD_PQSPK_SIGNATURE(`prekey bundle: the signature on post-quantum prekey ${b.prekeyId} does not verify`))
  }
  if (!x25519.isValidPublicKey(b.spk)) return fail(errors.PQXDH_BAD_KEY('prekey bundle: SPK is not a canonical X25519 key of large order'))
  if (!isValidKemPublicKey(b.pqspk)) return fail(errors.PQXDH_BAD_KEY('prekey bundle: PQSPK fails the ML-KEM-768 encapsulation key check (FIPS 203 §7.2)'))
  return ok(b)
}

function fresh (b: PrekeyBundle, nowMs: number): PqxdhResult<PrekeyBundle> {
  const createdMs = b.createdS * 1000
  if (createdMs > nowMs + CLOCK_SKEW_MS) {
    return fail(errors.PQXDH_STALE_PREKEY(`prekey bundle: made ${Math.round((createdMs - nowMs) / 60_000)} minutes in the future (check the clock)`))
  }
  if (nowMs - createdMs > BUNDLE_MAX_AGE_MS) {
    return fail(errors.PQXDH_STALE_PREKEY(`prekey bundle: ${Math.floor((nowMs - createdMs) / 86_400_000)} days old, older than the ${BUNDLE_MAX_AGE_MS / 86_400_000} days accepted: fetch a fresh one`))
  }
  return ok(b)
}
