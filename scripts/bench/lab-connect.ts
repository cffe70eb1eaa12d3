// Connect time through real Linux NAT, with real daemons (scripts/lab/nat.ts, scripts/lab/daemons.ts):
// per pair of topologies, from "Alice knows Bob's fingerprint" (both daemons running and
// registered, Bob's record readable, Bob has Alice as a contact; the clock starts just before
// Alice's `contacts.add` IPC call for Bob leaves the bench, so that call and its store writes are
// inside) to two end points, in wall-clock ms, each its own JSON line per pair:
//   - lab_connect_first_byte_ms: Bob's daemon shows Alice online (its `presence` event). That is
//     the Noise IK session's key confirmation at Bob: the first transport packet from Alice that
//     his daemon has decrypted and authenticated (session.md §2.2: B never takes IK message 1
//     alone, which can be replayed). It is this stack's "b's first byte" (hyperdht's connect
//     figure: from a knowing b's key to b receiving a's first byte over the encrypted stream):
//     the DHT lookup, the offer through the rendezvous, the answer, the probes and the handshake,
//     nothing of the messaging above.
//   - lab_connect_ms: Bob's daemon emitting her first message (its `message` event): all of the
//     above, then what a first message to a new contact takes on top (her CONTACT_REQUEST, Bob's
//     PQXDH bundle, the ratchet session's start, the durable writes on both sides,
//     proto-spec/envelope.md §8.7); how docs/performance.md §12–§17 measured.
// Both come to the bench as IPC events from Bob's daemon, so both carry the same IPC delay. Bob
// adds Alice just before the start (he must hold her as a contact to answer her punch offer,
// traversal.md §5.3), so his daemon looks her up and may punch and dial her too: the session that
// reaches him first may be his own handshake. Each timeline says whose it was (`sessionBy`, from
// his `session up` line), and lab_connect_first_byte_alice_dialled_ms is the median over the runs
// in which it was hers. PASSIVE=1 measures her connect alone, the figure to set beside hyperdht's,
// whose b only listens: Bob added each Alice while her daemon was not running, and his own lookups
// of her have found nothing three times, so his next one is 16-24 s away (a timeline with a
// `B dht lookup started` step says it came anyway); he answers her offer and does nothing else.
// What it adds up to for a user: the default is two people adding each other at once; PASSIVE is
// someone added while offline adding back and writing. Two `dmess bootstrap` nodes at two public IPs are both daemons'
// bootstrap and rendezvous, so each side knows its NAT kind before the connect, as a node with
// several bootstrap nodes does (traversal.md §2: birthday punching, relay first); RENDEZVOUS=1
// gives them one, and every NAT kind stays unknown. Median of RUNS runs, each with a new Alice (first contact again);
// one JSON line per pair. A pair that does not connect within LIMIT_MS prints value null with the
// reason, not a number: symmetric NATs need the relay fallback or birthday punching
// (proto-spec/traversal.md §7), and this bench picks them up once they exist.
// Before it, one `lab_connect_timeline` line per run: where the time went, from the daemons' own
// debug log (both run at log level debug; the lines carry peers, addresses and counts, never a
// key or a body): per step, the ms from the start at which Alice's (A) or Bob's (B) daemon first
// logged it — the send, the DHT lookup (and its queries and hops), the punch (offer, answer,
// first probe each way, the path), the relay (allocation, join, forwarding), the dial and the
// Noise session, the envelope sent — and Bob's message event (B message). Steps logged more than
// once are counted. The clock is the wall clock the logs stamp (ms resolution). And each daemon's
// CPU time over the run (`cpuMs`: all its threads, from /proc/<pid>/task/*/schedstat, ns): what a
// loaded machine takes away, which wall-clock phases cannot separate from the protocol's waits.
// PROFILE=<dir>: both daemons run under --cpu-prof (profiles written to <dir> when they stop),
// and after each pair one `lab_connect_profile` line per run and daemon: its samples over the
// connect (the cpuMs window), summed by function and by source file (scripts/bench/cpu-profile.ts).
// Root only (network namespaces); elsewhere each pair prints null with the reason. Needs `npm run build`.
//   npx tsx scripts/bench/lab-connect.ts [pair ...]   (or: npm run bench -- lab-connect)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withLab } from '../lab/netns.js'
import { PayloadType } from '../../src/wire/constants.js'
import { SECOND_PUBLIC, waitUntil, withPair, type Pair, type PairName } from '../lab/daemons.js'
import { monoUs, summarize } from './cpu-profile.js'
import { labBenchMain, runLabBench, type LabBench } from './lab-bench.js'

const RUNS = Number(process.env.RUNS ?? 5)
const LIMIT_MS = Number(process.env.LIMIT_MS ?? 30_000)
/** RENDEZVOUS=1: the daemons join one bootstrap node, and neither side learns its NAT kind (traversal.md §2) */
const TWO_RENDEZVOUS = process.env.RENDEZVOUS !== '1'
/**
 * ms each Alice's daemon runs before Bob adds her and she him (scripts/lab/daemons.ts settleMs).
 * Default 1500: the connect of a daemon that has been up a moment, its start-up work (the DHT, the
 * rendezvous, the warm-up of src/daemon/warm-up.ts) done; SETTLE_MS=0: right after start (how
 * docs/performance.md §12–§16 measured).
 */
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 1500)
/**
 * PASSIVE=1: Bob added each Alice while her daemon was not running and his lookups have found
 * nothing (scripts/lab/daemons.ts passiveBob): he only answers, and the connect is hers alone.
 * Default: the mutual add (Bob adds her just before the start, and his attempt races hers).
 */
const PASSIVE = process.env.PASSIVE === '1'
/** LOGS=<dir>: each run's part of both daemons' debug logs, written to <dir>/<pair>-<run>-{alice,bob}.log */
const LOGS_DIR = process.env.LOGS === undefined || process.env.LOGS === '' ? undefined : process.env.LOGS
const PROFILE_DIR = process.env.PROFILE === undefined || process.env.PROFILE === '' ? undefined : process.env.PROFILE
/** sampling interval under PROFILE, µs */
const PROFILE_INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 250)
/** functions whose inclusive time the profile lines give besides self time */
const PROFILE_INCLUSIVE = (process.env.PROFILE_INCLUSIVE ?? '').split(',').filter(s => s !== '')
export const BENCH_PAIRS: readonly PairName[] = ['none-none', 'cone-cone', 'cone-symmetric', 'symmetric-symmetric', 'same-nat', 'double-nat']

function emit (pair: PairName, times: number[], firstBytes: number[], firstBytesAlice: number[], reason: string | null): void {
  const params = { pair, runs: times.length, limitMs: LIMIT_MS, rendezvous: TWO_RENDEZVOUS ? 2 : 1, settleMs: SETTLE_MS, ...(PASSIVE ? { bob: 'passive' } : {}), ...(reason === null ? {} : { reason }) }
  const line = (metric: string, values: number[]): void => {
    if (reason !== null || values.length === 0) {
      console.log(JSON.stringify({ metric, value: null, params }))
      return
    }
    const sorted = [...values].sort((a, b) => a - b)
    console.log(JSON.stringify({ metric, value: sorted[Math.floor(sorted.length / 2)], unit: 'ms', params: { ...params, runs: values.length, min: sorted[0], max: sorted[sorted.length - 1] } }))
  }
  line('lab_connect_first_byte_ms', firstBytes)
  line('lab_connect_first_byte_alice_dialled_ms', firstBytesAlice)
  line('lab_connect_ms', times)
}

/** The daemons' log lines that are steps of a connect (src/: messaging, traversal, auto-relay, DHT). */
const STEPS = new Set([
  'send requested', 'dht lookup started', 'dht presence lookup', 'dht lookup done', 'dht lookup failed',
  'punch started', 'punch offer sent', 'punch offer received', 'punch answer sent', 'punch answer received',
  'punch rendezvous does not know the peer', 'first probe sent', 'first probe heard', 'punch found a path', 'punch gave up',
  'relay allocation started', 'relay allocated', 'relay did not allocate', 'relay join started', 'relay joined', 'relay forwarding',
  'dial through the relay started', 'session through a relay', 'relayed session moved direct',
  'dial started', 'dial failed', 'session up', 'outbox entry sent', 'envelope opened', 'early dial'
])

const PAYLOAD_NAMES: Record<number, string> = Object.fromEntries(Object.entries(PayloadType).map(([k, v]) => [v, k.toLowerCase()]))

interface LogLine { time?: string, msg?: string, peer?: string | null, [k: string]: unknown }

/** The steps in one daemon's log since `from` (chars), about `peer` (or about no peer in particular). */
function steps (log: string, from: number, peer: string): Array<{ at: number, line: LogLine }> {
  const out: Array<{ at: number, line: LogLine }> = []
  for (const text of log.slice(from).split('\n')) {
    if (!text.startsWith('{')) continue
    let line: LogLine
    try { line = JSON.parse(text) as LogLine } catch { continue }
    if (line.msg === undefined || !STEPS.has(line.msg) || line.time === undefined) continue
    if (typeof line.peer === 'string' && line.peer !== peer) continue
    out.push({ at: Date.parse(line.time), line })
  }
  return out
}

/** One run's timeline: each step's first time (ms after the start), counts of repeated ones, the lookups' figures. */
function timeline (p: Pair, marks: { alice: number, bob: number }, totalMs: number): Record<string, unknown> & { sessionBy?: 'A' | 'B' } {
  const t0 = p.lastStart
  const at: Record<string, number> = {}
  const counts: Record<string, number> = {}
  const lookups: unknown[] = []
  /** the NAT kinds Alice's punch started with: hers, and Bob's record's */
  let nat: string | undefined
  let sessionBy: 'A' | 'B' | undefined
  let firstVia: 'relay' | 'direct' | undefined
  const relayHosts = new Set([p.bootstrap.replace(/:\d+$/, ''), SECOND_PUBLIC])
  const all = [
    ...steps(p.aliceLog(), marks.alice, p.bob.fingerprint).map(s => ({ ...s, who: 'A' })),
    ...steps(p.bobLog(), marks.bob, p.alice.fingerprint).map(s => ({ ...s, who: 'B' }))
  ].sort((a, b) => a.at - b.at)
  for (const s of all) {
    const detail = s.line.msg === 'relay allocation started' ? s.line.why : s.line.msg === 'envelope opened' || s.line.msg === 'outbox entry sent' ? PAYLOAD_NAMES[Number(s.line.type)] ?? s.line.type : undefined
    const key = `${s.who} ${s.line.msg ?? ''}${detail === undefined ? '' : ` (${String(detail)})`}`
    counts[key] = (counts[key] ?? 0) + 1
    if (at[key] === undefined) at[key] = s.at - t0
    if (s.line.msg === 'dht presence lookup') {
      const { queried, responded, failed, hops, sent, ms, found } = s.line
      lookups.push({ queried, responded, failed, hops, sent, ms, found })
    }
    if (s.line.msg === 'punch started' && s.who === 'A') nat = `${String(s.line.ours)}-${String(s.line.natKind)}`
    if (s.line.msg === 'punch found a path' && s.who === 'A') at['A path rtt'] = Math.round(Number(s.line.rtt ?? NaN) * 10) / 10
    // whose handshake made Bob's first session with Alice: hers (the connect measured) or his own
    // (he added her just before the start, so his daemon looks her up and dials too)
    if (s.line.msg === 'session up' && s.who === 'B' && sessionBy === undefined) {
      sessionBy = s.line.outbound === true ? 'B' : s.line.outbound === false ? 'A' : undefined
      // through a relay (its address is a bootstrap node's: they are the lab's relays) or direct
      const host = String(s.line.from ?? '').replace(/:\d+$/, '')
      firstVia = relayHosts.has(host) ? 'relay' : 'direct'
    }
  }
  at['B message'] = totalMs
  const repeated = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 1))
  return { ...(nat === undefined ? {} : { nat }), ...(sessionBy === undefined ? {} : { sessionBy }), ...(firstVia === undefined ? {} : { firstVia }), steps: at, ...(Object.keys(repeated).length > 0 ? { repeated } : {}), lookups }
}

/** ms of CPU a process's threads have run so far (Linux schedstat), or NaN where it cannot be read. */
function cpuMs (pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    let ns = 0
    for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    return ns / 1e6
  } catch {
    return NaN
  }
}

/** The PIDs of Alice's and Bob's daemons (the `ip netns exec` wrapper execs node: the child is the daemon). */
function daemonPids (p: Pair): { alice?: number, bob?: number } {
  const of = (home: string): number | undefined => p.procs.find(x => x.child.spawnargs.includes(home))?.child.pid
  return { alice: of(p.alice.home), bob: of(p.bob.home) }
}

interface ProfiledRun { run: number, pids: { alice?: number, bob?: number }, fromUs: number, toUs: number }

/** After the daemons stopped (their profiles written): each run's window of each daemon's profile. */
function printProfiles (pair: PairName, dir: string, runs: ProfiledRun[]): void {
  const files = readdirSync(dir).filter(f => f.endsWith('.cpuprofile'))
  for (const r of runs) {
    for (const who of ['alice', 'bob'] as const) {
      const pid = r.pids[who]
      const file = files.find(f => f.split('.')[3] === String(pid))
      if (file === undefined) continue
      const s = summarize(join(dir, file), r.fromUs, r.toUs, 25, PROFILE_INCLUSIVE)
      console.log(JSON.stringify({ metric: 'lab_connect_profile', value: s.busyMs, unit: 'ms', params: { pair, run: r.run, daemon: who, ...s } }))
    }
  }
}

async function measure (pair: PairName): Promise<void> {
  const times: number[] = []
  const firstBytes: number[] = []
  /** the runs in which Bob's first session with Alice came from her handshake, not his own dial */
  const firstBytesAlice: number[] = []
  let reason: string | null = null
  const profDir = PROFILE_DIR === undefined ? undefined : join(PROFILE_DIR, `${pair}-${Date.now()}`)
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true })
  if (LOGS_DIR !== undefined) mkdirSync(LOGS_DIR, { recursive: true })
  const profiled: ProfiledRun[] = []
  await withLab(async lab => {
    await withPair(lab, pair, async p => {
      for (let i = 0; i < RUNS; i++) {
        if (i > 0 || PASSIVE) await p.freshAlice()
        const warmedUp = { A: p.aliceLog().includes('"warm-up done"'), B: p.bobLog().includes('"warm-up done"') }
        const marks = { alice: p.aliceLog().length, bob: p.bobLog().length }
        const pids = daemonPids(p)
        const cpu0 = { alice: cpuMs(pids.alice), bob: cpuMs(pids.bob) }
        const fromUs = monoUs()
        const ms = await p.connect(`hello ${i}`, LIMIT_MS)
        const cpu = { A: Math.round(cpuMs(pids.alice) - cpu0.alice), B: Math.round(cpuMs(pids.bob) - cpu0.bob) }
        profiled.push({ run: i, pids, fromUs, toUs: monoUs() })
        // Alice's last step may still be in the pipe from her process: wait for it (bounded)
        await waitUntil(() => p.aliceLog().includes('outbox entry sent', marks.alice), 2000, () => '').catch(() => {})
        const firstByteMs = p.lastSessionMs
        const tl = timeline(p, marks, ms ?? NaN)
        console.log(JSON.stringify({ metric: 'lab_connect_timeline', value: ms, unit: 'ms', params: { pair, run: i, firstByteMs, ipcMs: p.lastIpcMs, cpuMs: cpu, settleMs: SETTLE_MS, warmedUp, ...tl } }))
        if (LOGS_DIR !== undefined) {
          writeFileSync(join(LOGS_DIR, `${pair}-${i}-alice.log`), p.aliceLog().slice(marks.alice))
          writeFileSync(join(LOGS_DIR, `${pair}-${i}-bob.log`), p.bobLog().slice(marks.bob))
        }
        if (ms === null) {
          reason = `no message within ${LIMIT_MS} ms (Bob's record: NAT kind ${p.record.natKind}, ${p.record.rendezvous.length} rendezvous)`
          return
        }
        times.push(ms)
        if (firstByteMs !== null) firstBytes.push(firstByteMs)
        if (firstByteMs !== null && tl.sessionBy === 'A') firstBytesAlice.push(firstByteMs)
      }
    }, () => {}, {
      logLevel: 'debug',
      twoRendezvous: TWO_RENDEZVOUS,
      settleMs: SETTLE_MS,
      passiveBob: PASSIVE,
      ...(profDir === undefined ? {} : { daemonNodeArgs: ['--cpu-prof', '--cpu-prof-interval', String(PROFILE_INTERVAL_US), '--cpu-prof-dir', profDir] })
    })
  }).catch((err: Error) => { reason = `the run failed: ${err.message.split('\n')[0] ?? ''}` })
  if (profDir !== undefined) printProfiles(pair, profDir, profiled)
  emit(pair, times, firstBytes, firstBytesAlice, reason)
}

const bench: LabBench<PairName> = { name: 'lab-connect', noun: 'pair', items: BENCH_PAIRS, skip: (pair, reason) => { emit(pair, [], [], [], reason) }, measure }

export async function run (pairs: readonly PairName[] = BENCH_PAIRS): Promise<void> {
  await runLabBench(bench, pairs)
}

await labBenchMain(bench, import.meta.url)
