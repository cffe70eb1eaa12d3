// Which relay (proto-spec/relay.md §7) and leaving it (§8), on loopback UDP: candidates are tried
// by RTT, a refusing relay is skipped next time, and a relayed session moves to a direct path
// when one is found, releasing the allocation.
import t, { type Test } from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { udpSockets } from '../../src/io/udp.js'
import { realScheduler } from '../../src/io/scheduler.js'
import { osRandom } from '../../src/io/random.js'
import {
  RelayService, RelayClient, RelayRefusals, attachRelay, allocateAny, orderRelays, moveDirect, type RelayLimits
} from '../../src/relay/index.js'

const HOST = '127.0.0.1'
const random = osRandom()

async function user (t: Test): Promise<{ ep: Endpoint, client: RelayClient }> {
  const ep = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() })
  const client = new RelayClient({ send: (to, b) => { ep.sendDatagram(to, b) }, scheduler: realScheduler, random: n => random.bytes(n), timeoutMs: 1000 })
  attachRelay(ep, { client })
  t.teardown(async () => { client.close(); await ep.close() })
  return { ep, client }
}

async function relay (t: Test, limits: Partial<RelayLimits> = {}): Promise<{ ep: Endpoint, service: RelayService }> {
  const ep = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() })
  const service = new RelayService({ sockets: udpSockets, host: HOST, scheduler: realScheduler, random: n => random.bytes(n), send: (to, b) => { ep.sendDatagram(to, b) }, limits })
  attachRelay(ep, { service })
  t.teardown(async () => { await service.close(); await ep.close() })
  return { ep, service }
}

t.test('orderRelays: lowest RTT first, unknown last, refused and duplicates left out', async t => {
  const r = new RelayRefusals()
  const c = (port: number, rttMs?: number): { address: { host: string, port: number }, rttMs?: number } => ({ address: { host: '198.51.100.1', port }, rttMs })
  r.note(c(4).address, 0)
  const order = orderRelays([c(1), c(2, 80), c(3, 20), c(4, 5), c(3, 20), c(5)], r, 1000).map(x => x.address.port)
  t.same(order, [3, 2, 1, 5], 'port 4 refused, port 3 once')
  t.same(orderRelays([c(4, 5)], r, 11 * 60_000).map(x => x.address.port), [4], 'a refusal is forgotten after 10 minutes')
})

t.test('allocateAny skips a full relay and one that does not answer, and remembers them', async t => {
  const full = await relay(t, { total: 0 })
  const good = await relay(t)
  const silent = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() }) // no relay here
  t.teardown(async () => { await silent.close() })
  const a = await user(t)
  const refusals = new RelayRefusals()
  const candidates = [{ address: full.ep.address, rttMs: 1 }, { address: silent.address, rttMs: 2 }, { address: good.ep.address, rttMs: 3 }]
  const { path } = await allocateAny(a.client, candidates, refusals)
  t.same(path.relay, good.ep.address, 'the third candidate allocated')
  t.ok(refusals.refused(full.ep.address, a.client.now()) && refusals.refused(silent.address, a.client.now()))
  t.same(orderRelays(candidates, refusals, a.client.now()).map(c => c.address), [good.ep.address])
  t.equal(full.service.stats().dropped['refused-total'], 1)
})

t.test('a relayed session moves direct when a direct address is found; the allocation is released', async t => {
  const r = await relay(t)
  const a = await user(t)
  const b = await user(t)
  const { path, offer } = await a.client.allocate(r.ep.address)
  await b.client.join(offer)
  await path.ready()
  const inbound = new Promise<Session>(resolve => b.ep.once('session', resolve))
  const relayed = await a.ep.connect(path.address, { expectFingerprint: b.ep.fingerprint })
  await inbound
  const closed = new Promise<string>(resolve => relayed.once('close', reason => { resolve(String(reason)) }))
  const direct = await moveDirect(a.ep, path, b.ep.address, b.ep.fingerprint)
  t.ok(direct !== null)
  t.same(direct!.remoteAddress, b.ep.address, 'the new session runs to b directly')
  t.equal(await closed, 'replaced', 'the relayed session was replaced (session.md §3.1)')
  t.equal(path.state, 'closed')
  // the RELEASE reaches the relay: wait for it to drop the allocation
  for (let i = 0; i < 200 && r.service.stats().allocations > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.match(r.service.stats(), { allocations: 0, allocationsReleased: 1 })
  const got = new Promise<string>(resolve => b.ep.sessions()[0]!.once('data', d => { resolve(new TextDecoder().decode(d)) }))
  direct!.send(new TextEncoder().encode('direct now'))
  t.equal(await got, 'direct now')
})

t.test('moveDirect to an address that does not answer keeps the relayed path', async t => {
  const r = await relay(t)
  const a = await user(t)
  const b = await user(t)
  const { path, offer } = await a.client.allocate(r.ep.address)
  await b.client.join(offer)
  await path.ready()
  const dead = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() })
  const deadAddress = dead.address
  await dead.close()
  t.equal(await moveDirect(a.ep, path, deadAddress, b.ep.fingerprint, { timeoutMs: 300 }), null)
  t.equal(path.state, 'forwarding', 'still relayed')
})
