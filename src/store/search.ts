// Full-text search over encrypted bodies (proto-spec/storage.md §Search). Bodies are sealed, so
// there is no index to consult: this is one sequential pass over the message range, reading
// values in chunks and matching each body. A body is first decrypted without its tag (keystream
// only) and matched; only candidates are opened with the AEAD, so every result is authenticated.
// A tampered body is either not a candidate (missed) or fails to open (STORE_CORRUPT). One conversation is read newest first and
// stops at `limit`; all conversations are one forward pass keeping the newest `limit` matches.
import { errors } from '../errors.js'
import type { StoreContext } from './db.js'
import { checkFingerprint, parseSeqKey, seqRange } from './key-layout.js'
import { checkLimit } from './messages.js'
import { decodeMessageValue, openMessage } from './records.js'
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

export async function search (ctx: StoreContext, query: string, opts: SearchOptions = {}): Promise<StoredMessage[]> {
  if (typeof query !== 'string' || query.length === 0) throw errors.BAD_ARGUMENT('search query is empty')
  const limit = checkLimit(opts.limit)
  const needle = fold(query)
  if (opts.peer !== undefined) return await searchRange(ctx, needle, limit, seqRange(checkFingerprint(opts.peer)), true)
  return await searchRange(ctx, needle, limit, {}, false)
}

async function searchRange (
  ctx: StoreContext, needle: string, limit: number, range: { gt?: string, lt?: string }, reverse: boolean
): Promise<StoredMessage[]> {
  const it = ctx.subs.messages.iterator({ ...range, reverse })
  let found: StoredMessage[] = []
  try {
    while (true) {
      const chunk = await it.nextv(CHUNK)
      if (chunk.length === 0) break
      for (const [key, value] of chunk) {
        const v = decodeMessageValue(value, `message ${key}`)
        // prefilter on the unauthenticated text (~3× cheaper than opening); open only candidates
        if (!fold(ctx.cipher.peekText(v.b)).includes(needle)) continue
        const { peer, seq } = parseSeqKey(key)
        const m = openMessage(ctx.cipher, peer, seq, v)
        if (fold(m.text).includes(needle)) found.push(m)
      }
      // one conversation read newest first: the first `limit` matches are the answer
      if (reverse && found.length >= limit) return found.slice(0, limit)
      // all conversations: keep only the newest `limit` so memory stays bounded
      if (found.length > 4 * limit) found = found.sort(newestFirst).slice(0, limit)
    }
  } finally {
    await it.close()
  }
  return reverse ? found.slice(0, limit) : found.sort(newestFirst).slice(0, limit)
}
