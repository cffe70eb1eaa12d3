// The port-mapping component of a node (src/node/portmap.ts) over real UDP, against the fake
// gateway on loopback: what `dmess status` reports while mapped, and after stop; and that a node
// bound to loopback never asks anyone.
import t from 'tap'
import { realWorld } from '../../src/io/world.js'
import { PortmapComponent } from '../../src/node/portmap.js'
import { portmapLine } from '../../src/cli/portmap.js'
import { silentLogger } from '../../src/daemon/log.js'
import { FakeGateway } from '../portmap/fake-gateway.js'
import { isPcpAnnounce, isPcpMap, pcpAnnounceAnswer, pcpMapAnswer, requestInternalPort, requestLifetime } from '../portmap/answers.js'

t.test('a node bound to all interfaces maps its port; status shows it; stop deletes it', async t => {
  const gw = await FakeGateway.start(req => isPcpAnnounce(req) ? pcpAnnounceAnswer(1) : isPcpMap(req) ? pcpMapAnswer(req, { epochS: 1, externalAddress: '198.51.100.20', externalPort: requestLifetime(req) === 0 ? 0 : 47001 }) : null)
  t.teardown(async () => { await gw.close() })
  const c = new PortmapComponent({
    world: realWorld(),
    bound: () => ({ host: '0.0.0.0', port: 47000 }),
    log: silentLogger(),
    // no UPnP: its probe would search 127.0.0.1:1900 and the SSDP multicast group (parallel.test.ts has a fake IGD)
    mapper: { findGateway: async () => ({ gateway: '127.0.0.1', local: '127.0.0.1', interface: 'lo' }), serverPort: gw.port, protocols: ['pcp', 'nat-pmp'] }
  })
  await c.start()
  await gw.until(r => r.some(x => isPcpMap(x.bytes)))
  t.equal(requestInternalPort(gw.received.find(x => isPcpMap(x.bytes))!.bytes), 47000, 'the endpoint\'s port is the one mapped')
  const deadline = Date.now() + 10_000
  while (c.mappedAddress() === null && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  t.same(c.mappedAddress(), { host: '198.51.100.20', port: 47001 })
  t.equal(c.publiclyReachable, true)
  const r = c.report()
  t.match(r, { enabled: true, state: 'mapped', protocol: 'pcp', gateway: '127.0.0.1', mapped: '198.51.100.20:47001', publiclyReachable: true })
  t.ok(r.expiresInS !== undefined && r.expiresInS > 7000, 'about two hours left')
  t.match(portmapLine(r), /^198\.51\.100\.20:47001 via pcp on 127\.0\.0\.1, lapses in \d+ s unless renewed; publicly reachable$/)
  await c.stop()
  t.ok(requestLifetime(gw.received.at(-1)!.bytes) === 0, 'the mapping was deleted')
  t.equal(c.mappedAddress(), null)
  t.match(c.report(), { state: 'stopped', publiclyReachable: false })
})

t.test('a node bound to loopback is never mapped', async t => {
  let asked = 0
  const c = new PortmapComponent({ world: realWorld(), bound: () => ({ host: '127.0.0.1', port: 47000 }), log: silentLogger(), mapper: { findGateway: async () => { asked++; return null } } })
  await c.start()
  t.same(c.report(), { enabled: true, state: 'off', publiclyReachable: false, reason: 'bound to loopback (127.0.0.1)' })
  t.equal(portmapLine(c.report()), 'off (bound to loopback (127.0.0.1))')
  await c.stop()
  t.equal(asked, 0, 'no gateway was even looked for')
})

t.test('status lines for the other states', async t => {
  t.equal(portmapLine({ enabled: false, state: 'off', publiclyReachable: false }), 'off (--no-portmap)')
  t.equal(portmapLine({ enabled: true, state: 'unavailable', publiclyReachable: false, reason: 'no default gateway' }), 'unavailable (no default gateway)')
  t.match(portmapLine({ enabled: true, state: 'mapped', protocol: 'nat-pmp', gateway: '192.168.1.1', mapped: '100.64.0.5:4000', publiclyReachable: false, reason: 'double NAT: …', expiresInS: 7000 }),
    /100\.64\.0\.5:4000 via nat-pmp on 192\.168\.1\.1, lapses in 7000 s unless renewed; not publicly reachable: double NAT/)
  t.equal(portmapLine({ enabled: true, state: 'mapped', protocol: 'upnp', gateway: '192.168.1.1', mapped: '203.0.113.7:4000', publiclyReachable: true, expiresInS: 3500, permanent: true }),
    '203.0.113.7:4000 via upnp on 192.168.1.1, permanent (the router grants no lease), deleted on stop; publicly reachable', 'a UPnP router that grants only permanent mappings: said so')
})
