// NAT boxes in the simulator, one RFC 4787 behaviour per test, each judged by what observers see:
// the source address a server outside sees, and which packets reach the host behind the NAT.
import t from 'tap'
import { createSimNetwork, NAT_PRESETS, type NatOptions, type SimNat, type SimNetwork } from '../../src/sim/index.js'
import { hostOf, portOf } from '../../src/io/address.js'

const HOST = '192.168.1.2:5000'
const EXT_IP = '203.0.113.1'
// two servers on one IP (ports 3478, 3479) and one on another
const S1 = '198.51.100.1:3478'
const S2 = '198.51.100.1:3479'
const S3 = '198.51.100.2:3478'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

interface World {
  net: SimNetwork
  nat: SimNat
  send: (to: string) => void
  /** what each server saw as the source of the host's packets */
  seenBy: Record<string, string[]>
  /** sources of the packets that reached the host */
  hostGot: string[]
  /** server `from` sends one packet to `to` */
  serverSend: (from: string, to: string) => void
}

function world (nat: Omit<NatOptions, 'externalIps'>, seed = 1): World {
  const net = createSimNetwork({ seed, latencyMs: { base: 10 } })
  const box = net.createNat({ externalIps: [EXT_IP], ...nat })
  const hostGot: string[] = []
  const host = box.bind(HOST, (_d, from) => hostGot.push(from))
  const seenBy: Record<string, string[]> = {}
  const servers = Object.fromEntries([S1, S2, S3].map(s => {
    seenBy[s] = []
    return [s, net.bind(s, (_d, from) => seenBy[s]!.push(from))]
  }))
  return {
    net,
    nat: box,
    send: to => { host.send(to, bytes('out')); net.run() },
    seenBy,
    hostGot,
    serverSend: (from, to) => { servers[from]!.send(to, bytes('in')); net.run() }
  }
}

t.test('§4.1 endpoint-independent mapping: every destination sees the same external address', async t => {
  const w = world({ mapping: 'endpoint-independent' })
  for (const s of [S1, S2, S3]) w.send(s)
  t.same([w.seenBy[S1], w.seenBy[S2], w.seenBy[S3]], [[`${EXT_IP}:5000`], [`${EXT_IP}:5000`], [`${EXT_IP}:5000`]],
    'one mapping, port preserved; the private address is never seen')
  t.equal(w.nat.stats.mappingsCreated, 1)
  t.equal(w.nat.stats.translations, 3)
})

t.test('§4.1 address-dependent mapping: a new mapping per destination IP', async t => {
  const w = world({ mapping: 'address-dependent' })
  for (const s of [S1, S2, S3]) w.send(s)
  const [a, b, c] = [w.seenBy[S1]![0], w.seenBy[S2]![0], w.seenBy[S3]![0]]
  t.equal(a, b, 'two ports of one IP see the same address')
  t.not(c, a, 'another IP sees another mapping')
  t.match(c, new RegExp(`^${EXT_IP}:\\d+$`))
  t.equal(w.nat.stats.mappingsCreated, 2)
})

t.test('§4.1 address-and-port-dependent mapping: a new mapping per destination ip:port', async t => {
  const w = world({ mapping: 'address-and-port-dependent' })
  for (const s of [S1, S2, S3]) w.send(s)
  w.send(S1)
  const seen = [w.seenBy[S1]![0], w.seenBy[S2]![0], w.seenBy[S3]![0]]
  t.equal(new Set(seen).size, 3, `three external addresses: ${seen.join(', ')}`)
  t.equal(w.seenBy[S1]![1], seen[0], 'a second packet to the same destination reuses its mapping')
  t.equal(w.nat.stats.mappingsCreated, 3)
})

t.test('§5 endpoint-independent filtering: anyone may send to the mapped address', async t => {
  const w = world({ filtering: 'endpoint-independent' })
  w.send(S1)
  w.serverSend(S3, `${EXT_IP}:5000`)
  t.same(w.hostGot, [S3], 'a server the host never contacted gets through, with its own address as source')
  t.equal(w.nat.stats.filtered, 0)
})

t.test('§5 address-dependent filtering: only IPs the host has sent to get through', async t => {
  const w = world({ filtering: 'address-dependent' })
  w.send(S1)
  w.serverSend(S2, `${EXT_IP}:5000`)
  w.serverSend(S3, `${EXT_IP}:5000`)
  t.same(w.hostGot, [S2], 'another port of a contacted IP passes; another IP does not')
  t.equal(w.nat.stats.filtered, 1)
  t.equal(w.net.stats.natDropped, 1)
})

t.test('§5 address-and-port-dependent filtering: only the exact ip:port the host has sent to', async t => {
  const w = world({ filtering: 'address-and-port-dependent' })
  w.send(S1)
  for (const s of [S1, S2, S3]) w.serverSend(s, `${EXT_IP}:5000`)
  t.same(w.hostGot, [S1])
  t.equal(w.nat.stats.filtered, 2)
  w.serverSend(S1, `${EXT_IP}:5001`)
  t.same(w.hostGot, [S1], 'a port with no mapping lets nothing in')
  t.equal(w.nat.stats.noMapping, 1)
})

t.test('§4.2.1 port preservation keeps the port and falls back when it is taken', async t => {
  const w = world({ portAssignment: 'preserve' })
  const second = w.nat.bind('192.168.1.3:5000')
  w.send(S1)
  second.send(S1, bytes('x'))
  w.net.run()
  const [first, other] = w.seenBy[S1]!
  t.equal(first, `${EXT_IP}:5000`, 'the first host keeps its port')
  t.not(other, first, 'the second host with the same port gets another')
  const port = portOf(other!) ?? 0
  t.ok(port >= 1024 && port <= 65535, `fallback port ${port} is in the range`)
})

t.test('§4.2.1 random ports (like --random-fully) and §4.2.2 parity, seeded', async t => {
  for (const portParity of [false, true]) {
    const seed = 4242
    t.comment(`seed ${seed}, parity ${String(portParity)}`)
    const net = createSimNetwork({ seed, latencyMs: { base: 1 } })
    const nat = net.createNat({ externalIps: [EXT_IP], portAssignment: 'random', portParity, portRange: [20000, 29999] })
    const seen: string[] = []
    net.bind(S1, (_d, from) => seen.push(from))
    for (let i = 0; i < 50; i++) nat.bind(`192.168.1.${10 + i}:${5000 + i}`).send(S1, bytes('x'))
    net.run()
    const ports = seen.map(a => portOf(a) ?? 0)
    t.equal(new Set(ports).size, 50, 'every mapping has its own port (no port overloading)')
    t.ok(ports.every(p => p >= 20000 && p <= 29999), 'all in the configured range')
    const preserved = ports.filter((p, i) => p === 5000 + i).length
    t.equal(preserved, 0, 'no internal port kept')
    const sameParity = ports.filter((p, i) => (p & 1) === ((5000 + i) & 1)).length
    if (portParity) t.equal(sameParity, 50, 'parity kept for all')
    else t.ok(sameParity > 10 && sameParity < 40, `parity kept only by chance (${sameParity}/50)`)
  }
})

t.test('random ports replay with the seed', async t => {
  const ports = (seed: number): string[] => {
    const w = world(NAT_PRESETS.symmetric, seed)
    for (const s of [S1, S2, S3]) w.send(s)
    return [S1, S2, S3].map(s => w.seenBy[s]![0]!)
  }
  t.same(ports(7), ports(7))
  t.notSame(ports(7), ports(8))
})

t.test('a full port range drops further mappings and counts them', async t => {
  const net = createSimNetwork({ seed: 3 })
  const nat = net.createNat({ externalIps: [EXT_IP], portAssignment: 'random', portRange: [40000, 40001] })
  const seen: string[] = []
  net.bind(S1, (_d, from) => seen.push(from))
  for (let i = 0; i < 3; i++) nat.bind(`192.168.1.${10 + i}:5000`).send(S1, bytes('x'))
  net.run()
  t.same([...seen].sort(), [`${EXT_IP}:40000`, `${EXT_IP}:40001`])
  t.equal(nat.stats.portsExhausted, 1)
  t.equal(net.stats.natDropped, 1)
})

t.test('§4.1 IP address pooling: paired keeps one external IP per host, arbitrary spreads them', async t => {
  for (const pooling of ['paired', 'arbitrary'] as const) {
    const seed = 21
    t.comment(`seed ${seed}, ${pooling}`)
    const net = createSimNetwork({ seed })
    const ips = ['203.0.113.1', '203.0.113.2', '203.0.113.3']
    const nat = net.createNat({ externalIps: ips, ...NAT_PRESETS.symmetric, pooling })
    const seen: string[] = []
    const host = nat.bind(HOST)
    for (let i = 0; i < 12; i++) {
      const server = `198.51.100.${i + 1}:3478`
      net.bind(server, (_d, from) => seen.push(from))
      host.send(server, bytes('x'))
    }
    net.run()
    const used = new Set(seen.map(a => hostOf(a)))
    if (pooling === 'paired') t.equal(used.size, 1, `12 mappings, one external IP (${[...used].join(', ')})`)
    else t.equal(used.size, 3, '12 mappings over all three external IPs')
  }
})

t.test('§4.3 the port of an expired mapping is free for the next host', async t => {
  const w = world({ ...NAT_PRESETS.portRestrictedCone, mappingTimeoutMs: 30_000 })
  const second = w.nat.bind('192.168.1.3:5000')
  w.send(S1)
  w.net.clock.schedule(40_000, () => second.send(S1, bytes('x')))
  w.net.run()
  t.same(w.seenBy[S1], [`${EXT_IP}:5000`, `${EXT_IP}:5000`], 'the second host gets the port the first one held')
  t.equal(w.nat.stats.mappingsExpired, 1)
  w.serverSend(S1, `${EXT_IP}:5000`)
  t.same(w.hostGot, [], 'and the first host no longer receives on it')
})

t.test('§4.3 a mapping expires after its idle time; outbound packets refresh it', async t => {
  const w = world({ ...NAT_PRESETS.portRestrictedCone, mappingTimeoutMs: 30_000 })
  const at = (ms: number, fn: () => void): void => { w.net.clock.schedule(ms, fn); w.net.run({ until: ms }) }
  w.send(S1) // t ≈ 10 ms
  at(20_000, () => w.serverSend(S1, `${EXT_IP}:5000`))
  t.equal(w.hostGot.length, 1, 'inside the idle time the reply gets through')
  at(25_000, () => w.send(S1)) // refresh
  at(50_000, () => w.serverSend(S1, `${EXT_IP}:5000`))
  t.equal(w.hostGot.length, 2, '25 s after the refresh: still mapped')
  at(56_000, () => w.serverSend(S1, `${EXT_IP}:5000`))
  t.equal(w.hostGot.length, 2, '31 s after the last outbound packet: dropped')
  t.equal(w.nat.stats.noMapping, 1)
  t.equal(w.nat.stats.mappingsExpired, 1)
  t.same(w.nat.mappings(), [])
})

t.test('§4.3 inbound refresh keeps a mapping alive only when enabled', async t => {
  for (const inboundRefresh of [false, true]) {
    const w = world({ ...NAT_PRESETS.fullCone, mappingTimeoutMs: 30_000, inboundRefresh })
    const at = (ms: number, fn: () => void): void => { w.net.clock.schedule(ms, fn); w.net.run({ until: ms }) }
    w.send(S1)
    at(20_000, () => w.serverSend(S1, `${EXT_IP}:5000`))
    at(40_000, () => w.serverSend(S1, `${EXT_IP}:5000`))
    t.equal(w.hostGot.length, inboundRefresh ? 2 : 1, `inboundRefresh ${String(inboundRefresh)}`)
  }
})

t.test('§4.3 after expiry a new mapping is made (with random ports, on another port)', async t => {
  const w = world({ ...NAT_PRESETS.symmetric, mappingTimeoutMs: 30_000 }, 11)
  w.send(S1)
  w.net.clock.schedule(60_000, () => w.send(S1))
  w.net.run()
  const [before, after] = w.seenBy[S1]!
  t.not(after, before, `${before} then ${after}`)
  t.equal(w.nat.stats.mappingsCreated, 2)
  t.equal(w.nat.stats.mappingsExpired, 1)
})

t.test('hosts in one realm talk directly; a private address of another realm is unroutable', async t => {
  const w = world(NAT_PRESETS.portRestrictedCone)
  const got: string[] = []
  w.nat.bind('192.168.1.3:6000', (_d, from) => got.push(from))
  w.send('192.168.1.3:6000')
  t.same(got, [HOST], 'the private source, untranslated')
  t.equal(w.nat.stats.translations, 0)

  const otherNat = w.net.createNat({ externalIps: ['203.0.113.2'] })
  const elsewhere: string[] = []
  otherNat.bind('192.168.1.4:7000', (_d, from) => elsewhere.push(from))
  w.send('192.168.1.4:7000')
  w.send('not an address')
  t.same(elsewhere, [], 'the same private subnet behind another NAT is out of reach')
  t.equal(w.net.stats.unroutable, 2)
})

t.test('§6 hairpinning on: the peer sees the external address as the source', async t => {
  const w = world({ ...NAT_PRESETS.fullCone, hairpinning: true })
  const got: string[] = []
  const peer = w.nat.bind('192.168.1.3:6000', (_d, from) => got.push(from))
  peer.send(S1, bytes('x')) // the peer's mapping: EXT_IP:6000
  w.send(`${EXT_IP}:6000`)
  t.same(got, [`${EXT_IP}:5000`], "the sender's external address, not its private one")
  t.equal(w.nat.stats.hairpinned, 1)
  w.send(`${EXT_IP}:5000`)
  t.same(w.hostGot, [`${EXT_IP}:5000`], 'a host can reach itself through its own mapping')
})

t.test('§6 hairpinning on still filters like an inbound packet', async t => {
  const w = world({ ...NAT_PRESETS.portRestrictedCone, hairpinning: true })
  const got: string[] = []
  const peer = w.nat.bind('192.168.1.3:6000', (_d, from) => got.push(from))
  peer.send(S1, bytes('x'))
  w.net.run()
  w.send(`${EXT_IP}:6000`)
  t.same(got, [], 'the peer never sent to EXT_IP:5000, so its filter drops it')
  t.equal(w.nat.stats.filtered, 1)
  peer.send(`${EXT_IP}:5000`, bytes('x'))
  w.net.run()
  w.send(`${EXT_IP}:6000`)
  t.same(got, [`${EXT_IP}:5000`], 'after the peer sent to it, it passes')
})

t.test('§6 hairpinning off: packets to the own external address are dropped', async t => {
  const w = world({ ...NAT_PRESETS.fullCone, hairpinning: false })
  const got: string[] = []
  const peer = w.nat.bind('192.168.1.3:6000', (_d, from) => got.push(from))
  peer.send(S1, bytes('x'))
  w.send(`${EXT_IP}:6000`)
  t.same(got, [])
  t.equal(w.nat.stats.hairpinDrops, 1)
  t.equal(w.net.stats.natDropped, 1)
})

t.test('double NAT: a host behind a home NAT behind carrier-grade NAT', async t => {
  const net = createSimNetwork({ seed: 9, latencyMs: { base: 10 } })
  const cgn = net.createNat({ externalIps: ['203.0.113.50'], ...NAT_PRESETS.fullCone, portAssignment: 'random' })
  const homes = ['100.64.0.2', '100.64.0.3'].map(ip => cgn.createNat({ externalIps: [ip], ...NAT_PRESETS.fullCone }))
  const got: string[][] = [[], []]
  // both homes use the same private address
  const hosts = homes.map((home, i) => home.bind('192.168.1.2:5000', (_d, from) => got[i]!.push(from)))
  const seen: string[] = []
  const server = net.bind(S1, (_d, from) => seen.push(from))
  for (const h of hosts) h.send(S1, bytes('x'))
  net.run()
  t.equal(seen.length, 2)
  t.ok(seen.every(a => a.startsWith('203.0.113.50:')), `the server sees only the CGN's address: ${seen.join(', ')}`)
  t.not(seen[0], seen[1])
  server.send(seen[0]!, bytes('reply'))
  net.run()
  t.same(got, [[S1], []], 'the reply comes down through both NATs to the right host')
  t.same([homes[0]!.stats.translations, cgn.stats.translations], [2, 3], 'one packet out and one in at the home NAT; two out, one in at the CGN')

  // Homes behind one CGN: by their CGN-realm addresses directly, by the public ones via hairpinning.
  const inner = homes[1]!.mappings()[0]!.external
  hosts[0]!.send(inner, bytes('x'))
  hosts[0]!.send(seen[1]!, bytes('x'))
  net.run()
  t.same(got[1], [homes[0]!.mappings()[0]!.external, seen[0]], 'the CGN-realm address, then the public one hairpinned at the CGN')
  t.equal(cgn.stats.hairpinned, 1)
})

t.test('misuse throws; the public realm keeps its old rules', async t => {
  const net = createSimNetwork({ seed: 1 })
  const nat = net.createNat({ externalIps: [EXT_IP] })
  t.throws(() => nat.bind('192.168.1.2'), { code: 'BAD_ARGUMENT' }, 'an address behind a NAT needs a port')
  t.throws(() => net.bind(`${EXT_IP}:80`), { code: 'BAD_ARGUMENT' }, "a NAT's external IP is not for endpoints")
  t.throws(() => net.createNat({ externalIps: [EXT_IP] }), { code: 'BAD_ARGUMENT' }, 'two NATs on one IP')
  t.throws(() => net.createNat({ externalIps: ['198.51.100.9'], mapping: 'sideways' as never }), { code: 'BAD_ARGUMENT' })
  t.throws(() => net.createNat({ externalIps: ['198.51.100.9'], mappingTimeoutMs: 0 }), { code: 'BAD_ARGUMENT' })
  const other = createSimNetwork({ seed: 1 }).createNat({ externalIps: [EXT_IP] })
  t.throws(() => net.bind('192.168.1.2:1', null, { realm: other }), { code: 'BAD_ARGUMENT' })
  nat.bind('192.168.1.2:1')
  t.doesNotThrow(() => net.bind('192.168.1.2:1'), 'the same private address is free in the public realm')
  t.doesNotThrow(() => net.bind('a'), 'bare names still work there')
  const silent = nat.bind('192.168.1.9:9')
  silent.onDatagram = null
  nat.bind('192.168.1.8:8').send('192.168.1.9:9', bytes('x'))
  net.run()
  t.equal(net.stats.unroutable, 1, 'an endpoint without a handler behind a NAT counts as unroutable, as in public')
})

t.test('a port forward (what PCP MAP asks for): anyone gets in, every packet out leaves by it, until it is removed', async t => {
  const w = world(NAT_PRESETS.symmetric)
  const ext = w.nat.forward(HOST, 4444)
  t.equal(ext, `${EXT_IP}:4444`, 'the port asked for')
  t.equal(w.nat.forward(HOST, 5555), ext, 'asked again: the same forward')
  w.serverSend(S1, ext!)
  w.serverSend(S3, ext!)
  t.same(w.hostGot, [S1, S3], 'unsolicited packets from anyone reach the host')
  w.send(S2)
  w.send(S3)
  t.same([w.seenBy[S2], w.seenBy[S3]], [[ext], [ext]], 'a symmetric NAT still sends the forwarded endpoint\'s packets from the forwarded port')
  w.net.clock.advance(10 * 60_000)
  w.serverSend(S1, ext!)
  t.equal(w.hostGot.length, 3, 'a forward does not idle out')
  t.ok(w.nat.unforward(HOST))
  w.serverSend(S1, ext!)
  t.equal(w.hostGot.length, 3, 'removed: nothing gets in')
  t.equal(w.nat.stats.noMapping, 1)
})
