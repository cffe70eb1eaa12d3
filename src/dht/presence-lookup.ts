// A reader's presence lookup (dht.md §5.1, §5.3): the fingerprint gives this period's DHT key;
// the record found there must open under the fingerprint. Near a period boundary the owner's and
// the reader's clocks may disagree about the period, and the owner publishes the next period's
// record ahead of time, so when the current period gives nothing the adjacent one (the previous in
// the first half of a period, the next in the second) is asked too.
import { periodOf, periodStartMs, presenceKey } from './presence-keys.js'
import { openPresenceRecord, type OpenedPresence } from './presence-seal.js'
import { PRESENCE_PERIOD_MS } from './constants.js'
import type { LookupOptions } from './node.js'
import type { LookupResult } from './lookup-run.js'
import type { VerifiedRecord } from './records.js'
import { BoundedCache } from '../runtime/bounded-cache.js'

/** What findPresence needs of a DhtNode. */
export interface ValueFinder {
  findValue: (key: Uint8Array, opts: LookupOptions & { exhaustive?: boolean, accept?: (r: VerifiedRecord) => boolean }) => Promise<LookupResult>
}

/** The periods a reader asks at `now`, in order: the current one, then the adjacent one. */
export function lookupPeriods (now: number): number[] {
  const p = periodOf(now)
  const firstHalf = now - periodStartMs(p) < PRESENCE_PERIOD_MS / 2
  return [p, firstHalf ? p - 1 : p + 1].filter(x => x >= 0)
}

/** `onLookup`: told of each period's lookup as it ends (its counts and duration, for the log). */
export type PresenceLookupOptions = LookupOptions & { exhaustive?: boolean, onLookup?: (r: LookupResult, period: number) => void }

export async function findPresence (node: ValueFinder, fingerprint: string, now: number, options: PresenceLookupOptions = {}): Promise<OpenedPresence | null> {
  const { onLookup, ...opts } = options
  for (const period of lookupPeriods(now)) {
    // a record under this key that does not open (not the owner's: anyone who knows the
    // fingerprint can write there) is passed over and the lookup goes on
    const open = openedOnce(fingerprint, period)
    const accept = (r: VerifiedRecord): boolean => open(r) !== null
    const r = await node.findValue(presenceKey(fingerprint, period), { ...opts, accept })
    onLookup?.(r, period)
    const found = r.record === null ? null : open(r.record)
    if (found !== null) return found
  }
  return null
}

/**
 * openPresenceRecord for one lookup, each distinct record opened once: the same record comes back
 * from up to k storers (dht.md §5.3), and opening it costs an AEAD, the identity binding and the
 * period certificate (three curve operations). Across lookups too (openedRecord): every contact
 * that looks a node up during a period finds the same record. Keyed by the exact bytes, so any
 * other record is opened afresh; a lookup holds at most the records its VALUEs carried.
 */
function openedOnce (fingerprint: string, period: number): (r: VerifiedRecord) => OpenedPresence | null {
  const opened = new Map<string, OpenedPresence | null>()
  return r => {
    const id = latin1(r.bytes)
    let o = opened.get(id)
    if (o === undefined) {
      o = openedRecord(r, id, fingerprint, period)
      opened.set(id, o)
    }
    return o
  }
}

/**
 * What a record opens to is a function of its DHT key, its exact bytes, the fingerprint and the
 * period alone (openPresenceRecord checks no clock: the record's expiry is the verifier's,
 * records.ts), so it is kept process-wide like the presence keys (presence-keys.ts), the most
 * recent OPENED_CACHE_SIZE, failures too. A daemon opens its contacts' records again at every
 * lookup of the period (each reconnect); in a testnet's one process, every contact of a node
 * opened that node's one record (19 of them each spent the same three curve operations in the
 * 50-node simulation). Each caller gets a copy of its own: nothing it does to the result reaches
 * another.
 */
export const OPENED_CACHE_SIZE = 1024
const openedCache = new BoundedCache<string, OpenedPresence | null>(OPENED_CACHE_SIZE)

function openedRecord (r: VerifiedRecord, bytesId: string, fingerprint: string, period: number): OpenedPresence | null {
  const id = `${fingerprint} ${period} ${latin1(r.key)}${bytesId}`
  const o = openedCache.getOrSet(id, () => openPresenceRecord(r, fingerprint, period))
  return o === null ? null : copyOpened(o)
}

function copyOpened (o: OpenedPresence): OpenedPresence {
  const { signPublic, dhPublic, dhSignature } = o.publicIdentity
  return {
    ...o,
    publicIdentity: { signPublic: signPublic.slice(), dhPublic: dhPublic.slice(), dhSignature: dhSignature.slice() },
    addresses: o.addresses.map(a => ({ ...a })),
    ...(o.rendezvous === undefined ? {} : { rendezvous: o.rendezvous.map(e => ({ ...e, tag: e.tag.slice() })) }),
    key: o.key.slice()
  }
}

/** Forgets every opened record (clearDhtMemos, src/dht/ids.ts, and tests; the memo only saves work). */
export function clearOpenedRecords (): void {
  openedCache.clear()
}

/** How many opened records (or failures) are kept (tests of clearDhtMemos). */
export function openedRecordsHeld (): number { return openedCache.size }

function latin1 (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')
}
