// NAT classification through the simulator's RFC 4787 NAT boxes (src/sim/nat.ts): our STUN client
// behind a NAT asks two (or three) of our STUN servers at different public IPs, and the probe names
// the mapping. Endpoint-independent mapping → 'endpoint-independent'; address(-and-port)-dependent
// → 'address-dependent'; no NAT → 'open'. Seeded, simulated time. proto-spec/stun.md §5.
import t from 'tap'
import { createSimNetwork, NAT_PRESETS, SimTransport, simRandom, simScheduler, createRng, type SimNetwork, type NatBehaviourOptions } from '../../src/sim/index.js'
import { StunService } from '../../src/stun/service.js'
import { NatProbe, type NatState } from '../../src/stun/probe.js'
import type { PeerAddress } from '../../src/io/address.js'
import { testSeed } from '../helpers/seed.js'

const SERVERS: PeerAddress[] = [{ host: '198.51.100.1', port: 3478 }, { host: '203.0.113.5', port: 3478 }, { host: '192.0.2.77', port: 47400 }]
const PRIVATE = { host: '192.168.1.2', port: 5000 }
const NAT_IP = '203.0.113.1'

interface World { net: SimNetwork, servers: StunService[] }

function world (seed: number, serverCount = 2): World {
  const net = createSimNetwork({ seed, latencyMs: { base: 20 } })
  const rng = createRng(seed ^ 0x5a5a)
  const servers = SERVERS.slice(0, serverCount).map(addr => {
    const sock = new SimTransport(net, addr)
    const svc = new StunService({ send: (to, b) => { sock.send(to, b) }, scheduler: simScheduler(net.clock), random: simRandom(rng), serve: () => true })
    sock.onDatagram = (b, from) => { svc.receive(b, from) }
    return svc
  })
  return { net, servers }
}

function prober (w: World, sock: SimTransport, localIps: string[], servers = SERVERS): { probe: NatProbe, service: StunService } {
  const service = new StunService({ send: (to, b) => { sock.send(to, b) }, scheduler: simScheduler(w.net.clock), random: simRandom(createRng(7)), serve: () => false })
  sock.onDatagram = (b, from) => { service.receive(b, from) }
  const probe = new NatProbe({ client: service.client, scheduler: simScheduler(w.net.clock), servers: () => servers, local: () => ({ port: sock.local.port, ips: localIps }) })
  return { probe, service }
}

/** Runs simulated time until the promise settles (bounded). */
async function drive<T> (net: SimNetwork, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  void p.finally(() => { done = true })
  const end = net.clock.now + maxMs
  while (!done && net.clock.now < end) {
    net.clock.advance(10)
    await new Promise(resolve => setImmediate(resolve))
  }
  return await p
}

async function probeBehind (seed: number, behaviour: NatBehaviourOptions | null): Promise<NatState> {
  const w = world(seed)
  const sock = behaviour === null
    ? new SimTransport(w.net, { host: '192.0.2.50', port: 5000 })
    : new SimTransport(w.net.createNat({ externalIps: [NAT_IP], ...behaviour }), PRIVATE)
  const { probe } = prober(w, sock, [sock.local.host])
  return await drive(w.net, probe.probe())
}

const seed = testSeed(t, 0x57a7, 'simulated NAT ports and latency')

t.test('endpoint-independent mapping (every cone preset) → endpoint-independent, at the NAT address with the port kept', async t => {
  for (const preset of ['fullCone', 'restrictedCone', 'portRestrictedCone'] as const) {
    const s = await probeBehind(seed, NAT_PRESETS[preset])
    t.equal(s.natKind, 'endpoint-independent', preset)
    t.same(s.reflexive, [`${NAT_IP}:5000`], `${preset}: one reflexive address`)
    t.equal(s.publiclyReachable, false)
    t.equal(s.answered, 2)
  }
})

t.test('address-and-port-dependent mapping (symmetric) and address-dependent mapping → address-dependent', async t => {
  const sym = await probeBehind(seed, NAT_PRESETS.symmetric)
  t.equal(sym.natKind, 'address-dependent', 'symmetric')
  t.equal(sym.reflexive.length, 2, `two different reflexive addresses: ${sym.reflexive.join(', ')}`)
  t.ok(sym.reflexive.every(a => a.startsWith(`${NAT_IP}:`)), 'both on the NAT address')
  const ad = await probeBehind(seed, { mapping: 'address-dependent', filtering: 'address-dependent', portAssignment: 'preserve' })
  t.equal(ad.natKind, 'address-dependent', 'address-dependent mapping with port preservation: the second mapping needs another port')
})

t.test('no NAT → open, publicly reachable', async t => {
  const s = await probeBehind(seed, null)
  t.equal(s.natKind, 'open')
  t.same(s.reflexive, ['192.0.2.50:5000'])
  t.equal(s.publiclyReachable, true)
})

t.test('a server down: the probe still classifies with the other two; with one answer it says unknown', async t => {
  const w = world(seed, 2) // the third server in SERVERS does not exist
  const nat = w.net.createNat({ externalIps: [NAT_IP], ...NAT_PRESETS.portRestrictedCone })
  const { probe, service } = prober(w, new SimTransport(nat, PRIVATE), [PRIVATE.host], [SERVERS[2]!, SERVERS[0]!, SERVERS[1]!])
  const s = await drive(w.net, probe.probe())
  t.equal(s.natKind, 'endpoint-independent')
  t.equal(s.asked, 3)
  t.equal(s.answered, 2)
  t.equal(service.client.stats.timeouts, 1, 'the missing server timed out after its retransmissions')
  t.equal(service.client.stats.retransmissions, 4, 'Rc = 5 requests to it')

  const w2 = world(seed, 1)
  const nat2 = w2.net.createNat({ externalIps: [NAT_IP], ...NAT_PRESETS.portRestrictedCone })
  const one = prober(w2, new SimTransport(nat2, PRIVATE), [PRIVATE.host], [SERVERS[0]!, SERVERS[2]!])
  t.equal((await drive(w2.net, one.probe.probe())).natKind, 'unknown', 'one answer cannot tell a cone from a symmetric NAT')
})

t.test('the probe runs again when the network changes and on its interval', async t => {
  const w = world(seed)
  const nat = w.net.createNat({ externalIps: [NAT_IP], ...NAT_PRESETS.portRestrictedCone })
  const sock = new SimTransport(nat, PRIVATE)
  let ips = [PRIVATE.host]
  let observed: string | null = null
  const service = new StunService({ send: (to, b) => { sock.send(to, b) }, scheduler: simScheduler(w.net.clock), random: simRandom(createRng(3)), serve: () => false })
  sock.onDatagram = (b, from) => { service.receive(b, from) }
  const changes: NatState[] = []
  const probe = new NatProbe({
    client: service.client,
    scheduler: simScheduler(w.net.clock),
    servers: () => SERVERS.slice(0, 2),
    local: () => ({ port: 5000, ips }),
    observed: () => observed,
    intervalMs: 600_000,
    changeCheckMs: 10_000,
    onChange: s => changes.push(s)
  })
  probe.start()
  await drive(w.net, new Promise<void>(resolve => { w.net.clock.after(5_000, resolve) }))
  t.equal(probe.probes, 1, 'one probe at start')
  t.equal(changes.length, 1, 'its result was reported')
  ips = ['192.168.1.3']
  await drive(w.net, new Promise<void>(resolve => { w.net.clock.after(15_000, resolve) }))
  t.equal(probe.probes, 2, 'a local address change probes again')
  observed = '203.0.113.1:5000'
  await drive(w.net, new Promise<void>(resolve => { w.net.clock.after(15_000, resolve) }))
  t.equal(probe.probes, 2, 'the first observed address is no change')
  observed = '203.0.113.1:6000'
  await drive(w.net, new Promise<void>(resolve => { w.net.clock.after(15_000, resolve) }))
  t.equal(probe.probes, 3, 'the DHT seeing us at another address probes again')
  await drive(w.net, new Promise<void>(resolve => { w.net.clock.after(620_000, resolve) }), 700_000)
  t.equal(probe.probes, 4, 'and the interval does too')
  probe.stop()
  t.equal(changes.length, 1, 'nothing changed in what the servers saw, so one report')
})
