// DHT on the 200-node loopback testnet (issue 5): lookup time and round trips to the first hit
// (FIND_VALUE that stops at the first record), a complete lookup (FIND_NODE to convergence),
// requests per lookup, and the RSS of this process holding the nodes. One JSON line per metric;
// "target" is what the native-addon DHT measured on this machine with the same method.
import { createTestnet } from '../../src/dht/testnet.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { signPresenceRecord, presenceKey } from '../../src/dht/records.js'
import { randomBytes } from '../../src/crypto/primitives.js'

const NODES = 200
const LOOKUPS = 100
const MiB = 1024 * 1024

function emit (metric: string, value: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ metric, value: Math.round(value * 1000) / 1000, nodes: NODES, ...extra }) + '\n')
}

function stats (xs: number[]): { median: number, p95: number, mean: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
  const r = (x: number): number => Math.round(x * 1000) / 1000
  return { median: at(0.5), p95: r(at(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) }
}

export async function run (): Promise<void> {
  const rssBefore = process.memoryUsage().rss
  const t0 = performance.now()
  const net = await createTestnet(NODES)
  try {
    emit('dht_testnet_start_ms', performance.now() - t0)
    global.gc?.()
    const rss = process.memoryUsage().rss
    emit('dht_testnet_rss_mib', rss / MiB, { target: 107, unit: 'MiB', baselineMiB: Math.round(rssBefore / MiB) })

    // records to find: 20 identities, each announced by a random node
    const records = Array.from({ length: 20 }, (_, i) => {
      const id = generateIdentity()
      const bytes = signPresenceRecord({ publicIdentity: id, addresses: [{ host: '192.0.2.1', port: 1000 + i, kind: 'public' }], seq: 1, expiresAt: Date.now() + 3_600_000 }, id.signSecret)
      return { fingerprint: id.fingerprint, bytes, key: presenceKey(id.fingerprint) }
    })
    for (const [i, r] of records.entries()) await net.nodes[(i * 37) % NODES]!.node.publish(r.bytes, r.key)

    const hit = { ms: [] as number[], hops: [] as number[], sent: [] as number[], found: 0 }
    const full = { ms: [] as number[], hops: [] as number[], sent: [] as number[] }
    for (let i = 0; i < LOOKUPS; i++) {
      const node = net.nodes[(i * 53 + 11) % NODES]!.node
      const rec = records[i % records.length]!
      let start = performance.now()
      const v = await node.findValue(rec.key)
      hit.ms.push(performance.now() - start)
      hit.hops.push(v.hops)
      hit.sent.push(v.sent)
      if (v.record?.fingerprint === rec.fingerprint) hit.found++
      start = performance.now()
      const f = await node.findNode(randomBytes(32))
      full.ms.push(performance.now() - start)
      full.hops.push(f.hops)
      full.sent.push(f.sent)
    }
    const h = stats(hit.ms)
    const hh = stats(hit.hops)
    emit('dht_first_hit_ms', h.median, { p95: h.p95, lookups: LOOKUPS })
    emit('dht_first_hit_round_trips', hh.median, { p95: hh.p95, mean: hh.mean, target: 2 })
    emit('dht_first_hit_requests', stats(hit.sent).median, { mean: stats(hit.sent).mean })
    emit('dht_first_hit_success_rate', hit.found / LOOKUPS)
    const f = stats(full.ms)
    const fh = stats(full.hops)
    emit('dht_complete_lookup_ms', f.median, { p95: f.p95, target: 7, lookups: LOOKUPS })
    emit('dht_complete_lookup_round_trips', fh.median, { p95: fh.p95, mean: fh.mean })
    emit('dht_complete_lookup_requests', stats(full.sent).median, { mean: stats(full.sent).mean })
    emit('dht_testnet_rss_after_lookups_mib', process.memoryUsage().rss / MiB, { target: 107, unit: 'MiB' })
  } finally {
    await net.destroy()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
