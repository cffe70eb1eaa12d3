// The records a node holds for others (dht.md §5.4, §8.3): one per key, newest seq wins, each
// kept until min(its expiresAt, arrival + MAX_RECORD_TTL_MS), bounded in total and per source IP.
import { compareRecords, type VerifiedRecord } from './records.js'
import { idToHex } from './ids.js'
import { MAX_RECORDS, MAX_RECORDS_PER_SOURCE, MAX_RECORD_TTL_MS } from './constants.js'

export interface StoredRecord {
  record: VerifiedRecord
  /** IP that stored it: the unit of the per-source cap. */
  source: string
  /** When this node drops it. */
  until: number
}

export type PutResult = 'stored' | 'refreshed' | 'stale' | 'full'

export interface RecordStoreOptions {
  maxRecords?: number
  maxPerSource?: number
  maxTtlMs?: number
}

export class RecordStore {
  readonly maxRecords: number
  readonly maxPerSource: number
  readonly maxTtlMs: number
  readonly #records = new Map<string, StoredRecord>()
  readonly #perSource = new Map<string, number>()

  constructor (opts: RecordStoreOptions = {}) {
    this.maxRecords = opts.maxRecords ?? MAX_RECORDS
    this.maxPerSource = opts.maxPerSource ?? MAX_RECORDS_PER_SOURCE
    this.maxTtlMs = opts.maxTtlMs ?? MAX_RECORD_TTL_MS
  }

  get size (): number { return this.#records.size }

  countFrom (source: string): number {
    return this.#perSource.get(source) ?? 0
  }

  /** The live record under `key`, or undefined (an expired one is dropped on the way). */
  get (key: Uint8Array, now: number): StoredRecord | undefined {
    const hex = idToHex(key)
    const s = this.#records.get(hex)
    if (s && s.until <= now) {
      this.#drop(hex, s)
      return undefined
    }
    return s
  }

  /** Store a verified record that arrived from `source` (an IP). Replacement per dht.md §5.4. */
  put (record: VerifiedRecord, source: string, now: number): PutResult {
    const hex = idToHex(record.key)
    const current = this.get(record.key, now)
    const until = Math.min(record.expiresAt, now + this.maxTtlMs)
    if (current) {
      const how = compareRecords(current.record, record)
      if (how === 'stale' || how === 'conflict') return 'stale'
      if (how === 'identical') {
        current.until = Math.max(current.until, until)
        return 'refreshed'
      }
      if (current.source !== source && this.countFrom(source) >= this.maxPerSource) return 'full'
      this.#drop(hex, current)
    } else if (this.#records.size >= this.maxRecords || this.countFrom(source) >= this.maxPerSource) {
      return 'full'
    }
    this.#records.set(hex, { record, source, until })
    this.#perSource.set(source, this.countFrom(source) + 1)
    return 'stored'
  }

  /** Drop everything expired; returns how many went. */
  sweep (now: number): number {
    let n = 0
    for (const [hex, s] of this.#records) {
      if (s.until <= now) { this.#drop(hex, s); n++ }
    }
    return n
  }

  keys (): Uint8Array[] {
    return [...this.#records.values()].map(s => s.record.key)
  }

  #drop (hex: string, s: StoredRecord): void {
    this.#records.delete(hex)
    const n = this.countFrom(s.source) - 1
    if (n <= 0) this.#perSource.delete(s.source)
    else this.#perSource.set(s.source, n)
  }
}
