// Schema v3 record encodings (proto-spec/storage.md §Values, §Encryption, §Padding). Every value
// is one MessagePack map, padded to a size class and sealed whole with AAD naming its sublevel
// and key: statuses, times and flags are as hidden as bodies, and a value copied to another key
// does not open. Statuses and directions are small integers so that a status change never
// changes a record's length.
import { errors } from '../errors.js'
import { aad, bytes, decode, encode, encodeFlat } from './codec.js'
import type { RecordCipher } from './crypt.js'
import type { SUB } from './key-layout.js'
import type { Contact, Direction, MessageStatus, OutboxEntry, StoredMessage } from './types.js'

export type SubName = typeof SUB[keyof typeof SUB]

/** Size-class floors (§Padding): records holding user text, and fixed-shape index records. */
export const FLOOR_RECORD = 256
export const FLOOR_INDEX = 96
export const AAD_RECORD = 'dmess/store/v3/record'

const DIRECTIONS: readonly Direction[] = ['in', 'out']
const STATUSES: readonly MessageStatus[] = ['received', 'sending', 'sent', 'delivered', 'read']

/** Seal a whole value stored at `key` of sublevel `sub`. */
export function sealRecord (cipher: RecordCipher, sub: SubName, key: string, value: unknown, floor: number): Uint8Array {
  return sealEncoded(cipher, sub, key, encode(value), floor)
}

/** sealRecord for a value already encoded (encodeFlat). */
export function sealEncoded (cipher: RecordCipher, sub: SubName, key: string, content: Uint8Array, floor: number): Uint8Array {
  return cipher.sealValue(content, floor, aad(AAD_RECORD, sub, key))
}

/** Open and decode the value at `key` of `sub`; STORE_CORRUPT naming `what` if it does not. */
export function openRecord<T> (cipher: RecordCipher, sub: SubName, key: string, sealed: Uint8Array, what: string): T {
  const content = cipher.openValue(sealed, aad(AAD_RECORD, sub, key))
  if (content === null) throw errors.STORE_CORRUPT(`${what}: record does not authenticate`)
  const v = decode<T>(content, what)
  if (typeof v !== 'object' || v === null) throw errors.STORE_CORRUPT(`${what}: not a record`)
  return v
}

function need (ok: boolean, what: string, kind: string): void {
  if (!ok) throw errors.STORE_CORRUPT(`${what}: not a ${kind} record`)
}

// ---- messages ----
interface MessageValue { i: string, p: string, d: number, x: string, t: number, r: number, s: number, u: boolean }

export function messageValue (m: StoredMessage): MessageValue {
  return { i: m.id, p: m.peer, d: DIRECTIONS.indexOf(m.direction), x: m.text, t: m.timestamp, r: m.receivedAt, s: STATUSES.indexOf(m.status), u: m.read }
}

/** A decoded message value (from openRecord, or from an unauthenticated peek) → the message at `seq`. */
export function toMessage (v: Partial<MessageValue>, seq: number, what: string): StoredMessage {
  const direction = DIRECTIONS[v.d as number]
  const status = STATUSES[v.s as number]
  need(typeof v.i === 'string' && typeof v.p === 'string' && typeof v.x === 'string' && direction !== undefined &&
    status !== undefined && typeof v.t === 'number' && typeof v.r === 'number', what, 'message')
  return { id: v.i as string, peer: v.p as string, direction: direction as Direction, text: v.x as string, timestamp: v.t as number, receivedAt: v.r as number, status: status as MessageStatus, read: v.u === true, seq }
}

// ---- contacts ----
interface ContactValue { f: string, n?: string, sp?: Uint8Array, dp?: Uint8Array, ds?: Uint8Array, v: boolean, a: number, l?: number }

export function contactValue (c: Contact): ContactValue {
  const v: ContactValue = { f: c.fingerprint, v: c.verified, a: c.addedAt }
  if (c.name !== undefined) v.n = c.name
  if (c.signPublic) v.sp = c.signPublic
  if (c.dhPublic) v.dp = c.dhPublic
  if (c.dhSignature) v.ds = c.dhSignature
  if (c.lastSeen !== undefined) v.l = c.lastSeen
  return v
}

export function toContact (v: Partial<ContactValue>, what: string): Contact {
  need(typeof v.f === 'string' && typeof v.a === 'number' && (v.n === undefined || typeof v.n === 'string'), what, 'contact')
  const c: Contact = { fingerprint: v.f as string, verified: v.v === true, addedAt: v.a as number }
  if (v.n !== undefined) c.name = v.n
  if (v.sp !== undefined) c.signPublic = bytes(v.sp, what)
  if (v.dp !== undefined) c.dhPublic = bytes(v.dp, what)
  if (v.ds !== undefined) c.dhSignature = bytes(v.ds, what)
  if (v.l !== undefined) c.lastSeen = v.l
  return c
}

// ---- outbox ----
interface OutboxValue { i: string, p: string, b: Uint8Array, a: number, n: number, c: number }

export function outboxValue (e: OutboxEntry): OutboxValue {
  return { i: e.id, p: e.peer, b: e.payload, a: e.attempts, n: e.nextAttemptAt, c: e.createdAt }
}

export function toOutbox (v: Partial<OutboxValue>, what: string): OutboxEntry {
  need(typeof v.i === 'string' && typeof v.p === 'string' && typeof v.a === 'number' && typeof v.n === 'number' && typeof v.c === 'number', what, 'outbox')
  return { id: v.i as string, peer: v.p as string, payload: bytes(v.b, what), attempts: v.a as number, nextAttemptAt: v.n as number, createdAt: v.c as number }
}

// ---- small index records ----
/** msgindex (where an id lives) and convs (a conversation's peer and last seq): `{ p, s }` */
export interface PeerSeq { p: string, s: number }

export function toPeerSeq (v: Partial<PeerSeq>, what: string): PeerSeq {
  need(typeof v.p === 'string' && typeof v.s === 'number', what, 'location')
  return { p: v.p as string, s: v.s as number }
}

/**
 * An outbox entry kept in its message's msgindex entry (since v5, §Outbox): the entry's attempts,
 * nextAttemptAt and createdAt; what it sends is the message itself.
 */
export interface OutboxFold { a: number, n: number, c: number }

/**
 * msgindex since v4: where an id lives and, once it changed after the message was added, its
 * status (§Messages); since v5 also `o`, the outbox entry of an outbound text waiting for its
 * receipt (§Outbox).
 */
export interface Location { p: string, s: number, st?: MessageStatus, o?: OutboxFold }

export function toLocation (v: Partial<PeerSeq> & { st?: unknown, a?: unknown, n?: unknown, c?: unknown }, what: string): Location {
  const loc: Location = toPeerSeq(v, what)
  if (v.st !== undefined) {
    const st = STATUSES[v.st as number]
    need(st !== undefined, what, 'location')
    loc.st = st
  }
  if (v.a !== undefined || v.n !== undefined || v.c !== undefined) {
    need(typeof v.a === 'number' && typeof v.n === 'number' && typeof v.c === 'number', what, 'location')
    loc.o = { a: v.a as number, n: v.n as number, c: v.c as number }
  }
  return loc
}

export function locationValue (peer: string, seq: number, status?: MessageStatus, o?: OutboxFold): { p: string, s: number, st?: number, a?: number, n?: number, c?: number } {
  const v: { p: string, s: number, st?: number, a?: number, n?: number, c?: number } = { p: peer, s: seq }
  if (status !== undefined) v.st = STATUSES.indexOf(status)
  if (o !== undefined) { v.a = o.a; v.n = o.n; v.c = o.c }
  return v
}

/** locationValue encoded (the same MessagePack bytes, without msgpackr: encodeFlat). */
export function locationBytes (peer: string, seq: number, status?: MessageStatus, o?: OutboxFold): Uint8Array {
  return encodeFlat(locationValue(peer, seq, status, o))
}

/**
 * convs since v4: the peer, the last seq assigned, the read mark `w` (every inbound message with
 * seq ≤ w is read) and `n`, how many inbound messages above it are unread (§Messages). A v3
 * record has neither (the v3 → v4 migration adds them). Since v5 `o`, when present, is the lowest
 * seq of the conversation whose msgindex entry holds an outbox entry (§Outbox); in memory 0 stands
 * for none.
 */
export interface ConvState { s: number, w: number, n: number, o: number }

export function toConv (v: Partial<PeerSeq> & { w?: unknown, n?: unknown, o?: unknown }, what: string): PeerSeq & ConvState {
  const { p, s } = toPeerSeq(v, what)
  need(typeof v.w === 'number' && typeof v.n === 'number' && (v.o === undefined || (typeof v.o === 'number' && v.o >= 1)), what, 'conversation')
  return { p, s, w: v.w as number, n: v.n as number, o: (v.o as number | undefined) ?? 0 }
}

/** unread entry (schema v3 only): `{ s }`, the seq of an unread inbound message */
export function toSeq (v: { s?: unknown }, what: string): number {
  need(typeof v.s === 'number', what, 'unread')
  return v.s as number
}

/** blocklist: `{ f, a }` */
export function toBlocked (v: { f?: unknown, a?: unknown }, what: string): { fingerprint: string, blockedAt: number } {
  need(typeof v.f === 'string' && typeof v.a === 'number', what, 'blocklist')
  return { fingerprint: v.f as string, blockedAt: v.a as number }
}
