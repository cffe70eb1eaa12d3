// The store's part of sending texts, in-process (proto-spec/storage.md §Outbox, §Atomicity): per
// round, 2,000 texts of 1,000 bytes stored as the daemon stores a burst (addMessages and
// putOutboxMany steps of 100 issued together), `sent` for all, then `delivered` and the outbox
// removals 256 ids at a time, as a receipt settles them. Twice: with each text's entry held by its
// message (`ofMessage`, what the daemon does since schema v5) and with a payload of its own (the
// TEXT `encodeOutboxPayload` makes, as every text's entry was in v4). CPU time of the whole process
// over all threads (LevelDB's included), after two warm-up rounds.
// One JSON line per metric. `npx tsx scripts/bench/store-send.ts` (or `npm run bench -- store-send`).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { openStore, type OutboxEntry, type Store } from '../../src/store/index.js'
import { encodeOutboxPayload } from '../../src/messaging/outbox-codec.js'
import { PayloadType } from '../../src/wire/constants.js'

const TEXTS = 2000
const CALL = 100
const RECEIPT = 256
const ROUNDS = 6
const WARMUP = 2
const TEXT = 'x'.repeat(1000)
const PEER = 'q'.repeat(47) // a fingerprint's length

async function round (store: Store, held: boolean, next: () => string): Promise<void> {
  const ids: string[] = []
  const writes: Array<Promise<unknown>> = []
  for (let b = 0; b < TEXTS / CALL; b++) {
    const now = Date.now()
    const call = Array.from({ length: CALL }, next)
    ids.push(...call)
    writes.push(store.addMessages(call.map(id => ({ id, peer: PEER, direction: 'out' as const, text: TEXT, timestamp: now, receivedAt: now, status: 'sending' as const, read: true })), undefined, { freshIds: true }))
    writes.push(store.putOutboxMany(call.map((id, i): OutboxEntry => ({
      id, peer: PEER, attempts: 0, nextAttemptAt: now, createdAt: now + i,
      ...(held ? { payload: new Uint8Array(0), ofMessage: true } : { payload: encodeOutboxPayload(PayloadType.TEXT, { text: TEXT }, now, 'receipt') })
    }))))
  }
  await Promise.all(writes)
  await store.setStatuses(ids, 'sent')
  for (let i = 0; i < ids.length; i += RECEIPT) {
    const settled = ids.slice(i, i + RECEIPT)
    await Promise.all([store.setStatuses(settled, 'delivered'), store.removeOutboxMany(settled)])
  }
}

async function measure (held: boolean): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'dmess-bench-store-send-'))
  const store = await openStore(join(base, 'db'), new Uint8Array(32).fill(7))
  try {
    let k = 0
    const next = (): string => (k++).toString(16).padStart(32, '0')
    for (let r = 0; r < WARMUP; r++) await round(store, held, next)
    const before = store.writeCounts
    const cpu = process.cpuUsage()
    for (let r = 0; r < ROUNDS; r++) await round(store, held, next)
    const used = process.cpuUsage(cpu)
    const after = store.writeCounts
    const texts = ROUNDS * TEXTS
    console.log(JSON.stringify({
      metric: 'store_send_path_cpu_us_per_text',
      value: Math.round((used.user + used.system) / texts * 10) / 10,
      params: {
        entries: held ? 'held by the message' : 'payload of their own',
        texts,
        recordsPerText: Math.round((after.puts - before.puts + after.dels - before.dels) / texts * 100) / 100,
        bytesPerText: Math.round((after.bytes - before.bytes) / texts)
      }
    }))
  } finally {
    await store.close()
    await rm(base, { recursive: true, force: true })
  }
}

export async function run (): Promise<void> {
  // alternately, twice each: the machine's load changes over the run
  for (const held of [true, false, true, false]) await measure(held)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
