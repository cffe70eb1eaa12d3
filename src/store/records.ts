// Schema v2 record encodings (proto-spec/storage.md §Values). Short map keys keep 100k-message
// stores small; every encrypted field's AAD names the record it belongs to.
import { errors } from '../errors.js'
import { aad, bytes, decode, encode } from './codec.js'
import type { RecordCipher } from './crypt.js'
import type { Contact, Direction, MessageStatus, OutboxEntry, StoredMessage } from './types.js'

export const AAD_MESSAGE_BODY = 'dmess/store/message-body'
export const AAD_CONTACT_NAME = 'dmess/store/contact-name'
export const AAD_OUTBOX_PAYLOAD = 'dmess/store/outbox-payload'

/** A message value as stored, body still sealed: status/read changes rewrite it without decrypting. */
export interface MessageValue {
  i: string
  d: Direction
  b: Uint8Array
  t: number
  r: number
  s: MessageStatus
  u: boolean
}

function messageAad (peer: string, seq: number, id: string): Uint8Array {
  return aad(AAD_MESSAGE_BODY, peer, seq, id)
}

export function sealMessage (cipher: RecordCipher, m: StoredMessage): MessageValue {
  return {
    i: m.id,
    d: m.direction,
    b: cipher.sealText(m.text, messageAad(m.peer, m.seq, m.id)),
    t: m.timestamp,
    r: m.receivedAt,
    s: m.status,
    u: m.read
  }
}

export function decodeMessageValue (value: Uint8Array, what: string): MessageValue {
  const v = decode<MessageValue>(value, what)
  if (typeof v?.i !== 'string' || !(v.b instanceof Uint8Array)) throw errors.STORE_CORRUPT(`${what}: not a message record`)
  return v
}

export function openMessage (cipher: RecordCipher, peer: string, seq: number, v: MessageValue): StoredMessage {
  const text = cipher.openText(v.b, messageAad(peer, seq, v.i), `message ${v.i}`)
  return { id: v.i, peer, direction: v.d, text, timestamp: v.t, receivedAt: v.r, status: v.s, read: v.u, seq }
}

/** The message's fields other than its text, for callers that only need metadata. */
interface ContactValue {
  n?: Uint8Array
  sp?: Uint8Array
  dp?: Uint8Array
  ds?: Uint8Array
  v: boolean
  a: number
  l?: number
}

export function encodeContact (cipher: RecordCipher, c: Contact): Uint8Array {
  const v: ContactValue = { v: c.verified, a: c.addedAt }
  if (c.name !== undefined) v.n = cipher.sealText(c.name, aad(AAD_CONTACT_NAME, c.fingerprint))
  if (c.signPublic) v.sp = c.signPublic
  if (c.dhPublic) v.dp = c.dhPublic
  if (c.dhSignature) v.ds = c.dhSignature
  if (c.lastSeen !== undefined) v.l = c.lastSeen
  return encode(v)
}

export function decodeContact (cipher: RecordCipher, fingerprint: string, value: Uint8Array): Contact {
  const what = `contact ${fingerprint}`
  const v = decode<ContactValue>(value, what)
  if (typeof v?.a !== 'number') throw errors.STORE_CORRUPT(`${what}: not a contact record`)
  const c: Contact = { fingerprint, verified: v.v === true, addedAt: v.a }
  if (v.n !== undefined) c.name = cipher.openText(v.n, aad(AAD_CONTACT_NAME, fingerprint), what)
  if (v.sp !== undefined) c.signPublic = bytes(v.sp, what)
  if (v.dp !== undefined) c.dhPublic = bytes(v.dp, what)
  if (v.ds !== undefined) c.dhSignature = bytes(v.ds, what)
  if (v.l !== undefined) c.lastSeen = v.l
  return c
}

interface OutboxValue {
  p: string
  b: Uint8Array
  a: number
  n: number
  c: number
}

export function encodeOutbox (cipher: RecordCipher, e: OutboxEntry): Uint8Array {
  const b = cipher.seal(e.payload, aad(AAD_OUTBOX_PAYLOAD, e.id, e.peer))
  return encode({ p: e.peer, b, a: e.attempts, n: e.nextAttemptAt, c: e.createdAt } satisfies OutboxValue)
}

export function decodeOutbox (cipher: RecordCipher, id: string, value: Uint8Array): OutboxEntry {
  const what = `outbox entry ${id}`
  const v = decode<OutboxValue>(value, what)
  if (typeof v?.p !== 'string' || !(v.b instanceof Uint8Array)) throw errors.STORE_CORRUPT(`${what}: not an outbox record`)
  const payload = cipher.open(v.b, aad(AAD_OUTBOX_PAYLOAD, id, v.p))
  if (payload === null) throw errors.STORE_CORRUPT(`${what}: encrypted field does not authenticate`)
  return { id, peer: v.p, payload, attempts: v.a, nextAttemptAt: v.n, createdAt: v.c }
}

/** msgindex value: where a message id lives, [peer, seq]. */
export function encodeLocation (peer: string, seq: number): Uint8Array {
  return encode([peer, seq])
}

export function decodeLocation (value: Uint8Array, id: string): { peer: string, seq: number } {
  const v = decode<[string, number]>(value, `msgindex ${id}`)
  if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'number') {
    throw errors.STORE_CORRUPT(`msgindex ${id}: not a location`)
  }
  return { peer: v[0], seq: v[1] }
}
