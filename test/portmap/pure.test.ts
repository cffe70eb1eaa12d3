// The pure parts of the port-mapping client: reboot detection from the epoch (RFC 6887 §8.5,
// RFC 6886 §3.6), the default gateway from /proc/net/route, and when a mapped address makes a
// node publicly reachable (double NAT).
import t from 'tap'
import { natPmpEpochLost, pcpEpochLost } from '../../src/portmap/epoch.js'
import { networkInterfaces } from 'node:os'
import { defaultGateway, parseDefaultRoutes } from '../../src/portmap/gateway.js'
import { reachability } from '../../src/portmap/client.js'

t.test('PCP epoch (RFC 6887 §8.5): a reboot is seen, jitter and reordering are not', async t => {
  const prev = { serverS: 1000, clientMs: 0 }
  t.notOk(pcpEpochLost(prev, { serverS: 1120, clientMs: 120_000 }), 'both clocks advanced alike')
  t.notOk(pcpEpochLost(prev, { serverS: 999, clientMs: 100 }), 'back by one second: reordering, not a reboot')
  t.ok(pcpEpochLost(prev, { serverS: 5, clientMs: 120_000 }), 'went back: the server restarted')
  t.ok(pcpEpochLost(prev, { serverS: 1010, clientMs: 120_000 }), 'advanced far less than our clock: state was lost')
  t.ok(pcpEpochLost(prev, { serverS: 5000, clientMs: 10_000 }), 'advanced far more than our clock: invalid too')
})

t.test('NAT-PMP epoch (RFC 6886 §3.6): at least 7/8 of our elapsed time, less 2 s', async t => {
  const prev = { serverS: 1000, clientMs: 0 }
  t.notOk(natPmpEpochLost(prev, { serverS: 1100, clientMs: 100_000 }))
  t.notOk(natPmpEpochLost(prev, { serverS: 1086, clientMs: 100_000 }), 'a gateway clock 14% slow is tolerated')
  t.ok(natPmpEpochLost(prev, { serverS: 1080, clientMs: 100_000 }), 'below 7/8 less 2 s: rebooted')
  t.ok(natPmpEpochLost(prev, { serverS: 3, clientMs: 1000 }), 'restarted from zero')
})

t.test('the default gateway is read from /proc/net/route', async t => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t010010AC\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t000010AC\t00000000\t0001\t0\t0\t100\t0000FFFF\t0\t0\t0',
    'tun0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0',
    'bad line',
    'eth1\t00000000\tZZZZZZZZ\t0003\t0\t0\t1\t00000000\t0\t0\t0'
  ].join('\n')
  t.same(parseDefaultRoutes(table), [
    { interface: 'eth0', gateway: '172.16.0.1', metric: 100 },
    { interface: 'wlan0', gateway: '192.168.1.1', metric: 600 }
  ], 'default routes via a gateway, lowest metric first; a link route, a route without a gateway and junk are skipped')
  t.same(parseDefaultRoutes(''), [])
})

t.test('a mapped address is publicly reachable only if it is public (double NAT is not)', async t => {
  t.equal(reachability('203.0.113.7'), null)
  t.equal(reachability('8.8.8.8'), null)
  t.match(reachability('100.64.3.4'), /double NAT.*carrier-grade NAT space \(RFC 6598\)/)
  t.match(reachability('192.168.0.7'), /double NAT.*private \(RFC 1918\)/)
  t.match(reachability('10.1.2.3'), /double NAT/)
  t.match(reachability('0.0.0.0'), /unspecified external address/)
  t.match(reachability('nonsense'), /no usable external address/)
})

t.test('this machine\'s default gateway, if it has one, with our address on its interface', async t => {
  const gw = await defaultGateway() // reads /proc/net/route and the interface list: sends nothing
  if (gw === null) { t.pass('no default IPv4 route here (or not Linux)'); return }
  t.match(gw.gateway, /^\d+\.\d+\.\d+\.\d+$/)
  t.ok(networkInterfaces()[gw.interface]?.some(a => a.address === gw.local), `${gw.local} is an address of ${gw.interface}`)
})
