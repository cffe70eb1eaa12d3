// Messaging daemon to daemon (proto-spec/messaging.md): two real `dmess daemon` processes on
// 127.0.0.1 with their own homes, mutual contacts, everything persisted (message, outbox entry
// and statuses on the sender; message on the receiver) and receipted end to end. Measures
//  - throughput: M messages sent at once through the sender's IPC socket (`messages.sendMany`,
//    100 texts a call), until every one is `delivered` (the receipt came back): messages per
//    second, and the CPU time each daemon spent per message (µs, from /proc);
//  - latency: K messages one after another, each `send` waiting for `delivered`: the time a
//    user waits from send to delivered, median and p99 (IPC round trips included);
//  - the sending daemon's RSS once connected (1 s after the warm-up message), after the load, and
//    once settled (12 s idle).
//    The bench's keystores use a tiny Argon2id (m = 64 KiB): a real unlock adds ~19 MiB until
//    V8's next major GC, ~25 s after start.
// One JSON line per metric. Needs `npm run build` (the daemons are the built binary).
//   npx tsx scripts/bench/messaging.ts    (or: npm run bench -- messaging)
// DMESS_BENCH_MSG_N (default 2000) and DMESS_BENCH_MSG_LATENCY_N (default 200) change M and K;
// DMESS_BENCH_MSG_BATCH texts per call (1: one `messages.send` each); DMESS_BENCH_CPU_PROF=<dir>
// writes both daemons' CPU profiles there. DMESS_LATENCY_TRACE=<file> has both daemons stamp each
// phase of a message's path (src/runtime/latency-trace.ts) and prints, for the sequential run, the
// median time from each phase to the next (`messaging_sequential_phase_us`). DMESS_BENCH_MSG_WARMUP=<n>
// sends n messages as a burst first, so the measured one runs on compiled code (the CPU figures'
// `mainThread` and `threads` params split each daemon's CPU by thread: a fresh daemon's optimizing
// compiler runs on V8's helper threads during the first burst). DMESS_BENCH_NODE_FLAGS adds node flags
// to both daemons (scripts/bench/daemon-pair.ts).
import { appendFileSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import type { DaemonEvent } from '../../src/runtime/events.js'
import { cpuMs, mainThreadCpuMs, threadCpuMs, makeNode, rssMiB, socket, startDaemon, stopNode } from './daemon-pair.js'

const M = Number(process.env.DMESS_BENCH_MSG_N ?? 2000)
const K = Number(process.env.DMESS_BENCH_MSG_LATENCY_N ?? 200)
/** DMESS_BENCH_MSG_WARMUP: messages sent as a burst (and delivered) before the measured one; 0 by default, as before. */
const WARMUP = Number(process.env.DMESS_BENCH_MSG_WARMUP ?? 0)
/** IPC connections used to push the burst (each answers its requests in order, ≤ 32 pending). */
const CONNECTIONS = 4
const PIPELINE = 16
/** Texts per `messages.sendMany` call in the burst; DMESS_BENCH_MSG_BATCH=1 sends each with `messages.send`. */
const BATCH = Math.max(1, Number(process.env.DMESS_BENCH_MSG_BATCH ?? 100))
const IPC_METHOD = BATCH === 1 ? 'messages.send' : 'messages.sendMany'
/** V8's memory reducer runs ~8 s after allocation stops (scripts/bench/transport.ts). */
const SETTLE_MS = 12_000
/** Every wait in this script is bounded. */
const MAX_WAIT_MS = 300_000

function emit (metric: string, value: number, params: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ metric, value: Math.round(value * 10) / 10, params }))
}

/** Resolves when every id in `ids` has had a receipt at `delivered` or later. */
function deliveredWatcher (events: IpcClient, done: Set<string>): (ids: readonly string[]) => Promise<void> {
  const waiters: Array<() => void> = []
  void events.subscribe(['receipt'], (ev: DaemonEvent) => {
    if (ev.direction !== 'out' || (ev.status !== 'delivered' && ev.status !== 'read')) return
    for (const id of ev.ids as string[]) done.add(id)
    for (const w of waiters.splice(0)) w()
  })
  return async ids => {
    const deadline = Date.now() + MAX_WAIT_MS
    while (!ids.every(id => done.has(id))) {
      if (Date.now() > deadline) throw new Error(`${ids.filter(id => !done.has(id)).length} messages not delivered in time`)
      await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200) })
    }
  }
}

async function burst (clients: IpcClient[], n: number): Promise<string[]> {
  const ids: string[] = new Array(n)
  const text = (i: number): string => `bench message ${i} ${'x'.repeat(i % 80)}`
  let next = 0
  await Promise.all(clients.flatMap(c => Array.from({ length: BATCH === 1 ? PIPELINE : 2 }, async () => {
    while (next < n) {
      const from = next
      next = Math.min(n, next + BATCH)
      if (BATCH === 1) {
        ids[from] = (await c.call('messages.send', { contact: 'bob', text: text(from) })).id
        continue
      }
      const texts = Array.from({ length: next - from }, (_, k) => text(from + k))
      const sent = await c.call('messages.sendMany', { contact: 'bob', texts })
      sent.forEach((r, k) => { ids[from + k] = r.id })
    }
  })))
  return ids
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

export async function run (): Promise<void> {
  const alice = await makeNode('msg', 'alice')
  const bob = await makeNode('msg', 'bob')
  const clients: IpcClient[] = []
  try {
    await startDaemon(alice, bob)
    await startDaemon(bob, alice)
    for (let i = 0; i < CONNECTIONS + 1; i++) clients.push(await IpcClient.connect(socket(alice)))
    const events = clients.pop() as IpcClient
    const cb = await IpcClient.connect(socket(bob))
    await clients[0]?.call('contacts.add', { who: bob.invite })
    await cb.call('contacts.add', { who: alice.invite })
    cb.close()
    const delivered = new Set<string>()
    const waitDelivered = deliveredWatcher(events, delivered)
    await clients[0]?.call('messages.send', { contact: 'bob', text: 'warm up', wait: 'delivered', timeoutMs: 60_000 }, 70_000)
    await new Promise(resolve => setTimeout(resolve, 1000))
    if (WARMUP > 0) { // a burst before the measured one: the daemons' code is compiled (V8's optimizing compiler runs on helper threads) and their caches full
      await waitDelivered(await burst(clients, WARMUP))
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
    emit('messaging_daemon_rss_mib_connected', await rssMiB(alice), { what: 'detached daemon with one contact and one session, 1 s after its first delivered message' })

    const cb2 = await IpcClient.connect(socket(bob))
    type Counts = Record<'batches' | 'steps' | 'puts' | 'dels' | 'bytes', number> & { putsBySub?: Record<string, number>, env?: Record<string, number> }
    const counts = async (): Promise<Counts[]> => await Promise.all([clients[0] as IpcClient, cb2].map(async c => {
      const st = await c.call('messaging.stats', {}) as Record<string, unknown> & { store: Counts }
      const env: Record<string, number> = Object.fromEntries(['envelopesOut', 'ratchetOut', 'batchesOut', 'batchesIn', 'sendFailures', 'duplicates', 'linkStalls', 'dialsStarted'].map(k => [k, Number(st[k] ?? 0)]))
      return { ...st.store, env }
    }))
    const batches0 = await counts()
    const cpu0 = [await cpuMs(alice), await cpuMs(bob)]
    const main0 = [await mainThreadCpuMs(alice), await mainThreadCpuMs(bob)]
    const threads0 = [await threadCpuMs(alice), await threadCpuMs(bob)]
    const t0 = performance.now()
    const ids = await burst(clients, M)
    const queuedS = (performance.now() - t0) / 1000
    await waitDelivered(ids)
    const s = (performance.now() - t0) / 1000
    const cpu1 = [await cpuMs(alice), await cpuMs(bob)]
    const main1 = [await mainThreadCpuMs(alice), await mainThreadCpuMs(bob)]
    const threads1 = [await threadCpuMs(alice), await threadCpuMs(bob)]
    const batches1 = await counts()
    cb2.close()
    const how = { messages: M, connections: CONNECTIONS, ipc: IPC_METHOD, textsPerCall: BATCH, ...(WARMUP > 0 ? { warmup: WARMUP } : {}) }
    emit('messaging_throughput_msgs_per_s', M / s, { ...how, persisted: true, receipts: true })
    emit('messaging_send_accept_msgs_per_s', M / queuedS, { ...how, note: 'stored and queued by the sender (status sending)' })
    // what it costs, whatever else the machine is doing (/proc counts 10 ms ticks)
    // mainThread: the part of it on the main thread; the rest is V8's helpers, libuv's pool, LevelDB's compaction
    const mainUs = (side: 0 | 1): number => Math.round(((main1[side] ?? NaN) - (main0[side] ?? NaN)) * 1000 / M)
    // and µs per message of each thread that ran (by "tid name")
    const threadUs = (side: 0 | 1): Record<string, number> => Object.fromEntries([...(threads1[side] ?? [])]
      .map(([k, v]) => [k, Math.round((v - (threads0[side]?.get(k) ?? 0)) * 1000 / M)] as const).filter(([, v]) => v > 0))
    emit('messaging_sender_cpu_us_per_msg', ((cpu1[0] ?? NaN) - (cpu0[0] ?? NaN)) * 1000 / M, { ...how, mainThread: mainUs(0), threads: threadUs(0) })
    emit('messaging_receiver_cpu_us_per_msg', ((cpu1[1] ?? NaN) - (cpu0[1] ?? NaN)) * 1000 / M, { ...how, mainThread: mainUs(1), threads: threadUs(1) })
    // LevelDB batches per 1,000 messages (group commit: storage.md §Atomicity)
    const per1000 = (side: 0 | 1, k: Exclude<keyof Counts, 'putsBySub' | 'env'>): number => ((batches1[side]?.[k] ?? NaN) - (batches0[side]?.[k] ?? NaN)) * 1000 / M
    emit('messaging_sender_store_batches_per_1000_msgs', per1000(0, 'batches'), how)
    emit('messaging_receiver_store_batches_per_1000_msgs', per1000(1, 'batches'), how)
    // the writes those batches carried (one per store call: a message burst, an outbox entry, a status change)
    emit('messaging_sender_store_writes_per_1000_msgs', per1000(0, 'steps'), how)
    emit('messaging_receiver_store_writes_per_1000_msgs', per1000(1, 'steps'), how)
    // the records those batches wrote (puts and deletes) and the bytes of the values put
    emit('messaging_sender_store_records_per_1000_msgs', per1000(0, 'puts') + per1000(0, 'dels'), { ...how, puts: per1000(0, 'puts'), dels: per1000(0, 'dels') })
    emit('messaging_receiver_store_records_per_1000_msgs', per1000(1, 'puts') + per1000(1, 'dels'), { ...how, puts: per1000(1, 'puts'), dels: per1000(1, 'dels') })
    const bySub = (side: 0 | 1): Record<string, number> => {
      const a = batches0[side]?.putsBySub ?? {}
      const b = batches1[side]?.putsBySub ?? {}
      return Object.fromEntries(Object.keys(b).map(k => [k.replaceAll('!', ''), Math.round(((b[k] ?? 0) - (a[k] ?? 0)) * 1000 / M)]))
    }
    emit('messaging_sender_store_puts_per_1000_msgs', per1000(0, 'puts'), { ...how, bySublevel: bySub(0) })
    emit('messaging_receiver_store_puts_per_1000_msgs', per1000(1, 'puts'), { ...how, bySublevel: bySub(1) })
    // envelopes each daemon sent (a BATCH carries up to 64 texts: envelope.md §3.7), and what went wrong
    const env1000 = (side: 0 | 1, k: string): number => ((batches1[side]?.env?.[k] ?? NaN) - (batches0[side]?.env?.[k] ?? NaN)) * 1000 / M
    emit('messaging_sender_envelopes_per_1000_msgs', env1000(0, 'envelopesOut'), { ...how, batches: env1000(0, 'batchesOut'), sendFailures: env1000(0, 'sendFailures'), linkStalls: env1000(0, 'linkStalls') + env1000(1, 'linkStalls'), dials: env1000(0, 'dialsStarted') + env1000(1, 'dialsStarted') })
    emit('messaging_receiver_envelopes_per_1000_msgs', env1000(1, 'envelopesOut'), { ...how, batchesIn: env1000(1, 'batchesIn'), duplicates: env1000(1, 'duplicates') })
    emit('messaging_sender_store_bytes_per_msg', per1000(0, 'bytes') / 1000, how)
    emit('messaging_receiver_store_bytes_per_msg', per1000(1, 'bytes') / 1000, how)

    const lat: number[] = []
    const c = clients[0] as IpcClient
    const seqCpu0 = [await cpuMs(alice), await cpuMs(bob)]
    for (let i = 0; i < K; i++) {
      const a = performance.now()
      const { id } = await c.call('messages.send', { contact: 'bob', text: `latency ${i}`, wait: 'delivered', timeoutMs: 60_000 }, 70_000)
      const b = performance.now()
      lat.push(b - a)
      if (TRACE !== '') traceIds.push([id, (performance.timeOrigin + a) * 1000, (performance.timeOrigin + b) * 1000])
    }
    const seqCpu1 = [await cpuMs(alice), await cpuMs(bob)]
    lat.sort((x, y) => x - y)
    emit('messaging_send_to_delivered_ms_p50', percentile(lat, 0.5), { messages: K, sequential: true })
    emit('messaging_send_to_delivered_ms_p99', percentile(lat, 0.99), { messages: K, sequential: true })
    emit('messaging_sequential_cpu_us_per_msg', ((seqCpu1[0] ?? NaN) - (seqCpu0[0] ?? NaN)) * 1000 / K, { messages: K, receiver: ((seqCpu1[1] ?? NaN) - (seqCpu0[1] ?? NaN)) * 1000 / K, what: 'sender CPU per sequential message (receiver in params), 10 ms ticks' })
    emit('messaging_daemon_rss_mib_after_load', await rssMiB(alice), { messages: M + K, what: 'the same daemon after the burst and the latency run' })
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    // Measured (--trace-gc, 2026-11-26): after start-up the daemon's heap sees only scavenges, so
    // V8's memory reducer, which a full GC arms, never runs, and this reads the same as after_load.
    emit('messaging_daemon_rss_mib_settled', await rssMiB(alice), { what: `the same daemon ${SETTLE_MS / 1000} s later, idle (equal to after_load while V8's memory reducer, armed only by a full GC, does not run)` })
    events.close()
  } finally {
    for (const c of clients) c.close()
    await stopNode(alice)
    await stopNode(bob)
  }
  if (TRACE !== '') tracePhases()
}

/** DMESS_LATENCY_TRACE: the file both daemons write their stamps to when they exit; the sequential run's ids and client times. */
const TRACE = process.env.DMESS_LATENCY_TRACE ?? ''
const traceIds: Array<[id: string, call: number, done: number]> = []
/** The phases of one sequential message, in path order (a: the sender, b: the receiver). */
const PHASES = ['client.call', 'a.send', 'a.sealed', 'a.stored', 'a.queued', 'a.link.send', 'b.frame', 'b.opened', 'b.stored', 'b.receipt.queued', 'b.receipt.flush',
  'b.receipt.sealed', 'b.receipt.stepstored', 'a.receipt.frame', 'a.receipt.opened', 'a.receipt.stepstored', 'a.receipt.status', 'a.waited', 'client.done']

/** Median µs from each phase to the next over the sequential run, and each phase's median offset from the call. */
function tracePhases (): void {
  appendFileSync(TRACE, traceIds.flatMap(([id, call, done]) => [`{"t":${call},"phase":"client.call","id":"${id}"}`, `{"t":${done},"phase":"client.done","id":"${id}"}`]).join('\n') + '\n')
  const byId = new Map<string, Map<string, number>>(traceIds.map(([id]) => [id, new Map()]))
  for (const line of readFileSync(TRACE, 'utf8').split('\n')) {
    if (line === '') continue
    const s = JSON.parse(line) as { t: number, phase: string, id: string }
    const m = byId.get(s.id)
    if (m !== undefined && !m.has(s.phase)) m.set(s.phase, s.t)
  }
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
  const steps: Record<string, number> = {}
  const offsets: Record<string, number> = {}
  let prev = PHASES[0] as string
  for (const phase of PHASES.slice(1)) {
    const d: number[] = []
    const o: number[] = []
    for (const m of byId.values()) {
      const t = m.get(phase)
      const p = m.get(prev)
      const c0 = m.get('client.call')
      if (t !== undefined && p !== undefined) d.push(t - p)
      if (t !== undefined && c0 !== undefined) o.push(t - c0)
    }
    if (d.length === 0) continue
    steps[`${prev} -> ${phase}`] = Math.round(median(d))
    offsets[phase] = Math.round(median(o))
    prev = phase
  }
  emit('messaging_sequential_phase_us', steps['a.waited -> client.done'] ?? NaN, { messages: traceIds.length, medianStepUs: steps, medianOffsetUs: offsets })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
