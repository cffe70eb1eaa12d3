// Secure transport over real UDP between two processes on 127.0.0.1: Noise XX handshakes per
// second (sequential and concurrent), 1 KiB messages per second over a ReliableSession for 5 s,
// 1 KiB ping-pong round trips (median, p99), a 64 MiB bulk transfer, the RSS of a process
// holding one idle session (1 s after traffic and again once V8 has settled; that peer is
// scripts/bench/peers/idle-session-peer.ts bundled as the daemon ships, scripts/bundle.ts) — and a plain
// node:dgram baseline measured the same way in the same run. One JSON line per metric;
// `target` is what a native-addon P2P stack gave on this machine with the same method
// (proto-spec/session.md §10.9). Every loop is bounded in count and time.
//   npx tsx scripts/bench/transport.ts        (or: npm run bench -- transport)
// The peer is scripts/bench/peers/reliable-peer.ts; DMESS_BENCH_PROFILE_DIR=dir runs it
// under --cpu-prof, sampling every DMESS_BENCH_PROFILE_INTERVAL_US µs (default 1000; 50 resolves
// per-packet work) (profile this process with `node --cpu-prof --import tsx …`).
// DMESS_BENCH_ONLY=rate,pingpong runs only the named parts (handshake, rate, bulk, pingpong, rss, raw);
// `inproc` (only when named) runs the ping-pong with both ends in this process.
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { chachaPolyImplementation } from '../../src/crypto/primitives.js'
import { spawnJson, reliablePeerPath, repoRoot, type JsonChild } from './peers/reliable-child.js'
import { bundle } from '../bundle.js'

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

const ONLY = new Set((process.env.DMESS_BENCH_ONLY ?? '').split(',').filter(x => x !== ''))
const want = (part: string): boolean => ONLY.size === 0 || ONLY.has(part)

const TARGETS = { msgsPerS: 61_000, rttMedianUs: 206, bulkMBps: 96, rssMiB: 55 }

interface Summary { count: number, bytes: number, sha256: string }
interface Peer { child: JsonChild, port: number, fingerprint: string, pid: number }

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d
// The machine's 1-minute load average goes with every figure: on a shared 2-core box, time
// figures are only comparable at similar load; CPU-per-message figures much less depend on it.
// Which ChaCha20-Poly1305 both processes run (the peers inherit DMESS_NATIVE): the native addon,
// or node:crypto (DMESS_NATIVE=off, or no addon built). crypto-policy.md §3.1.
const AEAD = chachaPolyImplementation().name
function emit (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ metric, value: round(value), unit, ...extra, aead: AEAD, load1: round(loadavg()[0] ?? 0, 2) }))
}

const CLOCK_TICKS_PER_S = 100 // Linux USER_HZ, the unit of utime/stime in /proc/PID/stat

/** CPU time (user + system) of this process and of the peer, in ms. */
function cpuMs (peerPid: number): { self: number, peer: number } {
  const fields = readFileSync(`/proc/${peerPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  const peer = (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS_PER_S
  const u = process.cpuUsage()
  return { self: (u.user + u.system) / 1000, peer }
}

/** CPU µs per message on each side between two cpuMs() readings. */
function cpuPerMsg (a: { self: number, peer: number }, b: { self: number, peer: number }, count: number): { sender: number, receiver: number } {
  return { sender: round((b.self - a.self) * 1000 / count), receiver: round((b.peer - a.peer) * 1000 / count) }
}

async function startPeer (args: string[]): Promise<Peer> {
  const dir = process.env.DMESS_BENCH_PROFILE_DIR
  const prof = dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval', process.env.DMESS_BENCH_PROFILE_INTERVAL_US ?? '1000', '--cpu-prof-dir', dir]
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

// The same echo peer as plain JavaScript from `npm run build`'s dist/, imported module by module
// (ESM, as `node --input-type=module -e`): what the bundle below saves, measured in the same run.
const MODULES_PEER = `
const { Endpoint } = await import(process.argv[1] + '/dist/src/transport/index.js')
const { ReliableSession } = await import(process.argv[1] + '/dist/src/transport/reliable-session.js')
const { generateIdentity } = await import(process.argv[1] + '/dist/src/crypto/identity.js')
const ep = await Endpoint.listen({ host: '127.0.0.1', port: 0, identity: generateIdentity() })
ep.on('session', s => { const r = new ReliableSession(s); r.on('message', m => { r.send(m).catch(() => {}) }) })
console.log(JSON.stringify({ port: ep.address.port, fingerprint: ep.fingerprint, pid: process.pid }))
process.stdin.resume()
process.stdin.on('end', () => { ep.close().then(() => process.exit(0)) })`

/** The idle-session peer, bundled as the daemon ships (scripts/bundle.ts); under build/ (not packed), where it finds build/Release/ by the same upward search. */
const BUNDLED_PEER = { entry: 'scripts/bench/peers/idle-session-peer.ts', outfile: 'build/bench/idle-session-peer.cjs' }

// The floor under transport_idle_session_rss_mib: the same node binary running a CommonJS script,
// as the bundled peer is, holding only a bound dgram socket. Measured the same way in the same run.
const BARE_UDP_PEER = `
const s = require('node:dgram').createSocket('udp4')
s.bind(0, '127.0.0.1', () => { console.log(JSON.stringify({ port: s.address().port, pid: process.pid })) })
process.stdin.resume()
process.stdin.on('end', () => { s.close(); process.exit(0) })`

// V8's memory reducer runs about 8 s after allocation stops (v8 src/heap/memory-reducer.cc,
// kLongDelayMs): it shrinks the young generation that startup and the burst grew and returns
// free heap pages. Measured here: the compiled peer drops 1.7-3.4 MiB 7-8 s after the first
// reading (how much depends on whether the reducer already ran once during startup).
const SETTLE_MS = 12_000

/**
 * transport_idle_session_rss_mib: a peer process holding one idle reliable session, 1 s after
 * 100 echoed messages and again once settled. The peer is our transport bundled the way the
 * daemon ships (dist/daemon.cjs) and run as a file, as the native stack's server is; the same peer
 * as dist/ ES modules is measured alongside.
 */
async function idleSessionRss (ep: Endpoint): Promise<void> {
  const peerFile = await bundle(BUNDLED_PEER.entry, BUNDLED_PEER.outfile)
  const peer = await startRssPeer([peerFile])
  try {
    // The bundle must find the native addon as the daemon does (bundle.ts), or it measures another AEAD.
    if (peer.aead !== AEAD) throw new Error(`the bundled peer runs ${String(peer.aead)}, this process ${AEAD}`)
    const { session, settleAt } = await idleAfterTraffic(ep, peer)
    emit('transport_idle_session_rss_mib', rssMiB(peer.pid), 'MiB', { target: TARGETS.rssMiB, params: { what: 'bundled peer (scripts/bundle.ts, as dist/daemon.cjs) holding one idle reliable session, 1 s after 100 echoed messages', ...rssSplit(peer.pid) } })
    await floorRss('node_udp_idle_process_rss_mib', ['-e', BARE_UDP_PEER], 'plain node (CommonJS, as the bundle) holding one bound dgram socket: the floor under transport_idle_session_rss_mib')
    await modulesRss(ep)
    await new Promise(resolve => setTimeout(resolve, Math.max(0, settleAt - Date.now())))
    emit('transport_idle_session_settled_rss_mib', rssMiB(peer.pid), 'MiB', { params: { what: `the same peer ${SETTLE_MS / 1000} s later, after V8's memory reducer has run`, ...rssSplit(peer.pid) } })
    session.close()
  } finally {
    await stopPeer(peer)
  }
}

function compiledPeerUsable (): boolean {
  const src = ['src/transport/reliable-session.ts', 'src/transport/endpoint.ts', 'src/transport/reliable/channel.ts']
  const built = ['dist/src/transport/reliable-session.js', 'dist/src/transport/endpoint.js', 'dist/src/transport/reliable/channel.js']
  try {
    return src.every((f, i) => statSync(join(repoRoot, built[i]!)).mtimeMs >= statSync(join(repoRoot, f)).mtimeMs)
  } catch {
    return false
  }
}

async function modulesRss (ep: Endpoint): Promise<void> {
  if (!compiledPeerUsable()) {
    console.error('# transport bench: dist/ is missing or older than src/ (run `npm run build`): no module-by-module RSS')
    return
  }
  const peer = await startRssPeer(['--input-type=module', '-e', MODULES_PEER, repoRoot])
  try {
    const { session } = await idleAfterTraffic(ep, peer)
    emit('transport_idle_session_modules_rss_mib', rssMiB(peer.pid), 'MiB', { params: { what: 'the same peer importing dist/ as ES modules, 1 s after 100 echoed messages: what the bundle saves', ...rssSplit(peer.pid) } })
    session.close()
  } finally {
    await stopPeer(peer)
  }
}

async function startRssPeer (args: string[]): Promise<Peer & { aead: unknown }> {
  const child = spawnJson(process.execPath, args)
  const info = await child.next(o => typeof o.port === 'number')
  return { child, port: info.port as number, fingerprint: String(info.fingerprint), pid: info.pid as number, aead: info.aead }
}

/** 100 echoed 1 KiB messages over a new session, then 1 s idle; the session stays open, and settleAt is when the settled reading is due. */
async function idleAfterTraffic (ep: Endpoint, peer: Peer): Promise<{ session: ReliableSession, settleAt: number }> {
  const session = await openReliable(ep, peer)
  for (let i = 0; i < 100; i++) await session.send(new Uint8Array(MSG_BYTES))
  await session.flushed()
  await new Promise(resolve => setTimeout(resolve, 1000))
  return { session, settleAt: Date.now() + SETTLE_MS }
}

async function floorRss (metric: string, args: string[], what: string): Promise<void> {
  const child = spawnJson(process.execPath, args)
  const info = await child.next(o => typeof o.port === 'number')
  const bare = { child, port: info.port as number, fingerprint: '', pid: info.pid as number }
  try {
    await new Promise(resolve => setTimeout(resolve, 1000))
    emit(metric, rssMiB(bare.pid), 'MiB', { params: { what, ...rssSplit(bare.pid) } })
  } finally {
    await stopPeer(bare)
  }
}

function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

/**
 * RSS split into anonymous memory (heaps, malloc: the process's own) and file pages (mostly the
 * node binary's code and read-only data, shared with every other node process on the machine).
 */
function rssSplit (pid: number): { anonMiB: number, fileMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kB = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN)
  return { anonMiB: round(kB('RssAnon') / 1024), fileMiB: round(kB('RssFile') / 1024) }
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

interface PingPong { sorted: number[], total: number }

async function reliablePingPong (r: ReliableSession): Promise<PingPong> {
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
  return { sorted: rtts.slice(Math.min(100, rtts.length >> 3)).sort((a, b) => a - b), total: rtts.length } // drop warm-up
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

async function rawPingPong (peer: Peer): Promise<PingPong> {
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
  return { sorted: rtts.slice(Math.min(100, rtts.length >> 3)).sort((a, b) => a - b), total: rtts.length }
}

// ---- the run ----

// CPU per round trip (both processes, warm-up included) is what the median is made of, and far
// less disturbed by other jobs on the machine than the wall-clock figures (docs/performance.md §2).
async function pingPongMetrics (prefix: string, peerPid: number, run: () => Promise<PingPong>, target: boolean): Promise<void> {
  const c0 = cpuMs(peerPid)
  const { sorted: rtts, total } = await run()
  const cpu = cpuPerMsg(c0, cpuMs(peerPid), total)
  const params = { bytes: MSG_BYTES, roundTrips: rtts.length }
  emit(`${prefix}_1k_pingpong_rtt_us_median`, percentile(rtts, 0.5), 'us', { ...(target ? { target: TARGETS.rttMedianUs } : {}), params })
  emit(`${prefix}_1k_pingpong_rtt_us_p99`, percentile(rtts, 0.99), 'us', { params })
  emit(`${prefix}_1k_pingpong_cpu_us_per_rt`, cpu.sender + cpu.receiver, 'us', { params: { pinger: cpu.sender, echoer: cpu.receiver, roundTrips: total, what: 'CPU of both processes per round trip' } })
}

async function reliableMetrics (ep: Endpoint): Promise<void> {
  if (want('rate') || want('bulk')) await sinkMetrics(ep)
  if (want('pingpong')) await echoMetrics(ep)
}

async function sinkMetrics (ep: Endpoint): Promise<void> {
  const sink = await startPeer(['--mode', 'sink'])
  try {
    const r = await openReliable(ep, sink)
    if (want('rate')) {
      const c0 = cpuMs(sink.pid)
      const rate = await reliableRate(r)
      const perMsg = cpuPerMsg(c0, cpuMs(sink.pid), rate.summary.count)
      emit('transport_reliable_1k_msgs_per_s', rate.perS, 'msg/s', { target: TARGETS.msgsPerS, params: { bytes: MSG_BYTES, seconds: RATE_MS / 1000, delivered: rate.summary.count, retransmits: r.stats.retransmits, cpuUsPerMsg: perMsg } })
      emit('transport_reliable_1k_cpu_us_per_msg', perMsg.sender + perMsg.receiver, 'us', { params: { ...perMsg, what: 'sender + receiver CPU per delivered 1 KiB message' } })
    }
    if (want('bulk')) {
      const c0 = cpuMs(sink.pid)
      const bulk = await reliableBulk(r)
      const c1 = cpuMs(sink.pid)
      const complete = bulk.summary.bytes === BULK_BYTES
      const busiest = Math.max(c1.self - c0.self, c1.peer - c0.peer) / 1000
      emit('transport_reliable_bulk_64mib_mb_per_s', bulk.MBps, 'MB/s', { target: TARGETS.bulkMBps, params: { bytes: BULK_BYTES, messageBytes: BULK_MESSAGE_BYTES, complete, retransmits: r.stats.retransmits, cwndBytes: Math.round(r.stats.cwndBytes), cpuMs: { sender: round(c1.self - c0.self), receiver: round(c1.peer - c0.peer) } } })
      emit('transport_reliable_bulk_mb_per_cpu_s', bulk.summary.bytes / 1e6 / busiest, 'MB/s', { params: { what: 'bulk bytes per CPU second of the busier side: the rate with a core each and no contention' } })
    }
    await r.flushed()
    r.close()
  } finally {
    await stopPeer(sink)
  }
}

async function echoMetrics (ep: Endpoint): Promise<void> {
  const echo = await startPeer(['--mode', 'echo'])
  try {
    const r = await openReliable(ep, echo)
    await pingPongMetrics('transport_reliable', echo.pid, async () => await reliablePingPong(r), true)
    await new Promise(resolve => setTimeout(resolve, 1000)) // the peer now holds one idle session
    emit('transport_idle_session_tsx_process_rss_mib', rssMiB(echo.pid), 'MiB', { params: { what: 'peer process run through the tsx loader, holding one idle reliable session (compare raw_udp_idle_process_rss_mib: same loader, no session)' } })
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
    const c0 = cpuMs(sink.pid)
    const raw = await rawRate(sink)
    const perMsg = cpuPerMsg(c0, cpuMs(sink.pid), raw.summary.count)
    emit('raw_udp_1k_msgs_per_s', raw.perS, 'msg/s', { params: { bytes: MSG_BYTES, seconds: RATE_MS / 1000, sent: raw.sent, delivered: raw.summary.count, cpuUsPerMsg: perMsg, what: 'node:dgram, no crypto, no reliability; kernel drops count as lost' } })
    emit('raw_udp_1k_cpu_us_per_msg', perMsg.sender + perMsg.receiver, 'us', { params: { ...perMsg, what: 'sender CPU per datagram sent is spread over delivered ones' } })
  } finally {
    await stopPeer(sink)
  }
  const echo = await startPeer(['--raw', '--mode', 'echo'])
  try {
    await pingPongMetrics('raw_udp', echo.pid, async () => await rawPingPong(echo), false)
    emit('raw_udp_idle_process_rss_mib', rssMiB(echo.pid), 'MiB', { params: { what: 'the same peer script (tsx loader) holding only a dgram socket' } })
  } finally {
    await stopPeer(echo)
  }
}

// ---- in-process ping-pong ----

const INPROC_WARMUP = 2000
const INPROC_MAX = 10_000

// Both ends in this process, over real UDP on 127.0.0.1: one thread does the work of both sides,
// so CPU per round trip is the sum of the per-packet costs, and other jobs on the machine
// disturb it far less than a two-process run (docs/performance.md §2). Scavenges count minor GCs.
async function inProcessMetrics (ep: Endpoint): Promise<void> {
  const echo = await Endpoint.listen({ host: HOST, identity: generateIdentity() })
  echo.on('session', s => { const e = new ReliableSession(s); e.on('message', m => { e.send(m).catch(() => {}) }) })
  let scavenges = 0
  const gc = new PerformanceObserver(list => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) scavenges++
  })
  try {
    const r = new ReliableSession(await ep.connect(echo.address, { expectFingerprint: echo.fingerprint }))
    const it = r.messages()
    const msg = new Uint8Array(MSG_BYTES).fill(5)
    const rtts: number[] = []
    const start = performance.now()
    gc.observe({ entryTypes: ['gc'] })
    let c0 = process.cpuUsage()
    for (let i = 0; i < INPROC_WARMUP + INPROC_MAX && performance.now() - start < PINGPONG_MS * 2; i++) {
      if (i === INPROC_WARMUP) { c0 = process.cpuUsage(); scavenges = 0 }
      const t0 = performance.now()
      if (!r.trySend(msg)) await r.send(msg)
      if ((await it.next()).done === true) throw new Error('in-process ping-pong: session closed')
      if (i >= INPROC_WARMUP) rtts.push((performance.now() - t0) * 1000)
    }
    const c = process.cpuUsage(c0)
    await new Promise(resolve => setImmediate(resolve)) // the observer reports asynchronously
    rtts.sort((a, b) => a - b)
    const params = { bytes: MSG_BYTES, roundTrips: rtts.length, medianUs: round(percentile(rtts, 0.5)), p99Us: round(percentile(rtts, 0.99)), scavengesPer1000: round(scavenges * 1000 / rtts.length), what: 'both ends in one process: CPU per round trip of both sides together' }
    emit('transport_reliable_inprocess_1k_pingpong_cpu_us_per_rt', (c.user + c.system) / rtts.length, 'us', { params })
    r.close()
  } finally {
    gc.disconnect()
    await echo.close()
  }
}

export async function run (): Promise<void> {
  const ep = await Endpoint.listen({ host: HOST, identity: generateIdentity() })
  try {
    if (want('handshake')) await handshakeMetrics(ep)
    await reliableMetrics(ep)
    if (want('rss')) await idleSessionRss(ep)
    if (want('raw')) await rawMetrics()
    if (ONLY.has('inproc')) await inProcessMetrics(ep)
  } finally {
    await ep.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
