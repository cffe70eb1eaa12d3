// NAT filtering discovery (RFC 5780 §4.4) through the simulator's RFC 4787 NAT boxes: a STUN server
// with two IPs and two ports (StunBehaviourServer) answers CHANGE-REQUESTs from its other
// addresses, and the probe names the filtering of every preset — full cone → endpoint-independent,
// restricted cone → address-dependent, port-restricted cone and symmetric →
// address-and-port-dependent — and only a full cone (or no NAT) counts as reachable without a
// punch; only no NAT as publicly reachable (a full cone's fresh ports have no mapping). Seeded, simulated time. proto-spec/stun.md §3.4, §5.
import t from 'tap'
import { createSimNetwork, NAT_PRESETS, SimTransport, simRandom, simScheduler, createRng, type SimNetwork, type NatBehaviourOptions } from '../../src/sim/index.js'
import { StunService } from '../../src/stun/service.js'
import { StunBehaviourServer } from '../../src/stun/behaviour-server.js'
import { StunTransactionError } from '../../src/stun/client.js'
import { NatProbe, type NatState } from '../../src/stun/probe.js'
import { classifyFiltering, fullCone, publiclyReachable } from '../../src/stun/classify.js'
import { directlyReachable, type AddressObserver } from '../../src/traversal/candidates.js'
import type { PeerAddress } from '../../src/io/address.js'
import { testSeed } from '../helpers/seed.js'

const A1 = '198.51.100.1'
const A2 = '198.51.100.2'
const PLAIN: PeerAddress = { host: '203.0.113.5', port: 3478 }
const PRIVATE = { host: '192.168.1.2', port: 5000 }
const NAT_IP = '203.0.113.1'

interface World { net: SimNetwork, behaviour: StunBehaviourServer }

function world (seed: number): World {
  const net = createSimNetwork({ seed, latencyMs: { base: 20 } })
  const sock = (host: string, port: number): SimTransport => new SimTransport(net, { host, port })
  const behaviour = new StunBehaviourServer([[sock(A1, 3478), sock(A1, 3479)], [sock(A2, 3478), sock(A2, 3479)]], simScheduler(net.clock))
  // a one-address server at another IP, for the mapping test (RFC 5780 §4.3 needs two IPs)
  const plainSock = sock(PLAIN.host, PLAIN.port)
  const plain = new StunService({ send: (to, b) => { plainSock.send(to, b) }, scheduler: simScheduler(net.clock), random: simRandom(createRng(seed)), serve: () => true })
  plainSock.onDatagram = (b, from) => { plain.receive(b, from) }
  return { net, behaviour }
}

async function drive<T> (net: SimNetwork, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  const end = net.clock.now + maxMs
  while (!done && net.clock.now < end) {
    net.clock.advance(10)
    await new Promise(resolve => setImmediate(resolve))
  }
  if (!done) throw new Error(`not settled after ${maxMs} simulated ms`)
  return await p
}

async function probeBehind (seed: number, behaviour: NatBehaviourOptions | null): Promise<{ state: NatState, w: World }> {
  const w = world(seed)
  const sock = behaviour === null
    ? new SimTransport(w.net, { host: '192.0.2.50', port: 5000 })
    : new SimTransport(w.net.createNat({ externalIps: [NAT_IP], ...behaviour }), PRIVATE)
  const service = new StunService({ send: (to, b) => { sock.send(to, b) }, scheduler: simScheduler(w.net.clock), random: simRandom(createRng(seed ^ 7)), serve: () => false })
  sock.onDatagram = (b, from) => { service.receive(b, from) }
  const probe = new NatProbe({ client: service.client, scheduler: simScheduler(w.net.clock), servers: () => [w.behaviour.primary, PLAIN], local: () => ({ port: sock.local.port, ips: [sock.local.host] }) })
  return { state: await drive(w.net, probe.probe()), w }
}

const seed = testSeed(t, 0x5780, 'simulated NAT ports and latency')

t.test('each NAT preset\'s filtering, and whether it is reachable without a punch', async t => {
  const cases = [
    ['fullCone', 'endpoint-independent', 'endpoint-independent', true],
    ['restrictedCone', 'endpoint-independent', 'address-dependent', false],
    ['portRestrictedCone', 'endpoint-independent', 'address-and-port-dependent', false],
    ['symmetric', 'address-dependent', 'address-and-port-dependent', false]
  ] as const
  for (const [preset, natKind, filtering, reachable] of cases) {
    const { state } = await probeBehind(seed, NAT_PRESETS[preset])
    t.equal(state.natKind, natKind, `${preset}: mapping`)
    t.equal(state.filtering, filtering, `${preset}: filtering`)
    t.equal(state.fullCone, reachable, `${preset}: ${reachable ? '' : 'not '}reachable without a punch`)
    t.equal(state.publiclyReachable, false, `${preset}: not publicly reachable (a fresh port has no mapping)`)
  }
})

t.test('no NAT: open, nothing filtered, reachable', async t => {
  const { state } = await probeBehind(seed, null)
  t.equal(state.natKind, 'open', 'open')
  t.equal(state.filtering, 'endpoint-independent', 'nothing filters')
  t.equal(state.publiclyReachable, true, 'reachable')
  t.equal(state.fullCone, false, 'no NAT is not a cone')
})

t.test('the server answers a CHANGE-REQUEST from the socket it names, back to the source, and names OTHER-ADDRESS', async t => {
  const w = world(seed)
  const sock = new SimTransport(w.net, { host: '192.0.2.60', port: 6000 })
  const service = new StunService({ send: (to, b) => { sock.send(to, b) }, scheduler: simScheduler(w.net.clock), random: simRandom(createRng(1)), serve: () => false })
  sock.onDatagram = (b, from) => { service.receive(b, from) }
  const plain = await drive(w.net, service.client.binding(w.behaviour.primary))
  t.same(plain.other, { host: A2, port: 3479 }, 'OTHER-ADDRESS: the other IP and the other port')
  t.same(plain.from, { host: A1, port: 3478 }, 'a plain request: from the primary address')
  const both = await drive(w.net, service.client.binding(w.behaviour.primary, undefined, { ip: true, port: true }))
  t.same(both.from, { host: A2, port: 3479 }, 'change IP and port: from A2:P2')
  t.same(both.reflexive, { host: '192.0.2.60', port: 6000 }, 'to the source, which it names')
  const port = await drive(w.net, service.client.binding(w.behaviour.primary, undefined, { ip: false, port: true }))
  t.same(port.from, { host: A1, port: 3479 }, 'change port: from A1:P2')
  const ip = await drive(w.net, service.client.binding(w.behaviour.primary, undefined, { ip: true, port: false }))
  t.same(ip.from, { host: A2, port: 3478 }, 'change IP: from A2:P1')
  const single = await drive(w.net, service.client.binding(PLAIN, undefined, { ip: false, port: false }))
  t.equal(single.other, null, 'a one-address server names no OTHER-ADDRESS')
  const refused = await drive(w.net, service.client.binding(PLAIN, undefined, { ip: true, port: false })).then(() => null, (e: unknown) => e)
  t.ok(refused instanceof StunTransactionError && refused.failure === 'error-response' && refused.errorCode === 420, 'and refuses a change with 420')
  t.equal(w.behaviour.server.stats.refused, 0, 'no answer broke the growth bound')
})

t.test('classifying the outcomes', async t => {
  t.equal(classifyFiltering('answered', 'silent'), 'endpoint-independent')
  t.equal(classifyFiltering('silent', 'answered'), 'address-dependent')
  t.equal(classifyFiltering('silent', 'silent'), 'address-and-port-dependent')
  t.equal(classifyFiltering('refused', 'silent'), 'unknown', 'a server that cannot change its address tells nothing')
  t.equal(publiclyReachable('open', 'address-and-port-dependent'), false, 'no NAT but a filtering firewall')
  t.equal(publiclyReachable('open', 'unknown'), true, 'no NAT and no behaviour server: as before, reachable')
  t.equal(publiclyReachable('endpoint-independent', 'endpoint-independent'), false, 'a full cone is not publicly reachable')
  t.equal(fullCone('endpoint-independent', 'endpoint-independent'), true, 'but it is a full cone')
  t.equal(fullCone('address-dependent', 'endpoint-independent'), false, 'a symmetric mapping is never reachable at one address')
})

t.test('a full cone needs no rendezvous: traversal counts it directly reachable at its reflexive address', async t => {
  const reflexive = [{ kind: 'reflexive' as const, host: NAT_IP, port: 5000 }]
  const observer = (reachable: boolean): AddressObserver => ({ reflexive: () => [], natKind: () => 'endpoint-independent', reachable: () => reachable })
  t.equal(directlyReachable('endpoint-independent', reflexive, observer(true)), true, 'the filtering test found a full cone')
  t.equal(directlyReachable('endpoint-independent', reflexive, observer(false)), false, 'a cone that filters: punch')
  t.equal(directlyReachable('endpoint-independent', reflexive), false, 'no filtering test: punch')
})
