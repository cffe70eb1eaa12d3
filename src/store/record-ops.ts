// The puts that write each schema-v3 record under its key (proto-spec/storage.md §Keys,
// §Values): shared by the record modules and the v2 → v3 migration, so both write the same bytes.
import type { RecordCipher } from './crypt.js'
import type { Op, Subs } from './db.js'
import { SUB, type KeyTags } from './key-layout.js'
import {
  contactValue, FLOOR_INDEX, FLOOR_RECORD, locationBytes, messageValue, outboxValue, sealEncoded, sealRecord, type ConvState, type OutboxFold, type SubName
} from './records.js'
import type { Contact, MessageStatus, OutboxEntry, StoredMessage } from './types.js'

export interface OpsContext { subs: Subs, cipher: RecordCipher, keys: KeyTags }

function put (ctx: OpsContext, sub: keyof Subs & SubName, key: string, value: unknown, floor: number): Op {
  return { type: 'put', sublevel: ctx.subs[sub], key, value: sealRecord(ctx.cipher, sub, key, value, floor) }
}

/** The message record, written once when the message is added (its status and read flag as they were then). */
export function messageOp (ctx: OpsContext, m: StoredMessage): Op {
  return put(ctx, SUB.messages, ctx.keys.message(m.peer, m.seq), messageValue(m), FLOOR_RECORD)
}

/**
 * msgindex: where message `id` lives and, after a change, its status (a status change writes only
 * this); `o`, the outbox entry it holds (since v5).
 */
export function locationOp (ctx: OpsContext, id: string, peer: string, seq: number, status?: MessageStatus, o?: OutboxFold): Op {
  const key = ctx.keys.messageId(id)
  return { type: 'put', sublevel: ctx.subs.msgindex, key, value: sealEncoded(ctx.cipher, SUB.msgindex, key, locationBytes(peer, seq, status, o), FLOOR_INDEX) }
}

/** A new message: its record and its msgindex entry. */
export function addMessageOps (ctx: OpsContext, m: StoredMessage): Op[] {
  return [messageOp(ctx, m), locationOp(ctx, m.id, m.peer, m.seq)]
}

/** Schema v3's unread entry of an inbound message not yet read (written by the v2 → v3 migration only). */
export function unreadOpV3 (ctx: OpsContext, peer: string, seq: number): Op {
  return put(ctx, SUB.unread, ctx.keys.unread(peer, seq), { s: seq }, FLOOR_INDEX)
}

/** The conversation's peer, last assigned seq and (since v4) read mark and unread count; v3's record has only `p` and `s`. */
export function conversationOp (ctx: OpsContext, peer: string, c: Pick<ConvState, 's'> & Partial<ConvState>): Op {
  const v = c.w === undefined ? { p: peer, s: c.s } : c.o === undefined || c.o === 0 ? { p: peer, s: c.s, w: c.w, n: c.n } : { p: peer, s: c.s, w: c.w, n: c.n, o: c.o }
  return put(ctx, SUB.convs, ctx.keys.conversation(peer), v, FLOOR_INDEX)
}

export function contactOp (ctx: OpsContext, c: Contact): Op {
  return put(ctx, SUB.contacts, ctx.keys.contact(c.fingerprint), contactValue(c), FLOOR_RECORD)
}

export function outboxOp (ctx: OpsContext, e: OutboxEntry): Op {
  return put(ctx, SUB.outbox, ctx.keys.outbox(e.id), outboxValue(e), FLOOR_RECORD)
}

export function blockedOp (ctx: OpsContext, fingerprint: string, blockedAt: number): Op {
  return put(ctx, SUB.blocklist, ctx.keys.blocked(fingerprint), { f: fingerprint, a: blockedAt }, FLOOR_INDEX)
}
