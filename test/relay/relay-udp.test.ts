// A relay on real loopback UDP (proto-spec/relay.md): two endpoints complete a Noise session
// through it and exchange data; a stranger gets nothing through; every datagram the relay sends
// goes to one of the two bound addresses (or back to an asker with a smaller challenge); the
// byte cap holds under a flood. Prints the relayed connect time (median of 5) as a JSON line.
import t, { type Test } from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { udpSockets } from '../../src/io/udp.js'
import { realScheduler } from '../../src/io/scheduler.js'
import { osRandom } from '../../src/io/random.js'
import { formatHostPort, type PeerAddress } from '../../src/io/address.js'
import type { DatagramSockets } from '../../src/io/datagram.js'
import { RelayService, RelayClient, attachRelay, type RelayLimits, type RelayOffer } from '../../src/relay/index.js'
import { decodeRelayMessage } from '../../src/relay/codec.js'
import { RelayType } from '../../src/relay/constants.js'

const HOST = '127.0.0.1'
const random = osRandom()
const enc = new TextEncoder()
const dec = new TextDecoder()

/** Sockets that record every destination the relay's allocation ports send to. */
function spySockets (log: Array<{ to: PeerAddress, bytes: Uint8Array }>): DatagramSockets {
  return {
    bind: async opts => {
      const s = await udpSockets.bind(opts)
      const send = s.send.bind(s)
      s.send = (to, bytes) => { log.push({ to: { ...to }, bytes }); send(to, bytes) }
      return s
    }
  }
}

interface Node { ep: Endpoint, client: RelayClient }

async function node (t: Test): Promise<Node> {
  const ep = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() })
  const client = new RelayClient({ send: (to, b) => { ep.sendDatagram(to, b) }, scheduler: realScheduler, random: n => random.bytes(n) })
  attachRelay(ep, { client })
  t.teardown(async () => { client.close(); await ep.close() })
  return { ep, client }
}

async function relay (t: Test, limits: Partial<RelayLimits> = {}): Promise<{ ep: Endpoint, service: RelayService, sent: Array<{ to: PeerAddress, bytes: Uint8Array }> }> {
  const ep = await Endpoint.listen({ host: HOST, port: 0, identity: generateIdentity() })
  const sent: Array<{ to: PeerAddress, bytes: Uint8Array }> = []
  const service = new RelayService({
    sockets: spySockets(sent), host: HOST, scheduler: realScheduler, random: n => random.bytes(n),
    send: (to, b) => { ep.sendDatagram(to, b) }, limits
  })
  attachRelay(ep, { service })
  t.teardown(async () => { await service.close(); await ep.close() })
  return { ep, service, sent }
}

async function nextSession (ep: Endpoint): Promise<Session> {
  return await new Promise(resolve => ep.once('session', resolve))
}

async function firstData (s: Session): Promise<string> {
  return await new Promise(resolve => s.once('data', d => { resolve(dec.decode(d)) }))
}

/** Allocate, pass the offer, join, wait for forwarding, handshake through the relay. */
async function connectThrough (r: Endpoint, a: Node, b: Node): Promise<{ sa: Session, sb: Session, ms: number, offer: RelayOffer }> {
  const started = performance.now()
  const { path, offer } = await a.client.allocate(r.address)
  const joined = await b.client.join(offer) // the offer travels end to end in real use
  await path.ready()
  const inbound = nextSession(b.ep)
  const sa = await a.ep.connect(path.address, { expectFingerprint: b.ep.fingerprint, remoteStatic: undefined })
  const sb = await inbound
  const ms = performance.now() - started
  if (joined.state !== 'forwarding') throw new Error(`the joining side is ${joined.state}, not forwarding`)
  return { sa, sb, ms, offer }
}

t.test('a Noise session through the relay: both sides see the relay port as the peer, data flows', async t => {
  const r = await relay(t)
  const a = await node(t)
  const b = await node(t)
  const { sa, sb } = await connectThrough(r.ep, a, b)
  t.equal(sa.remoteFingerprint, b.ep.fingerprint, 'Alice authenticated Bob end to end')
  t.equal(sb.remoteFingerprint, a.ep.fingerprint, 'and Bob Alice')
  t.equal(sa.remoteAddress.host, HOST)
  t.not(formatHostPort(sa.remoteAddress), formatHostPort(b.ep.address), "Alice's peer address is the relay's port, not Bob's")
  t.not(formatHostPort(sb.remoteAddress), formatHostPort(a.ep.address))
  const got = firstData(sb)
  sa.send(enc.encode('hello through the relay'))
  t.equal(await got, 'hello through the relay')
  const back = firstData(sa)
  sb.send(enc.encode('and back'))
  t.equal(await back, 'and back')
  const st = r.service.stats()
  t.ok(st.forwardedPackets >= 5, `${st.forwardedPackets} datagrams forwarded (handshake and data)`)
  const bound = new Set([formatHostPort(a.ep.address), formatHostPort(b.ep.address)])
  t.ok(r.sent.every(s => bound.has(formatHostPort(s.to))), 'every datagram the relay ports sent went to Alice or Bob')
})

t.test('abuse: a stranger reaches nobody, gets only smaller challenges, and floods are capped', async t => {
  const limits = { allocationBytesPerS: 50_000, allocationBurstBytes: 50_000 }
  const r = await relay(t, limits)
  const a = await node(t)
  const b = await node(t)
  const mallory = await node(t)
  const { sa, sb, offer } = await connectThrough(r.ep, a, b)
  const ports = r.service.core.ports()[0]!
  const bDataBefore = b.ep.stats().packetsIn
  // Mallory knows the allocation id (say, he watched Alice's ALLOCATE_OK) and sends session-shaped
  // datagrams and BINDs with a guessed proof at both ports
  const forged = new Uint8Array(96)
  forged.set([0xc1, RelayType.BIND, ...offer.allocationId])
  forged.set(random.bytes(32), 26)
  const junk = Uint8Array.of(0xc1, 0x10, ...new Uint8Array(40))
  let challenges = 0
  mallory.ep.setHandler('relay', (bytes, from) => {
    if (decodeRelayMessage(bytes)?.type === RelayType.BIND_CHALLENGE) challenges++
    mallory.client.onControl(bytes, from)
  })
  for (let i = 0; i < 200; i++) {
    for (const port of ports) {
      mallory.ep.sendDatagram({ host: HOST, port }, junk)
      mallory.ep.sendDatagram({ host: HOST, port }, forged)
    }
  }
  // a stranger's own allocation cannot reach Bob, who never binds it
  const own = await mallory.client.allocate(r.ep.address)
  t.equal(own.path.state, 'waiting')
  for (let i = 0; i < 50; i++) mallory.ep.sendDatagram(own.path.address, junk)
  // a round trip on the real session orders us after Mallory's datagrams at the relay
  const ping = firstData(sb)
  sa.send(enc.encode('still here'))
  t.equal(await ping, 'still here')
  const st = r.service.stats()
  const strangerDrops = st.dropped['unbound-source'] + st.dropped['bad-proof'] + st.dropped['peer-unbound']
  t.comment(JSON.stringify({ metric: 'relay-stranger-datagrams-dropped', value: strangerDrops, of: 850, unit: 'datagrams' }))
  t.equal(st.dropped['unbound-source'], 400, "every stranger datagram on the pair's ports dropped as unbound")
  t.equal(st.dropped['bad-proof'], 400, 'every forged BIND dropped unanswered')
  t.equal(st.dropped['peer-unbound'], 50, "the stranger's own allocation forwards nothing: the other side never bound")
  t.equal(challenges, 1, "the stranger got no answer to a BIND without the key (one challenge: his own allocation's)")
  t.ok(b.ep.stats().packetsIn - bDataBefore <= 3, 'Bob received only his own session traffic')
  const allowed = new Set([formatHostPort(a.ep.address), formatHostPort(b.ep.address), formatHostPort(mallory.ep.address)])
  t.ok(r.sent.every(s => allowed.has(formatHostPort(s.to))), 'no datagram to any third address')
  t.ok(r.sent.filter(s => formatHostPort(s.to) === formatHostPort(mallory.ep.address)).every(s => s.bytes.length <= 26),
    'what went to the stranger is challenges/BOUND for his own allocation, ≤ 26 bytes each')

  // flood: Alice pushes 2 MB at the relay in 2000 datagrams; the allocation's budget holds
  const big = new Uint8Array(1000)
  big.set([0xc1, 0x10])
  const before = r.service.stats()
  const startedAt = performance.now()
  for (let i = 0; i < 2000; i++) a.ep.sendDatagram(sa.remoteAddress, big)
  // wait until the relay has seen the whole flood (forwarded or dropped), at most 5 s
  const seen = (): number => {
    const now = r.service.stats()
    return now.forwardedPackets - before.forwardedPackets + now.dropped['rate-allocation'] - before.dropped['rate-allocation']
  }
  for (let waited = 0; seen() < 2000 && waited < 5000; waited += 10) await new Promise(resolve => setTimeout(resolve, 10))
  const elapsedS = (performance.now() - startedAt) / 1000
  const after = r.service.stats()
  const bytes = after.forwardedBytes - before.forwardedBytes
  const cap = limits.allocationBurstBytes + limits.allocationBytesPerS * (elapsedS + 0.05)
  t.comment(JSON.stringify({ metric: 'relay-flood-forwarded-bytes-udp', value: bytes, offered: 2_000_000, cap: Math.round(cap), unit: 'B' }))
  t.ok(bytes <= cap, `forwarded ${bytes} B of 2 MB offered (cap ${Math.round(cap)} B)`)
  t.ok(after.dropped['rate-allocation'] > before.dropped['rate-allocation'], 'the excess was dropped and counted')
})

t.test('benchmark: relayed connect time on loopback, median of 5', async t => {
  const r = await relay(t)
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const a = await node(t)
    const b = await node(t)
    times.push((await connectThrough(r.ep, a, b)).ms)
  }
  times.sort((x, y) => x - y)
  const median = times[2]!
  t.comment(JSON.stringify({ metric: 'relay-connect-loopback-ms', value: Math.round(median * 100) / 100, unit: 'ms', runs: times.map(x => Math.round(x * 10) / 10) }))
  t.ok(median > 0)
})
