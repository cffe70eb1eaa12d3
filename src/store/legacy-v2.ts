// Schema v2 records (proto-spec/storage.md §Schema v2), frozen: the v1 → v2 migration writes
// them and the v2 → v3 migration reads them. v2 sealed only bodies, names and payloads; keys and
// the rest of each value were plaintext.
import { errors } from '../errors.js'
import { aad, bytes, decode, encode } from './codec.js'
import type { RecordCipher } from './crypt.js'
import type { Contact, Direction, MessageStatus, OutboxEntry, StoredMessage } from './types.js'

const AAD_MESSAGE_BODY = 'dmess/store/message-body'
const AAD_CONTACT_NAME = 'dmess/store/contact-name'
const AAD_OUTBOX_PAYLOAD = 'dmess/store/outbox-payload'

interface MessageValueV2 { i: string, d: Direction, b: Uint8Array, t: number, r: number, s: MessageStatus, u: boolean }
interface ContactValueV2 { n?: Uint8Array, sp?: Uint8Array, dp?: Uint8Array, ds?: Uint8Array, v: boolean, a: number, l?: number }
interface OutboxValueV2 { p: string, b: Uint8Array, a: number, n: number, c: number }

export function encodeMessageV2 (cipher: RecordCipher, m: StoredMessage): Uint8Array {
  const b = cipher.sealText(m.text, aad(AAD_MESSAGE_BODY, m.peer, m.seq, m.id))
  return encode({ i: m.id, d: m.direction, b, t: m.timestamp, r: m.receivedAt, s: m.status, u: m.read } satisfies MessageValueV2)
}

/** A v2 `messages` value at `<peer>!<hex16(seq)>`; STORE_CORRUPT if it does not decode or open. */
export function decodeMessageV2 (cipher: RecordCipher, peer: string, seq: number, value: Uint8Array): StoredMessage {
  const what = `v2 message ${peer}/${seq}`
  const v = decode<MessageValueV2>(value, what)
  if (typeof v?.i !== 'string') throw errors.STORE_CORRUPT(`${what}: not a message record`)
  const text = cipher.openText(v.b, aad(AAD_MESSAGE_BODY, peer, seq, v.i), what)
  return { id: v.i, peer, direction: v.d, text, timestamp: v.t, receivedAt: v.r, status: v.s, read: v.u, seq }
}

export function encodeContactV2 (cipher: RecordCipher, c: Contact): Uint8Array {
  const v: ContactValueV2 = { v: c.verified, a: c.addedAt }
  if (c.name !== undefined) v.n = cipher.sealText(c.name, aad(AAD_CONTACT_NAME, c.fingerprint))
  if (c.signPublic) v.sp = c.signPublic
  if (c.dhPublic) v.dp = c.dhPublic
  if (c.dhSignature) v.ds = c.dhSignature
  if (c.lastSeen !== undefined) v.l = c.lastSeen
  return encode(v)
}

export function decodeContactV2 (cipher: RecordCipher, fingerprint: string, value: Uint8Array): Contact {
  const what = `v2 contact ${fingerprint}`
  const v = decode<ContactValueV2>(value, what)
  if (typeof v?.a !== 'number') throw errors.STORE_CORRUPT(`${what}: not a contact record`)
  const c: Contact = { fingerprint, verified: v.v === true, addedAt: v.a }
  if (v.n !== undefined) c.name = cipher.openText(v.n, aad(AAD_CONTACT_NAME, fingerprint), what)
  if (v.sp !== undefined) c.signPublic = bytes(v.sp, what)
  if (v.dp !== undefined) c.dhPublic = bytes(v.dp, what)
  if (v.ds !== undefined) c.dhSignature = bytes(v.ds, what)
  if (v.l !== undefined) c.lastSeen = v.l
  return c
}

export function decodeOutboxV2 (cipher: RecordCipher, id: string, value: Uint8Array): OutboxEntry {
  const what = `v2 outbox entry ${id}`
  const v = decode<OutboxValueV2>(value, what)
  if (typeof v?.p !== 'string' || !(v.b instanceof Uint8Array)) throw errors.STORE_CORRUPT(`${what}: not an outbox record`)
  const payload = cipher.open(v.b, aad(AAD_OUTBOX_PAYLOAD, id, v.p))
  if (payload === null) throw errors.STORE_CORRUPT(`${what}: encrypted field does not authenticate`)
  return { id, peer: v.p, payload, attempts: v.a, nextAttemptAt: v.n, createdAt: v.c }
}

/** msgindex value: [peer, seq] */
export function encodeLocationV2 (peer: string, seq: number): Uint8Array {
  return encode([peer, seq])
}

/** convs value `{ s: lastSeq }` */
export function decodeConvV2 (peer: string, value: Uint8Array): number {
  const s = decode<{ s?: unknown }>(value, `v2 conversation ${peer}`)?.s
  if (typeof s !== 'number') throw errors.STORE_CORRUPT(`v2 conversation ${peer}: not a counter`)
  return s
}

/** blocklist value `{ a: blockedAt }` */
export function decodeBlockedV2 (fp: string, value: Uint8Array): number {
  const a = decode<{ a?: unknown }>(value, `v2 blocklist ${fp}`)?.a
  if (typeof a !== 'number') throw errors.STORE_CORRUPT(`v2 blocklist ${fp}: not a block record`)
  return a
}
