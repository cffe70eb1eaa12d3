// Path MTU discovery (proto-spec/reliable.md §15, RFC 8899): the search on its own, then two
// channels over a simulated path that drops datagrams above its MTU.
import t from 'tap'
import { PmtuSearch } from '../../src/transport/reliable/pmtu.js'
import { reliableConstants as rc } from '../../src/transport/reliable/index.js'
import { createSimNetwork, createRng } from '../../src/sim/index.js'
import { connectChannels } from '../../src/transport/reliable/channel-pair.js'

const BASE = 1370
const CEILING = 65_477

// Drives a search against a path that carries sizes up to `pathMtu`: acked at once if the probe
// fits, else lost by its timer. Returns the probes sent.
function search (s: PmtuSearch, pathMtu: number, start = 0): { probes: number, now: number } {
  let now = start
  let probes = 0
  let pn = 0
  for (let size = s.probeDue(now); size > 0 && probes < 100; size = s.probeDue(now)) {
    s.onProbeSent(pn++, size, now)
    probes++
    if (size <= pathMtu) {
      now += 1
      s.onProbeAcked(now)
    } else {
      now = s.probeDeadline(200)!
      t.equal(s.checkLost(-1, rc.PACKET_THRESHOLD, now, 200), true)
    }
  }
  return { probes, now }
}

t.test('no ceiling above the base: nothing to probe', async t => {
  const s = new PmtuSearch(BASE, BASE)
  t.equal(s.state, 'disabled')
  t.equal(s.probeDue(0), 0)
  t.equal(s.mtu, BASE)
  t.equal(s.probeDeadline(200), null)
})

t.test('a ceiling that holds is confirmed by one probe, and the search ends', async t => {
  const s = new PmtuSearch(BASE, CEILING)
  t.equal(s.state, 'searching')
  t.equal(s.probeDue(0), CEILING, 'the ceiling first: on a link with a known MTU it usually holds')
  const { probes } = search(s, 100_000)
  t.equal(probes, 1)
  t.equal(s.mtu, CEILING)
  t.equal(s.state, 'complete')
  t.equal(s.probeDue(10 * rc.PMTU_RAISE_TIMER_MS), 0, 'at the ceiling: never probes again')
})

t.test('a path below the ceiling: MAX_PROBES failures, then halving converges under the path MTU', async t => {
  for (const pathMtu of [1400, 1472, 4000, 8972, 9000, 16_384, 40_000]) {
    const s = new PmtuSearch(BASE, CEILING)
    const { probes, now } = search(s, pathMtu)
    t.ok(s.mtu <= pathMtu && pathMtu - s.mtu < rc.PMTU_SEARCH_GRANULARITY, `path ${pathMtu}: confirmed ${s.mtu} after ${probes} probes`)
    t.ok(probes <= 3 + 2 * 16, 'bounded number of probes')
    t.equal(s.state, 'complete')
    t.equal(s.probeDue(now + 1), 0, 'resting')
    t.equal(s.probeDue(now + rc.PMTU_RAISE_TIMER_MS), CEILING, 'PMTU_RAISE_TIMER: the ceiling is tried again')
    t.equal(s.mtu, pathMtu - s.mtu < rc.PMTU_SEARCH_GRANULARITY ? s.mtu : -1, 'the confirmed size stays while re-probing')
  }
})

t.test('a probe counts as lost once a packet 3 later is acknowledged without it', async t => {
  const s = new PmtuSearch(BASE, CEILING)
  s.onProbeSent(10, s.probeDue(0), 0)
  t.equal(s.checkLost(12, rc.PACKET_THRESHOLD, 1, 200), false)
  t.equal(s.checkLost(13, rc.PACKET_THRESHOLD, 1, 200), true)
  t.equal(s.probesLost, 1)
  t.equal(s.mtu, BASE, 'one loss confirms nothing and changes nothing')
  t.equal(s.probeDue(2), CEILING, 'the same size again, up to MAX_PROBES times')
})

t.test('black hole: the confirmed size stops getting through — back to the base, search again at once', async t => {
  const s = new PmtuSearch(BASE, CEILING)
  search(s, 100_000)
  t.equal(s.mtu, CEILING)
  s.onBlackHole()
  t.equal(s.mtu, BASE)
  t.equal(s.blackHoles, 1)
  t.equal(s.state, 'searching')
  const { probes } = search(s, 9000, 5000)
  t.ok(s.mtu <= 9000 && 9000 - s.mtu < rc.PMTU_SEARCH_GRANULARITY, `the path now carries 9000: confirmed ${s.mtu} after ${probes} probes`)
  const again = new PmtuSearch(BASE, CEILING)
  search(again, 100_000)
  again.onBlackHole() // timeouts from random loss, not size: the first probe restores the size
  t.equal(search(again, 100_000).probes, 1)
  t.equal(again.mtu, CEILING)
  const base = new PmtuSearch(BASE, CEILING)
  base.onBlackHole() // at the base already: nothing to fall from
  t.equal(base.blackHoles, 0)
})

t.test('a new path restarts from the base towards its own ceiling', async t => {
  const s = new PmtuSearch(BASE, CEILING)
  search(s, 100_000)
  s.resetPath(1472)
  t.equal(s.mtu, BASE)
  t.equal(s.ceiling, 1472)
  t.equal(s.probeDue(0), 1472)
  s.resetPath(1000)
  t.equal(s.state, 'disabled', 'a ceiling under the base: no probing')
  t.equal(s.ceiling, BASE)
})

// ---- two channels over a simulated path ----

function exchange (pathMtu: number | undefined, seed = 1): ReturnType<typeof connectChannels> & { net: ReturnType<typeof createSimNetwork>, sent: Uint8Array[] } {
  const net = createSimNetwork({ seed, latencyMs: { base: 5 }, ...(pathMtu === undefined ? {} : { mtu: pathMtu }) })
  const pair = connectChannels(net, { options: { mtu: BASE, maxMtu: CEILING } })
  const rng = createRng(seed)
  const sent = [rng.bytes(300 * 1024), ...Array.from({ length: 200 }, () => rng.bytes(1 + rng.int(3000)))]
  for (const m of sent) pair.a.enqueue(m)
  pair.a.kick()
  pair.b.kick()
  net.run({ done: () => pair.b.received.length === sent.length && pair.a.channel.flushed, until: 600_000, maxEvents: 200_000 })
  net.advance(120_000, 100_000) // failed probes wait for their PROBE_TIMER (≥ 1 s each): let the search end
  return { ...pair, net, sent }
}

t.test('a 9000-byte path: the channels settle just under it, and lost probes cost no data and no window', async t => {
  const { a, b, sent } = exchange(9000 + 30) // the sim counts channel bytes; +30 as if TRANSPORT_DATA framing
  t.same(b.received.map(m => m.length), sent.map(m => m.length), 'every message arrived, in order')
  t.ok(b.received.every((m, i) => Buffer.compare(m, sent[i]!) === 0), 'byte-exact')
  const s = a.channel.stats
  t.ok(s.pmtu <= 9030 && 9030 - s.pmtu < rc.PMTU_SEARCH_GRANULARITY, `confirmed ${s.pmtu}`)
  t.ok(s.pmtuProbesLost >= rc.PMTU_MAX_PROBES, `${s.pmtuProbesLost} probes lost`)
  t.equal(s.retransmits, 0, 'a lost probe carried no data: nothing to resend')
  t.equal(s.congestionEvents, 0, 'and is no congestion signal (RFC 8899 §3)')
  t.equal(s.rtoCount, 0)
  t.equal(a.channel.mtu, s.pmtu)
  t.equal(b.channel.stats.pmtuState, 'complete', 'the receiver probed its own direction too')
})

t.test('no path limit: the ceiling holds on the first probe', async t => {
  const { a, b, sent } = exchange(undefined)
  t.equal(b.received.length, sent.length)
  t.equal(a.channel.stats.pmtu, CEILING)
  t.equal(a.channel.stats.pmtuProbes, 1)
  t.equal(a.channel.stats.pmtuProbesLost, 0)
})

t.test('the path shrinks under a confirmed size: timeouts, fall back to the base, nothing lost', async t => {
  const { a, b, net, sent } = exchange(undefined, 2)
  t.equal(a.channel.mtu, CEILING)
  net.setLink('a', 'b', { mtu: 1400 }) // a new route with a smaller MTU and no ICMP: a black hole
  const rng = createRng(3)
  const more = Array.from({ length: 50 }, () => rng.bytes(20_000))
  for (const m of more) a.enqueue(m)
  a.kick()
  net.run({ done: () => b.received.length === sent.length + more.length && a.channel.flushed, until: net.now + 600_000, maxEvents: 200_000 })
  t.equal(b.received.length, sent.length + more.length, 'everything arrived')
  t.ok(b.received.slice(sent.length).every((m, i) => Buffer.compare(m, more[i]!) === 0), 'byte-exact, in order')
  const s = a.channel.stats
  t.equal(s.pmtuBlackHoles, 1)
  t.ok(s.pmtu <= 1400 && 1400 - s.pmtu < rc.PMTU_SEARCH_GRANULARITY, `searched again: ${s.pmtu}-byte packets fit the new path`)
  t.ok(s.rtoCount >= rc.PMTU_BLACK_HOLE_RTOS)
})

t.test('resetPath (the peer roamed): back to the base and a fresh search', async t => {
  const { a } = exchange(undefined)
  t.equal(a.channel.mtu, CEILING)
  a.channel.resetPath(1442)
  t.equal(a.channel.mtu, BASE)
  t.equal(a.channel.stats.pmtuCeiling, 1442)
  t.equal(a.channel.stats.pmtuState, 'searching')
  a.channel.resetPath(100_000)
  t.equal(a.channel.stats.pmtuCeiling, CEILING, 'never above the channel maxMtu')
})
