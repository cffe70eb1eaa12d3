// Churn (dht.md §7.3): 100 restarts of full DHT nodes in a 50-node simulated network — each comes
// back with a new id, half at the old address, half at a new one — and join, announce and lookup
// times (simulated ms) of the last ten restarts stay within a bound of the first ten's, while the
// dead contacts in live tables stay bounded instead of piling up.
import t from 'tap'
import { runChurn, summarize } from '../../src/dht/sim/churn.js'
import { testSeed } from '../helpers/seed.js'

t.test('100 restarts: join and announce do not degrade, dead contacts do not pile up', async t => {
  const seed = testSeed(t, 0xc4a2, 'simulated network and restarts')
  const nodes = 50
  const samples = runChurn({ seed, nodes, restarts: 100, gapMs: 30_000 }, d => t.comment(JSON.stringify({ metric: 'dht-churn', ...d })))
  const first = summarize(samples, 0, 10)
  const last = summarize(samples, 90, 100)
  // within 1.5× the first decile plus one stall time (400 ms): before the fix the last decile's
  // join was 4× the first and the announce 3×, with ~20 dead contacts per live table
  t.ok(last.join.median <= 1.5 * first.join.median + 400, `join median ${last.join.median.toFixed(0)} ms vs first ${first.join.median.toFixed(0)} ms`)
  t.ok(last.announce.median <= 1.5 * first.announce.median + 400, `announce median ${last.announce.median.toFixed(0)} ms vs first ${first.announce.median.toFixed(0)} ms`)
  t.ok(last.lookup.median <= 1.5 * first.lookup.median + 400, `lookup median ${last.lookup.median.toFixed(0)} ms vs first ${first.lookup.median.toFixed(0)} ms`)
  t.equal(samples.filter(s => s.found).length, samples.length, 'every announced record is found')
  const deadPerNode = last.deadContacts / nodes
  t.ok(deadPerNode <= 4, `dead contacts per live table at the end: ${deadPerNode.toFixed(1)}`)
})
