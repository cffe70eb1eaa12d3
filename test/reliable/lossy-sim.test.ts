// Exactly-once, in-order delivery over a hostile simulated network: 20% loss, 5% duplication,
// 5% reordering, jitter — both directions at once, 10,000 small messages plus a 1 MiB one each
// way, under three fixed seeds.
import t from 'tap'
import { createSimNetwork, createRng } from '../../src/sim/index.js'
import { connectChannels, type ChannelEnd } from '../../src/transport/reliable/channel-pair.js'
import { sha256 } from '../../src/crypto/primitives.js'

const SMALL = 10_000
const BIG = 1024 * 1024

function workload (seed: number): Uint8Array[] {
  const rng = createRng(seed)
  const msgs: Uint8Array[] = []
  for (let i = 0; i < SMALL; i++) {
    const m = rng.bytes(4 + rng.int(300))
    new DataView(m.buffer).setUint32(0, i)
    msgs.push(m)
    if (i === SMALL / 2) msgs.push(rng.bytes(BIG))
  }
  return msgs
}

function compare (sent: Uint8Array[], got: Uint8Array[]): { count: number, firstMismatch: number } {
  let firstMismatch = -1
  for (let i = 0; i < sent.length && firstMismatch < 0; i++) {
    if (!got[i] || Buffer.compare(sent[i]!, got[i]!) !== 0) firstMismatch = i
  }
  return { count: got.length, firstMismatch }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

for (const seed of [1, 2, 3]) {
  t.test(`seed ${seed}: 20% loss, 5% dup, 5% reorder — both directions arrive exactly once, in order, intact`, async t => {
    const net = createSimNetwork({ seed, latencyMs: { base: 20, jitter: 10 }, loss: 0.2, duplicate: 0.05, reorder: 0.05, reorderDelayMs: 40 })
    const { a, b } = connectChannels(net)
    const toB = workload(seed * 100 + 1)
    const toA = workload(seed * 100 + 2)
    for (const m of toB) a.enqueue(m)
    for (const m of toA) b.enqueue(m)
    const done = (e: ChannelEnd, n: number): boolean => e.received.length >= n
    net.run({ done: () => done(a, toA.length) && done(b, toB.length), until: 3_600_000, maxEvents: 2_000_000 })
    // let stragglers (duplicates, late retransmissions) land: nothing more may be delivered
    net.advance(10_000)

    t.same(compare(toB, b.received), { count: toB.length, firstMismatch: -1 }, 'a → b: every message once, in order, byte-exact')
    t.same(compare(toA, a.received), { count: toA.length, firstMismatch: -1 }, 'b → a: every message once, in order, byte-exact')
    const bigB = b.received.find(m => m.length === BIG)
    const bigA = a.received.find(m => m.length === BIG)
    t.equal(bigB && hex(sha256(bigB)), hex(sha256(toB[SMALL / 2 + 1]!)), '1 MiB a → b: hash matches')
    t.equal(bigA && hex(sha256(bigA)), hex(sha256(toA[SMALL / 2 + 1]!)), '1 MiB b → a: hash matches')
    const s = a.channel.stats
    t.ok(net.stats.lost > 1000 && net.stats.duplicated > 100 && net.stats.reordered > 100,
      `the network was hostile: ${JSON.stringify(net.stats)}`)
    t.ok(s.retransmits > 0 && s.rtoCount > 0 && s.duplicatePackets > 0, 'loss, timeouts and duplicates were exercised')
    t.ok(a.channel.flushed && b.channel.flushed, 'both senders see everything acknowledged')
    t.comment(`sim time ${(net.now / 1000).toFixed(1)} s; a: ${JSON.stringify(s)}`)
  })
}

t.test('a run replays exactly under the same seed', async t => {
  const run = (): string => {
    const net = createSimNetwork({ seed: 9, latencyMs: { base: 15, jitter: 5 }, loss: 0.2, duplicate: 0.05, reorder: 0.05 })
    const { a, b } = connectChannels(net)
    const rng = createRng(4)
    for (let i = 0; i < 500; i++) a.enqueue(rng.bytes(1 + rng.int(2000)))
    net.run({ done: () => b.received.length === 500, maxEvents: 500_000 })
    return JSON.stringify({ now: net.now, a: a.channel.stats, b: b.channel.stats, net: net.stats })
  }
  t.equal(run(), run())
})
