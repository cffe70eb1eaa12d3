// Half-open flood (proto-spec/session.md §6.1): attackers on 80 loopback addresses in 40 /24
// networks, who know the victim's fingerprint (so their mac1 is valid) and receive at their
// addresses (so they pass the cookie round trip), fill the 4,096-entry half-open table with XX
// initiations they never finish. Each network may hold 128 entries, and a full table evicts the
// oldest entry of the network holding the most, so a legitimate connect from another network
// meanwhile finds room at once. Before, it waited for entries to expire (15 s measured). Real
// loopback UDP; the flood is bounded in count and time. Plus the eviction rule itself on the
// pure core: a lone source is never the one evicted.
import t from 'tap'
import { Endpoint } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { MAX_HALF_OPEN, MAX_HALF_OPEN_PER_NETWORK } from '../../src/transport/constants.js'
import { PacketType } from '../../src/wire/constants.js'
import { mac1Key } from '../../src/wire/mac1.js'
import { until } from '../transport/fixtures/tap.js'
import { Pump } from '../transport/fixtures/pump.js'
import { testRng } from '../helpers/seed.js'
import { bindSources, junkInitiation, answeredIndex, metric, type Source } from './fixtures.js'

const NETWORKS = 40
const PER_NETWORK = 2
const MAX_INITIATIONS = 400_000
const MAX_FLOOD_MS = 60_000
const TICK_MS = 100 // 80 sources × 10/s: fills the table in seconds without starving the CPU of a shared test machine (session.md §6.3)

/** Keep `sources` sending fresh initiations (and their cookie retries) until stopped. */
function flood (sources: Source[], to: { host: string, port: number }, key: Uint8Array, bytes: (n: number) => Uint8Array): { stop: () => void, sent: () => number } {
  let sent = 0
  let next = 1
  const pending = sources.map(() => new Map<number, Uint8Array>())
  sources.forEach((s, i) => {
    s.socket.on('message', msg => {
      if (msg[1] !== PacketType.COOKIE_REPLY || sent >= MAX_INITIATIONS) return
      const index = msg.readUInt32BE(2)
      const e = pending[i]!.get(index)
      if (e === undefined) return
      pending[i]!.delete(index)
      s.send(to, junkInitiation(index, e, key, new Uint8Array(msg.subarray(6, 22))))
      sent++
    })
  })
  const timer = setInterval(() => {
    for (let i = 0; i < sources.length && sent < MAX_INITIATIONS; i++) {
      const index = next++
      const e = bytes(32)
      const p = pending[i]!
      if (p.size >= 64) p.delete(p.keys().next().value!)
      p.set(index, e)
      sources[i]!.send(to, junkInitiation(index, e, key))
      sent++
    }
  }, TICK_MS)
  return { stop: () => { clearInterval(timer) }, sent: () => sent }
}

t.test(`a flood from ${NETWORKS * PER_NETWORK} addresses fills the half-open table; a legitimate connect stays fast`, async t => {
  const rng = testRng(t, 0xf100d)
  const victimId = generateIdentity()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId })
  const attackers = await bindSources(NETWORKS * PER_NETWORK, PER_NETWORK, 101) // 127.0.101.1 … 127.0.140.2
  const legit = await Endpoint.listen({ host: '127.0.50.1', identity: generateIdentity() })
  const quiet = await Endpoint.listen({ host: '127.0.51.1', identity: generateIdentity() })
  const b0 = performance.now()
  await quiet.connect(victim.address, { expectFingerprint: victimId.fingerprint })
  const baselineMs = performance.now() - b0
  const flooding = flood(attackers, victim.address, mac1Key(victimId.fingerprint), n => rng.bytes(n))
  t.teardown(async () => {
    flooding.stop()
    for (const s of attackers) await s.close()
    await legit.close()
    await quiet.close()
    await victim.close()
  })

  const started = performance.now()
  await until(() => victim.stats().halfOpen >= MAX_HALF_OPEN, MAX_FLOOD_MS, 'the flood to fill the half-open table')
  const fillMs = performance.now() - started
  t.equal(victim.stats().halfOpen, MAX_HALF_OPEN, 'the table is full')

  const t0 = performance.now()
  const s = await legit.connect(victim.address, { expectFingerprint: victimId.fingerprint, timeoutMs: 10_000 })
  const connectMs = performance.now() - t0
  t.equal(s.remoteFingerprint, victimId.fingerprint)
  t.ok(connectMs < 1000, `a legitimate connect during the flood took ${connectMs.toFixed(1)} ms (bound 1000 ms)`)
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
