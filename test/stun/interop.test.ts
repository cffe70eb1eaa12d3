// Our STUN server, as the node runs it (the Endpoint's 'stun' hook, src/node/nat.ts), read by two
// independent clients over real loopback UDP: the `stun` npm package (RFC 5389, reads
// XOR-MAPPED-ADDRESS) and node-stun's message codec (RFC 3489, reads MAPPED-ADDRESS; its client
// needs CHANGED-ADDRESS from a two-address server, so we drive its codec over a
// dgram-as-promised socket). And the node wiring end to end: a node with serve 'when-public' stays
// silent until its own probe of two nodes at other loopback IPs finds it 'open', then answers.
// proto-spec/stun.md §3, §6.
import t, { type Test } from 'tap'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import DgramAsPromised from 'dgram-as-promised'
import { pino } from 'pino'
import { Endpoint } from '../../src/transport/endpoint.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { realWorld } from '../../src/io/world.js'
import { NatComponent, type StunServeMode } from '../../src/node/nat.js'
import type { PeerAddress } from '../../src/io/address.js'

const require = createRequire(import.meta.url)
interface StunPkgResponse { getXorAddress: () => { address: string, port: number } | undefined, getAddress: () => unknown }
const stunPkg = require('stun') as { request: (url: string, opts: Record<string, unknown>) => Promise<StunPkgResponse> }
interface LegacyMessage {
  init: () => void
  setType: (t: string) => void
  setTransactionId: (b: Buffer) => void
  getTransactionId: () => Buffer
  getType: () => string
  serialize: () => Buffer
  deserialize: (b: Buffer) => void
  getAttribute: (name: string) => { addr: string, port: number } | undefined
}
const LegacyMessageClass = require('node-stun/lib/message.js') as new () => LegacyMessage

interface Served { ep: Endpoint, nat: NatComponent, address: PeerAddress }

async function node (t: Test, host: string, serve: StunServeMode, servers: PeerAddress[] = []): Promise<Served> {
  const world = realWorld()
  const ep = await Endpoint.listen({ host, port: 0, identity: generateIdentity(), scheduler: world.scheduler, sockets: world.sockets })
  const nat = new NatComponent({ endpoint: () => ep, world, log: pino({ level: 'silent' }), candidates: () => [], servers, serve, changeCheckMs: 60_000 })
  await nat.start()
  t.teardown(async () => { await nat.stop(); await ep.close() })
  return { ep, nat, address: ep.address }
}

t.test('the `stun` package (RFC 5389 client) reads the address our server reports', async t => {
  const s = await node(t, '127.0.0.1', 'always')
  const sock = DgramAsPromised.createSocket('udp4')
  const bound = await sock.bind(0, '127.0.0.1')
  t.teardown(async () => { await sock.close() })
  const res = await stunPkg.request(`127.0.0.1:${s.address.port}`, { socket: sock.socket, timeout: 200, retries: 3 })
  t.same(res.getXorAddress(), { address: '127.0.0.1', port: bound.port, family: 'IPv4' }, 'XOR-MAPPED-ADDRESS is the client socket')
  t.equal(s.nat.service?.server.stats.answered, 1)
})

t.test('node-stun (RFC 3489 codec, no magic cookie) reads MAPPED-ADDRESS from our server', async t => {
  const s = await node(t, '127.0.0.1', 'always')
  const sock = DgramAsPromised.createSocket('udp4')
  const bound = await sock.bind(0, '127.0.0.1')
  t.teardown(async () => { await sock.close() })
  sock.setTimeout(3000)
  const req = new LegacyMessageClass()
  req.init()
  req.setType('breq')
  req.setTransactionId(randomBytes(16))
  const bytes = req.serialize()
  t.not(bytes.readUInt32BE(4), 0x2112a442, 'a classic request: no magic cookie (well, almost never)')
  let answer: { msg: Buffer } | undefined
  for (let i = 0; i < 3 && answer === undefined; i++) { // UDP: a few tries, each waiting for an answer
    await sock.send(bytes, 0, bytes.length, s.address.port, '127.0.0.1')
    answer = await sock.recv().catch(() => undefined)
  }
  t.ok(answer, 'our server answered')
  const res = new LegacyMessageClass()
  res.deserialize(answer!.msg)
  t.equal(res.getType(), 'bres', 'a Binding response')
  t.ok(res.getTransactionId().equals(req.getTransactionId()), 'to that transaction')
  t.same(res.getAttribute('mappedAddr'), { family: 'ipv4', addr: '127.0.0.1', port: bound.port }, 'MAPPED-ADDRESS is the client socket')
})

t.test("a node answers STUN only once its own probe finds it publicly reachable ('when-public')", async t => {
  const a = await node(t, '127.0.0.2', 'always')
  const b = await node(t, '127.0.0.3', 'always')
  const c = await node(t, '127.0.0.1', 'when-public', [a.address, b.address])
  const sock = DgramAsPromised.createSocket('udp4')
  await sock.bind(0, '127.0.0.1')
  t.teardown(async () => { await sock.close() })
  const state = await c.nat.probe()
  t.equal(state.natKind, 'open', 'two servers at other IPs saw our own address and port')
  t.same(state.reflexive, [`127.0.0.1:${c.address.port}`])
  t.equal(c.nat.publiclyReachable(), true)
  t.equal(c.nat.serving(), true)
  const res = await stunPkg.request(`127.0.0.1:${c.address.port}`, { socket: sock.socket, timeout: 200, retries: 3 })
  t.equal(res.getXorAddress()?.address, '127.0.0.1', 'now it answers')
  t.equal(a.nat.service?.server.stats.answered, 1)
  t.equal(b.nat.service?.server.stats.answered, 1)

  const d = await node(t, '127.0.0.1', 'when-public', []) // no servers: its kind stays unknown
  await d.nat.probe()
  t.equal(d.nat.natKind(), 'unknown')
  const silent = await stunPkg.request(`127.0.0.1:${d.address.port}`, { socket: sock.socket, timeout: 100, retries: 1 }).then(() => 'answered', () => 'no answer')
  t.equal(silent, 'no answer', 'a node that does not know itself public stays silent')
  t.equal(d.nat.service?.drops['not-serving'], 2, 'and counts what it left unanswered')
})
