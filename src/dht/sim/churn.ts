// Churn scenario (dht.md §7.3): full DHT nodes restart one after another — each comes back with a
// new id (a daemon draws a new DHT key at every start), half of them at their old address (a fixed
// port), half at a new one (port 0) — and every restarted node joins and announces a record while
// another node looks that record up. What it measures is whether the dead ids the restarts leave
// behind slow joins, announces and lookups down over time (simulated time, seeded).
import { identityFromSecrets } from '../../crypto/identity.js'
import { verifyPresenceRecord, type VerifiedRecord } from '../records.js'
import { sealPresenceRecord } from '../presence-seal.js'
import { presencePlan } from '../presence-plan.js'
import type { DhtSettings } from '../context.js'
import { DhtSimNetwork } from './lean-network.js'
import { SimDht, type SimNode } from './harness.js'
import { quantile, type RttModel } from './latency.js'
import { SIM_EPOCH_MS } from './scenario.js'
import type { Rng } from '../../sim/rng.js'

export interface ChurnOptions {
  seed: number
  nodes: number
  restarts: number
  /** How long a node stays down before it starts again (simulated ms). */
  downMs?: number
  /** Quiet time after each restart's join, announce and lookup (simulated ms). */
  gapMs?: number
  rtt?: RttModel
  settings?: Partial<DhtSettings>
}

export interface ChurnSample {
  restart: number
  joinMs: number
  announceMs: number
  lookupMs: number
  found: boolean
  /** Contacts in the tables of live nodes that no longer answer (their process restarted or moved). */
  deadContacts: number
}

function record (rng: Rng, now: number): VerifiedRecord {
  const id = identityFromSecrets({ 'identity.ed25519': rng.bytes(32), 'identity.x25519': rng.bytes(32) })
  const plan = presencePlan(Math.floor(now), 90 * 60_000)[0]!
  const { key, bytes } = sealPresenceRecord({ publicIdentity: id, addresses: [{ host: '198.51.100.7', port: 4000, kind: 'public' }], ...plan }, id, rng.bytes(24))
  return verifyPresenceRecord(bytes, key, now)!
}

/** Runs the clock until `start` has called back; returns the simulated ms it took. */
function timed (net: DhtSimNetwork, start: (done: () => void) => void): number {
  const t0 = net.clock.now
  let end = -1
  start(() => { end = net.clock.now })
  net.clock.run({ done: () => end >= 0 })
  return end - t0
}

function deadContacts (dht: SimDht): number {
  const live = new Set(dht.alive().map(s => Buffer.from(s.node.id).toString('hex')))
  let dead = 0
  for (const s of dht.alive()) for (const c of s.node.table.all()) if (!live.has(Buffer.from(c.id).toString('hex'))) dead++
  return dead
}

function pick (dht: SimDht, not: SimNode, n: number): SimNode[] {
  const others = dht.alive().filter(s => s !== not)
  const out = new Set<SimNode>()
  while (out.size < Math.min(n, others.length)) out.add(others[dht.rng.int(others.length)]!)
  return [...out]
}

/** One restart: kill, wait, start again, join through two live nodes, announce, look the record up. */
function restartOne (dht: SimDht, net: DhtSimNetwork, r: number, o: ChurnOptions): ChurnSample {
  const victim = dht.nodes[dht.rng.int(dht.nodes.length)]!
  dht.kill(victim)
  net.clock.advance(o.downMs ?? 2_000)
  const s = dht.respawn(victim, r % 2 === 0)
  const via = pick(dht, s, 2).map(x => x.addr)
  const joinMs = timed(net, done => s.node.join(via, () => done()))
  const rec = record(dht.rng, net.clock.now)
  const announceMs = timed(net, done => s.node.publishRecord(rec, () => done()))
  const reader = pick(dht, s, 1)[0]!
  let found = false
  const lookupMs = timed(net, done => reader.node.startLookup({ mode: 'find-value', target: rec.key, onDone: (x) => { found = x.record !== null; done() } }))
  net.clock.advance(o.gapMs ?? 5_000)
  return { restart: r, joinMs, announceMs, lookupMs, found, deadContacts: deadContacts(dht) }
}

export interface ChurnDecile {
  restarts: [number, number]
  join: { median: number, p90: number }
  announce: { median: number, p90: number }
  lookup: { median: number, p90: number }
  found: number
  deadContacts: number
}

export function summarize (samples: ChurnSample[], from: number, to: number): ChurnDecile {
  const part = samples.slice(from, to)
  const q = (xs: number[]): { median: number, p90: number } => ({ median: quantile(xs, 0.5), p90: quantile(xs, 0.9) })
  return {
    restarts: [from, to],
    join: q(part.map(x => x.joinMs)),
    announce: q(part.map(x => x.announceMs)),
    lookup: q(part.map(x => x.lookupMs)),
    found: part.filter(x => x.found).length / Math.max(1, part.length),
    deadContacts: part[part.length - 1]?.deadContacts ?? 0
  }
}

/** Grows `nodes` nodes, then restarts `restarts` of them one by one; calls `onDecile` every 10. */
export function runChurn (o: ChurnOptions, onDecile: (d: ChurnDecile) => void = () => {}): ChurnSample[] {
  const net = new DhtSimNetwork({ seed: o.seed, startMs: SIM_EPOCH_MS, rtt: o.rtt })
  const dht = new SimDht({ net, seed: o.seed, node: { ...o.settings } })
  dht.grow(o.nodes, { intervalMs: 50 })
  dht.settle(30_000)
  const samples: ChurnSample[] = []
  for (let r = 0; r < o.restarts; r++) {
    samples.push(restartOne(dht, net, r, o))
    if ((r + 1) % 10 === 0) onDecile(summarize(samples, r - 9, r + 1))
  }
  for (const s of dht.alive()) dht.kill(s)
  return samples
}
