// Secure session layer over real UDP, two processes on 127.0.0.1 (this one dials, a child
// serves): handshakes per second (XX and IK), 1 KiB datagrams per second for 5 s on the
// *unreliable* session layer alone (no reliable channel on top), 1 KiB ping-pong RTT
// median and p99, the RSS of a process holding one idle session — and a raw node:dgram baseline
// for the same throughput and ping-pong, measured in the same run. One JSON line per metric.
//   npx tsx scripts/bench/session.ts        (or: npm run bench -- session)
// Every loop is bounded in count and time; the child is killed by its PID.
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'

const HANDSHAKE_MS = 3000
const THROUGHPUT_MS = 5000
const PINGS = 2000
const PING_MS = 5000
const CLIENTS = 4
const KIB = new Uint8Array(1024)
/** The bench measures capacity, so the server's per-IP and load limits (20/s, 400/s) are lifted. */
const UNLIMITED = { initiationsPerIpPerS: 1e9, initiationBurstPerIp: 1e9, underLoadInitiationsPerS: 1e9, underLoadInitiationBurst: 1e9 }

// ---- the serving child: one Endpoint and one raw socket, each with the same tiny protocol ----
// first byte: 'E' echo it back, 'C' count it, 'R' reply with the count and reset, 'M' reply with RSS

function answer (msg: Uint8Array, counter: { n: number }, reply: (b: Uint8Array) => void): void {
  const op = msg[0]
  if (op === 0x45) reply(msg)
  else if (op === 0x43) counter.n++
  else if (op === 0x52) { reply(Buffer.from(`N${counter.n}`)); counter.n = 0 } else if (op === 0x4d) reply(Buffer.from(`M${process.memoryUsage().rss}`))
}

async function serve (): Promise<void> {
  const ep = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity(), tuning: UNLIMITED })
  const counter = { n: 0 }
  ep.on('session', s => { s.on('data', d => { answer(d, counter, b => s.send(b)) }) })
  const raw = createSocket('udp4')
  const rawCount = { n: 0 }
  raw.on('message', (m, r) => { answer(m, rawCount, b => raw.send(b, r.port, r.address)) })
  await new Promise<void>(resolve => { raw.bind(0, '127.0.0.1', resolve) })
  process.stdout.write(JSON.stringify({ port: ep.address.port, rawPort: raw.address().port, fingerprint: ep.fingerprint }) + '\n')
  process.stdin.resume()
  process.stdin.on('end', () => { process.exit(0) })
}

// ---- the dialling side ----

interface Child { proc: ChildProcess, info: { port: number, rawPort: number, fingerprint: string } }

async function startChild (): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', code => { reject(new Error(`bench child exited with ${code}`)) })
  })
  return { proc, info: JSON.parse(line) as Child['info'] }
}

function stopChild (c: Child): void {
  c.proc.stdin?.end()
  if (c.proc.exitCode === null) c.proc.kill('SIGTERM')
}

const round = (x: number): number => Math.round(x * 100) / 100
const emit = (metric: string, value: number, params: Record<string, unknown> = {}): void => {
  console.log(JSON.stringify({ metric, value: round(value), params }))
}

/** A request/response channel over either transport: send bytes, await the next reply. */
interface Wire { send: (b: Uint8Array) => void, next: (ms?: number) => Promise<Uint8Array | null> }

function sessionWire (s: Session): Wire {
  const queue: Uint8Array[] = []
  let waiter: ((b: Uint8Array | null) => void) | null = null
  s.on('data', d => { if (waiter !== null) { const w = waiter; waiter = null; w(d) } else queue.push(d) })
  return { send: b => { s.send(b) }, next: async ms => await take(queue, w => { waiter = w }, ms) }
}

function rawWire (sock: Socket, port: number): Wire {
  const queue: Uint8Array[] = []
  let waiter: ((b: Uint8Array | null) => void) | null = null
  sock.on('message', m => { if (waiter !== null) { const w = waiter; waiter = null; w(m) } else queue.push(m) })
  return { send: b => { sock.send(b, port, '127.0.0.1') }, next: async ms => await take(queue, w => { waiter = w }, ms) }
}

async function take (queue: Uint8Array[], wait: (w: (b: Uint8Array | null) => void) => void, ms = 1000): Promise<Uint8Array | null> {
  const q = queue.shift()
  if (q !== undefined) return q
  return await new Promise(resolve => {
    const timer = setTimeout(() => { resolve(null) }, ms)
    wait(b => { clearTimeout(timer); resolve(b) })
  })
}

async function handshakesPerSecond (c: Child, ik: boolean): Promise<number> {
  const to = { host: '127.0.0.1', port: c.info.port }
  const probe = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const expectFingerprint = c.info.fingerprint // a node answers only a dial that names it (wire.md §4.1.1)
  const remoteStatic = ik ? (await probe.connect(to, { expectFingerprint })).remoteStatic : undefined
  await probe.close()
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })))
  const start = performance.now()
  let done = 0
  await Promise.all(clients.map(async ep => {
    while (performance.now() - start < HANDSHAKE_MS) {
      const s = await ep.connect(to, { expectFingerprint, remoteStatic })
      if (s.remoteFingerprint !== c.info.fingerprint) throw new Error('wrong peer')
      done++
      s.close()
    }
  }))
  const perS = done / ((performance.now() - start) / 1000)
  await Promise.all(clients.map(async ep => { await ep.close() }))
  return perS
}

/** Send 1 KiB 'C' datagrams for THROUGHPUT_MS (in bursts, yielding to I/O); the peer counts them. */
async function throughput (w: Wire): Promise<{ sentPerS: number, deliveredPerS: number }> {
  const msg = KIB.slice()
  msg[0] = 0x43
  const start = performance.now()
  let sent = 0
  while (performance.now() - start < THROUGHPUT_MS) {
    for (let i = 0; i < 32; i++) w.send(msg)
    sent += 32
    await new Promise(resolve => setImmediate(resolve))
  }
  const secs = (performance.now() - start) / 1000
  await new Promise(resolve => setTimeout(resolve, 200)) // let the tail arrive
  let reply: Uint8Array | null = null
  for (let i = 0; i < 10 && reply === null; i++) {
    w.send(Buffer.from('R'))
    reply = await w.next(500)
  }
  const delivered = reply === null ? 0 : Number(Buffer.from(reply).toString().slice(1))
  return { sentPerS: sent / secs, deliveredPerS: delivered / secs }
}

async function pingPong (w: Wire): Promise<{ median: number, p99: number, count: number }> {
  const msg = KIB.slice()
  msg[0] = 0x45
  const rtts: number[] = []
  const start = performance.now()
  for (let i = 0; i < PINGS && performance.now() - start < PING_MS; i++) {
    const t0 = performance.now()
    w.send(msg)
    if (await w.next(1000) !== null) rtts.push((performance.now() - t0) * 1000)
  }
  rtts.sort((a, b) => a - b)
  const at = (q: number): number => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] ?? NaN
  return { median: at(0.5), p99: at(0.99), count: rtts.length }
}

async function idleSessionRss (): Promise<{ before: number, after: number }> {
  const c = await startChild()
  try {
    const raw = createSocket('udp4')
    await new Promise<void>(resolve => { raw.bind(0, '127.0.0.1', resolve) })
    const rw = rawWire(raw, c.info.rawPort)
    rw.send(Buffer.from('M'))
    const before = Number(Buffer.from(await rw.next(2000) ?? Buffer.from('M0')).toString().slice(1))
    const ep = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
    const s = await ep.connect({ host: '127.0.0.1', port: c.info.port }, { expectFingerprint: c.info.fingerprint })
    await new Promise(resolve => setTimeout(resolve, 1000))
    const sw = sessionWire(s)
    sw.send(Buffer.from('M'))
    const after = Number(Buffer.from(await sw.next(2000) ?? Buffer.from('M0')).toString().slice(1))
    await ep.close()
    raw.close()
    return { before, after }
  } finally {
    stopChild(c)
  }
}

export async function run (): Promise<void> {
  const c = await startChild()
  try {
    for (const ik of [false, true]) {
      const perS = await handshakesPerSecond(c, ik)
      emit(`session_${ik ? 'ik' : 'xx'}_handshakes_per_s`, perS, { clients: CLIENTS, ms: HANDSHAKE_MS, what: 'connect + proof check + close, two processes over UDP', rateLimits: 'lifted on the server (defaults: 20/s per IP, cookies above 400/s)' })
    }
    const ep = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
    const s = await ep.connect({ host: '127.0.0.1', port: c.info.port }, { expectFingerprint: c.info.fingerprint })
    const sw = sessionWire(s)
    const raw = createSocket('udp4')
    await new Promise<void>(resolve => { raw.bind(0, '127.0.0.1', resolve) })
    const rw = rawWire(raw, c.info.rawPort)
    for (const [name, w] of [['session_unreliable', sw], ['raw_dgram', rw]] as const) {
      const tp = await throughput(w)
      emit(`${name}_1k_datagrams_per_s`, tp.deliveredPerS, { ms: THROUGHPUT_MS, sentPerS: round(tp.sentPerS), lossPct: round(100 * (1 - tp.deliveredPerS / tp.sentPerS)), layer: name === 'raw_dgram' ? 'node:dgram, no crypto' : 'encrypted session datagrams, no reliability layer' })
    }
    for (const [name, w] of [['session', sw], ['raw_dgram', rw]] as const) {
      const pp = await pingPong(w)
      emit(`${name}_1k_rtt_median_us`, pp.median, { pings: pp.count })
      emit(`${name}_1k_rtt_p99_us`, pp.p99, { pings: pp.count })
    }
    await ep.close()
    raw.close()
  } finally {
    stopChild(c)
  }
  const rss = await idleSessionRss()
  emit('session_idle_process_rss_mb', rss.after / 2 ** 20, { rssBeforeSessionMb: round(rss.before / 2 ** 20), what: 'node + tsx process with an Endpoint, holding one idle session' })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve')) await serve()
  else await run()
}
