// The real Endpoint over src/sim (session.md §7–§8): a seeded lossy network and a simulated
// clock drive handshake retransmission, rekeying over ten minutes of traffic, idle timeouts,
// aborts, endpoint close and listener errors, in milliseconds of real time.
import t from 'tap'
import { createSimNetwork, createRng, type SimNetwork } from '../../src/sim/index.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { SimTransport, simScheduler } from '../../src/sim/io.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType } from '../../src/wire/constants.js'
import { IDLE_TIMEOUT_MS } from '../../src/transport/constants.js'

const enc = new TextEncoder()

async function node (net: SimNetwork, host: string): Promise<{ ep: Endpoint, transport: SimTransport }> {
  const transport = new SimTransport(net, { host, port: 7000 })
  const rng = createRng(host.length + host.charCodeAt(host.length - 1)) // seeded: runs replay exactly
  const ep = await Endpoint.listen({ identity: generateIdentity(), transport, scheduler: simScheduler(net.clock), random: n => rng.bytes(n) })
  return { ep, transport }
}

/** Run the simulation until `p` settles (or `ms` of simulated time pass), then await it. */
async function settle<T> (net: SimNetwork, p: Promise<T>, ms: number): Promise<T> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < ms / 100 && !done; i++) {
    net.advance(100)
    await new Promise(resolve => setImmediate(resolve)) // let promise callbacks run between slices
  }
  return await p
}

t.test('handshakes over a 20%-loss link complete through retransmissions', async t => {
  const net = createSimNetwork({ seed: 11, loss: 0.2, latencyMs: { base: 30, jitter: 20 } })
  const a = await node(net, '10.0.0.1')
  const b = await node(net, '10.0.0.2')
  let initiations = 0
  const send = a.transport.send.bind(a.transport)
  a.transport.send = (to, bytes) => { if (bytes[1] === PacketType.HANDSHAKE_INITIATION) initiations++; send(to, bytes) }
  const results: Session[] = []
  for (let i = 0; i < 10; i++) {
    const s = await settle(net, a.ep.connect(b.ep.address, { expectFingerprint: b.ep.fingerprint }), 40_000)
    results.push(s)
    s.close()
    net.advance(1000)
  }
  t.equal(results.length, 10)
  t.ok(results.every(s => s.remoteFingerprint === b.ep.fingerprint))
  t.ok(initiations > 10, `${initiations} initiations for 10 handshakes: some were retransmitted`)
})

t.test('ten minutes of traffic: rekeys every ~2 minutes, no session loss', async t => {
  const net = createSimNetwork({ seed: 5, loss: 0.05, latencyMs: { base: 20, jitter: 10 } })
  const a = await node(net, '10.0.0.1')
  const b = await node(net, '10.0.0.2')
  let sb: Session | null = null
  b.ep.on('session', s => { sb = s })
  const sa = await settle(net, a.ep.connect(b.ep.address, { expectFingerprint: b.ep.fingerprint }), 40_000)
  let rekeys = 0
  let delivered = 0
  sa.on('rekey', () => { rekeys++ })
  net.advance(100)
  t.ok(sb !== null)
  ;(sb as unknown as Session).on('data', () => { delivered++ })
  let sent = 0
  for (let sec = 0; sec < 600; sec++) {
    if (sa.send(enc.encode(`tick ${sec}`))) sent++
    net.advance(1000)
  }
  t.ok(rekeys >= 4, `${rekeys} rekeys in 10 minutes`)
  t.ok(sent >= 595, `${sent}/600 sends had usable keys`)
  t.ok(delivered >= sent * 0.9, `${delivered}/${sent} delivered over a 5%-loss link`)
  t.equal(sa.closed, null)
  t.equal(a.ep.stats().sessions, 1, 'still one session per peer')
  t.equal(a.ep.stats().dropped.expired, 0)
})

t.test('a link that goes down: both sides close with timeout after IDLE_TIMEOUT_MS', async t => {
  const net = createSimNetwork({ seed: 3, latencyMs: { base: 10 } })
  const a = await node(net, '10.0.0.1')
  const b = await node(net, '10.0.0.2')
  const inbound: Session[] = []
  b.ep.on('session', s => inbound.push(s))
  const sa = await settle(net, a.ep.connect(b.ep.address, { expectFingerprint: b.ep.fingerprint }), 5000)
  net.advance(100)
  const reasons: string[] = []
  sa.on('close', r => reasons.push(`a:${r}`))
  inbound[0]!.on('close', r => reasons.push(`b:${r}`))
  net.advance(5 * 60_000)
  t.same(reasons, [], 'keepalives hold an idle session open')
  net.setLink('10.0.0.1:7000', '10.0.0.2:7000', { down: true })
  net.setLink('10.0.0.2:7000', '10.0.0.1:7000', { down: true })
  net.advance(IDLE_TIMEOUT_MS - 5000)
  t.same(reasons, [])
  net.advance(20_000)
  t.same(reasons.sort(), ['a:timeout', 'b:timeout'])
})

t.test('abort, endpoint close, and a throwing listener', async t => {
  const net = createSimNetwork({ seed: 9, latencyMs: { base: 10 } })
  const a = await node(net, '10.0.0.1')
  const b = await node(net, '10.0.0.2')
  const ctl = new AbortController()
  const silent = a.ep.connect({ host: '10.0.0.99', port: 1 }, { signal: ctl.signal })
  net.advance(2000)
  ctl.abort()
  await t.rejects(silent, { code: 'ABORTED' })
  t.equal(a.ep.stats().dials, 0)
  await t.rejects(a.ep.connect({ host: '10.0.0.99', port: 1 }, { signal: ctl.signal }), { code: 'ABORTED' })

  const errs: unknown[] = []
  b.ep.on('error', e => errs.push(e))
  const seen: string[] = []
  b.ep.on('session', s => {
    s.on('data', d => {
      seen.push(new TextDecoder().decode(d))
      if (seen.length === 1) throw new Error('listener bug')
    })
  })
  const sa = await settle(net, a.ep.connect(b.ep.address, { expectFingerprint: b.ep.fingerprint }), 5000)
  sa.send(enc.encode('one'))
  sa.send(enc.encode('two'))
  net.advance(100)
  t.same(seen, ['one', 'two'], 'a throwing listener does not stop delivery')
  t.equal(errs.length, 1)
  t.equal(b.ep.stats().listenerErrors, 1)

  const pending = a.ep.connect({ host: '10.0.0.98', port: 1 })
  const closedB: string[] = []
  b.ep.sessions()[0]!.on('close', r => closedB.push(r))
  const closing = a.ep.close()
  await t.rejects(pending, { code: 'ENDPOINT_CLOSED' })
  await closing
  net.advance(100)
  t.same(closedB, ['peer'], 'the peer got an authenticated CLOSE')
  t.equal(sa.closed, 'endpoint-closed')
  await t.rejects(a.ep.connect(b.ep.address), { code: 'ENDPOINT_CLOSED' })
  t.notOk(sa.send(enc.encode('x')))
})
