// A scaled-down run of the DHT simulation (scripts/dht-sim.ts runs 10,000 nodes): the real
// DhtNode over a simulated network with log-normal RTTs, records published, 20% of the nodes
// failing silently, lookups from survivors. Seeded: the same run every time.
import t from 'tap'
import { runScenario } from '../../src/dht/sim/index.js'

t.test('500 nodes, 20% churn: ≥ 99% of lookups find the stored record', async t => {
  const r = runScenario({ seed: 11, nodes: 500, churn: 0.2, publishers: 60, lookups: 400 })
  t.equal(r.lookups, 400)
  t.ok(r.successRate >= 0.99, `success ${(r.successRate * 100).toFixed(1)}%`)
  t.ok(r.replicas >= 19, `${r.replicas.toFixed(1)} replicas per record`)
  t.ok(r.hops.p95 <= 5, `p95 hops ${r.hops.p95}`)
})

t.test('the same node code runs over src/sim\'s SimNetwork (per-datagram delays)', async t => {
  const r = runScenario({ seed: 12, nodes: 100, churn: 0.2, publishers: 20, lookups: 100, network: 'sim' })
  t.ok(r.successRate >= 0.99, `success ${(r.successRate * 100).toFixed(1)}%`)
})

t.test('a run replays exactly under the same seed', async t => {
  const a = runScenario({ seed: 13, nodes: 120, churn: 0.5, publishers: 10, lookups: 60, settings: { refreshOnJoin: false } })
  const b = runScenario({ seed: 13, nodes: 120, churn: 0.5, publishers: 10, lookups: 60, settings: { refreshOnJoin: false } })
  // wall time, heap and CPU are measurements of this machine, not of the run
  const run = (r: typeof a): object => ({ ...r, wallMs: 0, heapMb: 0, cpu: null })
  t.same(run(a), run(b))
})
