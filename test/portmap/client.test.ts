// The port-mapping client (src/portmap/client.ts) against a hand-driven gateway on loopback: real
// UDP sockets, the gateway's answers scripted per test. What a user would notice: whether the node
// gets a mapping, on which address, whether it counts as publicly reachable, that it is renewed,
// re-made after a router reboot, deleted on stop, and why there is none when there is none.
import t, { type Test } from 'tap'
import type { PortMapperOptions } from '../../src/portmap/client.js'
import { ENDPOINT_PORT, mapperHarness, type MapperHarness } from './harness.js'
import { FakeGateway, type Script } from './fake-gateway.js'
import {
  isNatPmpAddress, isNatPmpMap, isPcp, isPcpAnnounce, isPcpMap, natPmpAddressAnswer, natPmpMapAnswer, natPmpUnsupportedVersion,
  pcpAnnounceAnswer, pcpMapAnswer, requestClientAddress, requestExternalPort, requestInternalPort, requestLifetime, requestNonce
} from './answers.js'

interface Harness extends MapperHarness { gw: FakeGateway }

/** A scripted PCP/NAT-PMP gateway and a mapper that asks only it (UPnP has its own tests: upnp-client.test.ts). */
async function harness (t: Test, script: Script, opts: Partial<PortMapperOptions> = {}): Promise<Harness> {
  const gw = await FakeGateway.start(script)
  t.teardown(async () => { await gw.close() })
  return { gw, ...mapperHarness(t, { serverPort: gw.port, protocols: ['pcp', 'nat-pmp'], ...opts }) }
}

/** `script`, and ANNOUNCE answered (the PCP probe, RFC 6887 §14.1). */
const withAnnounce = (script: Script, epochS = 1): Script => (req, gw, from) => isPcpAnnounce(req) ? pcpAnnounceAnswer(epochS) : script(req, gw, from)

const pcpGateway = (external = { address: '203.0.113.7', port: 50000 }, epoch = { s: 1000 }): Script => req => {
  if (isPcpMap(req)) return pcpMapAnswer(req, { epochS: epoch.s, externalAddress: external.address, externalPort: requestLifetime(req) === 0 ? 0 : external.port })
  if (isPcpAnnounce(req)) return pcpAnnounceAnswer(epoch.s)
  return null
}

t.test('PCP: the endpoint\'s port is mapped, publicly reachable, and deleted on stop', async t => {
  const { mapper, gw } = await harness(t, pcpGateway())
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  t.same(s.mapping?.external, { host: '203.0.113.7', port: 50000 }, 'the address the gateway gave')
  t.equal(s.mapping?.protocol, 'pcp')
  t.equal(s.mapping?.publiclyReachable, true)
  t.ok(isPcpAnnounce(gw.received[0]!.bytes) || isNatPmpAddress(gw.received[0]!.bytes), 'first the probes, which map nothing (ANNOUNCE, NAT-PMP address request)')
  const req = gw.received.find(r => isPcpMap(r.bytes))!.bytes
  t.equal(requestInternalPort(req), ENDPOINT_PORT, 'the mapping is for the endpoint\'s port, not the request socket\'s')
  t.equal(requestExternalPort(req), ENDPOINT_PORT, 'and suggests keeping the same port outside')
  t.equal(requestClientAddress(req), '127.0.0.1', 'the client address is the request\'s source (RFC 6887 §8.1)')
  t.equal(requestLifetime(req), 7200)
  await mapper.stop()
  const last = gw.received.at(-1)!.bytes
  t.ok(isPcpMap(last) && requestLifetime(last) === 0, 'stop sends a MAP with lifetime 0 (RFC 6887 §15)')
  t.equal(requestNonce(last), requestNonce(req), 'for the same mapping (nonce)')
  t.equal(mapper.status().state, 'stopped')
  t.equal(mapper.status().mapping, null)
})

t.test('a NAT-PMP-only gateway: PCP is refused by version, NAT-PMP maps, the delete names port 0', async t => {
  const { mapper, gw } = await harness(t, req => {
    if (isPcp(req)) return natPmpUnsupportedVersion(10)
    if (isNatPmpAddress(req)) return natPmpAddressAnswer(10, '198.51.100.9')
    if (isNatPmpMap(req)) return natPmpMapAnswer(req, { epochS: 10, externalPort: requestLifetime(req) === 0 ? 0 : 40000 })
    return null
  })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'nat-pmp')
  t.same(s.mapping?.external, { host: '198.51.100.9', port: 40000 }, 'the public address (§3.2) with the mapped port (§3.3)')
  t.equal(gw.received.filter(r => isPcp(r.bytes)).length, 1, 'one PCP request (the probe) was enough to learn it is not spoken')
  t.equal(gw.received.filter(r => isNatPmpAddress(r.bytes)).length, 1, 'the probe\'s public address request brought the address the mapping needs')
  await mapper.stop()
  const del = gw.received.at(-1)!.bytes
  t.ok(isNatPmpMap(del) && requestLifetime(del) === 0 && requestExternalPort(del) === 0, 'deleted with lifetime 0 and port 0 (RFC 6886 §3.4)')
})

t.test('a gateway silent to PCP but answering NAT-PMP: NAT-PMP maps after the grace, without waiting PCP out', async t => {
  const { mapper, gw } = await harness(t, req => {
    if (isNatPmpAddress(req)) return natPmpAddressAnswer(10)
    if (isNatPmpMap(req)) return natPmpMapAnswer(req, { epochS: 10 })
    return null
  }, { tuning: { initialMs: 2000, probeGraceMs: 100 } })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'nat-pmp')
  t.ok(gw.received.filter(r => isPcp(r.bytes)).length < 4, 'PCP\'s probe had not given up (4 sends, 2 s doubling: 30 s)')
  t.equal(gw.received.filter(r => isNatPmpMap(r.bytes)).length, 1)
})

t.test('retransmission: bounded, the waits doubling', async t => {
  const sent: number[] = []
  const { mapper } = await harness(t, req => { if (isPcp(req)) sent.push(performance.now()); return null }, { protocols: ['pcp'], tuning: { initialMs: 50 } })
  await mapper.start()
  t.equal(sent.length, 4, 'PCP was sent 4 times and no more')
  const gaps = sent.slice(1).map((x, i) => x - sent[i]!)
  t.ok(gaps[2]! > gaps[0]!, `the waits grow (doubling): ${gaps.map(g => Math.round(g)).join(', ')} ms`)
})

t.test('a silent gateway: no mapping, and the reason says so', async t => {
  const { mapper, gw } = await harness(t, () => null, { tuning: { initialMs: 20 } })
  const s = await mapper.start()
  t.equal(s.state, 'unavailable')
  t.equal(s.mapping, null)
  t.match(s.reason, /pcp: no answer from 127\.0\.0\.1; nat-pmp: no answer/)
  t.equal(gw.received.length, 8, '4 PCP ANNOUNCEs and 4 NAT-PMP address requests, side by side, then it gives up')
  t.equal(gw.received.filter(r => isPcpAnnounce(r.bytes)).length, 4)
})

t.test('a gateway that refuses: its result code is the reason, and the other protocol is not asked to map', async t => {
  const { mapper, gw } = await harness(t, withAnnounce(req => isPcpMap(req) ? pcpMapAnswer(req, { result: 2, lifetimeS: 30, epochS: 5, externalPort: 0, externalAddress: '::' }) : null))
  const s = await mapper.start()
  t.equal(s.state, 'unavailable')
  t.equal(s.reason, 'PCP NOT_AUTHORIZED')
  t.equal(gw.received.filter(r => isPcpMap(r.bytes)).length, 1, 'one MAP, refused')
  t.equal(gw.received.filter(r => isNatPmpMap(r.bytes)).length, 0, 'no NAT-PMP map request')
})

t.test('answers that are not ours are dropped and counted: wrong nonce, wrong port, garbage', async t => {
  const { mapper } = await harness(t, req => {
    if (isPcpAnnounce(req)) return pcpAnnounceAnswer(1)
    if (!isPcpMap(req)) return null
    const wrongNonce = pcpMapAnswer(req, { epochS: 1, externalPort: 1111 })
    wrongNonce[24]! ^= 0xff
    const wrongPort = pcpMapAnswer(req, { epochS: 1, externalPort: 2222 })
    wrongPort[41]! ^= 0x01
    return [wrongNonce, wrongPort, Uint8Array.of(2, 0x81, 0, 0), new Uint8Array(60).fill(0xee), pcpMapAnswer(req, { epochS: 1, externalPort: 3333 })]
  })
  const s = await mapper.start()
  t.equal(s.mapping?.external.port, 3333, 'only the answer with our nonce and port counts')
  t.equal(mapper.counters.dropped, 4)
})

t.test('double NAT: a mapping on a carrier-grade NAT address is kept but not publicly reachable', async t => {
  const { mapper } = await harness(t, pcpGateway({ address: '100.64.7.9', port: 50000 }))
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  t.same(s.mapping?.external, { host: '100.64.7.9', port: 50000 })
  t.equal(s.mapping?.publiclyReachable, false)
  t.match(s.mapping?.note, /double NAT.*RFC 6598/)
})

t.test('a "success" that maps nothing (lifetime 0 or port 0) is no mapping', async t => {
  const { mapper } = await harness(t, withAnnounce(req => isPcpMap(req) ? pcpMapAnswer(req, { epochS: 1, externalPort: 0 }) : null))
  const s = await mapper.start()
  t.equal(s.state, 'unavailable')
  t.match(s.reason, /unusable mapping \(port 0/)
})

t.test('renewal at half the lifetime, with the same nonce and the port we hold', async t => {
  const { mapper, gw, until } = await harness(t, withAnnounce(req => isPcpMap(req) ? pcpMapAnswer(req, { epochS: 100 + Math.floor(performance.now() / 1000), lifetimeS: 2, externalPort: 50001 }) : null))
  const s = await mapper.start()
  t.equal(s.mapping?.lifetimeS, 2)
  await gw.until(r => r.filter(x => isPcpMap(x.bytes)).length >= 3)
  const maps = gw.received.filter(x => isPcpMap(x.bytes)).map(x => x.bytes)
  t.same(new Set(maps.map(requestNonce)).size, 1, 'every renewal names the same mapping')
  t.equal(requestExternalPort(maps[1]!), 50001, 'a renewal suggests the port it holds')
  const after = await until(st => st.mapping !== null)
  t.equal(after.gatewayResets, 0, 'a steady epoch is not taken for a reboot')
})

t.test('a router reboot (the epoch starts over) is noticed between renewals and the port is mapped again', async t => {
  const epoch = { s: 5000 }
  const external = { address: '203.0.113.7', port: 50000 }
  const { mapper, gw, changes, until } = await harness(t, pcpGateway(external, epoch), { tuning: { epochCheckMs: 100 } })
  await mapper.start()
  const probesAtStart = gw.received.filter(x => isNatPmpAddress(x.bytes)).length
  const announcesAtStart = gw.received.filter(x => isPcpAnnounce(x.bytes)).length
  await gw.until(r => r.filter(x => isPcpAnnounce(x.bytes)).length > announcesAtStart)
  // the router restarts: its table is empty, its epoch counts from 0, it will hand out another port
  epoch.s = 0
  external.port = 50999
  const s = await until(st => st.gatewayResets === 1 && st.mapping?.external.port === 50999)
  t.equal(s.state, 'mapped', 'mapped again after the reboot')
  t.same(s.mapping?.external, { host: '203.0.113.7', port: 50999 }, 'at the port the rebooted router gave')
  t.equal(gw.received.filter(x => isPcpMap(x.bytes)).length, 2, 'one MAP at start, one after the reboot was seen')
  t.equal(gw.received.filter(x => isNatPmpAddress(x.bytes)).length, probesAtStart, 'the protocol that worked is asked again at once, with no new probe round')
  t.notOk(changes.some(c => c.gatewayResets > 0 && c.mapping?.external.port === 50000), 'once the reboot is seen, the lost mapping is never reported as held')
  t.ok(changes.some(c => c.gatewayResets === 1 && c.state === 'mapping' && c.reason === 'the gateway lost its mappings (rebooted)'), 'while mapping again, status says why')
})

t.test('NAT-PMP reboot detection reads the public address request\'s epoch', async t => {
  const epoch = { s: 9000 }
  const { mapper, gw, until } = await harness(t, req => {
    if (isPcp(req)) return natPmpUnsupportedVersion(epoch.s)
    if (isNatPmpAddress(req)) return natPmpAddressAnswer(epoch.s)
    if (isNatPmpMap(req)) return natPmpMapAnswer(req, { epochS: epoch.s })
    return null
  }, { tuning: { epochCheckMs: 100 } })
  await mapper.start()
  await gw.until(r => r.filter(x => isNatPmpAddress(x.bytes)).length >= 2)
  epoch.s = 1
  const s = await until(st => st.gatewayResets === 1 && st.state === 'mapped')
  await gw.until(r => r.filter(x => isNatPmpMap(x.bytes)).length >= 2)
  t.equal(s.mapping?.protocol, 'nat-pmp')
  t.pass('the mapping was requested again')
})

t.test('no default gateway: unavailable, with the reason', async t => {
  const { mapper, gw } = await harness(t, () => null, { findGateway: async () => null })
  const s = await mapper.start()
  t.equal(s.state, 'unavailable')
  t.equal(s.reason, 'no default gateway')
  t.equal(gw.received.length, 0, 'nothing was sent anywhere')
})

t.test('stop during the first attempt ends it at once and sends nothing more', async t => {
  const { mapper, gw } = await harness(t, () => null, { tuning: { initialMs: 10_000 } })
  const started = mapper.start()
  await gw.until(r => r.length >= 2)
  await mapper.stop()
  t.equal((await started).mapping, null, 'the first attempt ended without a mapping')
  t.equal(mapper.status().state, 'stopped')
  t.equal(gw.received.length, 2, 'the two probes\' first sends; no delete for a mapping that never existed')
})

t.test('a gateway that stops answering: renewals are retried until the mapping lapses, then it is gone with the reason', async t => {
  let answering = true
  const { mapper, gw, until } = await harness(t, withAnnounce(req => answering && isPcpMap(req) ? pcpMapAnswer(req, { epochS: 1, lifetimeS: 2 }) : null),
    { protocols: ['pcp'], tuning: { initialMs: 50, attempts: 2, minRenewMs: 100 } })
  t.equal((await mapper.start()).state, 'mapped')
  answering = false
  const s = await until(st => st.state === 'unavailable')
  t.equal(s.mapping, null, 'the lapsed mapping is no longer reported')
  t.match(s.reason, /pcp: no answer from 127\.0\.0\.1/)
  t.ok(gw.received.filter(x => isPcpMap(x.bytes)).length >= 5, `renewal was tried more than once before giving up (${gw.received.length} requests)`)
})
