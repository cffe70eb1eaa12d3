// Publishing (dht.md §6.2): an announce lookup (FIND_VALUE with `have seq`, collecting write
// tokens) finds the k closest nodes to the key, then each that does not already hold this seq gets
// a STORE. The publisher re-announces every REPUBLISH_MS until the record expires; storers never
// re-replicate on their own (dht.md §6.2 says why).
import { idToHex } from './ids.js'
import { after } from '../io/scheduler.js'
import { DhtType, StoreStatus } from './constants.js'
import type { VerifiedRecord } from './records.js'
import type { LookupHandle, LookupParams, LookupResult } from './lookup-run.js'
import type { NodeInternals } from './context.js'

export interface PublishResult {
  /** Nodes that answered STORE with OK. */
  stored: number
  /** Nodes that already held this seq (no STORE needed). */
  alreadyHeld: number
  /** STOREs unanswered or refused (status other than OK). */
  failed: number
  /** A record with a higher seq than ours, seen on the way (another device of the same user). */
  newer: VerifiedRecord | null
  lookup: LookupResult
}

interface Entry { record: VerifiedRecord, cancel: (() => void) | null }

export class Publisher {
  readonly #n: NodeInternals
  readonly #startLookup: (p: LookupParams) => LookupHandle
  readonly #entries = new Map<string, Entry>()

  constructor (n: NodeInternals, startLookup: (p: LookupParams) => LookupHandle) {
    this.#n = n
    this.#startLookup = startLookup
  }

  get published (): VerifiedRecord[] {
    return [...this.#entries.values()].map(e => e.record)
  }

  /** Announce now and keep re-announcing (replaces any record published under the same key). */
  publish (record: VerifiedRecord, onDone: (r: PublishResult) => void, signal?: AbortSignal): void {
    const hex = idToHex(record.key)
    this.#entries.get(hex)?.cancel?.()
    const entry: Entry = { record, cancel: null }
    this.#entries.set(hex, entry)
    this.#announce(entry, onDone, signal)
  }

  unpublish (key: Uint8Array): boolean {
    const hex = idToHex(key)
    const e = this.#entries.get(hex)
    e?.cancel?.()
    return this.#entries.delete(hex)
  }

  stop (): void {
    for (const e of this.#entries.values()) e.cancel?.()
    this.#entries.clear()
  }

  #announce (entry: Entry, onDone: (r: PublishResult) => void, signal?: AbortSignal): void {
    const { record } = entry
    this.#startLookup({
      mode: 'announce',
      target: record.key,
      haveSeq: record.seq,
      // only our period key's record: NOT_NEWER then means "ours is held", never "someone's with
      // the same seq is" (dht.md §3.4), and a higher seq seen is another device's, not a squatter's
      periodKey: record.periodPublic,
      accept: (r) => Buffer.compare(r.periodPublic, record.periodPublic) === 0,
      signal,
      onDone: (lookup) => {
        if (lookup.aborted) return onDone({ stored: 0, alreadyHeld: 0, failed: 0, newer: null, lookup })
        this.#storeAll(record, lookup, onDone)
        this.#schedule(entry)
      }
    })
  }

  #schedule (entry: Entry): void {
    const n = this.#n
    if (this.#entries.get(idToHex(entry.record.key)) !== entry) return
    const at = n.scheduler.wallNow() + n.settings.republishMs
    if (at >= entry.record.expiresAt) return // it would be expired: the owner must sign a new one
    entry.cancel = after(n.scheduler, n.settings.republishMs, () => {
      entry.cancel = null
      this.#announce(entry, () => {})
    })
  }

  #storeAll (record: VerifiedRecord, lookup: LookupResult, onDone: (r: PublishResult) => void): void {
    const newer = lookup.record !== null && lookup.record.seq > record.seq ? lookup.record : null
    const result: PublishResult = { stored: 0, alreadyHeld: 0, failed: 0, newer, lookup }
    const targets = lookup.closest.filter(c => {
      if (c.storedSeq === record.seq) result.alreadyHeld++
      return c.storedSeq !== record.seq && c.token !== undefined
    })
    let waiting = targets.length
    if (waiting === 0) return onDone(result)
    const settle = (ok: boolean): void => {
      if (ok) result.stored++
      else result.failed++
      if (--waiting === 0) onDone(result)
    }
    for (const c of targets) {
      const tx = this.#n.request(c.addr, { type: DhtType.STORE, key: record.key, token: c.token!, record: record.bytes }, {
        retries: 1,
        onTimeout: () => settle(false),
        onResponse: (msg) => settle(msg.type === DhtType.STORED && msg.status === StoreStatus.OK)
      })
      if (tx === null) settle(false)
    }
  }
}
