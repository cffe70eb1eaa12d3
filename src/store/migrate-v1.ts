// Schema v1 → v2 (proto-spec/storage.md §Schema v1, §Migration v1→v2).
// v1 keyed messages by the sender's timestamp (`<peer>!<timestamp hex16>!<id>`), so a peer with
// a wrong clock put its messages out of place, paging needed the id in the key, finding a
// message by id was a scan, and unread counts were a scan. It also kept contact names in
// plaintext. v2 gives every message a per-conversation seq, indexes ids and unread messages,
// and seals names. Messages keep their v1 (timestamp, id) order when numbered.
import { errors } from '../errors.js'
import { aad, decode, encode } from './codec.js'
import type { MigrationContext, BatchSink } from './migrations.js'
import { seqKey, SEP } from './key-layout.js'
import { encodeContactV2, encodeLocationV2, encodeMessageV2 } from './legacy-v2.js'
import type { Contact, Direction, MessageStatus, StoredMessage } from './types.js'

export const V1_AAD_MESSAGE_BODY = 'dmess/store/message-body/v1'

/** v1 message value: as v2 (the body sealed under the v1 AAD) */
interface MessageValueV1 { i: string, d: Direction, b: Uint8Array, t: number, r: number, s: MessageStatus, u: boolean }

interface ContactValueV1 {
  n?: string
  sp?: Uint8Array
  dp?: Uint8Array
  ds?: Uint8Array
  v: boolean
  a: number
  l?: number
}

/** `<peer>!<timestamp as 16 hex digits>!<id>` → peer and id */
function parseV1Key (key: string): { peer: string, id: string } {
  const a = key.indexOf(SEP)
  const b = a + 17
  if (a < 1 || key[b] !== SEP) throw errors.STORE_CORRUPT(`malformed v1 message key ${JSON.stringify(key)}`)
  return { peer: key.slice(0, a), id: key.slice(b + 1) }
}

async function migrateMessages (ctx: MigrationContext, batch: BatchSink): Promise<void> {
  const { subs, cipher } = ctx
  const lastSeq = new Map<string, number>()
  const seen = new Set<string>()
  // forward key order is per peer, by timestamp then id: the order v1 showed history in
  for await (const [key, value] of subs.messages.iterator()) {
    const { peer, id } = parseV1Key(key)
    const v = decode<MessageValueV1>(value, `v1 message ${key}`)
    const text = cipher.openText(v.b, aad(V1_AAD_MESSAGE_BODY, peer, id), `v1 message ${key}`)
    batch.del(subs.messages, key)
    if (seen.has(id)) continue // v1 could hold one id under two timestamps: keep the first
    seen.add(id)
    const seq = (lastSeq.get(peer) ?? 0) + 1
    lastSeq.set(peer, seq)
    const m: StoredMessage = { id, peer, direction: v.d, text, timestamp: v.t, receivedAt: v.r, status: v.s, read: v.u, seq }
    batch.put(subs.messages, seqKey(peer, seq), encodeMessageV2(cipher, m))
    batch.put(subs.msgindex, id, encodeLocationV2(peer, seq))
    if (m.direction === 'in' && !m.read) batch.put(subs.unread, seqKey(peer, seq), encode(id))
  }
  for (const [peer, seq] of lastSeq) batch.put(subs.convs, peer, encode({ s: seq }))
}

async function migrateContacts (ctx: MigrationContext, batch: BatchSink): Promise<void> {
  for await (const [fp, value] of ctx.subs.contacts.iterator()) {
    const v = decode<ContactValueV1>(value, `v1 contact ${fp}`)
    const c: Contact = { fingerprint: fp, verified: v.v === true, addedAt: v.a }
    if (typeof v.n === 'string') c.name = v.n
    if (v.sp !== undefined) c.signPublic = v.sp
    if (v.dp !== undefined) c.dhPublic = v.dp
    if (v.ds !== undefined) c.dhSignature = v.ds
    if (v.l !== undefined) c.lastSeen = v.l
    batch.put(ctx.subs.contacts, fp, encodeContactV2(ctx.cipher, c))
  }
}

export async function migrateV1toV2 (ctx: MigrationContext, batch: BatchSink): Promise<void> {
  await migrateMessages(ctx, batch)
  await migrateContacts(ctx, batch)
}
