// Two nodes behind address-and-port-dependent (symmetric) NATs on the simulator reach each other
// through a relay on a public address (proto-spec/relay.md §2): no direct path exists (see
// test/sim/hole-punch.test.ts), the relayed Noise session carries data, survives minutes of
// silence with NAT mappings that expire after 30 s, and survives one side's socket moving.
import t from 'tap'
import { createSimNetwork, NAT_PRESETS, type SimNetwork } from '../../src/sim/index.js'
import { SimTransport, simScheduler, simSockets } from '../../src/sim/io.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { RelayService, RelayClient, attachRelay } from '../../src/relay/index.js'
import { testSeed } from '../helpers/seed.js'
import { createRng } from '../../src/sim/rng.js'

const RELAY_HOST = '198.51.100.7'
const PRIVATE = '192.168.1.2'
const enc = new TextEncoder()
const dec = new TextDecoder()

/** Run the simulation until `p` settles (or `ms` of simulated time pass), then await it. */
async function settle<T> (net: SimNetwork, p: Promise<T>, ms: number): Promise<T> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < ms / 50 && !done; i++) {
    net.advance(50)
    await new Promise(resolve => setImmediate(resolve))
  }
  if (!done) throw new Error(`not settled within ${ms} simulated ms`)
  return await p
}

/** Advance simulated time until `cond` holds, at most `ms`. */
async function until (net: SimNetwork, cond: () => boolean, ms: number): Promise<void> {
  for (let i = 0; i < ms / 50 && !cond(); i++) {
    net.advance(50)
    await new Promise(resolve => setImmediate(resolve))
  }
  if (!cond()) throw new Error(`condition not met within ${ms} simulated ms`)
}

interface User { ep: Endpoint, client: RelayClient }

async function world (seed: number, mappingTimeoutMs = 30_000): Promise<{ net: SimNetwork, relay: Endpoint, service: RelayService, alice: User, bob: User, natA: ReturnType<SimNetwork['createNat']>, natB: ReturnType<SimNetwork['createNat']> }> {
  const net = createSimNetwork({ seed, latencyMs: { base: 20, jitter: 10 } })
  const rng = createRng(seed ^ 0x5eed)
  const random = (n: number): Uint8Array => rng.bytes(n)
  const scheduler = simScheduler(net.clock)
  const relay = await Endpoint.listen({ identity: generateIdentity(), transport: new SimTransport(net, { host: RELAY_HOST, port: 7000 }), scheduler, random })
  const service = new RelayService({ sockets: simSockets(net, RELAY_HOST), scheduler, random, send: (to, b) => { relay.sendDatagram(to, b) } })
  attachRelay(relay, { service })
  const natA = net.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.symmetric, mappingTimeoutMs })
  const natB = net.createNat({ externalIps: ['203.0.113.2'], ...NAT_PRESETS.symmetric, mappingTimeoutMs })
  const user = async (nat: typeof natA): Promise<User> => {
    const ep = await Endpoint.listen({ identity: generateIdentity(), sockets: simSockets(nat, PRIVATE), port: 7000, scheduler, random })
    const client = new RelayClient({ send: (to, b) => { ep.sendDatagram(to, b) }, scheduler, random })
    attachRelay(ep, { client })
    return { ep, client }
  }
  return { net, relay, service, alice: await user(natA), bob: await user(natB), natA, natB }
}

async function relayed (w: Awaited<ReturnType<typeof world>>): Promise<{ sa: Session, sb: Session, connectMs: number }> {
  const { net, relay, alice, bob } = w
  const started = net.clock.now
  const { path, offer } = await settle(net, alice.client.allocate(relay.address), 10_000)
  await settle(net, bob.client.join(offer), 10_000)
  await settle(net, path.ready(), 10_000)
  const inbound = new Promise<Session>(resolve => bob.ep.once('session', resolve))
  const sa = await settle(net, alice.ep.connect(path.address, { expectFingerprint: bob.ep.fingerprint }), 20_000)
  const sb = await settle(net, inbound, 5_000)
  return { sa, sb, connectMs: net.clock.now - started }
}

async function exchange (net: SimNetwork, from: Session, to: Session, text: string): Promise<string> {
  const got = new Promise<string>(resolve => to.once('data', d => { resolve(dec.decode(d)) }))
  from.send(enc.encode(text))
  return await settle(net, got, 5_000)
}

t.test('symmetric ↔ symmetric through a public relay: a session, data both ways', async t => {
  for (const fixed of [1, 2, 3]) {
    const w = await world(testSeed(t, fixed, 'simulated network'))
    const { sa, sb, connectMs } = await relayed(w)
    t.equal(sa.remoteFingerprint, w.bob.ep.fingerprint, 'authenticated end to end')
    t.equal(sa.remoteAddress.host, RELAY_HOST, "Alice's peer address is the relay's")
    t.equal(sb.remoteAddress.host, RELAY_HOST, "and Bob's")
    t.equal(await exchange(w.net, sa, sb, 'hi bob'), 'hi bob')
    t.equal(await exchange(w.net, sb, sa, 'hi alice'), 'hi alice')
    t.comment(JSON.stringify({ metric: 'relay-connect-sim-symmetric-ms', value: connectMs, unit: 'simulated ms', seed: fixed }))
    const bound = w.service.stats()
    t.equal(bound.dropped['unbound-source'], 0)
    t.ok(w.natA.mappings().length >= 2 && w.natB.mappings().length >= 1, 'the NATs mapped each destination anew (symmetric)')
  }
})

t.test('minutes of silence behind NATs that forget a mapping after 30 s: the path stays open', async t => {
  const w = await world(testSeed(t, 7, 'simulated network'))
  const { sa, sb } = await relayed(w)
  w.net.advance(180_000) // keepalives and BIND refreshes keep the mappings toward the relay alive
  t.equal(sa.closed, null)
  t.equal(await exchange(w.net, sa, sb, 'still there?'), 'still there?')
  t.equal(await exchange(w.net, sb, sa, 'yes'), 'yes')
  t.equal(w.service.stats().allocations, 1)
})

t.test("one side's socket moves mid-chat: it binds again and the conversation continues", async t => {
  const w = await world(testSeed(t, 9, 'simulated network'))
  const { sa, sb } = await relayed(w)
  const binds = w.service.stats().binds
  await w.alice.ep.rebind({ port: 7001 }) // a new internal port: the symmetric NAT maps it anew
  w.alice.client.refreshAll()
  await until(w.net, () => w.service.stats().binds > binds, 2_000) // one round trip and a challenge
  t.equal(await exchange(w.net, sa, sb, 'from my new address'), 'from my new address')
  t.equal(await exchange(w.net, sb, sa, 'got it'), 'got it', "Bob's answer reaches Alice's new mapping")
  t.ok(w.service.stats().binds >= 3, 'the relay re-bound Alice')
})

t.test('the socket moves and nobody tells the client: the next refresh recovers within 15 s', async t => {
  const w = await world(testSeed(t, 11, 'simulated network'))
  const { sa, sb } = await relayed(w)
  await w.bob.ep.rebind({ port: 7002 })
  let text: string | null = null
  sa.on('data', d => { text = dec.decode(d) })
  const started = w.net.clock.now
  let tries = 0
  await until(w.net, () => {
    if (text === null && (w.net.clock.now - started) % 1000 === 0) { tries++; sb.send(enc.encode('anyone?')) } // once a second, as a retransmitting sender would
    return text !== null
  }, 20_000)
  t.equal(text, 'anyone?')
  t.ok(w.net.clock.now - started <= 16_000, `recovered after ${w.net.clock.now - started} simulated ms (${tries} sends)`)
})
