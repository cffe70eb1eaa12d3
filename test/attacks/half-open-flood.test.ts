// Half-open flood (proto-spec/session.md §6.1): attackers on 80 addresses in 40 /24 networks,
// who know the victim's fingerprint (so their mac1 is valid) and receive at their addresses (so
// they pass the cookie round trip), fill the 4,096-entry half-open table with XX initiations they
// never finish. Each network may hold 128 entries, and a full table evicts the oldest entry of the
// network holding the most, so a legitimate connect from another network meanwhile is answered
// the first time it asks. Before, it waited for entries to expire (15 s measured).
// The verdict is given in simulated time (src/sim: a seeded network and a fake clock), where
// "the first time" is exact: the connect completes before the first handshake retransmission
// would be due. The same flood over real loopback UDP shows it holds outside the simulator, and
// prints what it cost (bounded in count and time); there the victim's and the legitimate peer's
// clocks run SLOW_MOTION times slower than real (test/helpers/slow-motion.ts), so on any machine
// entries outlive the fill and the peer's retransmissions outlast the victim's backlog: a loaded
// one, flooding slower than half-open entries expire (HALF_OPEN_TTL_MS), never filled the table,
// and a victim starved of CPU answered after the peer's last attempt. Plus the eviction rule itself on the pure core:
// a lone source is never the one evicted.
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { MAX_HALF_OPEN, MAX_HALF_OPEN_PER_NETWORK } from '../../src/transport/constants.js'
import { HANDSHAKE_RETRY_INITIAL_MS } from '../../src/wire/constants.js'
import { createSimNetwork, createRng, SimTransport, simScheduler, type SimEndpoint } from '../../src/sim/index.js'
import { PacketType } from '../../src/wire/constants.js'
import { mac1Key } from '../../src/wire/mac1.js'
import { until } from '../transport/fixtures/tap.js'
import { Pump } from '../transport/fixtures/pump.js'
import type { PeerAddress } from '../../src/io/address.js'
import { testRng } from '../helpers/seed.js'
import { bindSources, junkInitiation, answeredIndex, metric } from './fixtures.js'
import { slowMotion } from '../helpers/slow-motion.js'

const NETWORKS = 40
const PER_NETWORK = 2
const MAX_INITIATIONS = 400_000
const MAX_FLOOD_MS = 60_000
/** Real UDP: the victim's and the legitimate peer's clocks run this many times slower than real (rate limits, TTLs and retransmissions with them). */
const SLOW_MOTION = 4
/** Real UDP: a safety bound on the wait for the table to fill (~10 s on an idle machine). */
const MAX_FILL_WAIT_MS = 240_000
const TICK_MS = 100 // 80 sources × 10/s: fills the table in seconds without starving the CPU of a shared test machine (session.md §6.3)

/** What the flood needs of an attacker's address: send, and hear what comes back. */
interface FloodSource {
  send: (to: PeerAddress, bytes: Uint8Array) => void
  onDatagram: (fn: (bytes: Uint8Array) => void) => void
}

/** Keep `sources` sending fresh initiations (and their cookie retries) every tick until stopped. */
function flood (sources: FloodSource[], to: PeerAddress, key: Uint8Array, bytes: (n: number) => Uint8Array,
  every: (ms: number, fn: () => void) => () => void): { stop: () => void, sent: () => number } {
  let sent = 0
  let next = 1
  const pending = sources.map(() => new Map<number, Uint8Array>())
  sources.forEach((s, i) => {
    s.onDatagram(msg => {
      if (msg[1] !== PacketType.COOKIE_REPLY || sent >= MAX_INITIATIONS) return
      const index = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(2)
      const e = pending[i]!.get(index)
      if (e === undefined) return
      pending[i]!.delete(index)
      s.send(to, junkInitiation(index, e, key, msg.slice(6, 22)))
      sent++
    })
  })
  const stop = every(TICK_MS, () => {
    for (let i = 0; i < sources.length && sent < MAX_INITIATIONS; i++) {
      const index = next++
      const e = bytes(32)
      const p = pending[i]!
      if (p.size >= 64) p.delete(p.keys().next().value!)
      p.set(index, e)
      sources[i]!.send(to, junkInitiation(index, e, key))
      sent++
    }
  })
  return { stop, sent: () => sent }
}

/** The attackers' hosts: 40 /24 networks, two hosts each, as in the real-UDP test. */
const attackerHost = (i: number): string => `127.0.${101 + Math.floor(i / PER_NETWORK)}.${1 + (i % PER_NETWORK)}`

t.test(`simulated: a flood from ${NETWORKS * PER_NETWORK} addresses fills the half-open table; a legitimate connect is answered the first time`, async t => {
  const seed = 0xf100d
  t.comment(`# seed=0x${seed.toString(16)}`)
  const net = createSimNetwork({ seed, latencyMs: { base: 5, jitter: 2 } })
  const rng = createRng(seed)
  const endpoint = async (host: string): Promise<{ ep: Endpoint, transport: SimTransport }> => {
    const transport = new SimTransport(net, { host, port: 7000 })
    const ep = await Endpoint.listen({ identity: generateIdentity(), transport, scheduler: simScheduler(net.clock), random: n => rng.bytes(n) })
    return { ep, transport }
  }
  const victim = await endpoint('10.0.0.1')
  const legit = await endpoint('127.0.50.1')
  const sources: SimEndpoint[] = []
  for (let i = 0; i < NETWORKS * PER_NETWORK; i++) sources.push(net.bind(`${attackerHost(i)}:5000`))
  const every = (ms: number, fn: () => void): (() => void) => {
    let timer = net.clock.after(ms, function tick () { fn(); timer = net.clock.after(ms, tick) })
    return () => { net.clock.cancel(timer) }
  }
  const flooding = flood(sources.map(s => ({
    send: (to, bytes) => { s.send(`${to.host}:${to.port}`, bytes) },
    onDatagram: fn => { s.onDatagram = bytes => { fn(bytes) } }
  })), victim.ep.address, mac1Key(victim.ep.fingerprint), n => rng.bytes(n), every)

  // the flood fills the table (bounded: a minute of simulated time)
  for (let ms = 0; ms < MAX_FLOOD_MS && victim.ep.stats().halfOpen < MAX_HALF_OPEN; ms += 100) net.advance(100)
  t.equal(victim.ep.stats().halfOpen, MAX_HALF_OPEN, `the table is full after ${net.clock.now} ms of simulated flood`)

  // a legitimate connect, timed in protocol time: from its first initiation to the victim's session
  let initiations = 0
  const send = legit.transport.send.bind(legit.transport)
  legit.transport.send = (to, bytes) => { if (bytes[1] === PacketType.HANDSHAKE_INITIATION) initiations++; send(to, bytes) }
  let servedAt = -1
  victim.ep.on('session', s => { if (s.remoteFingerprint === legit.ep.fingerprint) servedAt = net.clock.now })
  const t0 = net.clock.now
  let session: Session | null = null
  legit.ep.connect(victim.ep.address, { expectFingerprint: victim.ep.fingerprint }).then(s => { session = s }, () => {})
  for (let ms = 0; ms < 60_000 && session === null; ms += 10) {
    net.advance(10)
    await new Promise(resolve => setImmediate(resolve))
  }
  flooding.stop()
  t.ok(session !== null, 'the legitimate connect succeeded')
  const tookMs = servedAt - t0
  t.ok(servedAt >= 0 && tookMs < HANDSHAKE_RETRY_INITIAL_MS * 0.9, `the victim served it ${tookMs.toFixed(1)} ms of protocol time after it asked, before any retransmission was due (${HANDSHAKE_RETRY_INITIAL_MS} ms)`)
  t.ok(initiations <= 2, `${initiations} initiations: the first, and its retry with the cookie, never a timed retransmission`)
  const st = victim.ep.stats()
  t.ok(st.halfOpen <= MAX_HALF_OPEN, 'the table never grows past its bound')
  t.ok(st.halfOpenEvicted > 0, `room was made by eviction (${st.halfOpenEvicted} evicted)`)
  metric(t, 'half-open-flood.sim.legit-served', Math.round(tookMs * 10) / 10, 'ms of protocol time', { initiations, sent: flooding.sent() })
  await legit.ep.close()
  await victim.ep.close()
})

t.test(`real UDP: a flood from ${NETWORKS * PER_NETWORK} loopback addresses fills the half-open table; a legitimate connect gets through`, async t => {
  const rng = testRng(t, 0xf100d)
  const victimId = generateIdentity()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId, scheduler: slowMotion(SLOW_MOTION) })
  const attackers = await bindSources(NETWORKS * PER_NETWORK, PER_NETWORK, 101) // attackerHost(i): 127.0.101.1 … 127.0.140.2
  const legit = await Endpoint.listen({ host: '127.0.50.1', identity: generateIdentity(), scheduler: slowMotion(SLOW_MOTION) })
  const quiet = await Endpoint.listen({ host: '127.0.51.1', identity: generateIdentity() })
  const b0 = performance.now()
  await quiet.connect(victim.address, { expectFingerprint: victimId.fingerprint })
  const baselineMs = performance.now() - b0
  const sources: FloodSource[] = attackers.map(a => ({
    send: (to, bytes) => { a.send(to, bytes) },
    onDatagram: fn => { a.socket.on('message', msg => { fn(new Uint8Array(msg)) }) }
  }))
  const every = (ms: number, fn: () => void): (() => void) => { const timer = setInterval(fn, ms); return () => { clearInterval(timer) } }
  const flooding = flood(sources, victim.address, mac1Key(victimId.fingerprint), n => rng.bytes(n), every)
  t.teardown(async () => {
    flooding.stop()
    for (const s of attackers) await s.close()
    await legit.close()
    await quiet.close()
    await victim.close()
  })

  const started = performance.now()
  await until(() => victim.stats().halfOpen >= MAX_HALF_OPEN, MAX_FILL_WAIT_MS, 'the flood to fill the half-open table')
  const fillMs = performance.now() - started
  t.equal(victim.stats().halfOpen, MAX_HALF_OPEN, 'the table is full')

  const t0 = performance.now()
  const s = await legit.connect(victim.address, { expectFingerprint: victimId.fingerprint })
  const connectMs = performance.now() - t0
  t.equal(s.remoteFingerprint, victimId.fingerprint)
  const st = victim.stats()
  t.ok(st.halfOpen <= MAX_HALF_OPEN, 'the table never grows past its bound')
  t.ok(st.halfOpenEvicted > 0, 'room was made by eviction')
  flooding.stop()
  const answered = attackers.reduce((n, a) => n + a.ofType(PacketType.HANDSHAKE_RESPONSE).length, 0)
  metric(t, 'half-open-flood.legit-connect', Math.round(connectMs * 10) / 10, 'ms', { halfOpen: st.halfOpen, sources: attackers.length, networks: NETWORKS })
  metric(t, 'half-open-flood.legit-connect-no-flood', Math.round(baselineMs * 10) / 10, 'ms')
  metric(t, 'half-open-flood.fill-time', Math.round(fillMs), 'ms', { initiations: flooding.sent(), responses: answered })
  metric(t, 'half-open-flood.evicted', st.halfOpenEvicted, 'half-open entries')
  metric(t, 'half-open-flood.cookie-replies', st.cookieRepliesSent, 'datagrams')
})

t.test('eviction: a network at its cap gives up its own oldest; a full table evicts from the largest network, never a lone source', async t => {
  const p = new Pump()
  const b = p.add('b', { tuning: { maxHalfOpen: 8, maxHalfOpenPerNetwork: 4, underLoadHalfOpen: 1000, initiationBurstPerIp: 100 } })
  const rng = testRng(t, 0xe71c7)
  const key = mac1Key(b.identity.fingerprint)
  let index = 1
  const from = (host: string): number => {
    const i = index++
    p.inject(b, junkInitiation(i, rng.bytes(32), key), { host, port: 7 })
    return i
  }
  const halfOpenOf = (i: number): boolean => p.log.some(d => d.bytes[1] === PacketType.HANDSHAKE_RESPONSE && answeredIndex({ bytes: d.bytes, from: d.to, at: 0 }) === i)
  const lone = from('198.51.100.7') // a lone legitimate source, first and so oldest
  const big: number[] = []
  for (let k = 0; k < 6; k++) big.push(from(`203.0.113.${k + 1}`)) // one /24: capped at 4
  t.equal(b.manager.stats().halfOpen, 5, 'the lone source plus the /24 at its cap of 4')
  t.equal(b.manager.stats().halfOpenEvicted, 2, 'the /24 evicted its own two oldest')
  for (let k = 0; k < 3; k++) from(`192.0.2.${k + 1}`) // a second network: 3
  t.equal(b.manager.stats().halfOpen, 8, 'full')
  from('192.0.2.50') // full: the largest network (203.0.113/24, 4) gives up its oldest
  t.equal(b.manager.stats().halfOpen, 8)
  t.equal(b.manager.stats().halfOpenEvicted, 3)
  for (let k = 0; k < 20; k++) from(`10.${k}.0.1`) // 20 new lone networks
  t.ok(halfOpenOf(lone), 'the lone source was answered')
  // the lone source's entry is still there: its index still names a half-open handshake
  t.equal(b.manager.stats().halfOpen, 8, 'still bounded')
  const dropped = b.manager.stats().dropped['rate-limited']
  t.ok(dropped > 0, `once every network holds one, newcomers are dropped (${dropped}), not the lone ones evicted`)
  t.ok(MAX_HALF_OPEN / MAX_HALF_OPEN_PER_NETWORK >= 32, 'by default it takes 32 networks to fill the table')
})
