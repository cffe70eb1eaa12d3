// File transfer daemon to daemon (proto-spec/files.md): two real `dmess daemon` processes on
// 127.0.0.1, mutual contacts, one file of DMESS_BENCH_FILE_MB (default 1024) sent with
// `files.send` and received into a download directory. Measures
//  - throughput: file bytes per second from the offer to the receiver's `done` (hashing the
//    source first is included: it is part of what the user waits for), as a ratio to the
//    transport bench's bulk target (96 MB/s, `TARGETS.bulkMBps` in transport.ts: a fixed figure,
//    not a measurement) and to the transport's own bulk rate measured right after the transfer on
//    the same machine (`DMESS_BENCH_ONLY=bulk` transport.ts in a child process: 64 MiB in 1 MiB
//    messages between two endpoints on 127.0.0.1), which is what "the transport's bulk figure"
//    means when the two are compared fairly;
//  - both daemons' CPU time per MiB (from /proc: meaningful on a busy machine, where the rate is not);
//  - both daemons' peak RSS, sampled every 250 ms during the transfer;
//  - chat latency: a message sent with `wait: delivered`, median and p99, idle and during the
//    transfer (what files.md §3.3's 512 KiB bound on DATA in flight is for).
// One JSON line per metric. Needs `npm run build`.
//   npm run bench -- files        DMESS_BENCH_FILE_MB=100 for a shorter run; DMESS_BENCH_CPU_PROF=<dir>
// writes both daemons' CPU profiles there.
import { open, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import { cpuMs, dmess, makeNode, rssMiB, startDaemon, stopNode } from './daemon-pair.js'

const MB = Number(process.env.DMESS_BENCH_FILE_MB ?? 1024)
const CHAT_N = Number(process.env.DMESS_BENCH_FILE_CHAT_N ?? 50)
const TRANSPORT_BULK_MBPS = 96
const MAX_WAIT_MS = 3600_000

/** The transport bench's 64 MiB bulk rate (MB/s), run now in a child process; undefined if it gave none. */
function transportBulkNow (): number | undefined {
  const script = fileURLToPath(new URL('./transport.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, DMESS_BENCH_ONLY: 'bulk' }, encoding: 'utf8', timeout: 120_000 })
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.includes('"transport_reliable_bulk_64mib_mb_per_s"')) continue
    const v = (JSON.parse(line) as { value?: unknown }).value
    if (typeof v === 'number' && v > 0) return v
  }
  return undefined
}

function emit (metric: string, value: number, params: Record<string, unknown> = {}, digits = 1): void {
  console.log(JSON.stringify({ metric, value: Math.round(value * 10 ** digits) / 10 ** digits, params }))
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

async function chatLatencies (c: IpcClient, n: number, stop: () => boolean = () => false): Promise<number[]> {
  const lat: number[] = []
  for (let i = 0; i < n && !stop(); i++) {
    const a = performance.now()
    await c.call('messages.send', { contact: 'bob', text: `latency ${i}`, wait: 'delivered', timeoutMs: 60_000 }, 70_000)
    lat.push(performance.now() - a)
  }
  return lat.sort((x, y) => x - y)
}

/** A file of `mb` MiB of random bytes, written in 4 MiB pieces. */
async function makeFile (path: string, mb: number): Promise<void> {
  const fh = await open(path, 'w')
  try {
    const piece = randomBytes(4 * 1024 * 1024)
    for (let left = mb * 1024 * 1024; left > 0; left -= piece.length) await fh.write(piece, 0, Math.min(piece.length, left))
  } finally { await fh.close() }
}

export async function run (): Promise<void> {
  const alice = await makeNode('files', 'alice')
  const bob = await makeNode('files', 'bob')
  const dir = await mkdtemp(join(tmpdir(), 'dmess-bench-files-'))
  const file = join(dir, 'payload.bin')
  const clients: IpcClient[] = []
  try {
    await makeFile(file, MB)
    await dmess(['config', 'set', 'downloadDir', join(dir, 'downloads'), '--home', bob.home])
    await dmess(['config', 'set', 'autoAcceptBytes', String(MB * 1024 * 1024), '--home', bob.home])
    await dmess(['config', 'set', 'autoAcceptPendingBytes', String(MB * 1024 * 1024), '--home', bob.home])
    await startDaemon(alice, bob)
    await startDaemon(bob, alice)
    const ca = await IpcClient.connect(join(alice.home, 'daemon.sock'))
    const cb = await IpcClient.connect(join(bob.home, 'daemon.sock'))
    const chat = await IpcClient.connect(join(alice.home, 'daemon.sock'))
    clients.push(ca, cb, chat)
    await ca.call('contacts.add', { who: bob.invite })
    await cb.call('contacts.add', { who: alice.invite })
    await chat.call('messages.send', { contact: 'bob', text: 'warm up', wait: 'delivered', timeoutMs: 60_000 }, 70_000)

    const idle = await chatLatencies(chat, CHAT_N)
    emit('files_chat_latency_idle_p50_ms', percentile(idle, 0.5), { messages: idle.length })
    emit('files_chat_latency_idle_p99_ms', percentile(idle, 0.99), { messages: idle.length })

    const bytes = MB * 1024 * 1024
    let done = false
    const rss = { alice: 0, bob: 0 }
    const sampler = setInterval(() => {
      void rssMiB(alice).then(v => { rss.alice = Math.max(rss.alice, v) })
      void rssMiB(bob).then(v => { rss.bob = Math.max(rss.bob, v) })
    }, 250)
    const cpu0 = [await cpuMs(alice), await cpuMs(bob)]
    const t0 = performance.now()
    const [offer] = await ca.call('files.send', { contact: 'bob', paths: [file] }, MAX_WAIT_MS)
    const hashedS = (performance.now() - t0) / 1000
    const busy = chatLatencies(chat, CHAT_N, () => done)
    const deadline = Date.now() + MAX_WAIT_MS
    let heldS = NaN // every chunk verified at the receiver: what follows is its read-back and placing (files.md §5.2)
    for (;;) {
      const t = (await cb.call('files.list', {})).find(x => x.id === offer?.id)
      if (Number.isNaN(heldS) && t !== undefined && t.bytesDone === bytes) heldS = (performance.now() - t0) / 1000
      if (t?.state === 'done') break
      if (t !== undefined && t.state !== 'active' && t.state !== 'offered') throw new Error(`transfer ended ${t.state}: ${t.reason ?? ''}`)
      if (Date.now() > deadline) throw new Error('transfer not done in time')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const s = (performance.now() - t0) / 1000
    const cpu1 = [await cpuMs(alice), await cpuMs(bob)]
    done = true
    clearInterval(sampler)
    const during = await busy
    const mbps = bytes / 1e6 / s
    const round = (x: number): number => Math.round(x * 100) / 100
    // where the wall time went, polled every 50 ms: hashing the source, the chunks, the receiver's finish
    const params = { mib: MB, chunkBytes: 32768, inflightBytes: 512 * 1024, hashSeconds: round(hashedS), chunksSeconds: round((Number.isNaN(heldS) ? s : heldS) - hashedS), finishSeconds: round(Number.isNaN(heldS) ? NaN : s - heldS) }
    emit('files_throughput_mb_per_s', mbps, params)
    emit('files_throughput_vs_transport_bulk', mbps / TRANSPORT_BULK_MBPS, { ...params, transportBulkMBps: TRANSPORT_BULK_MBPS, note: 'the transport bench\'s bulk target (a fixed figure)' }, 3)
    const measured = transportBulkNow()
    emit('files_throughput_vs_transport_bulk_measured', measured === undefined ? NaN : mbps / measured, { ...params, transportBulkMBps: measured ?? null, note: 'the transport\'s bulk rate measured just after, same machine' }, 3)
    // what it costs whatever else the machine is doing (chat messages sent meanwhile included)
    emit('files_sender_cpu_ms_per_mib', ((cpu1[0] ?? NaN) - (cpu0[0] ?? NaN)) / MB, params)
    emit('files_receiver_cpu_ms_per_mib', ((cpu1[1] ?? NaN) - (cpu0[1] ?? NaN)) / MB, params)
    emit('files_sender_rss_peak_mib', rss.alice, params)
    emit('files_receiver_rss_peak_mib', rss.bob, params)
    emit('files_chat_latency_during_p50_ms', percentile(during, 0.5), { messages: during.length })
    emit('files_chat_latency_during_p99_ms', percentile(during, 0.99), { messages: during.length })
  } finally {
    for (const c of clients) c.close()
    await stopNode(alice)
    await stopNode(bob)
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
