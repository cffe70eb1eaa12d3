// Full-text search over encrypted messages (proto-spec/storage.md §Search). Records are sealed,
// so there is no index to consult: this is one sequential pass over the message range, reading
// values in chunks and matching each body. A record is first decrypted without its tag (keystream
// only) and its body matched; only candidates are opened with the AEAD, so every result is authenticated.
// A tampered body is either not a candidate (missed) or fails to open (STORE_CORRUPT). One conversation is read newest first and
// stops at `limit`; all conversations are one forward pass keeping the newest `limit` matches.
import { errors } from '../errors.js'
import { tryDecode } from './codec.js'
import type { StoreContext } from './db.js'
import { checkFingerprint } from './key-layout.js'
import { checkLimit, type Messages } from './messages.js'
import type { SearchOptions, StoredMessage } from './types.js'

/** Entries read from LevelDB per native call. */
const CHUNK = 1024

/**
 * Case folding for matching: NFC so composed and decomposed accents match, then upper- and
 * lower-casing so 'ß' matches 'SS' and final sigma matches sigma (a cheap approximation of
 * Unicode full case folding, which JavaScript lacks).
 */
function fold (s: string): string {
  return s.normalize('NFC').toUpperCase().toLowerCase()
}

function newestFirst (a: StoredMessage, b: StoredMessage): number {
  return b.receivedAt - a.receivedAt || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : b.seq - a.seq)
}

/**
 * The body of a sealed message record, decrypted without its tag; '' when it does not even
 * decode (then it is no candidate: tampered, or not a message). Only a prefilter.
 */
function peekBody (ctx: StoreContext, value: Uint8Array): string {
  const content = ctx.cipher.peekValue(value)
  if (content === null) return ''
  const x = (tryDecode(content) as { x?: unknown } | null | undefined)?.x
  return typeof x === 'string' ? x : ''
}

export async function search (ctx: StoreContext, messages: Messages, query: string, opts: SearchOptions = {}): Promise<StoredMessage[]> {
  if (typeof query !== 'string' || query.length === 0) throw errors.BAD_ARGUMENT('search query is empty')
  const limit = checkLimit(opts.limit)
  const needle = fold(query)
  if (opts.peer !== undefined) {
    const peer = checkFingerprint(opts.peer)
    return await searchRange(ctx, messages, needle, limit, ctx.keys.messageRange(peer), peer)
  }
  return await searchRange(ctx, messages, needle, limit, {}, undefined)
}

/** With `peer`: that conversation newest first, stopping at `limit`; without: every message, one forward pass. */
async function searchRange (
  ctx: StoreContext, messages: Messages, needle: string, limit: number, range: { gt?: string, lt?: string }, peer: string | undefined
): Promise<StoredMessage[]> {
  const reverse = peer !== undefined
  const it = ctx.subs.messages.iterator({ ...range, reverse })
  let found: StoredMessage[] = []
  try {
    while (true) {
      const chunk = await it.nextv(CHUNK)
      if (chunk.length === 0) break
      for (const [key, value] of chunk) {
        // prefilter on the unauthenticated text (~3× cheaper than opening); open only candidates
        if (!fold(peekBody(ctx, value)).includes(needle)) continue
        const m = messages.open(key, value)
        if (peer !== undefined && m.peer !== peer) throw errors.STORE_CORRUPT(`message ${key} belongs to another conversation`)
        if (fold(m.text).includes(needle)) found.push(m)
      }
      // one conversation read newest first: the first `limit` matches are the answer
      if (reverse && found.length >= limit) return await messages.resolve(found.slice(0, limit))
      // all conversations: keep only the newest `limit` so memory stays bounded
      if (found.length > 4 * limit) found = found.sort(newestFirst).slice(0, limit)
    }
  } finally {
    await it.close()
  }
  // the records hold the status a message was added with: resolve the current one (§Messages)
  return await messages.resolve(reverse ? found.slice(0, limit) : found.sort(newestFirst).slice(0, limit))
}
