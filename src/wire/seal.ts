// End-to-end sealing of an envelope to the recipient's identity and opening it again.
// proto-spec/envelope.md §4–§6: HPKE base mode encrypts the payload to the recipient's X25519
// key with the header as AAD; the sender's Ed25519 signature over the whole envelope gives
// authenticity. Identity types are structural so this file does not depend on the identity module.
import {
  ENVELOPE_VERSION, MESSAGE_ID_BYTES, ENVELOPE_MAX_FUTURE_SKEW_MS, PayloadType
} from './constants.js'
import { encodePayload, decodePayload, type PayloadOf, type TypedPayload, type ContactRequestPayload } from './payloads.js'
import {
  encodeEnvelope, decodeEnvelope, encodeEnvelopeHeader, signEnvelope, verifyEnvelope, HPKE_INFO,
  type Envelope, type EnvelopeReject, type EnvelopeRejectReason
} from './envelope.js'
import { hpkeSeal, hpkeOpen } from '../crypto/hpke.js'
import { randomBytes, constantTimeEqual } from '../crypto/primitives.js'

/** What sealing needs of the local identity. */
export interface EnvelopeSender { fingerprint: string, signSecret: Uint8Array }
/** What sealing needs of the recipient: their fingerprint and X25519 identity key. */
export interface EnvelopeRecipient { fingerprint: string, dhPublic: Uint8Array }
/** The public identity carried by CONTACT_REQUEST (proto-spec/identity.md). */
export interface PublicIdentityLike { signPublic: Uint8Array, dhPublic: Uint8Array, dhSignature: Uint8Array }

export interface SealParams<T extends PayloadType> {
  sender: EnvelopeSender
  recipient: EnvelopeRecipient
  type: T
  payload: PayloadOf<T>
  /** 16 bytes; random if omitted */
  id?: Uint8Array
  /** ms since the epoch, from the caller's clock */
  timestamp: number
  /** TESTS ONLY: fixed HPKE ephemeral secret, for the envelope.md test vector */
  ephemeralSecretForTests?: Uint8Array
}

/** Encrypt, sign and encode. Throws WIRE_ENCODE (bad field) or CRYPTO (bad key): local misuse. */
export function sealEnvelope<T extends PayloadType> (p: SealParams<T>): { id: Uint8Array, bytes: Uint8Array, envelope: Envelope } {
  const head = {
    version: ENVELOPE_VERSION,
    id: p.id ?? randomBytes(MESSAGE_ID_BYTES),
    sender: p.sender.fingerprint,
    recipient: p.recipient.fingerprint,
    timestamp: p.timestamp,
    type: p.type
  }
  const body = encodePayload(p.type, p.payload)
  // AAD = the header: the ciphertext cannot be replayed under another id, sender, recipient,
  // timestamp or type (envelope.md §4). encodeEnvelope below re-checks every field.
  const aad = encodeEnvelopeHeader(head)
  const { enc, ciphertext } = hpkeSeal(p.recipient.dhPublic, HPKE_INFO, aad, body, { ephemeralSecretForTests: p.ephemeralSecretForTests })
  const envelope = signEnvelope({ ...head, enc, ciphertext }, p.sender.signSecret)
  return { id: head.id, bytes: encodeEnvelope(envelope), envelope }
}

export interface OpenOptions {
  recipientDhSecret: Uint8Array
  /** our own X25519 public key, if at hand (saves a derivation per envelope) */
  recipientDhPublic?: Uint8Array
  recipientFingerprint: string
  /** Ed25519 public key of a known sender, or undefined for a stranger */
  lookupSender: (fingerprint: string) => Uint8Array | undefined
  /**
   * The fingerprint an enclosed public identity hashes to, or undefined if that identity is
   * invalid (e.g. its dhSignature does not verify). Needed to accept a CONTACT_REQUEST from a
   * stranger; without it, envelopes from unknown senders are rejected as 'unknown-sender'.
   */
  fingerprintOf?: (identity: PublicIdentityLike) => string | undefined
  /** receiver's clock, ms */
  now: number
}

export type OpenResult =
  | ({ ok: true, envelope: Envelope, senderSignPublic: Uint8Array } & TypedPayload)
  | EnvelopeReject

function reject (reason: EnvelopeRejectReason, detail: string): EnvelopeReject {
  return { ok: false, reason, detail }
}

function decrypt (env: Envelope, o: OpenOptions): { ok: true } & TypedPayload | EnvelopeReject {
  const aad = encodeEnvelopeHeader(env)
  const body = hpkeOpen(o.recipientDhSecret, env.enc, HPKE_INFO, aad, env.ciphertext, { recipientDhPublic: o.recipientDhPublic })
  if (body === null) return reject('decrypt-failed', 'HPKE open failed')
  const payload = decodePayload(env.type, body)
  return payload.ok ? payload : reject('bad-payload', payload.reason)
}

/** A CONTACT_REQUEST must carry the identity its sender fingerprint names (envelope.md §6 step 5). */
function checkIdentity (env: Envelope, req: ContactRequestPayload, o: OpenOptions): EnvelopeReject | null {
  if (o.fingerprintOf === undefined) return null
  const fp = o.fingerprintOf(req)
  return fp === env.sender ? null : reject('sender-mismatch', 'enclosed identity does not match the sender fingerprint')
}

/** Decode, check addressing and time, verify the signature, decrypt and validate. envelope.md §6 */
export function openEnvelope (bytes: Uint8Array, o: OpenOptions): OpenResult {
  const decoded = decodeEnvelope(bytes)
  if (!decoded.ok) return decoded
  const env = decoded.envelope
  if (env.recipient !== o.recipientFingerprint) return reject('wrong-recipient', `addressed to ${env.recipient}`)
  if (env.timestamp > o.now + ENVELOPE_MAX_FUTURE_SKEW_MS) return reject('timestamp-in-future', `${env.timestamp - o.now} ms ahead`)
  const known = o.lookupSender(env.sender)
  if (known === undefined) return openFromStranger(env, o)
  // Known sender: authenticate before spending a DH on the payload.
  if (!verifyEnvelope(env, known)) return reject('bad-signature', 'signature does not verify under the known key')
  const opened = decrypt(env, o)
  if (!opened.ok) return opened
  if (opened.type === PayloadType.CONTACT_REQUEST) {
    if (!constantTimeEqual(opened.payload.signPublic, known)) return reject('sender-mismatch', 'enclosed key differs from the known key')
    const bad = checkIdentity(env, opened.payload, o)
    if (bad !== null) return bad
  }
  return { ...opened, envelope: env, senderSignPublic: known }
}

/** Strangers may only introduce themselves, with a CONTACT_REQUEST that names their own key. */
function openFromStranger (env: Envelope, o: OpenOptions): OpenResult {
  if (env.type !== PayloadType.CONTACT_REQUEST || o.fingerprintOf === undefined) {
    return reject('unknown-sender', `no key for ${env.sender}`)
  }
  const opened = decrypt(env, o)
  if (!opened.ok) return opened
  if (opened.type !== PayloadType.CONTACT_REQUEST) return reject('bad-payload', 'not a contact request')
  const bad = checkIdentity(env, opened.payload, o)
  if (bad !== null) return bad
  if (!verifyEnvelope(env, opened.payload.signPublic)) return reject('bad-signature', 'signature does not verify under the enclosed key')
  return { ...opened, envelope: env, senderSignPublic: opened.payload.signPublic }
}
