// Store throughput on 100,000 messages (proto-spec/storage.md): writes (addMessages in batches,
// one awaited addMessage at a time, 64 addMessage calls in flight), history paging through
// everything, and full search over sealed bodies.
// One JSON line per metric. `npx tsx scripts/bench/store.ts`; DMESS_BENCH_STORE_N to change N.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { openStore, type NewMessage, type Store } from '../../src/store/index.js'
import { randomBytes } from '../../src/crypto/primitives.js'

const N = Number(process.env.DMESS_BENCH_STORE_N ?? 100_000)
const PEERS = 10
const BATCH = 1000
const CONCURRENT = 64
const PAGE = 100
const SEARCH_RUNS = 3
const WORDS = 'the quick brown fox jumps over a lazy dog while we meet at noon for coffee and talk about the weekend plans'.split(' ')

function makeMessages (n: number, tag: string): NewMessage[] {
  const out: NewMessage[] = []
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 4 + (i * 7) % 30 }, (_, j) => WORDS[(i + j * 13) % WORDS.length])
    const inbound = i % 2 === 0
    out.push({
      id: `${tag}-${i}`,
      peer: `peer${i % PEERS}`,
      direction: inbound ? 'in' : 'out',
      text: words.join(' ') + (i % 1000 === 0 ? ' see you at the Marker' : ''),
      timestamp: 1_700_000_000_000 + i,
      receivedAt: 1_700_000_000_000 + i,
      status: inbound ? 'received' : 'sent',
      read: !inbound || i % 10 !== 0
    })
  }
  return out
}

function emit (metric: string, value: number, params: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ metric, value: Math.round(value * 10) / 10, params: { messages: N, ...params } }))
}

async function seconds (fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function withStore (fn: (s: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-bench-store-'))
  const store = await openStore(join(dir, 'db'), randomBytes(32))
  try {
    await fn(store)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function benchReads (store: Store): Promise<void> {
  let read = 0
  let pages = 0
  const s = await seconds(async () => {
    for (let p = 0; p < PEERS; p++) {
      let before: number | undefined
      while (true) {
        const page = await store.history(`peer${p}`, { limit: PAGE, before })
        if (page.length === 0) break
        read += page.length
        pages++
        before = page[page.length - 1]?.seq
      }
    }
  })
  emit('store_history_read_msgs_per_s', read / s, { page: PAGE })
  emit('store_history_page_ms', (s * 1000) / pages, { page: PAGE })
}

async function benchSearch (store: Store): Promise<void> {
  const full: number[] = []
  let hits = 0
  for (let i = 0; i < SEARCH_RUNS; i++) {
    full.push(await seconds(async () => { hits = (await store.search('MARKER', { limit: 1000 })).length }))
  }
  const best = Math.min(...full)
  emit('store_search_full_ms', best * 1000, { runs: SEARCH_RUNS, statistic: 'min', hits })
  emit('store_search_msgs_per_s', N / best)
  const rare = await seconds(async () => { await store.search('no such phrase anywhere', { peer: 'peer3' }) })
  emit('store_search_one_conversation_ms', rare * 1000, { conversationMessages: Math.ceil(N / PEERS) })
}

export async function run (): Promise<void> {
  await withStore(async (store) => {
    const msgs = makeMessages(N, 'b')
    const s = await seconds(async () => {
      for (let i = 0; i < msgs.length; i += BATCH) await store.addMessages(msgs.slice(i, i + BATCH))
    })
    emit('store_write_batched_msgs_per_s', N / s, { batch: BATCH })
    await benchReads(store)
    await benchSearch(store)
  })
  await withStore(async (store) => {
    const msgs = makeMessages(N, 's')
    const s = await seconds(async () => {
      for (const m of msgs) await store.addMessage(m)
    })
    emit('store_write_single_msgs_per_s', N / s, { batch: 1 })
  })
  await withStore(async (store) => {
    // a burst of messages arriving at once: addMessage calls in flight together share a batch
    const msgs = makeMessages(N, 'c')
    const s = await seconds(async () => {
      for (let i = 0; i < msgs.length; i += CONCURRENT) await Promise.all(msgs.slice(i, i + CONCURRENT).map(async (m) => await store.addMessage(m)))
    })
    emit('store_write_concurrent_msgs_per_s', N / s, { inFlight: CONCURRENT })
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
