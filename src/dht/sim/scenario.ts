// One simulation scenario (dht.md §9): grow a network, publish presence records, fail a share of
// the nodes without telling anyone, then look the records up from surviving nodes and measure.
// Records are signed once at setup (pre-signed); storing and reading them runs the full
// verification path of the real node.
import { identityFromSecrets } from '../../crypto/identity.js'
import { verifyPresenceRecord, type VerifiedRecord } from '../records.js'
import { sealPresenceRecord } from '../presence-seal.js'
import { presencePlan } from '../presence-plan.js'
import type { LookupResult } from '../lookup-run.js'
import type { DhtSettings } from '../context.js'
import { DhtSimNetwork, type SimDatagramNetwork } from './lean-network.js'
import { SimDht } from './harness.js'
import { quantile, type RttModel } from './latency.js'
import { createSimNetwork } from '../../sim/network.js'
import { createRng } from '../../sim/rng.js'
import { setInternLimit, internLimit } from '../intern.js'

/** 2023-11-14: records need real-looking timestamps (dht.md §5.2 bounds them to 2020..2100). */
export const SIM_EPOCH_MS = 1_700_000_000_000

export interface ScenarioOptions {
  seed: number
  nodes: number
  /** Share of nodes that fail after the records were published (0..1). */
  churn: number
  publishers: number
  lookups: number
  /** 'lean' (default): src/dht/sim/lean-network.ts; 'sim': src/sim's SimNetwork (per-datagram delays). */
  network?: 'lean' | 'sim'
  rtt?: RttModel
  loss?: number
  joinIntervalMs?: number
  lookupIntervalMs?: number
  settings?: Partial<DhtSettings>
  /** Progress lines (phase names and timings) for a human; not part of the result. */
  log?: (line: string) => void
}

export interface ScenarioResult {
  nodes: number
  churn: number
  lookups: number
  found: number
  successRate: number
  hops: { median: number, p95: number }
  /** Datagrams per lookup (requests sent + responses received). */
  messages: { mean: number, median: number, p95: number }
  latencyMs: { median: number, p95: number }
  avgContacts: number
  /** Mean STORE acceptances per published record (replicas written). */
  replicas: number
  formationSimMs: number
  wallMs: number
  heapMb: number
  /** CPU seconds of this process (user + system) growing the network, and per lookup (ms). */
  cpu: { formationS: number, perLookupMs: number }
  /** Datagrams sent while growing, per node (lean network only; NaN otherwise). */
  formationDatagramsPerNode: number
}

function cpuS (): number {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1e6
}

function sentSoFar (net: SimDatagramNetwork): number {
  return net instanceof DhtSimNetwork ? net.stats.sent : NaN
}

function makeNetwork (o: ScenarioOptions): SimDatagramNetwork {
  if (o.network === 'sim') {
    const rtt = o.rtt ?? { medianMs: 70, sigma: 0.65, minMs: 2 }
    return createSimNetwork({
      seed: o.seed,
      startMs: SIM_EPOCH_MS,
      loss: o.loss,
      // one-way delay: half a log-normal RTT, drawn per datagram
      latencyMs: (rng) => {
        const z = Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float())
        return Math.max(rtt.minMs, rtt.medianMs * Math.exp(rtt.sigma * z)) / 2
      }
    })
  }
  return new DhtSimNetwork({ seed: o.seed, startMs: SIM_EPOCH_MS, rtt: o.rtt, loss: o.loss })
}

function makeRecords (seed: number, count: number, now: number): VerifiedRecord[] {
  const rng = createRng(seed ^ 0x5eed)
  const out: VerifiedRecord[] = []
  for (let i = 0; i < count; i++) {
    const id = identityFromSecrets({ 'identity.ed25519': rng.bytes(32), 'identity.x25519': rng.bytes(32) })
    const plan = presencePlan(Math.floor(now), 90 * 60_000)[0]!
    const record = { publicIdentity: id, addresses: [{ host: `198.51.100.${1 + (i % 250)}`, port: 4000 + (i % 1000), kind: 'public' as const }], ...plan }
    const { key, bytes } = sealPresenceRecord(record, id, rng.bytes(24))
    out.push(verifyPresenceRecord(bytes, key, now)!)
  }
  return out
}

/** Runs a phase: starts `count` operations `intervalMs` apart and runs the clock until all finish. */
function phase (net: SimDatagramNetwork, count: number, intervalMs: number, start: (i: number, done: () => void) => void): void {
  let pending = count
  const t0 = net.clock.now
  for (let i = 0; i < count; i++) net.clock.schedule(t0 + i * intervalMs, () => start(i, () => { pending-- }))
  net.clock.run({ done: () => pending === 0 })
}

export function runScenario (o: ScenarioOptions): ScenarioResult {
  const wall0 = performance.now()
  const cpu0 = cpuS()
  const log = o.log ?? (() => {})
  // every node's contact form recurs in answers: let the codec's memo hold them all (intern.ts)
  if (internLimit() < 2 * o.nodes) setInternLimit(2 * o.nodes)
  const net = makeNetwork(o)
  const dht = new SimDht({ net, seed: o.seed, node: { ...o.settings } })
  const grown = dht.grow(o.nodes, { intervalMs: o.joinIntervalMs ?? 10 })
  dht.settle(30_000)
  const formationS = cpuS() - cpu0
  const formationDatagrams = sentSoFar(net)
  log(`grown: ${grown.joined}/${o.nodes} joined in ${grown.simMs} sim ms, ${((performance.now() - wall0) / 1000).toFixed(1)} s wall, ${formationS.toFixed(1)} s CPU, ${formationDatagrams} datagrams, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`)

  const records = makeRecords(o.seed, o.publishers, net.clock.now)
  let replicas = 0
  phase(net, records.length, 20, (i, done) => {
    const publisher = dht.nodes[dht.rng.int(dht.nodes.length)]!
    publisher.node.publishRecord(records[i]!, (r) => { replicas += r.stored; done() })
  })
  log(`published ${records.length} records, ${(replicas / records.length).toFixed(1)} replicas each`)

  const victims = dht.nodes.filter(() => dht.rng.chance(o.churn))
  for (const v of victims) dht.kill(v)
  const alive = dht.alive()
  log(`churn: ${victims.length} nodes failed, ${alive.length} left`)

  const results: Array<{ r: LookupResult, ok: boolean }> = []
  const lookupCpu0 = cpuS()
  phase(net, o.lookups, o.lookupIntervalMs ?? 20, (_i, done) => {
    const from = alive[dht.rng.int(alive.length)]!
    const want = records[dht.rng.int(records.length)]!
    from.node.startLookup({
      mode: 'find-value',
      target: want.key,
      onDone: (r) => { results.push({ r, ok: r.record !== null && Buffer.compare(r.record.bytes, want.bytes) === 0 }); done() }
    })
  })
  const perLookupMs = (cpuS() - lookupCpu0) * 1000 / Math.max(1, results.length)
  const ok = results.filter(x => x.ok)
  const msgs = results.map(x => x.r.sent + x.r.received)
  const contacts = alive.reduce((n, s) => n + s.node.table.size, 0) / Math.max(1, alive.length)
  return {
    nodes: o.nodes,
    churn: o.churn,
    lookups: results.length,
    found: ok.length,
    successRate: ok.length / Math.max(1, results.length),
    hops: { median: quantile(ok.map(x => x.r.hops), 0.5), p95: quantile(ok.map(x => x.r.hops), 0.95) },
    messages: { mean: msgs.reduce((a, b) => a + b, 0) / Math.max(1, msgs.length), median: quantile(msgs, 0.5), p95: quantile(msgs, 0.95) },
    latencyMs: { median: quantile(ok.map(x => x.r.durationMs), 0.5), p95: quantile(ok.map(x => x.r.durationMs), 0.95) },
    avgContacts: contacts,
    replicas: replicas / Math.max(1, records.length),
    formationSimMs: grown.simMs,
    wallMs: performance.now() - wall0,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    cpu: { formationS, perLookupMs },
    formationDatagramsPerNode: formationDatagrams / o.nodes
  }
}
