// Whole processes under a datagram fuzz (proto-spec/dht.md §3.7, wire.md §5): 1,000,000 random
// and mutated datagrams — random bytes, mutations of every DHT message and every transport packet
// of the specs' vectors, and well-formed DHT requests with random fields — sent as fast as
// loopback allows at a `dmess bootstrap` process and at a full `dmess daemon`. Afterwards the
// process is alive, still answers (a DHT ping; for the daemon, a real peer connects and its
// message arrives), and its resident memory (VmRSS) stayed within two bounds.
//
// Why these bounds. What the node keeps for strangers is bounded in count whatever arrives: the
// memos of public bytes (src/dht/intern.ts: node ids by key, ids placed by address, decoded
// contacts; 65,536 entries each, then cleared), rate-limiter buckets (8,192 IPs + 8,192
// networks), the transaction table (2,048), verifications in flight (64), the routing table (k per
// bucket), the record-verification cache (256); no record is stored without a token and a valid
// signature. At ~300 bytes per memo entry (a 32-byte key string, a Uint8Array, the Map entry)
// the memos alone reach ~20 MiB each, and twice that while a cleared memo's entries wait for the
// collector; with V8's young generation (up to 3 × 16 MiB) that is RSS_TOTAL_BOUND_MIB = 160 MiB
// of growth at most. Measured here: +70 to +80 MiB, reached by the half-way point. So the datagrams
// go in ROUNDS rounds with VmRSS read after each: by the half-way point (500,000 datagrams, more
// distinct keys than any memo holds) every bounded structure has filled, and the second half may
// add at most RSS_STEADY_BOUND_MIB = 64 MiB: one memo cleared in the second half can hold up to
// ~40 MiB until the collector takes its entries (above), and clean runs of the full daemon have
// measured anywhere from 0 to 55 MiB there; a leak of 134 bytes per datagram would exceed it. Both processes run with a 1 MiB young-generation semi-space
// (SMALL_YOUNG_GENERATION): V8 otherwise grows it to 16 MiB per semi-space whenever it likes, and
// that alone moved the second half by up to ~50 MiB from one run to the next, leak or not.
// Seeded (test/helpers/seed.ts) and bounded in count and time; figures print as JSON lines.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { BIN } from '../helpers/cli.js'
import { testSeed } from '../helpers/seed.js'
import { specVectors, fromHex } from '../helpers/spec-vectors.js'
import { rng as mulberry, int, randomBuf, mutate } from '../wire/fuzz.js'
import { encodeMessage, type DhtMessage } from '../../src/dht/messages.js'
import { DhtType, RECORD_MAX_BYTES } from '../../src/dht/constants.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/loopback.js'
import { cli, history, makeNodes, startDaemon, daemonPid, type Node } from '../e2e/helpers.js'
import { isProcessAlive } from '../../src/daemon/lock.js'

const TOTAL = 1_000_000
const MAX_MS = 120_000
const BATCH = 256
/** node flags for the processes under test: a young generation that cannot hide or fake a leak */
const SMALL_YOUNG_GENERATION = `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=1`.trim()
const SOURCES = 8
const ROUNDS = 4
const RSS_TOTAL_BOUND_MIB = 160
const RSS_STEADY_BOUND_MIB = 64

t.setTimeout(900_000)

function metric (t: Test, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  t.comment(JSON.stringify({ metric: name, value, unit, ...extra }))
}

/** VmRSS of a process in MiB (/proc/<pid>/status). */
function rssMiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) / 1024
}

/** Valid packets to mutate: every message of dht.md §12 and every packet of wire.md's vectors. */
function samples (): { dht: Uint8Array[], transport: Uint8Array[] } {
  const hexOf = (doc: string): Uint8Array[] => [...specVectors(doc).values()].filter(v => /^c[01][0-9a-f]+$/.test(v)).map(fromHex)
  const dht = hexOf('dht.md').filter(b => b[1]! >= 0x20 && b[1]! <= 0x3f)
  const transport = hexOf('wire.md').filter(b => b[1]! < 0x20 || b[1]! > 0x3f)
  return { dht, transport }
}

/** A well-formed DHT request with random fields (reaches the handlers, not just the decoder). */
function randomRequest (r: () => number): Uint8Array {
  const head = { txid: int(r, 2 ** 32), readOnly: int(r, 2) === 0, senderKey: randomBuf(r, 32) }
  const key = randomBuf(r, 32)
  const bodies: DhtMessage[] = [
    { ...head, type: DhtType.PING },
    { ...head, type: DhtType.FIND_NODE, target: key },
    { ...head, type: DhtType.FIND_VALUE, key, haveSeq: int(r, 2) === 0 ? null : int(r, 1000) },
    { ...head, type: DhtType.STORE, key, token: randomBuf(r, 16), record: randomBuf(r, 1 + int(r, RECORD_MAX_BYTES)) }
  ]
  return encodeMessage(bodies[int(r, bodies.length)]!)
}

interface FuzzResult { sent: number, ms: number, answers: number }

/** Sends `count` datagrams (for at most `maxMs`) from SOURCES loopback sockets to host:port. */
async function fuzzRound (r: () => number, host: string, port: number, count: number, maxMs: number): Promise<FuzzResult> {
  const { dht, transport } = samples()
  const pool = [...dht, ...transport]
  let answers = 0
  const sockets: Socket[] = []
  for (let i = 0; i < SOURCES; i++) {
    const s = createSocket('udp4')
    s.on('message', () => { answers++ })
    s.on('error', () => {})
    await new Promise<void>(resolve => s.bind(0, '127.0.0.1', () => resolve()))
    sockets.push(s)
  }
  const started = Date.now()
  let sent = 0
  try {
    while (sent < count && Date.now() - started < maxMs) {
      for (let k = 0; k < BATCH && sent < count; k++, sent++) {
        let d: Uint8Array
        switch (int(r, 4)) {
          case 0: d = randomBuf(r, int(r, 8) === 0 ? int(r, 1500) : int(r, 120)); break
          case 1: d = mutate(r, dht[int(r, dht.length)]!, pool); break
          case 2: d = mutate(r, transport[int(r, transport.length)]!, pool); break
          default: d = randomRequest(r)
        }
        sockets[sent % SOURCES]!.send(d, port, host)
      }
      await new Promise(resolve => setImmediate(resolve))
    }
  } finally {
    for (const s of sockets) s.close()
  }
  return { sent, ms: Date.now() - started, answers }
}

/**
 * TOTAL datagrams in ROUNDS equal rounds (at most MAX_MS in all), the process's VmRSS read after
 * each: a leak grows with every round, bounded state and heap headroom level off.
 */
async function fuzz (t: Test, host: string, port: number, seed: number, pid: number): Promise<FuzzResult & { rss: number[] }> {
  const { dht, transport } = samples()
  t.ok(dht.length >= 10 && transport.length >= 8, `${dht.length} DHT and ${transport.length} transport packets to mutate`)
  const r = mulberry(seed)
  const total: FuzzResult & { rss: number[] } = { sent: 0, ms: 0, answers: 0, rss: [rssMiB(pid)] }
  // rss[0] is before the first round, rss[i] after round i
  for (let i = 0; i < ROUNDS && total.ms < MAX_MS; i++) {
    const f = await fuzzRound(r, host, port, TOTAL / ROUNDS, MAX_MS - total.ms)
    total.sent += f.sent
    total.ms += f.ms
    total.answers += f.answers
    total.rss.push(rssMiB(pid))
  }
  return total
}

/** The two memory bounds of the header, and the figures as a JSON line. */
function checkRss (t: Test, who: string, before: number, after: number, perRound: number[]): void {
  const half = perRound[Math.floor(perRound.length / 2)]!
  const last = perRound[perRound.length - 1]!
  metric(t, `fuzz_${who}_rss_mib`, Math.round(after * 10) / 10, 'MiB', { before: Math.round(before * 10) / 10, afterEachRound: perRound.slice(1).map(x => Math.round(x * 10) / 10), secondHalfGrowth: Math.round((last - half) * 10) / 10, totalBound: RSS_TOTAL_BOUND_MIB, steadyBound: RSS_STEADY_BOUND_MIB })
  t.ok(after - before < RSS_TOTAL_BOUND_MIB, `RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB: grew less than ${RSS_TOTAL_BOUND_MIB} MiB`)
  t.ok(last - half < RSS_STEADY_BOUND_MIB, `the second half of the datagrams added ${(last - half).toFixed(1)} MiB (< ${RSS_STEADY_BOUND_MIB}): no per-datagram leak`)
}

/** Resolves with the answering node's id (hex) or null: a DHT PING from a fresh loopback node. */
async function dhtPing (addr: string): Promise<boolean> {
  const probe = await StandaloneDht.listen({ node: LOOPBACK_SETTINGS })
  try {
    return await new Promise<boolean>(resolve => probe.node.ping(addr, id => resolve(id !== null), 2))
  } finally {
    await probe.close()
  }
}

t.test('a `dmess bootstrap` process survives 1,000,000 fuzzed datagrams', async t => {
  const seed = testSeed(t, 0xb0075, 'fuzzed datagrams at dmess bootstrap')
  const child = spawn(process.execPath, [BIN, 'bootstrap', '--host', '127.0.0.1', '--port', '0', '--stats-interval', '0.5', '--testnet'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: SMALL_YOUNG_GENERATION } })
  const pid = child.pid as number
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  const lines: Array<Record<string, unknown>> = []
  const listening = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', l => {
      const ev = JSON.parse(l) as Record<string, unknown>
      lines.push(ev)
      if (ev.event === 'listening') resolve(ev.address as string)
    })
    void exited.then(code => reject(new Error(`dmess bootstrap exited ${code}`)))
  })
  const [host, port] = [listening.slice(0, listening.lastIndexOf(':')), Number(listening.slice(listening.lastIndexOf(':') + 1))]
  t.ok(await dhtPing(listening), 'answers a DHT ping before')
  const rssBefore = rssMiB(pid)

  const f = await fuzz(t, host, port, seed, pid)
  metric(t, 'fuzz_bootstrap_datagrams_sent', f.sent, 'datagrams', { ms: f.ms, perSecond: Math.round(f.sent * 1000 / f.ms), answersReceived: f.answers })

  t.ok(isProcessAlive(pid) && child.exitCode === null, 'the process is alive')
  t.ok(await dhtPing(listening), 'and answers a DHT ping after')
  const rssAfter = rssMiB(pid)
  checkRss(t, 'bootstrap', rssBefore, rssAfter, f.rss)

  // its own counters: the junk was read, judged and counted (stats lines, bootstrap/README.md)
  const statsNow = async (): Promise<Record<string, unknown>> => await new Promise(resolve => {
    const at = lines.length
    const poll = setInterval(() => { const l = lines.slice(at).find(x => x.event === 'stats'); if (l) { clearInterval(poll); resolve(l) } }, 50)
  })
  const stats = await statsNow()
  const drops = stats.drops as Record<string, number>
  metric(t, 'fuzz_bootstrap_drops', Object.values(drops).reduce((a, b) => a + b, 0), 'datagrams', drops)
  t.ok((drops.malformed ?? 0) > 0, 'malformed datagrams were counted')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'and it still stops cleanly')
})

t.test('a full daemon survives 1,000,000 fuzzed datagrams; a real peer then connects and its message arrives', async t => {
  const seed = testSeed(t, 0xdae0, 'fuzzed datagrams at dmess daemon')
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  // the detached daemon inherits the environment of the CLI that starts it
  const saved = process.env.NODE_OPTIONS
  process.env.NODE_OPTIONS = SMALL_YOUNG_GENERATION
  try {
    await startDaemon(t, bob, [])
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS
    else process.env.NODE_OPTIONS = saved
  }
  const pid = await daemonPid(bob)
  await cli(bob, ['contacts', 'add', alice.invite])
  t.ok(await dhtPing(`127.0.0.1:${bob.port}`), 'bob\'s daemon answers a DHT ping before')
  const rssBefore = rssMiB(pid)

  const f = await fuzz(t, '127.0.0.1', bob.port, seed, pid)
  metric(t, 'fuzz_daemon_datagrams_sent', f.sent, 'datagrams', { ms: f.ms, perSecond: Math.round(f.sent * 1000 / f.ms), answersReceived: f.answers })

  t.ok(isProcessAlive(pid), 'the daemon is alive')
  t.ok(await dhtPing(`127.0.0.1:${bob.port}`), 'and answers a DHT ping after')
  const rssAfter = rssMiB(pid)
  checkRss(t, 'daemon', rssBefore, rssAfter, f.rss)

  // a real peer, started only now: it connects (handshake) and its message is delivered
  await startDaemon(t, alice, [bob])
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(alice, ['send', 'bob', 'after the fuzz', '--wait', 'delivered'], 120_000)
  t.same((await history(bob, 'alice')).map(m => m.text), ['after the fuzz'], 'bob has alice\'s message')
})
