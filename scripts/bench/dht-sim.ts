// DHT at scale (proto-spec/dht.md §9): 10,000 simulated nodes running the real DhtNode, churn of
// 0%, 20% and 50% after the network formed; per scenario, one JSON line per metric (lookup
// success rate, hops median/p95, datagrams per lookup, simulated latency median/p95, …).
// Each scenario takes a few minutes of CPU (formation dominates); two run at once, one per core.
// Every loop is bounded (node, record and lookup counts are fixed; the clock stops when they finish).
//   npx tsx scripts/bench/dht-sim.ts        (or: npm run bench -- dht-sim)
import { pathToFileURL } from 'node:url'
import { simulateParallel, DEFAULT_ARGS } from '../dht-sim.js'

export async function run (): Promise<void> {
  // two scenarios at a time: one per core (each simulation is single-threaded)
  await simulateParallel({ ...DEFAULT_ARGS, nodes: 10_000, churn: [0, 0.2, 0.5], jobs: 2 })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run()
}
