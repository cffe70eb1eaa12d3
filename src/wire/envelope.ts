// The message envelope: a fixed binary header, an HPKE-encrypted payload and an Ed25519
// signature. proto-spec/envelope.md §2 (layout), §4 (encryption), §5 (signature).
// The encoding is canonical — exact lengths, no optional parts — so one envelope value has one
// byte string: re-encoding a decoded envelope reproduces the signed bytes exactly.
import {
  ENVELOPE_VERSION, MESSAGE_ID_BYTES, FINGERPRINT_MAX_CHARS, HPKE_ENC_BYTES, ED25519_SIGNATURE_BYTES,
  TIMESTAMP_MIN_MS, TIMESTAMP_MAX_MS, MAX_PAYLOAD_BYTES, AEAD_TAG_BYTES, PayloadType
} from './constants.js'
import { isPayloadType } from './payloads.js'
import { ed25519, utf8 } from '../crypto/primitives.js'
import { errors } from '../errors.js'

export interface Envelope {
  version: number
  /** 16 random bytes; receivers de-duplicate on it */
  id: Uint8Array
  /** sender's fingerprint (proto-spec/identity.md) */
  sender: string
  recipient: string
  /** sender's clock, ms since the Unix epoch */
  timestamp: number
  type: PayloadType
  /** HPKE encapsulated key (the ephemeral X25519 public key) */
  enc: Uint8Array
  /** HPKE ciphertext of the msgpack payload body, tag included */
  ciphertext: Uint8Array
  /** Ed25519 by the sender over SIGNATURE_CONTEXT ‖ every byte before the signature */
  signature: Uint8Array
}
export type UnsignedEnvelope = Omit<Envelope, 'signature'>

export type EnvelopeRejectReason =
  | 'malformed' | 'unsupported-version' | 'unknown-payload-type' | 'wrong-recipient' | 'unknown-sender'
  | 'sender-mismatch' | 'bad-signature' | 'timestamp-in-future' | 'decrypt-failed' | 'bad-payload'
export interface EnvelopeReject { ok: false, reason: EnvelopeRejectReason, detail: string }
export type EnvelopeResult = { ok: true, envelope: Envelope } | EnvelopeReject

/** Domain string of the signature (envelope.md §5, crypto-policy.md §5): nothing else we sign starts with it. */
export const SIGNATURE_CONTEXT = utf8.encode('dmess-envelope-sig-v1\0')
/** HPKE `info` for payload encryption (envelope.md §4), same domain-string form. */
export const HPKE_INFO = utf8.encode('dmess-envelope-payload-v1\0')
const FINGERPRINT_RE = /^[a-z0-9]+$/
const CIPHERTEXT_MIN_BYTES = AEAD_TAG_BYTES + 1
const CIPHERTEXT_MAX_BYTES = MAX_PAYLOAD_BYTES + AEAD_TAG_BYTES
/** Bytes after the fingerprints: timestamp 8, type 1, enc 32, ciphertext length 4. */
const FIXED_TAIL = 8 + 1 + HPKE_ENC_BYTES + 4

function isWireFingerprint (s: string): boolean {
  return s.length >= 1 && s.length <= FINGERPRINT_MAX_CHARS && FINGERPRINT_RE.test(s)
}

function reject (reason: EnvelopeRejectReason, detail: string): EnvelopeReject {
  return { ok: false, reason, detail }
}

// ---- encoding ----

function checkUnsigned (e: UnsignedEnvelope): void {
  const bad = (what: string): never => { throw errors.WIRE_ENCODE(`envelope ${what}`) }
  if (e.version !== ENVELOPE_VERSION) bad(`version: expected ${ENVELOPE_VERSION}, got ${e.version}`)
  if (e.id.length !== MESSAGE_ID_BYTES) bad(`id: expected ${MESSAGE_ID_BYTES} bytes, got ${e.id.length}`)
  if (!isWireFingerprint(e.sender)) bad(`sender: expected 1..${FINGERPRINT_MAX_CHARS} chars of [a-z0-9], got ${JSON.stringify(e.sender)}`)
  if (!isWireFingerprint(e.recipient)) bad(`recipient: expected 1..${FINGERPRINT_MAX_CHARS} chars of [a-z0-9], got ${JSON.stringify(e.recipient)}`)
  if (!Number.isInteger(e.timestamp) || e.timestamp < TIMESTAMP_MIN_MS || e.timestamp > TIMESTAMP_MAX_MS) {
    bad(`timestamp: expected ms in ${TIMESTAMP_MIN_MS}..${TIMESTAMP_MAX_MS}, got ${e.timestamp}`)
  }
  if (!isPayloadType(e.type) || e.type === PayloadType.BATCH) bad(`type: ${e.type} is not a payload type of envelope v1`)
  if (e.enc.length !== HPKE_ENC_BYTES) bad(`enc: expected ${HPKE_ENC_BYTES} bytes, got ${e.enc.length}`)
  if (e.ciphertext.length < CIPHERTEXT_MIN_BYTES || e.ciphertext.length > CIPHERTEXT_MAX_BYTES) {
    bad(`ciphertext: expected ${CIPHERTEXT_MIN_BYTES}..${CIPHERTEXT_MAX_BYTES} bytes, got ${e.ciphertext.length}`)
  }
}

/** The header (envelope.md §2): version … type. It is the HPKE AAD, binding the ciphertext to it. */
export function encodeEnvelopeHeader (e: Omit<UnsignedEnvelope, 'enc' | 'ciphertext'>): Uint8Array {
  const s = utf8.encode(e.sender)
  const r = utf8.encode(e.recipient)
  const out = new Uint8Array(1 + MESSAGE_ID_BYTES + 1 + s.length + 1 + r.length + 9)
  const v = new DataView(out.buffer)
  let o = 0
  out[o++] = e.version
  out.set(e.id, o); o += MESSAGE_ID_BYTES
  out[o++] = s.length
  out.set(s, o); o += s.length
  out[o++] = r.length
  out.set(r, o); o += r.length
  v.setUint32(o, Math.floor(e.timestamp / 2 ** 32)); v.setUint32(o + 4, e.timestamp % 2 ** 32); o += 8
  out[o] = e.type
  return out
}

/** Every byte that the signature covers, without the signature context. */
function encodeUnsigned (e: UnsignedEnvelope): Uint8Array {
  checkUnsigned(e)
  const head = encodeEnvelopeHeader(e)
  const out = new Uint8Array(head.length + HPKE_ENC_BYTES + 4 + e.ciphertext.length)
  out.set(head, 0)
  out.set(e.enc, head.length)
  new DataView(out.buffer).setUint32(head.length + HPKE_ENC_BYTES, e.ciphertext.length)
  out.set(e.ciphertext, head.length + HPKE_ENC_BYTES + 4)
  return out
}

/** SIGNATURE_CONTEXT ‖ unsigned bytes: the exact Ed25519 message. */
function envelopeSigningInput (e: UnsignedEnvelope): Uint8Array {
  const body = encodeUnsigned(e)
  const out = new Uint8Array(SIGNATURE_CONTEXT.length + body.length)
  out.set(SIGNATURE_CONTEXT, 0)
  out.set(body, SIGNATURE_CONTEXT.length)
  return out
}

export function encodeEnvelope (e: Envelope): Uint8Array {
  if (e.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw errors.WIRE_ENCODE(`envelope signature: expected ${ED25519_SIGNATURE_BYTES} bytes, got ${e.signature.length}`)
  }
  const body = encodeUnsigned(e)
  const out = new Uint8Array(body.length + ED25519_SIGNATURE_BYTES)
  out.set(body, 0)
  out.set(e.signature, body.length)
  return out
}

export function signEnvelope (e: UnsignedEnvelope, signSecret: Uint8Array): Envelope {
  return { ...e, signature: ed25519.sign(envelopeSigningInput(e), signSecret) }
}

/** True iff `signature` is the sender's over this envelope. Never throws. */
export function verifyEnvelope (e: Envelope, senderSignPublic: Uint8Array): boolean {
  let input: Uint8Array
  try {
    input = envelopeSigningInput(e)
  } catch {
    return false
  }
  return ed25519.verify(e.signature, input, senderSignPublic)
}

// ---- decoding (network input: never throws) ----

function readFingerprint (b: Uint8Array, o: number): string | null {
  const n = b[o] ?? 0
  if (n === 0 || n > FINGERPRINT_MAX_CHARS || o + 1 + n > b.length) return null
  const s = String.fromCharCode(...b.subarray(o + 1, o + 1 + n))
  return FINGERPRINT_RE.test(s) ? s : null
}

/** Parse and structurally validate an envelope (no crypto). envelope.md §2, §6. */
export function decodeEnvelope (b: Uint8Array): EnvelopeResult {
  if (b.length < 1) return reject('malformed', 'empty')
  if (b[0] !== ENVELOPE_VERSION) return reject('unsupported-version', `version ${b[0] ?? 0}`)
  let o = 1 + MESSAGE_ID_BYTES
  const sender = readFingerprint(b, o)
  if (sender === null) return reject('malformed', 'sender fingerprint')
  o += 1 + sender.length
  const recipient = readFingerprint(b, o)
  if (recipient === null) return reject('malformed', 'recipient fingerprint')
  o += 1 + recipient.length
  if (b.length < o + FIXED_TAIL) return reject('malformed', 'truncated header')
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const timestamp = v.getUint32(o) * 2 ** 32 + v.getUint32(o + 4)
  if (timestamp < TIMESTAMP_MIN_MS || timestamp > TIMESTAMP_MAX_MS) return reject('malformed', `timestamp ${timestamp}`)
  const type = b[o + 8] ?? 0
  // BATCH travels only in envelope v2 (§3.7): to v1 it is as undefined as any other value
  if (!isPayloadType(type) || type === PayloadType.BATCH) return reject('unknown-payload-type', `payload type ${type}`)
  const encAt = o + 9
  const ctLen = v.getUint32(encAt + HPKE_ENC_BYTES)
  if (ctLen < CIPHERTEXT_MIN_BYTES || ctLen > CIPHERTEXT_MAX_BYTES) return reject('malformed', `ciphertext length ${ctLen}`)
  const ctAt = encAt + HPKE_ENC_BYTES + 4
  if (b.length !== ctAt + ctLen + ED25519_SIGNATURE_BYTES) return reject('malformed', `length ${b.length}, expected ${ctAt + ctLen + ED25519_SIGNATURE_BYTES}`)
  return {
    ok: true,
    envelope: {
      version: ENVELOPE_VERSION,
      id: b.slice(1, 1 + MESSAGE_ID_BYTES),
      sender,
      recipient,
      timestamp,
      type,
      enc: b.slice(encAt, encAt + HPKE_ENC_BYTES),
      ciphertext: b.slice(ctAt, ctAt + ctLen),
      signature: b.slice(ctAt + ctLen)
    }
  }
}
