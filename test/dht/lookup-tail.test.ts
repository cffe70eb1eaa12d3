// Per-lookup stall times (dht.md §6.1): once α answered, a request still out is passed over after
// LOOKUP_TAIL_FACTOR × the slowest answer of the same lookup, not after the node-wide stall time
// (rtt.ts, at least 25 ms). On a loopback-like
// simulated network (1 ms round trips) departed nodes among the k closest then cost an announce
// a few milliseconds, and every live node among the k closest still gets the record. Simulated
// time throughout: the durations asserted are the simulator's, not the machine's.
import t from 'tap'
import { DhtSimNetwork, SimDht, type SimNode } from '../../src/dht/sim/index.js'
import { compareDistance, idToHex } from '../../src/dht/ids.js'
import { MIN_STALL_MS } from '../../src/dht/rtt.js'
import { K } from '../../src/dht/constants.js'
import { createRng } from '../../src/sim/rng.js'
import type { PublishResult } from '../../src/dht/publisher.js'
import { makeRecord, seededIdentity, NOW } from './helpers.js'

function loopbackNet (seed: number, sigma = 0): DhtSimNetwork {
  return new DhtSimNetwork({ seed, startMs: NOW, rtt: { medianMs: 1, sigma, minMs: 1 }, jitterMs: 0 })
}

/** The k nodes closest to `key` among `nodes`, closest first. */
function closestTo (nodes: SimNode[], key: Uint8Array): SimNode[] {
  return [...nodes].sort((a, b) => compareDistance(a.node.id, b.node.id, key)).slice(0, K)
}

function holds (s: SimNode, key: Uint8Array, now: number): boolean {
  return s.node.internals.store.list(key, now).length > 0
}

async function publishFrom (dht: SimDht, from: SimNode, seed: number): Promise<{ result: PublishResult, key: Uint8Array }> {
  const rec = makeRecord(seededIdentity(createRng(seed)), { expiresAt: Math.floor(dht.net.clock.now) + 3600_000 })
  const p = from.node.publish(rec.bytes, rec.key)
  dht.net.clock.run({ until: dht.net.clock.now + 10_000 })
  return { result: await p, key: rec.key }
}

t.test('departed nodes among the k closest cost an announce a few round trips, not the stall time', async t => {
  const seed = 0x7a11
  t.comment(`seed ${seed}`)
  const dht = new SimDht({ net: loopbackNet(seed), seed })
  dht.grow(60, { intervalMs: 20 })
  const publisher = dht.nodes[59]!
  const rec = makeRecord(seededIdentity(createRng(seed + 1)), { expiresAt: Math.floor(dht.net.clock.now) + 3600_000 })
  // a quarter of the k closest to the key leave silently: every table still lists them
  const gone = closestTo(dht.nodes.filter(s => s !== publisher), rec.key).filter((_s, i) => i % 4 === 1)
  for (const s of gone) dht.kill(s)
  const p = publisher.node.publish(rec.bytes, rec.key)
  dht.net.clock.run({ until: dht.net.clock.now + 10_000 })
  const r = await p
  const now = dht.net.clock.now
  t.ok(r.lookup.queried > r.lookup.responded, `the lookup asked departed nodes (${r.lookup.queried} asked, ${r.lookup.responded} answered)`)
  t.ok(r.lookup.durationMs < MIN_STALL_MS, `the announce lookup took ${r.lookup.durationMs} simulated ms, under the ${MIN_STALL_MS} ms stall floor it waited before`)
  const live = closestTo(dht.alive().filter(s => s !== publisher), rec.key)
  const missing = live.filter(s => !holds(s, rec.key, now)).map(s => idToHex(s.node.id).slice(0, 8))
  t.same(missing, [], 'every live node among the k closest holds the record')
  t.equal(r.failed, 0, 'no STORE went to a departed node')
  for (const s of dht.alive()) s.node.stop()
})

t.test('with round trips that vary, a live slower node is waited for and gets the record', async t => {
  const seed = 0x7a12
  t.comment(`seed ${seed}`)
  // σ 0.6: the slowest of 60 nodes' round trips is several times the median
  const dht = new SimDht({ net: loopbackNet(seed, 0.6), seed })
  dht.grow(60, { intervalMs: 20 })
  const publisher = dht.nodes[30]!
  const { result, key } = await publishFrom(dht, publisher, seed + 1)
  const now = dht.net.clock.now
  const want = closestTo(dht.nodes.filter(s => s !== publisher), key)
  t.equal(want.filter(s => holds(s, key, now)).length, K, 'all k closest hold the record')
  t.equal(result.stored, K, 'each got its STORE')
  for (const s of dht.alive()) s.node.stop()
})
