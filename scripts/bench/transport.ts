// Secure transport over real UDP between two processes on 127.0.0.1: Noise XX handshakes per
// second (sequential and concurrent), 1 KiB messages per second over a ReliableSession for 5 s,
// 1 KiB ping-pong round trips (median, p99), a 64 MiB bulk transfer, the RSS of a process
// holding one idle session — and a plain node:dgram baseline measured the same way in the same
// run. One JSON line per metric; `target` is the issue's figure for a native-addon P2P stack
// measured on this machine with the same method. Every loop is bounded in count and time.
//   npx tsx scripts/bench/transport.ts        (or: npm run bench -- transport)
// The peer is test/transport/fixtures/reliable-peer.ts; DMESS_BENCH_PROFILE_DIR=dir runs it
// under --cpu-prof (profile this process with `node --cpu-prof --import tsx …`).
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { spawnJson, reliablePeerPath, type JsonChild } from '../../test/transport/fixtures/reliable-child.js'

const HOST = '127.0.0.1'
const MSG_BYTES = 1024
const RATE_MS = 5000
const PINGPONG_MAX = 20_000
const PINGPONG_MS = 3000
const HANDSHAKE_MAX = 2000
const HANDSHAKE_MS = 3000
const HANDSHAKE_CONCURRENCY = 8
const BULK_BYTES = 64 * 1024 * 1024
const BULK_MESSAGE_BYTES = 1024 * 1024
const RAW_WINDOW = 64 // raw sends outstanding in the kernel at once
const SUMMARY_TIMEOUT_MS = 60_000

const TARGETS = { msgsPerS: 61_000, rttMedianUs: 206, bulkMBps: 96, rssMiB: 55 }

interface Summary { count: number, bytes: number, sha256: string }
interface Peer { child: JsonChild, port: number, fingerprint: string, pid: number }

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d
function emit (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ metric, value: round(value), unit, ...extra }))
}

async function startPeer (args: string[]): Promise<Peer> {
  const dir = process.env.DMESS_BENCH_PROFILE_DIR
  const prof = dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', dir]
  const child = spawnJson(process.execPath, [...prof, '--import', 'tsx', reliablePeerPath, ...args])
  const info = await child.next(o => typeof o.port === 'number')
  return { child, port: info.port as number, fingerprint: String(info.fingerprint), pid: info.pid as number }
}

async function stopPeer (p: Peer): Promise<void> {
  p.child.proc.stdin?.end() // let it exit by itself (a --cpu-prof profile is written on exit)
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => { p.child.stop(); resolve() }, 3000)
    p.child.proc.once('exit', () => { clearTimeout(timer); resolve() })
  })
}

function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: no answer in ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ---- handshakes ----

async function handshakes (ep: Endpoint, peer: Peer, concurrency: number): Promise<{ perS: number, count: number }> {
  const to = { host: HOST, port: peer.port }
  let count = 0
  const start = performance.now()
  const worker = async (): Promise<void> => {
    while (count < HANDSHAKE_MAX && performance.now() - start < HANDSHAKE_MS) {
      const s = await ep.connect(to, { expectFingerprint: peer.fingerprint })
      count++
      s.close()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { perS: count / ((performance.now() - start) / 1000), count }
}

// ---- reliable session ----

async function openReliable (ep: Endpoint, peer: Peer): Promise<ReliableSession> {
  const s: Session = await ep.connect({ host: HOST, port: peer.port }, { expectFingerprint: peer.fingerprint })
  return new ReliableSession(s)
}

/** Sends `next()` messages while it returns one, then the end marker; resolves with the summary. */
async function reliableRun (r: ReliableSession, next: () => Uint8Array | null): Promise<Summary> {
  const reply = new Promise<Summary>(resolve => r.once('message', m => { resolve(JSON.parse(Buffer.from(m).toString()) as Summary) }))
  for (let m = next(); m !== null; m = next()) {
    if (!r.trySend(m)) await r.send(m)
  }
  await r.send(new Uint8Array(0))
  return await withTimeout(reply, SUMMARY_TIMEOUT_MS, 'reliable sink summary')
}

async function reliableRate (r: ReliableSession): Promise<{ perS: number, summary: Summary }> {
  const msg = new Uint8Array(MSG_BYTES).fill(7)
  const start = performance.now()
  const summary = await reliableRun(r, () => performance.now() - start < RATE_MS ? msg : null)
  return { perS: summary.count / ((performance.now() - start) / 1000), summary }
}

async function reliableBulk (r: ReliableSession): Promise<{ MBps: number, summary: Summary }> {
  const msg = new Uint8Array(BULK_MESSAGE_BYTES).fill(9)
  let sent = 0
  const start = performance.now()
  const summary = await reliableRun(r, () => (sent += msg.length) <= BULK_BYTES ? msg : null)
  return { MBps: summary.bytes / 1e6 / ((performance.now() - start) / 1000), summary }
}

async function reliablePingPong (r: ReliableSession): Promise<number[]> {
  const it = r.messages()
  const msg = new Uint8Array(MSG_BYTES).fill(3)
  const rtts: number[] = []
  const start = performance.now()
  while (rtts.length < PINGPONG_MAX && performance.now() - start < PINGPONG_MS) {
    const t0 = performance.now()
    if (!r.trySend(msg)) await r.send(msg)
    const got = await it.next()
    if (got.done === true || got.value.length !== MSG_BYTES) throw new Error('ping-pong: bad echo')
    rtts.push((performance.now() - t0) * 1000)
  }
  return rtts.slice(Math.min(100, rtts.length >> 3)).sort((a, b) => a - b) // drop warm-up
}

// ---- raw node:dgram baseline ----

async function rawSocket (): Promise<Socket> {
  const sock = createSocket('udp4')
  await new Promise<void>(resolve => sock.bind(0, HOST, resolve))
  return sock
}

async function rawRate (peer: Peer): Promise<{ perS: number, summary: Summary, sent: number }> {
  const sock = await rawSocket()
  const msg = Buffer.alloc(MSG_BYTES, 7)
  let sent = 0
  let outstanding = 0
  const start = performance.now()
  await new Promise<void>(resolve => {
    const pump = (): void => {
      while (outstanding < RAW_WINDOW && performance.now() - start < RATE_MS) {
        outstanding++
        sent++
        sock.send(msg, peer.port, HOST, () => { outstanding--; pump() })
      }
      if (outstanding === 0) resolve()
    }
    pump()
  })
  const summary = await rawSummary(sock, peer)
  sock.close()
  return { perS: summary.count / ((performance.now() - start) / 1000), summary, sent }
}

async function rawSummary (sock: Socket, peer: Peer): Promise<Summary> {
  const reply = new Promise<Summary>(resolve => sock.once('message', m => { resolve(JSON.parse(m.toString()) as Summary) }))
  sock.send(Buffer.alloc(0), peer.port, HOST)
  return await withTimeout(reply, 5000, 'raw sink summary')
}

async function rawPingPong (peer: Peer): Promise<number[]> {
  const sock = await rawSocket()
  const msg = Buffer.alloc(MSG_BYTES, 3)
  const rtts: number[] = []
  const start = performance.now()
  while (rtts.length < PINGPONG_MAX && performance.now() - start < PINGPONG_MS) {
    const t0 = performance.now()
    const echo = new Promise<void>(resolve => sock.once('message', () => { resolve() }))
    sock.send(msg, peer.port, HOST)
    await withTimeout(echo, 1000, 'raw echo')
    rtts.push((performance.now() - t0) * 1000)
  }
  sock.close()
  return rtts.slice(Math.min(100, rtts.length >> 3)).sort((a, b) => a - b)
}

// ---- the run ----

function pingPongMetrics (prefix: string, rtts: number[], target: boolean): void {
  const params = { bytes: MSG_BYTES, roundTrips: rtts.length }
  emit(`${prefix}_1k_pingpong_rtt_us_median`, percentile(rtts, 0.5), 'us', { ...(target ? { target: TARGETS.rttMedianUs } : {}), params })
  emit(`${prefix}_1k_pingpong_rtt_us_p99`, percentile(rtts, 0.99), 'us', { params })
}

async function reliableMetrics (ep: Endpoint): Promise<void> {
  const sink = await startPeer(['--mode', 'sink'])
  try {
    const r = await openReliable(ep, sink)
    const rate = await reliableRate(r)
    emit('transport_reliable_1k_msgs_per_s', rate.perS, 'msg/s', { target: TARGETS.msgsPerS, params: { bytes: MSG_BYTES, seconds: RATE_MS / 1000, delivered: rate.summary.count, retransmits: r.stats.retransmits } })
    const bulk = await reliableBulk(r)
    const complete = bulk.summary.bytes === BULK_BYTES
    emit('transport_reliable_bulk_64mib_mb_per_s', bulk.MBps, 'MB/s', { target: TARGETS.bulkMBps, params: { bytes: BULK_BYTES, messageBytes: BULK_MESSAGE_BYTES, complete, retransmits: r.stats.retransmits, cwndBytes: Math.round(r.stats.cwndBytes) } })
    await r.flushed()
    r.close()
  } finally {
    await stopPeer(sink)
  }
  const echo = await startPeer(['--mode', 'echo'])
  try {
    const r = await openReliable(ep, echo)
    pingPongMetrics('transport_reliable', await reliablePingPong(r), true)
    await new Promise(resolve => setTimeout(resolve, 1000)) // the peer now holds one idle session
    emit('transport_idle_session_process_rss_mib', rssMiB(echo.pid), 'MiB', { target: TARGETS.rssMiB, params: { what: 'peer process (node + tsx loader) holding one idle reliable session' } })
    r.close()
  } finally {
    await stopPeer(echo)
  }
}

async function handshakeMetrics (ep: Endpoint): Promise<void> {
  const peer = await startPeer(['--mode', 'echo', '--bench-tuning'])
  try {
    for (const c of [1, HANDSHAKE_CONCURRENCY]) {
      const h = await handshakes(ep, peer, c)
      emit(`transport_xx_handshakes_per_s_${c === 1 ? 'sequential' : `concurrent${c}`}`, h.perS, 'handshake/s', { params: { handshakes: h.count, concurrency: c, what: 'full Noise XX over UDP incl. identity proofs; responder per-IP limits lifted' } })
    }
  } finally {
    await stopPeer(peer)
  }
}

async function rawMetrics (): Promise<void> {
  const sink = await startPeer(['--raw', '--mode', 'sink'])
  try {
    const raw = await rawRate(sink)
    emit('raw_udp_1k_msgs_per_s', raw.perS, 'msg/s', { params: { bytes: MSG_BYTES, seconds: RATE_MS / 1000, sent: raw.sent, delivered: raw.summary.count, what: 'node:dgram, no crypto, no reliability; kernel drops count as lost' } })
  } finally {
    await stopPeer(sink)
  }
  const echo = await startPeer(['--raw', '--mode', 'echo'])
  try {
    pingPongMetrics('raw_udp', await rawPingPong(echo), false)
    emit('raw_udp_idle_process_rss_mib', rssMiB(echo.pid), 'MiB', { params: { what: 'the same peer script holding only a dgram socket' } })
  } finally {
    await stopPeer(echo)
  }
}

export async function run (): Promise<void> {
  const ep = await Endpoint.listen({ host: HOST, identity: generateIdentity() })
  try {
    await handshakeMetrics(ep)
    await reliableMetrics(ep)
    await rawMetrics()
  } finally {
    await ep.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
