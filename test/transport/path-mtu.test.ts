// The ceiling of path MTU discovery (path-mtu.ts, reliable.md §15): on-link peers get their
// link's MTU minus IP and UDP headers, everyone else null. Then a real ReliableSession pair on
// 127.0.0.1 finds the loopback ceiling and moves a 1 MiB message in a few dozen datagrams.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import type { NetworkInterfaceInfo } from 'node:os'
import { onLinkUdpPayloadCeiling, osLinkFacts, cachedLinkFacts, LINK_FACTS_TTL_MS, type LinkFacts } from '../../src/transport/path-mtu.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession, type ReliableSessionOptions } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { MAX_TRANSPORT_DATAGRAM_BYTES, TRANSPORT_DATA_MIN_BYTES } from '../../src/wire/constants.js'

const v4 = (address: string, cidr: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr })
const v6 = (address: string, cidr: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal, cidr, scopeid: 0 })

const facts: LinkFacts = {
  interfaces: () => ({
    lo: [v4('127.0.0.1', '127.0.0.1/8', true), v6('::1', '::1/128', true)],
    eth0: [v4('192.168.1.20', '192.168.1.20/24'), v6('fd00::20', 'fd00::20/64'), v6('fe80::1', 'fe80::1/64')],
    jumbo0: [v4('10.9.0.2', '10.9.0.2/16')],
    odd0: [v4('172.16.5.1', '172.16.5.1/24')]
  }),
  mtu: name => ({ lo: 65_536, eth0: 1500, jumbo0: 9000 } as Record<string, number>)[name] ?? null
}

t.test('on-link peers get the link MTU minus IP and UDP headers', async t => {
  t.equal(onLinkUdpPayloadCeiling('127.0.0.1', facts), MAX_TRANSPORT_DATAGRAM_BYTES, 'loopback: 65,536 − 28, capped at 65,507')
  t.equal(onLinkUdpPayloadCeiling('127.5.6.7', facts), MAX_TRANSPORT_DATAGRAM_BYTES, 'all of 127/8')
  t.equal(onLinkUdpPayloadCeiling('::1', facts), 65_536 - 48)
  t.equal(onLinkUdpPayloadCeiling('0:0:0:0:0:0:0:1', facts), 65_536 - 48, '::1 however it is spelled')
  t.equal(onLinkUdpPayloadCeiling('192.168.1.77', facts), 1472, 'Ethernet, IPv4')
  t.equal(onLinkUdpPayloadCeiling('::ffff:192.168.1.77', facts), 1472, 'IPv4-mapped')
  t.equal(onLinkUdpPayloadCeiling('fd00::99', facts), 1452, 'Ethernet, IPv6')
  t.equal(onLinkUdpPayloadCeiling('fe80::77%eth0', facts), 1452, 'link-local with a zone id')
  t.equal(onLinkUdpPayloadCeiling('10.9.200.1', facts), 8972, 'jumbo frames')
})

t.test('off-link or unknown: null (stay at the base size)', async t => {
  t.equal(onLinkUdpPayloadCeiling('8.8.8.8', facts), null, 'behind a router: fragmentation could fake a confirmation')
  t.equal(onLinkUdpPayloadCeiling('2001:db8::1', facts), null)
  t.equal(onLinkUdpPayloadCeiling('172.16.5.9', facts), null, 'the link MTU is unknown')
  t.equal(onLinkUdpPayloadCeiling('example.org', facts), null, 'not an address')
  t.equal(osLinkFacts.mtu('../../etc/passwd'), null, 'an interface name never becomes a path')
  t.equal(osLinkFacts.mtu('no-such-if0'), null)
})

t.test('interface facts are read once per TTL, not once per session', async t => {
  let clock = 0
  let reads = 0
  let mtuReads = 0
  let eth0Mtu = 1500
  const counting: LinkFacts = {
    interfaces: () => { reads++; return facts.interfaces() },
    mtu: name => { mtuReads++; return name === 'eth0' ? eth0Mtu : facts.mtu(name) }
  }
  const cached = cachedLinkFacts(counting, LINK_FACTS_TTL_MS, () => clock)
  for (let i = 0; i < 100; i++) t.equal(onLinkUdpPayloadCeiling('192.168.1.77', cached), 1472)
  t.equal(reads, 1, '100 sessions, one read of the interfaces')
  t.equal(mtuReads, 1, 'and of the MTU')
  eth0Mtu = 9000
  clock += LINK_FACTS_TTL_MS - 1
  t.equal(onLinkUdpPayloadCeiling('192.168.1.77', cached), 1472, 'a change is not seen before the TTL')
  clock += 1
  t.equal(onLinkUdpPayloadCeiling('192.168.1.77', cached), 8972, 'and is seen once it passed')
  t.equal(reads, 2)
})

let loMtu: number | null = null
try { loMtu = Number.parseInt(readFileSync('/sys/class/net/lo/mtu', 'utf8'), 10) } catch { loMtu = null }

async function pair (t: Test, opts: ReliableSessionOptions = {}): Promise<{ a: ReliableSession, b: ReliableSession }> {
  const ea = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const eb = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  t.teardown(async () => { await ea.close(); await eb.close() })
  const inbound = new Promise<Session>(resolve => eb.once('session', resolve))
  const sa = await ea.connect(eb.address, { expectFingerprint: eb.fingerprint })
  return { a: new ReliableSession(sa, opts), b: new ReliableSession(await inbound, opts) }
}

async function sendBig (t: Test, a: ReliableSession, b: ReliableSession): Promise<void> {
  const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7)
  const got = new Promise<Uint8Array>(resolve => { b.on('message', m => { if (m.length === big.length) resolve(m) }) })
  await a.send(new Uint8Array([1])) // a round trip confirms (or not) the probe first
  await a.flushed()
  await a.send(big)
  t.equal(Buffer.compare(await got, big), 0, '1 MiB intact')
}

t.test('real UDP on 127.0.0.1: the loopback ceiling is confirmed and carries the bulk', { skip: loMtu === null ? 'no /sys/class/net/lo/mtu (not Linux): no ceiling to find' : false }, async t => {
  const { a, b } = await pair(t)
  await sendBig(t, a, b)
  const s = a.stats
  const expected = Math.min(loMtu! - 28, MAX_TRANSPORT_DATAGRAM_BYTES) - TRANSPORT_DATA_MIN_BYTES
  t.equal(s.pmtu, expected, `confirmed ${s.pmtu}-byte packets`)
  t.equal(s.pmtuState, 'complete')
  t.ok(s.packetsSent < 60, `1 MiB went out in ${s.packetsSent} datagrams (at 1,370 bytes it takes 770)`)
})

t.test('real UDP with no ceiling: base-size packets, no probe', async t => {
  const { a, b } = await pair(t, { pathCeiling: () => null })
  await sendBig(t, a, b)
  const s = a.stats
  t.equal(s.pmtu, 1370)
  t.equal(s.pmtuProbes, 0)
  t.ok(s.packetsSent > 760, `${s.packetsSent} datagrams`)
})

t.test('the peer roams to a new address: the search starts again for the new path', async t => {
  const a = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const b = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  t.teardown(async () => { await a.close(); await b.close() })
  const asked: number[] = [] // ports b asked the ceiling for
  const ceilings = { b: (addr: { port: number }) => { asked.push(addr.port); return 9000 } }
  const inbound = new Promise<Session>(resolve => b.once('session', resolve))
  const ra = new ReliableSession(await a.connect(b.address, { expectFingerprint: b.fingerprint }))
  const rb = new ReliableSession(await inbound, { pathCeiling: ceilings.b })
  const got: string[] = []
  rb.on('message', m => { got.push(Buffer.from(m).toString()); if (!rb.trySend(m)) t.fail('echo') })
  const echoed = async (text: string): Promise<void> => {
    const back = new Promise<void>(resolve => ra.once('message', () => { resolve() }))
    await ra.send(Buffer.from(text))
    await back
  }
  await echoed('before')
  await rb.flushed()
  t.equal(rb.stats.pmtu, 9000 - TRANSPORT_DATA_MIN_BYTES, 'b confirmed its ceiling towards the old port')
  const oldPort = a.address.port
  const moved = await a.rebind()
  await echoed('after')
  t.same(got, ['before', 'after'])
  t.same(asked, [oldPort, moved.port], 'b asked again for the new path')
  await rb.flushed()
  t.equal(rb.stats.pmtuProbes, 2, 'and probed it')
  t.equal(rb.stats.pmtu, 9000 - TRANSPORT_DATA_MIN_BYTES)
})
