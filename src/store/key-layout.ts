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
  outboxdue: 'outboxdue',
  blocklist: 'blocklist'
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

/** messages and unread: `<peer>!<seq as 16 hex digits>` */
export function seqKey (peer: string, seq: number): string {
  return peer + SEP + hex(seq)
}

export function parseSeqKey (key: string): { peer: string, seq: number } {
  const at = key.length - HEX_WIDTH - 1
  if (at < 1 || key[at] !== SEP) throw errors.STORE_CORRUPT(`malformed message key ${JSON.stringify(key)}`)
  return { peer: key.slice(0, at), seq: parseInt(key.slice(at + 1), 16) }
}

/** Iterator bounds for seqs of one peer, exclusive at both ends: after < seq < before. */
export function seqRange (peer: string, after?: number, before?: number): { gt: string, lt: string } {
  return {
    gt: after !== undefined ? seqKey(peer, after) : peer + SEP,
    lt: before !== undefined ? seqKey(peer, before) : peer + SEP + HIGH
  }
}

/** outboxdue: `<nextAttemptAt as 16 hex digits>!<id>` */
export function dueKey (nextAttemptAt: number, id: string): string {
  return hex(nextAttemptAt) + SEP + id
}

export function parseDueKey (key: string): string {
  return key.slice(HEX_WIDTH + 1)
}

/** Upper bound (exclusive) for outboxdue entries due at or before `t`, whatever the id holds. */
export function dueUpTo (t: number): string {
  return hex(t + 1)
}
