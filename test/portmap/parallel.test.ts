// PCP, NAT-PMP and UPnP probed at once (proto-spec/portmap.md §4.2, src/portmap/probe.ts) against
// fake routers on loopback: a PCP/NAT-PMP server (fake-gateway.ts) and an IGD (fake-igd.ts), each
// silent or answering. What a user would notice: a router that speaks only UPnP gives a mapping
// within the first probe round, not after PCP's and NAT-PMP's retransmissions ran out; a router
// that speaks PCP gets a PCP mapping even when its UPnP answers too, and nothing on its UPnP side;
// a mapping made is kept when a better protocol answers late; a new network (another default
// gateway) is probed afresh; and with no router at all, every protocol gives up and `dmess status`
// says why, as before.
import t, { type Test } from 'tap'
import { realWorld } from '../../src/io/world.js'
import { PortmapComponent } from '../../src/node/portmap.js'
import { portmapLine } from '../../src/cli/portmap.js'
import { silentLogger } from '../../src/daemon/log.js'
import type { PortmapStatus } from '../../src/portmap/client.js'
import { mapperHarness } from './harness.js'
import { FakeGateway, type Script } from './fake-gateway.js'
import { FakeIgd, type FakeIgdOptions } from './fake-igd.js'
import { isNatPmpAddress, isNatPmpMap, isPcp, isPcpAnnounce, isPcpMap, natPmpAddressAnswer, natPmpMapAnswer, natPmpUnsupportedVersion, pcpAnnounceAnswer, pcpMapAnswer } from './answers.js'

const LOOPBACK_GATEWAY = async (): Promise<{ gateway: string, local: string, interface: string }> => ({ gateway: '127.0.0.1', local: '127.0.0.1', interface: 'lo' })

/** The router's two servers: PCP/NAT-PMP (silent without a script) and UPnP IGD (silent without options). */
async function routers (t: Test, script: Script | null, igd: FakeIgdOptions | null): Promise<{ gw: FakeGateway, igd: FakeIgd }> {
  const gw = await FakeGateway.start(script ?? (() => null))
  const i = await FakeIgd.start(igd ?? { silent: true })
  t.teardown(async () => { await gw.close(); await i.close() })
  return { gw, igd: i }
}

const pcpAnswers = (req: Uint8Array): Uint8Array | null =>
  isPcpAnnounce(req) ? pcpAnnounceAnswer(5) : isPcpMap(req) ? pcpMapAnswer(req, { epochS: 5, externalAddress: '203.0.113.9', externalPort: 40000 }) : null

t.test('a router that speaks only UPnP: mapped within the first probe round, PCP and NAT-PMP not waited out', async t => {
  const { gw, igd } = await routers(t, null, {})
  // 2 s doubling: the silent protocols' 4 sends would take 30 s to give up
  const { mapper } = mapperHarness(t, { serverPort: gw.port, upnp: { ssdpPort: igd.ssdpPort, multicast: false }, tuning: { initialMs: 2000, probeGraceMs: 100 } })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'upnp')
  t.ok(igd.table.has(s.mapping!.external.port), 'the router holds it')
  const pcp = gw.received.filter(r => isPcp(r.bytes)).length
  const pmp = gw.received.filter(r => isNatPmpAddress(r.bytes)).length
  t.ok(pcp >= 1 && pmp >= 1, 'PCP and NAT-PMP were probed too')
  t.ok(pcp < 4 && pmp < 4, `before either had given up (PCP sent ${pcp}, NAT-PMP ${pmp} of 4)`)
  t.equal(igd.searches.length, 1, 'one SSDP search was enough')
})

t.test('a router that answers PCP and UPnP: PCP maps, UPnP is not asked to', async t => {
  // PCP answers 100 ms late, likely after the IGD was found: the grace lets the better one win
  const { gw, igd } = await routers(t, (req, g, from) => {
    const a = pcpAnswers(req)
    if (a !== null) setTimeout(() => { void g.reply(a, from) }, 100)
    return null
  }, {})
  const { mapper } = mapperHarness(t, { serverPort: gw.port, upnp: { ssdpPort: igd.ssdpPort, multicast: false }, tuning: { initialMs: 1000, probeGraceMs: 2000 } })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'pcp')
  t.same(s.mapping?.external, { host: '203.0.113.9', port: 40000 })
  t.equal(igd.searches.length, 1, 'UPnP was probed (one SSDP search)')
  t.equal(igd.calls.length, 0, 'and never asked to map (no SOAP call)')
  t.equal(igd.table.size, 0, 'the IGD holds nothing')
  await mapper.stop()
  t.ok(isPcpMap(gw.received.at(-1)!.bytes), 'stop deletes the PCP mapping')
})

t.test('a mapping made is kept when a better protocol answers late', async t => {
  let lateSent: () => void = () => {}
  const late = new Promise<void>(resolve => { lateSent = resolve })
  const { gw, igd } = await routers(t, (req, g, from) => {
    // PCP answers its ANNOUNCE 1.5 s late: long after UPnP mapped
    if (isPcpAnnounce(req) && gw.received.filter(r => isPcpAnnounce(r.bytes)).length === 1) setTimeout(() => { void g.reply(pcpAnnounceAnswer(5), from).then(lateSent) }, 1500)
    return null
  }, {})
  const { mapper, changes } = mapperHarness(t, { serverPort: gw.port, upnp: { ssdpPort: igd.ssdpPort, multicast: false }, tuning: { initialMs: 5000, probeGraceMs: 50 } })
  const s = await mapper.start()
  t.equal(s.mapping?.protocol, 'upnp')
  await late
  t.equal(mapper.status().mapping?.protocol, 'upnp', 'the UPnP mapping stands after PCP answered')
  // the answer went to a probe that had ended; stop (a DeletePortMapping over HTTP) comes after it
  await mapper.stop()
  t.equal(igd.actions().at(-1), 'DeletePortMapping', 'the UPnP mapping was the one deleted')
  t.equal(gw.received.filter(r => isPcpMap(r.bytes)).length, 0, 'PCP was never asked to map')
  t.notOk(changes.some(c => c.mapping?.protocol === 'pcp'), 'and the mapping was never replaced')
})

t.test('a new network: another default gateway is probed afresh, and its protocol used', async t => {
  const home = await FakeGateway.start(pcpAnswers)
  t.teardown(async () => { await home.close() })
  // the other network's router (another loopback address, the same port) speaks only NAT-PMP
  const other = await FakeGateway.start(req => {
    if (isPcp(req)) return natPmpUnsupportedVersion(3)
    if (isNatPmpAddress(req)) return natPmpAddressAnswer(3, '198.51.100.4')
    return isNatPmpMap(req) ? natPmpMapAnswer(req, { epochS: 3, externalPort: 41000 }) : null
  }, '127.0.0.2', home.port)
  t.teardown(async () => { await other.close() })
  let gateway = '127.0.0.1'
  const { mapper, changes, until } = mapperHarness(t, {
    serverPort: home.port,
    protocols: ['pcp', 'nat-pmp'],
    findGateway: async () => ({ gateway, local: '127.0.0.1', interface: 'lo' }),
    tuning: { epochCheckMs: 100 }
  })
  t.equal((await mapper.start()).mapping?.protocol, 'pcp')
  gateway = '127.0.0.2'
  const s = await until(st => st.mapping?.gateway === '127.0.0.2')
  t.match(s.mapping, { protocol: 'nat-pmp', external: { host: '198.51.100.4', port: 41000 } }, 'mapped on the new router, in the protocol it speaks')
  t.ok(changes.some(c => c.state === 'mapping' && c.mapping === null && c.reason === 'the network changed'), 'the old mapping was dropped, and status said why')
  t.ok(other.received.some(r => isPcpAnnounce(r.bytes)) && other.received.some(r => isNatPmpAddress(r.bytes)), 'a full probe round on the new gateway')
  t.equal(other.received.filter(r => isPcpMap(r.bytes)).length, 0, 'not a renewal in the old protocol')
})

t.test('no router at all: all three give up, and `dmess status` says why, as before', async t => {
  const { gw, igd } = await routers(t, null, null)
  let last: PortmapStatus | null = null
  let wake: () => void = () => {}
  const unavailable = new Promise<void>(resolve => { wake = resolve })
  const c = new PortmapComponent({
    world: realWorld(),
    bound: () => ({ host: '0.0.0.0', port: 47000 }),
    log: silentLogger(),
    mapper: {
      findGateway: LOOPBACK_GATEWAY,
      serverPort: gw.port,
      upnp: { ssdpPort: igd.ssdpPort, multicast: false },
      tuning: { initialMs: 20 },
      onChange: st => { last = st; if (st.state === 'unavailable') wake() }
    }
  })
  t.teardown(async () => { await c.stop() })
  await c.start()
  await unavailable
  const reason = 'pcp: no answer from 127.0.0.1; nat-pmp: no answer from 127.0.0.1; upnp: no answer from 127.0.0.1'
  t.match(c.report(), { enabled: true, state: 'unavailable', publiclyReachable: false, reason })
  t.equal(portmapLine(c.report()), `unavailable (${reason})`)
  t.equal((last as PortmapStatus | null)?.mapping, null)
  t.equal(gw.received.filter(r => isPcpAnnounce(r.bytes)).length, 4, 'PCP: 4 sends')
  t.equal(gw.received.filter(r => isNatPmpAddress(r.bytes)).length, 4, 'NAT-PMP: 4 sends')
  t.equal(igd.searches.length, 4, 'SSDP: 4 sends')
})
