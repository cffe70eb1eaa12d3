// Group commit (proto-spec/storage.md §Atomicity, §Durability): every write the store is asked
// for while the previous batch is in flight — new messages, status changes, outbox puts and
// removals, from any number of callers — becomes one step of the next LevelDB batch. A step is a
// synchronous `prepare(tx)` that reads what it needs (synchronously: the store, or what earlier
// steps of the same batch wrote, through `tx`) and pushes its ops; its promise resolves only once
// the batch holding them is written (and fsynced, when the store was opened with `sync`).
import { commit, type Op, type RawDb, type SerialQueue } from './db.js'
import type { ConvState, OutboxFold } from './records.js'
import type { MessageStatus, StoredMessage } from './types.js'

/** A msgindex entry a batch writes (once, in `finish`): the message as it now stands, and the status its record holds when it was added in this batch. */
export interface IndexWrite { m: StoredMessage, recordStatus?: MessageStatus }
/** An outbox entry held in a message's msgindex entry (storage.md §Outbox): where the message is, and the entry's counters. */
export interface HeldEntry { peer: string, seq: number, o: OutboxFold }

/** What the steps of one batch share: its ops, and what they wrote for later steps to read. */
export interface Tx {
  readonly ops: Op[]
  /** run once the batch is written (in-memory indexes that must not run ahead of the disk) */
  readonly after: Array<() => void>
  /** messages written by earlier steps of this batch, by id */
  readonly messages: Map<string, StoredMessage>
  /** each conversation's counters (last seq, read mark, unread count) as earlier steps of this batch left them */
  readonly convs: Map<string, ConvState>
  /** messages whose msgindex entries this batch writes (added, status changed, outbox entry held or let go), by id: each written once, in `finish` */
  readonly index: Map<string, IndexWrite>
  /** outbox entries held in msgindex entries that earlier steps of this batch put (the entry) or let go (null), by message id */
  readonly held: Map<string, HeldEntry | null>
  /** outbox ids put (true) or removed (false) by earlier steps of this batch */
  readonly outbox: Map<string, boolean>
  /** run once after the last step, before the write (ops a batch needs once, e.g. per-conversation counters), by name */
  readonly finish: Map<string, () => void>
}

interface Step {
  prepare: (tx: Tx) => unknown
  weight: number
  resolve: (v: unknown) => void
  reject: (err: unknown) => void
}

/** Steps (counted by weight: a message is one) per batch at most: bounds one batch's memory and latency. */
export const MAX_GROUP_WEIGHT = 2000

function newTx (): Tx {
  return { ops: [], after: [], messages: new Map(), convs: new Map(), index: new Map(), held: new Map(), outbox: new Map(), finish: new Map() }
}

export class GroupCommit {
  readonly #pending: Step[] = []
  #queued = false
  /** batches written, the steps they carried, and their records: puts, deletes, value bytes put, puts by sublevel (for tests and benchmarks) */
  readonly counts = { batches: 0, steps: 0, puts: 0, dels: 0, bytes: 0, putsBySub: {} as Record<string, number> }

  constructor (private readonly db: RawDb, private readonly queue: SerialQueue, private readonly sync: boolean) {}

  get idle (): boolean { return this.#pending.length === 0 && !this.#queued }

  /**
   * Runs `prepare` as a step of the next batch (`weight`: how many records it writes, about: a
   * batch holds up to MAX_GROUP_WEIGHT). A step that throws fails alone; the batch is prepared
   * again without it.
   */
  async run<T> (prepare: (tx: Tx) => T, weight = 1): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.#pending.push({ prepare, weight, resolve: resolve as (v: unknown) => void, reject })
      this.#schedule()
    })
  }

  #schedule (): void {
    if (this.#queued) return
    this.#queued = true
    void this.queue.run(async () => { await this.#flush() })
  }

  async #flush (): Promise<void> {
    this.#queued = false
    let steps = this.#take()
    if (this.#pending.length > 0) this.#schedule()
    let prepared = prepareAll(steps)
    while (prepared.failed !== null) {
      const failed = prepared.failed
      failed.step.reject(failed.err)
      steps = steps.filter(s => s !== failed.step)
      prepared = prepareAll(steps) // the steps are pure over the store and tx: preparing again is safe
    }
    if (steps.length === 0) return
    const { tx, results } = prepared
    try {
      await commit(this.db, tx.ops, this.sync)
    } catch (err) {
      for (const s of steps) s.reject(err)
      return
    }
    this.counts.batches++
    this.counts.steps += steps.length
    for (const op of tx.ops) {
      if (op.type === 'put') {
        this.counts.puts++
        this.counts.bytes += op.value.length
        this.counts.putsBySub[op.sublevel.prefix] = (this.counts.putsBySub[op.sublevel.prefix] ?? 0) + 1
      } else this.counts.dels++
    }
    for (const fn of tx.after) fn()
    steps.forEach((s, i) => { s.resolve(results[i]) })
  }

  #take (): Step[] {
    let weight = 0
    let n = 0
    while (n < this.#pending.length && (n === 0 || weight + (this.#pending[n] as Step).weight <= MAX_GROUP_WEIGHT)) {
      weight += (this.#pending[n] as Step).weight
      n++
    }
    return this.#pending.splice(0, n)
  }
}

function prepareAll (steps: readonly Step[]): { tx: Tx, results: unknown[], failed: { step: Step, err: unknown } | null } {
  const tx = newTx()
  const results: unknown[] = []
  for (const step of steps) {
    try {
      results.push(step.prepare(tx))
    } catch (err) {
      return { tx, results, failed: { step, err } }
    }
  }
  for (const fn of tx.finish.values()) fn()
  return { tx, results, failed: null }
}
