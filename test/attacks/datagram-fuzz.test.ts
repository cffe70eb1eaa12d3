// Whole processes under a datagram fuzz (proto-spec/dht.md §3.7, wire.md §5): 160,000 random and
// mutated datagrams — random bytes, mutations of every DHT message and every transport packet of
// the specs' vectors, and well-formed DHT requests with random fields — sent as fast as loopback
// allows at a `dmess bootstrap` process and at a full `dmess daemon`. Afterwards the process is
// alive, still answers (a DHT ping; for the daemon, a real peer connects and its message
// arrives), and what it retains did not grow.
//
// What is measured. Both processes run with node's --expose-gc, and report the V8 heap they use
// after a full collection (src/platform/heap.ts: the bootstrap node in its stats lines, the daemon
// in its IPC `status`), with the memos of public bytes emptied first (src/dht/ids.ts
// clearDhtMemos: caches of pure functions, bounded at 65,536 entries and cleared when full, whose
// fill level alone swings the heap by ~16 MiB). Resident memory (VmRSS) is not used: it counts
// garbage not yet collected and whatever V8 keeps reserved, and swung 0–55 MiB between runs of the
// same code. The heap after a full GC is steady to ~0.2 MiB from round to round here.
//
// The bounds. What the node keeps for strangers is bounded in count whatever arrives: rate-limiter
// buckets, the transaction table (2,048), verifications in flight (64), the routing table (k per
// bucket), the record-verification cache (256); no record is stored without a token and a valid
// signature. All of it fills within the first round (the sources are a few loopback sockets). So
// the datagrams go in ROUNDS rounds with the heap read before the first and after each; the whole
// run may add HEAP_TOTAL_BOUND_MIB = 8 MiB (measured: under 1 MiB), and the second half
// HEAP_STEADY_BOUND_MIB = 2 MiB (measured: ±0.2 MiB).
//
// Why 160,000 suffices (it was 300,000; each datagram costs CPU in both processes, ~35 s a run).
// The second half is 80,000 datagrams sent, so a leak of 2 MiB / 80,000 ≈ 26 bytes per datagram
// fails. The process may read only part of them (the kernel drops what overflows its socket
// buffer); were it only half, the bound per datagram read is ~50 bytes: still less than anything a handler could retain per datagram (a Map entry
// keyed by a 32-byte string holds over 60 bytes in V8, a Buffer view more), and the bound is 10×
// the round-to-round noise.
// The 40,000 random sender keys no longer fill the id memo (65,536) under fire; the memos are
// emptied before each heap reading either way, and the contact memo's clear-when-full runs with
// a limit of 2 in test/dht/messages.test.ts.
// Seeded (test/helpers/seed.ts) and bounded in count: every round sends all its datagrams however
// long this machine takes (sending never waits on the process under test, so a round ends), and the
// verdicts are about the process, not the speed; t.setTimeout is the hang guard. Figures, times
// included, print as JSON lines.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { BIN } from '../helpers/cli.js'
import { testSeed } from '../helpers/seed.js'
import { specVectors, fromHex } from '../helpers/spec-vectors.js'
import { rng as mulberry, int, randomBuf, mutate } from '../wire/fuzz.js'
import { encodeMessage, type DhtMessage } from '../../src/dht/messages.js'
import { DhtType, RECORD_MAX_BYTES } from '../../src/dht/constants.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/loopback.js'
import { cli, history, ipc, makeNodes, startDaemon, daemonPid, type Node } from '../e2e/helpers.js'
import { isProcessAlive } from '../../src/daemon/lock.js'

const TOTAL = 160_000
const BATCH = 256
/** node flags for the processes under test: `gc()` for their heap figure (src/platform/heap.ts) */
const EXPOSE_GC = `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim()
const SOURCES = 8
const ROUNDS = 8
const HEAP_TOTAL_BOUND_MIB = 8
const HEAP_STEADY_BOUND_MIB = 2
const MIB = 2 ** 20
const PING_TRIES = 10

t.setTimeout(900_000)

function metric (t: Test, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  t.comment(JSON.stringify({ metric: name, value, unit, ...extra }))
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

/** Sends `count` datagrams from SOURCES loopback sockets to host:port. */
async function fuzzRound (r: () => number, host: string, port: number, count: number): Promise<FuzzResult> {
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
    while (sent < count) {
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
 * TOTAL datagrams in ROUNDS equal rounds, the process's heap after a full
 * collection (`heap()`) read before the first and after each: a leak grows with every round,
 * bounded state levels off.
 */
async function fuzz (t: Test, host: string, port: number, seed: number, heap: () => Promise<number>): Promise<FuzzResult & { heapMiB: number[] }> {
  const { dht, transport } = samples()
  t.ok(dht.length >= 10 && transport.length >= 8, `${dht.length} DHT and ${transport.length} transport packets to mutate`)
  const r = mulberry(seed)
  const total: FuzzResult & { heapMiB: number[] } = { sent: 0, ms: 0, answers: 0, heapMiB: [await heap() / MIB] }
  // heapMiB[0] is before the first round, heapMiB[i] after round i
  for (let i = 0; i < ROUNDS; i++) {
    const f = await fuzzRound(r, host, port, TOTAL / ROUNDS)
    total.sent += f.sent
    total.ms += f.ms
    total.answers += f.answers
    total.heapMiB.push(await heap() / MIB)
  }
  return total
}

/** The two bounds of the header, and the figures as a JSON line. */
function checkHeap (t: Test, who: string, perRound: number[]): void {
  const round = (x: number): number => Math.round(x * 100) / 100
  const before = perRound[0]!
  const half = perRound[Math.floor((perRound.length - 1) / 2)]!
  const last = perRound[perRound.length - 1]!
  metric(t, `fuzz_${who}_heap_after_gc_mib`, round(last), 'MiB', { before: round(before), afterEachRound: perRound.slice(1).map(round), secondHalfGrowth: round(last - half), totalBound: HEAP_TOTAL_BOUND_MIB, steadyBound: HEAP_STEADY_BOUND_MIB })
  t.ok(last - before < HEAP_TOTAL_BOUND_MIB, `heap after a full GC ${before.toFixed(2)} → ${last.toFixed(2)} MiB: grew less than ${HEAP_TOTAL_BOUND_MIB} MiB`)
  t.ok(last - half < HEAP_STEADY_BOUND_MIB, `the second half of the datagrams added ${(last - half).toFixed(2)} MiB of heap (< ${HEAP_STEADY_BOUND_MIB}): no per-datagram leak`)
}

/**
 * Whether the node at `addr` answers a DHT PING from a fresh loopback node. Asked up to PING_TRIES
 * times (3 attempts of 1 s each): on a loaded machine the process may still be draining the
 * datagrams queued on its socket; a node that stopped answering fails all of them.
 */
async function dhtPing (addr: string): Promise<boolean> {
  const probe = await StandaloneDht.listen({ node: LOOPBACK_SETTINGS })
  try {
    for (let i = 0; i < PING_TRIES; i++) {
      if (await new Promise<boolean>(resolve => probe.node.ping(addr, id => resolve(id !== null), 2))) return true
    }
    return false
  } finally {
    await probe.close()
  }
}

t.test('a `dmess bootstrap` process survives 160,000 fuzzed datagrams', async t => {
  const seed = testSeed(t, 0xb0075, 'fuzzed datagrams at dmess bootstrap')
  const child = spawn(process.execPath, [BIN, 'bootstrap', '--host', '127.0.0.1', '--port', '0', '--stats-interval', '1', '--testnet'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: EXPOSE_GC } })
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
  const heap = async (): Promise<number> => await new Promise(resolve => {
    const at = lines.length
    const poll = setInterval(() => { const l = lines.slice(at).find(x => x.event === 'stats'); if (l) { clearInterval(poll); resolve(l.heapUsedAfterGc as number) } }, 50)
  })
  const f = await fuzz(t, host, port, seed, heap)
  metric(t, 'fuzz_bootstrap_datagrams_sent', f.sent, 'datagrams', { ms: f.ms, perSecond: Math.round(f.sent * 1000 / f.ms), answersReceived: f.answers })

  t.ok(isProcessAlive(pid) && child.exitCode === null, 'the process is alive')
  t.ok(await dhtPing(listening), 'and answers a DHT ping after')
  checkHeap(t, 'bootstrap', f.heapMiB)

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

t.test('a full daemon survives 160,000 fuzzed datagrams; a real peer then connects and its message arrives', async t => {
  const seed = testSeed(t, 0xdae0, 'fuzzed datagrams at dmess daemon')
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  // the detached daemon inherits the environment of the CLI that starts it
  const saved = process.env.NODE_OPTIONS
  process.env.NODE_OPTIONS = EXPOSE_GC
  try {
    await startDaemon(t, bob, [])
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS
    else process.env.NODE_OPTIONS = saved
  }
  const pid = await daemonPid(bob)
  await cli(bob, ['contacts', 'add', alice.invite])
  t.ok(await dhtPing(`127.0.0.1:${bob.port}`), 'bob\'s daemon answers a DHT ping before')
  const client = await ipc(bob)
  t.teardown(() => client.close())
  const f = await fuzz(t, '127.0.0.1', bob.port, seed, async () => (await client.call('status', {})).heapUsedAfterGc as number)
  metric(t, 'fuzz_daemon_datagrams_sent', f.sent, 'datagrams', { ms: f.ms, perSecond: Math.round(f.sent * 1000 / f.ms), answersReceived: f.answers })

  t.ok(isProcessAlive(pid), 'the daemon is alive')
  t.ok(await dhtPing(`127.0.0.1:${bob.port}`), 'and answers a DHT ping after')
  checkHeap(t, 'daemon', f.heapMiB)

  // a real peer, started only now: it connects (handshake) and its message is delivered
  await startDaemon(t, alice, [bob])
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(alice, ['send', 'bob', 'after the fuzz', '--wait', 'delivered'], 120_000)
  t.same((await history(bob, 'alice')).map(m => m.text), ['after the fuzz'], 'bob has alice\'s message')
})
