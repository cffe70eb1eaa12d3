// An Endpoint's side sockets (proto-spec/traversal.md §6.4) over src/sim: before it carries a peer
// a side socket lets in only traversal datagrams (handed to the hook with the socket they came
// on); once it carries a peer, the session with that peer runs through it both ways — the peer
// sees our side port, not our main one — and when the session is gone the Endpoint closes it.
import t from 'tap'
import { createSimNetwork, createRng, type SimNetwork } from '../../src/sim/index.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import type { SideSocket } from '../../src/transport/endpoint.js'
import { simScheduler, simSockets } from '../../src/sim/io.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { encodeTraversal } from '../../src/traversal/messages.js'
import { TraversalType } from '../../src/traversal/constants.js'
import { SIDE_GRACE_MS, SIDE_SOCKETS_MAX, SIDE_SWEEP_MS } from '../../src/transport/side-sockets.js'
import type { PeerAddress } from '../../src/io/address.js'

const enc = new TextEncoder()

async function node (net: SimNetwork, host: string): Promise<Endpoint> {
  const rng = createRng(host.charCodeAt(host.length - 1))
  return await Endpoint.listen({ identity: generateIdentity(), host, port: 7000, sockets: simSockets(net, host), scheduler: simScheduler(net.clock), random: n => rng.bytes(n) })
}

async function settle<T> (net: SimNetwork, p: Promise<T>, ms: number): Promise<T> {
  let done = false
  p.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < ms / 100 && !done; i++) {
    net.advance(100)
    await new Promise(resolve => setImmediate(resolve))
  }
  return await p
}

const probe = encodeTraversal({ type: TraversalType.PROBE, punchId: new Uint8Array(16).fill(1), round: 0, answerer: false })

t.test('a side socket carries a session, then closes when it is over', async t => {
  const net = createSimNetwork({ seed: 3, latencyMs: { base: 10 } })
  const a = await node(net, '10.0.0.1')
  const b = await node(net, '10.0.0.2')
  t.teardown(async () => { await a.close(); await b.close() })
  const heard: Array<{ from: PeerAddress, via: SideSocket | undefined }> = []
  b.setHandler('traversal', (_bytes, from, via) => { heard.push({ from, via }) })
  const side = await b.openSideSocket()
  t.not(side.local.port, b.address.port, 'another port')
  t.equal(b.stats().sideSockets.open, 1)

  // not carrying yet: a probe gets in, a handshake does not
  a.sendDatagram(side.local, probe)
  net.advance(50)
  t.equal(heard.length, 1, 'the probe reached the traversal hook')
  t.equal(heard[0]!.via, side, 'with the side socket it came on')
  t.equal(heard[0]!.from.port, a.address.port)
  const ac = new AbortController()
  const refused = a.connect(side.local, { expectFingerprint: b.fingerprint, signal: ac.signal })
  net.advance(2000)
  t.equal(b.stats().sessions, 0, 'no session through a side socket that carries nobody')
  ac.abort()
  await t.rejects(refused, { code: 'ABORTED' })
  t.ok(b.stats().sideSockets.refused > 0, `refused and counted (${b.stats().sideSockets.refused})`)

  // carrying A: the session runs through it
  side.carry(a.address)
  let sb: Session | null = null
  b.on('session', s => { sb = s })
  const sa = await settle(net, a.connect(side.local, { expectFingerprint: b.fingerprint }), 10_000)
  t.ok(sb !== null, 'B has the session')
  t.equal(sa.remoteAddress.port, side.local.port, 'A talks to B\'s side port')
  const got: string[] = []
  sa.on('data', d => { got.push(new TextDecoder().decode(d)) })
  sb!.send(enc.encode('from the side socket'))
  net.advance(100)
  t.same(got, ['from the side socket'], 'B\'s packets leave through the side socket (A would drop others: another address)')
  t.equal(sa.remoteAddress.port, side.local.port, 'no roam to B\'s main port')
  t.equal(b.stats().sideSockets.carrying, 1)
  net.advance(SIDE_GRACE_MS + SIDE_SWEEP_MS)
  t.equal(b.stats().sideSockets.open, 1, 'kept while the session lasts')

  // the session ends: the Endpoint lets the side socket go
  sa.close()
  net.advance(SIDE_GRACE_MS + 2 * SIDE_SWEEP_MS)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(b.stats().sideSockets.open, 0, 'closed once no session is left')
  t.equal(b.stats().sideSockets.carrying, 0)
})

t.test('side sockets: a carried peer with no session is let go after the grace period; closing them; the bound', async t => {
  const net = createSimNetwork({ seed: 4, latencyMs: { base: 10 } })
  const b = await node(net, '10.0.0.2')
  const s1 = await b.openSideSocket()
  const s2 = await b.openSideSocket()
  s1.carry({ host: '10.0.0.9', port: 1 })
  s2.carry({ host: '10.0.0.9', port: 1 }) // the same peer moves to s2: s1 carries nobody and closes
  await new Promise(resolve => setImmediate(resolve))
  t.equal(b.stats().sideSockets.open, 1)
  net.advance(SIDE_GRACE_MS + SIDE_SWEEP_MS)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(b.stats().sideSockets.open, 0, 'no handshake came within the grace period: closed')
  const opened = await Promise.all(Array.from({ length: SIDE_SOCKETS_MAX }, async () => await b.openSideSocket()))
  await t.rejects(b.openSideSocket(), { code: 'BAD_ARGUMENT' }, `at most ${SIDE_SOCKETS_MAX} at once`)
  await opened[0]!.close()
  opened[0]!.send({ host: '10.0.0.9', port: 1 }, probe) // a closed socket sends nothing, throws nothing
  t.equal(b.stats().sideSockets.open, SIDE_SOCKETS_MAX - 1)
  await b.close()
  t.equal(b.stats().sideSockets.open, 0, 'the Endpoint closes every side socket with itself')
  await t.rejects(b.openSideSocket(), { code: 'ENDPOINT_CLOSED' })
})
