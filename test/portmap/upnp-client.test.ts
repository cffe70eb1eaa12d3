// The port-mapping client's UPnP IGD path (src/portmap/upnp.ts through client.ts) against a
// hand-driven IGD on loopback (fake-igd.ts): real UDP for SSDP, real HTTP for the description and
// SOAP. What a user would notice: whether the node gets a mapping when the router speaks only
// UPnP, on which address and port, that it is renewed, re-made when the router loses it, deleted
// on stop, renewed at half the lease the router granted, and a clear reason when there is none — including routers that point elsewhere, send
// huge or hostile documents, or refuse.
import t, { type Test } from 'tap'
import type { PortMapperOptions } from '../../src/portmap/client.js'
import { ENDPOINT_PORT, mapperHarness, type MapperHarness } from './harness.js'
import { descriptionXml, FakeIgd, soapFault, type FakeIgdOptions } from './fake-igd.js'
import { FakeGateway } from './fake-gateway.js'
import { isPcpAnnounce, isPcpMap, isNatPmpMap, pcpAnnounceAnswer, pcpMapAnswer } from './answers.js'

interface Harness extends MapperHarness { igd: FakeIgd }

/** A scripted IGD and a mapper that asks only UPnP, unless told otherwise (SSDP to the fake's port, no multicast). */
async function harness (t: Test, igdOpts: FakeIgdOptions = {}, opts: Partial<PortMapperOptions> = {}): Promise<Harness> {
  const igd = await FakeIgd.start(igdOpts)
  t.teardown(async () => { await igd.close() })
  return { igd, ...mapperHarness(t, { protocols: ['upnp'], upnp: { ssdpPort: igd.ssdpPort, multicast: false }, ...opts, tuning: { initialMs: 50, ...opts.tuning } }) }
}

t.test('UPnP IGD: SSDP, description, GetExternalIPAddress, AddPortMapping for the endpoint\'s port; deleted on stop', async t => {
  const { mapper, igd } = await harness(t)
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  t.equal(s.mapping?.protocol, 'upnp')
  t.same(s.mapping?.external, { host: '203.0.113.7', port: ENDPOINT_PORT }, 'the router\'s external address, the same port outside')
  t.equal(s.mapping?.publiclyReachable, true)
  t.notOk(s.mapping?.permanent, 'a timed lease')
  t.match(igd.searches[0]!.text, /^M-SEARCH \* HTTP\/1\.1\r\n[\s\S]*ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n/, 'an SSDP search for the IGD')
  t.same(igd.actions(), ['GetExternalIPAddress', 'AddPortMapping', 'GetSpecificPortMappingEntry'], 'and the lease the router granted read back')
  t.equal(s.mapping?.lifetimeS, 7200, 'the lease asked for, granted')
  t.match(igd.calls[1]!.args, { NewRemoteHost: '', NewExternalPort: String(ENDPOINT_PORT), NewProtocol: 'UDP', NewInternalPort: String(ENDPOINT_PORT), NewInternalClient: '127.0.0.1', NewEnabled: '1', NewLeaseDuration: '7200' })
  t.ok(igd.table.has(ENDPOINT_PORT), 'the router holds it')
  await mapper.stop()
  t.equal(igd.actions().at(-1), 'DeletePortMapping', 'stop deletes it')
  t.match(igd.calls.at(-1)!.args, { NewExternalPort: String(ENDPOINT_PORT), NewProtocol: 'UDP' })
  t.equal(igd.table.size, 0)
  t.equal(mapper.status().state, 'stopped')
})

t.test('718 ConflictInMappingEntry: another external port (≥ 1024) is tried', async t => {
  const { mapper, igd } = await harness(t)
  igd.table.set(ENDPOINT_PORT, { internalClient: '127.0.0.9', internalPort: 1, lease: 0 })
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  const port = s.mapping!.external.port
  t.not(port, ENDPOINT_PORT, `another port: ${port}`)
  t.ok(port >= 1024 && port <= 65535)
  t.same(igd.actions(), ['GetExternalIPAddress', 'AddPortMapping', 'AddPortMapping', 'GetSpecificPortMappingEntry'])
  t.equal(igd.table.get(port)?.internalClient, '127.0.0.1')
  t.equal(igd.table.get(ENDPOINT_PORT)?.internalClient, '127.0.0.9', 'the other host\'s mapping is untouched')
})

t.test('718 on every port: bounded tries, then the reason', async t => {
  const { mapper, igd } = await harness(t, { soap: c => c.action === 'AddPortMapping' ? soapFault(718, 'ConflictInMappingEntry') : undefined })
  const s = await mapper.start()
  t.equal(s.state, 'unavailable')
  t.equal(s.reason, 'UPnP AddPortMapping: 718 ConflictInMappingEntry')
  t.equal(igd.actions().filter(a => a === 'AddPortMapping').length, 4, 'the suggested port and 3 others')
})

t.test('725 OnlyPermanentLeasesSupported: lease 0, shown as permanent, deleted on stop', async t => {
  const { mapper, igd } = await harness(t, { permanentOnly: true })
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  t.equal(s.mapping?.permanent, true)
  t.same(igd.calls.filter(c => c.action === 'AddPortMapping').map(c => c.args.NewLeaseDuration), ['7200', '0'], 'asked with a lease, then without')
  t.equal(igd.table.get(ENDPOINT_PORT)?.lease, 0)
  await mapper.stop()
  t.equal(igd.table.size, 0, 'a permanent mapping is deleted on stop')
})

t.test('a router that grants a shorter lease than asked: the lease is read back, and renewed at half of it', async t => {
  const { mapper, igd } = await harness(t, { maxLeaseS: 1 }, { tuning: { minRenewMs: 100 } })
  const s = await mapper.start()
  t.equal(s.mapping?.lifetimeS, 1, 'the lease the router granted (GetSpecificPortMappingEntry\'s NewLeaseDuration), not the 7200 s asked')
  t.equal(igd.calls[1]!.args.NewLeaseDuration, '7200', 'asked for 7200 s')
  await igd.until(() => igd.actions().filter(a => a === 'AddPortMapping').length >= 2)
  t.pass('renewed before the granted second was out, not after an hour')
})

t.test('a router that keeps the mapping without a lease (NewLeaseDuration 0 when asked back): permanent, deleted on stop', async t => {
  const { mapper, igd } = await harness(t, { ignoresLease: true })
  const s = await mapper.start()
  t.equal(s.mapping?.permanent, true)
  t.equal(s.mapping?.lifetimeS, 7200, 're-added at half of what was asked, as for 725')
  await mapper.stop()
  t.equal(igd.table.size, 0)
})

t.test('renewal: the same AddPortMapping again before the lease ends', async t => {
  const { mapper, igd } = await harness(t, {}, { tuning: { lifetimeS: 2, minRenewMs: 100 } })
  await mapper.start()
  await igd.until(() => igd.actions().filter(a => a === 'AddPortMapping').length >= 2)
  const adds = igd.calls.filter(c => c.action === 'AddPortMapping')
  t.equal(adds[1]!.args.NewExternalPort, String(mapper.status().mapping!.external.port), 'for the same external port')
  t.equal(igd.gets, 1, 'the description was read once')
  t.equal(mapper.status().state, 'mapped')
})

t.test('the router loses the mapping: GetSpecificPortMappingEntry sees it gone, and it is made again', async t => {
  const { mapper, igd, until } = await harness(t, {}, { tuning: { epochCheckMs: 100 } })
  await mapper.start()
  await igd.until(() => igd.actions().filter(a => a === 'GetSpecificPortMappingEntry').length >= 2)
  t.equal(mapper.status().gatewayResets, 0, 'while the router holds it, nothing changes')
  igd.table.clear()
  const s = await until(st => st.gatewayResets === 1 && st.state === 'mapped')
  t.ok(igd.table.has(s.mapping!.external.port), 'mapped again')
})

t.test('SSRF: a LOCATION on another host is never fetched; a control URL elsewhere is never posted to', async t => {
  await t.test('LOCATION', async t => {
    const { mapper, igd } = await harness(t, { location: port => `http://127.0.0.2:${port}/rootDesc.xml` })
    const s = await mapper.start()
    t.equal(s.state, 'unavailable')
    t.match(s.reason, /UPnP: description URL refused: 127\.0\.0\.2 is not the device that answered \(127\.0\.0\.1\)/)
    t.equal(igd.gets, 0, 'no GET was made')
  })
  await t.test('controlURL', async t => {
    const { mapper, igd } = await harness(t, { description: d => descriptionXml(d.serviceType, 'http://10.9.9.9:80/ctl') })
    const s = await mapper.start()
    t.match(s.reason, /control URL refused: 10\.9\.9\.9 is not the device that answered/)
    t.equal(igd.calls.length, 0, 'no SOAP call was made')
  })
  await t.test('credentials in the URL', async t => {
    const { mapper } = await harness(t, { location: port => `http://user:pw@127.0.0.1:${port}/rootDesc.xml` })
    t.match((await mapper.start()).reason, /a URL with credentials/)
  })
})

t.test('hostile or broken routers: a clear reason, nothing mapped', async t => {
  const cases: Array<[string, FakeIgdOptions, RegExp]> = [
    ['a huge description', { description: () => '<root>' + 'x'.repeat(200_000) + '</root>' }, /answer too large/],
    ['entity expansion', { description: () => '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><root>&b;</root>' }, /DOCTYPE/],
    ['an undefined entity', { description: () => '<root><device>&xxe;</device></root>' }, /entity reference/],
    ['no WAN service', { description: () => descriptionXml('urn:schemas-upnp-org:service:Layer3Forwarding:1', '/ctl') }, /no WANIPConnection or WANPPPConnection/],
    ['606 on AddPortMapping', { soap: c => c.action === 'AddPortMapping' ? soapFault(606, 'Action not authorized') : undefined }, /^UPnP AddPortMapping: 606 ActionNotAuthorized$/],
    ['a SOAP answer that is not XML', { soap: c => c.action === 'GetExternalIPAddress' ? { status: 200, body: 'hello' } : undefined }, /UPnP GetExternalIPAddress: HTTP 200, /],
    ['a silent SSDP responder', { silent: true }, /^upnp: no answer from 127\.0\.0\.1$/]
  ]
  for (const [name, o, reason] of cases) {
    await t.test(name, async t => {
      const { mapper, igd } = await harness(t, o)
      const s = await mapper.start()
      t.equal(s.state, 'unavailable')
      t.match(s.reason, reason)
      t.equal(igd.table.size, 0)
    })
  }
})

t.test('a private external address (double NAT): mapped but not publicly reachable', async t => {
  const { mapper } = await harness(t, { externalIp: '100.64.3.4' })
  const s = await mapper.start()
  t.equal(s.state, 'mapped')
  t.equal(s.mapping?.publiclyReachable, false)
  t.match(s.mapping?.note, /carrier-grade NAT/)
})

t.test('WANPPPConnection:1 is used when it is what the router has', async t => {
  const { mapper, igd } = await harness(t, { serviceType: 'urn:schemas-upnp-org:service:WANPPPConnection:1' })
  t.equal((await mapper.start()).state, 'mapped')
  t.ok(igd.calls.length > 0)
})

t.test('a PCP refusal skips NAT-PMP (the same server) but not UPnP (another server on the router)', async t => {
  const refusing = await FakeGateway.start(req => isPcpAnnounce(req) ? pcpAnnounceAnswer(5) : isPcpMap(req) ? pcpMapAnswer(req, { result: 2, lifetimeS: 30, epochS: 5, externalPort: 0, externalAddress: '::' }) : null)
  t.teardown(async () => { await refusing.close() })
  const { mapper } = await harness(t, {}, { protocols: undefined, serverPort: refusing.port })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'upnp')
  t.ok(refusing.received.some(r => isPcpMap(r.bytes)), 'PCP was asked to map, and refused')
  t.equal(refusing.received.filter(r => isNatPmpMap(r.bytes)).length, 0, 'NAT-PMP was not asked to map')
})
