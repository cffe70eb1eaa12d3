// The messaging IPC methods (proto-spec/ipc.md §4, proto-spec/messaging.md §9), registered in
// rpc-methods.ts's table. History, search and conversations read the store only, so they also
// run when a command opens the store itself (no daemon); the rest need the running daemon's
// messaging service and say so otherwise. Parameters are checked here; semantics live in
// src/messaging/actions.ts. (Only types come from rpc-methods.ts: it imports this file.)
import { errors } from '../errors.js'
import { resolveContact, MIN_PREFIX_CHARS } from '../app/contacts.js'
import { isFingerprint, parseFingerprint } from '../crypto/identity.js'
import { contactJson, type ContactJson } from '../app/contact-json.js'
import type { Store } from '../store/index.js'
import { messageJson, type MessageJson, type PeerJson, type RequestJson } from '../messaging/json.js'
import type { MessagingActions, RequestCounts, SendResult } from '../messaging/actions.js'
import { MAX_WAIT_MS } from '../messaging/constants.js'
import type { WaitTarget } from '../messaging/waiters.js'
import { invalidParams } from './protocol.js'
import type { MethodContext } from './rpc-methods.js'

type P = Record<string, unknown>
type Empty = Record<string, never>

export interface SearchHit extends MessageJson { peer: string, name: string | null }
export interface ConversationJson { peer: string, name: string | null, unread: number, lastMessage: MessageJson }
export interface BlockedJson { fingerprint: string, blockedAt: string, name: string | null }

/** Params and results: merged into RpcSpec (rpc-methods.ts). */
export interface MessagingSpec {
  'messages.send': { params: { contact: string, text: string, wait?: WaitTarget, timeoutMs?: number }, result: SendResult }
  'messages.sendMany': { params: { contact: string, texts: string[] }, result: SendResult[] }
  'messages.history': { params: { contact: string, limit?: number, before?: number }, result: { peer: string, contact: ContactJson | null, messages: MessageJson[] } }
  'messages.read': { params: { contact: string }, result: { contact: ContactJson, marked: number } }
  'messages.search': { params: { query: string, contact?: string, limit?: number }, result: SearchHit[] }
  'messages.conversations': { params: Empty, result: ConversationJson[] }
  'messages.typing': { params: { contact: string, typing: boolean }, result: { sent: boolean } }
  'presence.set': { params: { state: 'online' | 'away' }, result: { state: 'online' | 'away', told: number } }
  'peers.list': { params: Empty, result: PeerJson[] }
  'requests.list': { params: Empty, result: RequestJson[] }
  'requests.counts': { params: Empty, result: RequestCounts }
  'requests.accept': { params: { fingerprint: string }, result: { contact: ContactJson, messages: number } }
  'requests.decline': { params: { fingerprint: string }, result: { fingerprint: string, messages: number } }
  'contacts.block': { params: { contact: string }, result: { fingerprint: string, changed: boolean } }
  'contacts.unblock': { params: { contact: string }, result: { fingerprint: string, changed: boolean } }
  'contacts.blocked': { params: Empty, result: BlockedJson[] }
  'messaging.stats': { params: { peer?: string }, result: Record<string, unknown> }
}

// ---- parameter checks (INVALID_PARAMS, never another kind of error) ----

const MAX_STRING_BYTES = 128 * 1024 // a TEXT is at most 64 KiB

function str (p: P, key: string): string {
  const v = p[key]
  if (typeof v !== 'string') throw invalidParams(`"${key}" must be a string`)
  if (Buffer.byteLength(v) > MAX_STRING_BYTES) throw invalidParams(`"${key}" is longer than ${MAX_STRING_BYTES} bytes`)
  return v
}

function optStr (p: P, key: string): string | undefined {
  return p[key] === undefined ? undefined : str(p, key)
}

function optInt (p: P, key: string, min: number, max: number): number | undefined {
  const v = p[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw invalidParams(`"${key}" must be an integer ${min}–${max}`)
  return v
}

/** Texts per `messages.sendMany` call at most (the request line's 256 KiB bounds their bytes). */
export const SEND_MANY_MAX = 1000

function strings (p: P, key: string, max: number): string[] {
  const v = p[key]
  if (!Array.isArray(v) || v.length === 0 || v.length > max) throw invalidParams(`"${key}" must be an array of 1–${max} strings`)
  return (v as unknown[]).map((x, i) => str({ [`${key}[${i}]`]: x }, `${key}[${i}]`))
}

function bool (p: P, key: string): boolean {
  const v = p[key]
  if (typeof v !== 'boolean') throw invalidParams(`"${key}" must be true or false`)
  return v
}

function oneOf<T extends string> (p: P, key: string, values: readonly T[], required: boolean): T | undefined {
  const v = p[key]
  if (v === undefined && !required) return undefined
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalidParams(`"${key}" must be one of ${values.join(', ')}`)
  return v as T
}

function needMessaging (ctx: MethodContext): MessagingActions {
  if (ctx.messaging === undefined) throw errors.DAEMON_NOT_RUNNING('this needs a running daemon (start one with `dmess daemon --detach`)')
  return ctx.messaging
}

/** A contact by fingerprint, prefix or name; a full fingerprint also names a former contact's conversation. */
async function conversationPeer (store: Store, query: string): Promise<{ peer: string, contact: ContactJson | null }> {
  const q = query.trim()
  if (isFingerprint(q)) {
    const fp = parseFingerprint(q)
    const c = await store.getContact(fp)
    return { peer: fp, contact: c === undefined ? null : contactJson(c) }
  }
  try {
    const c = await resolveContact(store, q)
    return { peer: c.fingerprint, contact: contactJson(c) }
  } catch (err) {
    if ((err as { code?: string }).code !== 'CONTACT_NOT_FOUND') throw err
    // a removed contact's conversation stays in the store: a fingerprint prefix finds it
    const peer = await formerPeer(store, q)
    if (peer === undefined) throw err
    return { peer, contact: null }
  }
}

/** The one conversation with someone no longer a contact whose fingerprint starts with `q` (≥ MIN_PREFIX_CHARS). */
async function formerPeer (store: Store, q: string): Promise<string | undefined> {
  const prefix = q.toLowerCase().replace(/[\s-]+/g, '')
  if (prefix.length < MIN_PREFIX_CHARS) return undefined
  const hits = (await store.conversations()).map(c => c.peer).filter(p => p.startsWith(prefix))
  if (hits.length > 1) throw errors.CONTACT_AMBIGUOUS(`"${q}" matches ${hits.length} conversations; type more of the fingerprint`)
  return hits[0]
}

// ---- methods ----

async function history (ctx: MethodContext, p: P): Promise<MessagingSpec['messages.history']['result']> {
  const { peer, contact } = await conversationPeer(ctx.store, str(p, 'contact'))
  const page = await ctx.store.history(peer, { limit: optInt(p, 'limit', 1, 10_000), before: optInt(p, 'before', 1, Number.MAX_SAFE_INTEGER) })
  return { peer, contact, messages: page.reverse().map(messageJson) } // oldest first, as read
}

async function search (ctx: MethodContext, p: P): Promise<SearchHit[]> {
  const query = str(p, 'query')
  if (query.trim().length === 0) throw errors.BAD_ARGUMENT('the search text is empty')
  const who = optStr(p, 'contact')
  const peer = who === undefined ? undefined : (await conversationPeer(ctx.store, who)).peer
  const hits = await ctx.store.search(query, { peer, limit: optInt(p, 'limit', 1, 10_000) })
  const names = new Map((await ctx.store.listContacts()).map(c => [c.fingerprint, c.name ?? null]))
  return hits.map(m => ({ ...messageJson(m), peer: m.peer, name: names.get(m.peer) ?? null }))
}

async function conversations (ctx: MethodContext): Promise<ConversationJson[]> {
  const names = new Map((await ctx.store.listContacts()).map(c => [c.fingerprint, c.name ?? null]))
  return (await ctx.store.conversations()).map(c => ({ peer: c.peer, name: names.get(c.peer) ?? null, unread: c.unread, lastMessage: messageJson(c.lastMessage) }))
}

const WAITS = ['sent', 'delivered', 'read'] as const

type Handler = (ctx: MethodContext, p: P) => Promise<unknown>

export const MESSAGING_METHODS: Record<keyof MessagingSpec, Handler> = {
  'messages.send': async (ctx, p) => await needMessaging(ctx).send(str(p, 'contact'), str(p, 'text'), oneOf(p, 'wait', WAITS, false), optInt(p, 'timeoutMs', 1, MAX_WAIT_MS)),
  'messages.sendMany': async (ctx, p) => {
    const [contact, texts] = [str(p, 'contact'), strings(p, 'texts', SEND_MANY_MAX)]
    return await needMessaging(ctx).sendMany(contact, texts)
  },
  'messages.history': history,
  'messages.read': async (ctx, p) => await needMessaging(ctx).markRead(str(p, 'contact')),
  'messages.search': search,
  'messages.conversations': conversations,
  'messages.typing': async (ctx, p) => await needMessaging(ctx).typing(str(p, 'contact'), bool(p, 'typing')),
  'presence.set': async (ctx, p) => await needMessaging(ctx).setPresence(oneOf(p, 'state', ['online', 'away'] as const, true) ?? 'online'),
  'peers.list': async ctx => needMessaging(ctx).peers(),
  'requests.list': async ctx => needMessaging(ctx).requests(),
  'requests.counts': async ctx => needMessaging(ctx).requestCounts(),
  'requests.accept': async (ctx, p) => await needMessaging(ctx).accept(str(p, 'fingerprint')),
  'requests.decline': async (ctx, p) => await needMessaging(ctx).decline(str(p, 'fingerprint')),
  'contacts.block': async (ctx, p) => await needMessaging(ctx).block(str(p, 'contact')),
  'contacts.unblock': async (ctx, p) => await needMessaging(ctx).unblock(str(p, 'contact')),
  'contacts.blocked': async ctx => await needMessaging(ctx).blocked(),
  'messaging.stats': async (ctx, p) => needMessaging(ctx).stats(optStr(p, 'peer'))
}
