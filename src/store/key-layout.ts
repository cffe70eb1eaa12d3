// Key layout of the store (proto-spec/storage.md §Keys). Only this file builds or parses keys.
import { errors } from '../errors.js'

/** Sublevel names; classic-level stores a key K of sublevel S as `!S!K`. */
export const SUB = {
  meta: 'meta',
  contacts: 'contacts',
  messages: 'messages',
  msgindex: 'msgindex',
  unread: 'unread',
  convs: 'convs',
  outbox: 'outbox',
  /** schema v1/v2 only: emptied by the v2 → v3 migration (the due-time index leaked times) */
  outboxdue: 'outboxdue',
  blocklist: 'blocklist',
  /** file transfers (proto-spec/files.md §5.1), added in schema v3 without a migration: absent means none */
  transfers: 'transfers',
  /** one record per peer: its Double Ratchet sessions (envelope.md §8.4); added in v3 with no migration (absent: none) */
  sessions: 'sessions',
  /** one record per peer: the last PQXDH bundle it sent (pqxdh.md §8); added in v3 with no migration (absent: none) */
  bundles: 'bundles'
} as const

export const META_SCHEMA_VERSION = 'schemaVersion'
export const META_KEY_CHECK = 'keyCheck'

/** Separator inside our own keys; never occurs in a fingerprint or in hex. */
export const SEP = '!'
/** Sorts after every hex digit and every fingerprint character: an exclusive upper bound. */
const HIGH = '~'
/** Fixed width of seq and time fields: 16 hex digits is 64 bits, lexicographic = numeric order. */
const HEX_WIDTH = 16

const FINGERPRINT_RE = /^[a-z0-9]{1,128}$/
const MAX_ID_LENGTH = 256

export function checkFingerprint (fp: unknown): string {
  if (typeof fp !== 'string' || !FINGERPRINT_RE.test(fp)) {
    throw errors.BAD_FINGERPRINT(`expected a fingerprint of 1–128 characters [a-z0-9], got ${JSON.stringify(fp)}`)
  }
  return fp
}

export function checkId (id: unknown, what = 'message id'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw errors.BAD_ARGUMENT(`expected a ${what} of 1–${MAX_ID_LENGTH} characters, got ${JSON.stringify(id)}`)
  }
  return id
}

export function checkTime (t: unknown, what: string): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
    throw errors.BAD_ARGUMENT(`expected ${what} as a non-negative integer of ms, got ${String(t)}`)
  }
  return t
}

export function hex (n: number): string {
  return n.toString(16).padStart(HEX_WIDTH, '0')
}

/** `<prefix>!<seq as 16 hex digits>`: v3 messages (prefix: a conversation tag), v2 messages and unread (prefix: the peer). */
export function seqKey (prefix: string, seq: number): string {
  return prefix + SEP + hex(seq)
}

export function parseSeqKey (key: string): { prefix: string, seq: number } {
  const at = key.length - HEX_WIDTH - 1
  if (at < 1 || key[at] !== SEP) throw errors.STORE_CORRUPT(`malformed message key ${JSON.stringify(key)}`)
  return { prefix: key.slice(0, at), seq: parseInt(key.slice(at + 1), 16) }
}

/** Iterator bounds for seqs under one prefix, exclusive at both ends: after < seq < before. */
export function seqRange (prefix: string, after?: number, before?: number): { gt: string, lt: string } {
  return {
    gt: after !== undefined ? seqKey(prefix, after) : prefix + SEP,
    lt: before !== undefined ? seqKey(prefix, before) : prefix + SEP + HIGH
  }
}

/**
 * Labels of the keyed hashes that stand for fingerprints and ids in keys (§Keys). One label per
 * kind of record, so the tag of a fingerprint in `contacts` cannot be matched with its tag in
 * `messages` or `blocklist` by someone without the key.
 */
export const TAG = {
  contact: 'dmess/store/v3/contact',
  blocked: 'dmess/store/v3/blocked',
  conversation: 'dmess/store/v3/conversation',
  messageId: 'dmess/store/v3/message-id',
  unread: 'dmess/store/v3/unread',
  unreadEntry: 'dmess/store/v3/unread-entry',
  outbox: 'dmess/store/v3/outbox',
  transfer: 'dmess/store/v3/transfer',
  session: 'dmess/store/v3/session',
  bundle: 'dmess/store/v3/bundle'
} as const

type Tagger = (label: string, ...parts: Array<string | number>) => string

/**
 * Every schema-v3 key (§Keys): keyed-hash tags of fingerprints and ids, and the per-conversation
 * seq (the only ordered part left). Conversation and unread-prefix tags are cached (one HMAC per
 * peer, not per message), and the tags of recent ids (one HMAC per id, not per lookup).
 */
export class KeyTags {
  private readonly convs = new Map<string, string>()
  private readonly unreads = new Map<string, string>()
  /** tags of recent message and outbox ids: a message's id is tagged at least three times in its first second */
  private readonly ids = new Map<string, string>()
  private readonly outboxIds = new Map<string, string>()

  constructor (private readonly tag: Tagger) {}

  contact (fp: string): string { return this.tag(TAG.contact, fp) }
  blocked (fp: string): string { return this.tag(TAG.blocked, fp) }
  session (fp: string): string { return this.tag(TAG.session, fp) }
  bundle (fp: string): string { return this.tag(TAG.bundle, fp) }
  messageId (id: string): string { return this.recentTag(this.ids, TAG.messageId, id) }
  outbox (id: string): string { return this.recentTag(this.outboxIds, TAG.outbox, id) }
  transfer (id: string): string { return this.tag(TAG.transfer, id) }

  /** convs key, and the prefix of the conversation's `messages` keys */
  conversation (peer: string): string {
    let t = this.convs.get(peer)
    if (t === undefined) {
      t = this.tag(TAG.conversation, peer)
      this.convs.set(peer, t)
    }
    return t
  }

  /** messages: `<conversation tag>!<seq as 16 hex digits>` */
  message (peer: string, seq: number): string { return seqKey(this.conversation(peer), seq) }

  messageRange (peer: string, after?: number, before?: number): { gt: string, lt: string } {
    return seqRange(this.conversation(peer), after, before)
  }

  /** unread: `<unread tag of peer>!<tag of (peer, seq)>`: grouped per conversation, in no telling order */
  unread (peer: string, seq: number): string {
    return this.unreadPrefix(peer) + SEP + this.tag(TAG.unreadEntry, peer, seq)
  }

  unreadRange (peer: string): { gt: string, lt: string } {
    const p = this.unreadPrefix(peer)
    return { gt: p + SEP, lt: p + SEP + HIGH }
  }

  private unreadPrefix (peer: string): string {
    let t = this.unreads.get(peer)
    if (t === undefined) {
      t = this.tag(TAG.unread, peer)
      this.unreads.set(peer, t)
    }
    return t
  }

  private recentTag (cache: Map<string, string>, label: string, id: string): string {
    let t = cache.get(id)
    if (t === undefined) {
      t = this.tag(label, id)
      cache.set(id, t)
      if (cache.size > RECENT_TAGS) cache.delete(cache.keys().next().value as string)
    }
    return t
  }
}

/** Message and outbox id tags kept (each ~150 bytes): the ids of the last few thousand messages. */
const RECENT_TAGS = 4096
