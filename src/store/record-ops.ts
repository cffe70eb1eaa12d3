// The puts that write each schema-v3 record under its key (proto-spec/storage.md §Keys,
// §Values): shared by the record modules and the v2 → v3 migration, so both write the same bytes.
import type { RecordCipher } from './crypt.js'
import type { Op, Subs } from './db.js'
import { SUB, type KeyTags } from './key-layout.js'
import {
  contactValue, FLOOR_INDEX, FLOOR_RECORD, messageValue, outboxValue, sealRecord, type PeerSeq, type SubName
} from './records.js'
import type { Contact, OutboxEntry, StoredMessage } from './types.js'

export interface OpsContext { subs: Subs, cipher: RecordCipher, keys: KeyTags }

function put (ctx: OpsContext, sub: keyof Subs & SubName, key: string, value: unknown, floor: number): Op {
  return { type: 'put', sublevel: ctx.subs[sub], key, value: sealRecord(ctx.cipher, sub, key, value, floor) }
}

/** The message record alone (a status or read change rewrites only this). */
export function messageOp (ctx: OpsContext, m: StoredMessage): Op {
  return put(ctx, SUB.messages, ctx.keys.message(m.peer, m.seq), messageValue(m), FLOOR_RECORD)
}

/** A new message: its record, its msgindex entry and, if inbound and unread, its unread entry. */
export function addMessageOps (ctx: OpsContext, m: StoredMessage): Op[] {
  const ops = [messageOp(ctx, m), put(ctx, SUB.msgindex, ctx.keys.messageId(m.id), { p: m.peer, s: m.seq } satisfies PeerSeq, FLOOR_INDEX)]
  if (m.direction === 'in' && !m.read) ops.push(put(ctx, SUB.unread, ctx.keys.unread(m.peer, m.seq), { s: m.seq }, FLOOR_INDEX))
  return ops
}

/** The conversation's peer and last assigned seq. */
export function conversationOp (ctx: OpsContext, peer: string, lastSeq: number): Op {
  return put(ctx, SUB.convs, ctx.keys.conversation(peer), { p: peer, s: lastSeq } satisfies PeerSeq, FLOOR_INDEX)
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
