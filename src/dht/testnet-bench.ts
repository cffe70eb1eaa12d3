// The 200-node loopback benchmark's node-holding side (scripts/bench/dht-testnet.ts starts it).
// It lives in src/ so that `npm run build` compiles it and the process holding the nodes runs
// plain `node dist/src/dht/testnet-bench.js` — no TypeScript loader in its RSS. One JSON line per
// metric on stdout; "target" is what the native-addon DHT measured on this machine the same way.
import { pathToFileURL } from 'node:url'
import { loadavg } from 'node:os'
import { createTestnet } from './udp-testnet.js'
import { generateIdentity } from '../crypto/identity.js'
import { sealPresenceRecord } from './presence-seal.js'
import { presencePlan } from './presence-plan.js'
import { randomBytes } from '../crypto/primitives.js'
import type { DhtNode } from './node.js'

const MiB = 1024 * 1024

export interface TestnetBenchOptions {
  nodes: number
  lookups: number
  /** Distinct records to look up (each announced by a different node). */
  records: number
}

type Emit = (metric: string, value: number, extra?: Record<string, unknown>) => void

function emitter (nodes: number): Emit {
  return (metric, value, extra = {}) => {
    process.stdout.write(JSON.stringify({ metric, value: round(value), nodes, ...extra }) + '\n')
  }
}

function round (x: number): number { return Math.round(x * 1000) / 1000 }

export function stats (xs: number[]): { median: number, p95: number, mean: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
  return { median: round(at(0.5)), p95: round(at(0.95)), mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) }
}

function rssMiB (): number {
  globalThis.gc?.()
  return process.memoryUsage().rss / MiB
}

async function publishRecords (nodes: DhtNode[], count: number): Promise<Array<{ bytes: Uint8Array, key: Uint8Array }>> {
  const out: Array<{ bytes: Uint8Array, key: Uint8Array }> = []
  for (let i = 0; i < count; i++) {
    const id = generateIdentity()
    const plan = presencePlan(Date.now(), 3_600_000)[0]!
    const { key, bytes } = sealPresenceRecord({ publicIdentity: id, addresses: [{ host: '192.0.2.1', port: 1000 + i, kind: 'public' }], ...plan }, id, randomBytes(24))
    await nodes[(i * 37) % nodes.length]!.publish(bytes, key)
    out.push({ bytes, key })
  }
  return out
}

interface Series { ms: number[], hops: number[], sent: number[], found: number, cpuUs: number }
const series = (): Series => ({ ms: [], hops: [], sent: [], found: 0, cpuUs: 0 })

// CPU of this process (user + system, µs): every node is in it, so this is the whole cost of a
// lookup on both sides, and it moves far less than wall time when other work shares the cores.
function cpuUs (): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

async function measureLookups (nodes: DhtNode[], o: TestnetBenchOptions, records: Array<{ bytes: Uint8Array, key: Uint8Array }>): Promise<{ hit: Series, full: Series }> {
  const hit = series()
  const full = series()
  for (let i = 0; i < o.lookups; i++) {
    const node = nodes[(i * 53 + 11) % nodes.length]!
    const rec = records[i % records.length]!
    let start = performance.now()
    let cpu = cpuUs()
    const v = await node.findValue(rec.key)
    hit.ms.push(performance.now() - start)
    hit.cpuUs += cpuUs() - cpu
    hit.hops.push(v.hops)
    hit.sent.push(v.sent)
    if (v.record !== null && Buffer.compare(v.record.bytes, rec.bytes) === 0) hit.found++
    start = performance.now()
    cpu = cpuUs()
    const f = await node.findNode(randomBytes(32))
    full.ms.push(performance.now() - start)
    full.cpuUs += cpuUs() - cpu
    full.hops.push(f.hops)
    full.sent.push(f.sent)
  }
  return { hit, full }
}

export async function runTestnetBench (o: TestnetBenchOptions): Promise<void> {
  const emit = emitter(o.nodes)
  const rssBefore = rssMiB()
  const t0 = performance.now()
  const net = await createTestnet(o.nodes)
  try {
    const nodes = net.nodes.map(s => s.node)
    emit('dht_testnet_start_ms', performance.now() - t0)
    const rss = rssMiB()
    emit('dht_testnet_rss_mib', rss, { target: 107, unit: 'MiB', loader: 'none (dist/)', processBeforeNodesMiB: round(rssBefore), nodesOnlyMiB: round(rss - rssBefore) })
    const records = await publishRecords(nodes, o.records)
    const load1 = round(loadavg()[0]!)
    const { hit, full } = await measureLookups(nodes, o, records)
    const h = stats(hit.ms)
    const hh = stats(hit.hops)
    emit('dht_first_hit_ms', h.median, { p95: h.p95, lookups: o.lookups, load1 })
    emit('dht_first_hit_cpu_ms', hit.cpuUs / 1000 / o.lookups, { note: 'mean CPU of the process (all nodes) per lookup' })
    emit('dht_first_hit_round_trips', hh.median, { p95: hh.p95, mean: hh.mean, target: 2 })
    emit('dht_first_hit_requests', stats(hit.sent).median, { mean: stats(hit.sent).mean })
    emit('dht_first_hit_success_rate', hit.found / o.lookups)
    const f = stats(full.ms)
    const fh = stats(full.hops)
    emit('dht_complete_lookup_ms', f.median, { p95: f.p95, target: 7, lookups: o.lookups, load1 })
    emit('dht_complete_lookup_cpu_ms', full.cpuUs / 1000 / o.lookups, { note: 'mean CPU of the process (all nodes) per lookup' })
    emit('dht_complete_lookup_round_trips', fh.median, { p95: fh.p95, mean: fh.mean })
    emit('dht_complete_lookup_requests', stats(full.sent).median, { mean: stats(full.sent).mean })
    emit('dht_testnet_rss_after_lookups_mib', rssMiB(), { target: 107, unit: 'MiB' })
    emit('dht_bench_load1', round(loadavg()[0]!), { note: 'load average over the last minute, at the end; 2 cores shared with other work' })
  } finally {
    await net.destroy()
  }
}

function flag (name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN
  return Number.isFinite(v) && v > 0 ? v : fallback
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runTestnetBench({ nodes: flag('--nodes', 200), lookups: flag('--lookups', 100), records: flag('--records', 20) })
}
