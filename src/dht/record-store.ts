// The records a node holds for others (dht.md §5.4, §8.3). Up to RECORDS_PER_KEY per key, one per
// period key: a storer cannot tell the owner's record from one a contact wrote under the same key,
// so it keeps both and lets readers pick (§5.3). Within a period key the newest seq wins. Each
// record is kept until min(its expiresAt, arrival + MAX_RECORD_TTL_MS); totals are bounded per
// node and per source IP, and per key each source subnet (/24, /48) holds at most one place.
import { compareRecords, type VerifiedRecord } from './records.js'
import { idToHex } from './ids.js'
import { formatHostPort, subnetOf } from '../io/address.js'
import { MAX_RECORDS, MAX_RECORDS_PER_SOURCE, MAX_RECORD_TTL_MS, RECORDS_PER_KEY } from './constants.js'

export interface StoredRecord {
  record: VerifiedRecord
  /** IP that stored it last: the unit of the per-source cap. */
  source: string
  /** When this node drops it. */
  until: number
  /** When a STORE last brought it (new, newer or identical): eviction takes the oldest (§5.4). */
  refreshedAt: number
}

export type PutResult = 'stored' | 'refreshed' | 'stale' | 'full'

export interface RecordStoreOptions {
  maxRecords?: number
  maxPerSource?: number
  maxTtlMs?: number
  /** Places per key (default RECORDS_PER_KEY). */
  perKey?: number
}

/** The /24 (IPv4) or /48 (IPv6) of a source IP (dht.md §8.2's subnet). */
function subnetOfHost (host: string): string {
  return subnetOf(formatHostPort({ host, port: 1 }))
}

const samePeriodKey = (a: StoredRecord, r: VerifiedRecord): boolean => Buffer.compare(a.record.periodPublic, r.periodPublic) === 0

export class RecordStore {
  readonly maxRecords: number
  readonly maxPerSource: number
  readonly maxTtlMs: number
  readonly perKey: number
  /** key (hex) → its records in the order they were admitted */
  readonly #keys = new Map<string, StoredRecord[]>()
  readonly #perSource = new Map<string, number>()
  #size = 0
  #evictions = 0

  constructor (opts: RecordStoreOptions = {}) {
    this.maxRecords = opts.maxRecords ?? MAX_RECORDS
    this.maxPerSource = opts.maxPerSource ?? MAX_RECORDS_PER_SOURCE
    this.maxTtlMs = opts.maxTtlMs ?? MAX_RECORD_TTL_MS
    this.perKey = opts.perKey ?? RECORDS_PER_KEY
  }

  /** Records held (all keys). */
  get size (): number { return this.#size }
  /** Records pushed out by a new period key when their key was full. */
  get evictions (): number { return this.#evictions }

  countFrom (source: string): number {
    return this.#perSource.get(source) ?? 0
  }

  /** The live records under `key`, in the order they were admitted (expired ones are dropped on the way). */
  list (key: Uint8Array, now: number): StoredRecord[] {
    const hex = idToHex(key)
    const slots = this.#keys.get(hex)
    if (slots === undefined) return []
    for (const s of slots.filter(s => s.until <= now)) this.#drop(hex, s)
    return [...(this.#keys.get(hex) ?? [])]
  }

  /** The first live record under `key` (the longest held), or undefined. */
  get (key: Uint8Array, now: number): StoredRecord | undefined {
    return this.list(key, now)[0]
  }

  /** Store a verified record that arrived from `source` (an IP). Replacement and eviction per dht.md §5.4. */
  put (record: VerifiedRecord, source: string, now: number): PutResult {
    const slots = this.list(record.key, now)
    const until = Math.min(record.expiresAt, now + this.maxTtlMs)
    const current = slots.find(s => samePeriodKey(s, record))
    if (current !== undefined) return this.#update(current, record, source, until, now)
    if (this.countFrom(source) >= this.maxPerSource) return 'full'
    const hex = idToHex(record.key)
    // one place per source subnet and key: a flood of period keys from one subnet replaces its own
    const subnet = subnetOfHost(source)
    const own = slots.filter(s => subnetOfHost(s.source) === subnet)
    if (own.length > 0) this.#evict(hex, own)
    else if (slots.length >= this.perKey) this.#evict(hex, slots)
    else if (this.#size >= this.maxRecords) return 'full'
    const held = this.#keys.get(hex) ?? []
    held.push({ record, source, until, refreshedAt: now })
    this.#keys.set(hex, held)
    this.#size++
    this.#add(source, 1)
    return 'stored'
  }

  #update (current: StoredRecord, record: VerifiedRecord, source: string, until: number, now: number): PutResult {
    const how = compareRecords(current.record, record)
    if (how === 'stale' || how === 'conflict') return 'stale'
    if (how === 'identical') {
      current.until = Math.max(current.until, until)
      current.refreshedAt = now
      return 'refreshed'
    }
    if (current.source !== source) {
      if (this.countFrom(source) >= this.maxPerSource) return 'full'
      this.#add(current.source, -1)
      this.#add(source, 1)
    }
    Object.assign(current, { record, source, until, refreshedAt: now })
    return 'stored'
  }

  /** Least recently refreshed first (dht.md §5.4 says why not the nearest expiry). */
  #evict (hex: string, among: StoredRecord[]): void {
    const victim = among.reduce((a, b) => b.refreshedAt < a.refreshedAt ? b : a)
    this.#drop(hex, victim)
    this.#evictions++
  }

  /** Drop everything expired; returns how many went. */
  sweep (now: number): number {
    let n = 0
    for (const [hex, slots] of [...this.#keys]) {
      for (const s of slots.filter(s => s.until <= now)) { this.#drop(hex, s); n++ }
    }
    return n
  }

  keys (): Uint8Array[] {
    return [...this.#keys.values()].map(slots => slots[0]!.record.key)
  }

  #add (source: string, d: number): void {
    const n = this.countFrom(source) + d
    if (n <= 0) this.#perSource.delete(source)
    else this.#perSource.set(source, n)
  }

  #drop (hex: string, s: StoredRecord): void {
    const slots = this.#keys.get(hex)
    const at = slots?.indexOf(s) ?? -1
    if (slots === undefined || at < 0) return
    slots.splice(at, 1)
    if (slots.length === 0) this.#keys.delete(hex)
    this.#size--
    this.#add(s.source, -1)
  }
}
