// src/io/address.ts: the network a source counts in (/24, /64) and the scope of an IP (RFC 6890).
import t from 'tap'
import { networkKeyOf, ipScope, parseIp, addressScope, hostScope, isLoopbackHost } from '../../src/io/address.js'

t.test('networkKeyOf: /24 for IPv4, /64 for IPv6, from an address or a bare IP', async t => {
  t.equal(networkKeyOf('1.2.3.4:5'), '1.2.3.0/24')
  t.equal(networkKeyOf('1.2.3.200'), '1.2.3.0/24')
  t.equal(networkKeyOf('[2001:db8:1:2:3::1]:9'), '2001:db8:1:2::/64')
  t.equal(networkKeyOf('2001:db8:1:2:ffff::7'), '2001:db8:1:2::/64')
  t.equal(networkKeyOf('[::ffff:10.1.2.3]:4'), '10.1.2.0/24', 'IPv4-mapped counts as IPv4')
  t.not(networkKeyOf('2001:db8:1:3::1'), networkKeyOf('2001:db8:1:2::1'), 'another /64 is another network')
  t.equal(networkKeyOf('junk'), null)
})

t.test('ipScope: the special-purpose ranges a node must not be sent to', async t => {
  const cases: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'], ['127.0.0.5', 'loopback'], ['169.254.1.1', 'link-local'],
    ['224.0.0.251', 'multicast'], ['239.255.255.250', 'multicast'], ['255.255.255.255', 'broadcast'],
    ['10.1.1.1', 'private'], ['172.20.0.1', 'private'], ['172.32.0.1', 'public'], ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'], ['8.8.8.8', 'public'], ['::', 'unspecified'], ['::1', 'loopback'],
    ['fe80::1', 'link-local'], ['ff02::fb', 'multicast'], ['fd00::1', 'private'], ['2001:db8::1', 'public'],
    ['::ffff:127.0.0.1', 'loopback'], ['240.0.0.1', 'reserved'], ['255.255.255.254', 'reserved']
  ]
  for (const [ip, scope] of cases) t.equal(ipScope(parseIp(ip)!), scope, ip)
  t.equal(addressScope('[fe80::1]:4'), 'link-local')
  t.equal(addressScope('nonsense'), null)
})

t.test('240.0.0.0/4 is reserved, not public (RFC 1112 §4, RFC 6890 §2.2.2), bare or with a port', async t => {
  t.equal(addressScope('240.1.2.3:4'), 'reserved')
  t.equal(hostScope('240.1.2.3'), 'reserved')
  t.equal(hostScope('239.255.255.255'), 'multicast')
  t.equal(hostScope('255.255.255.255'), 'broadcast', 'the limited broadcast, listed apart, matches first')
  t.equal(hostScope('example.com'), null)
})

t.test('isLoopbackHost: 127/8, ::1 and 127/8 mapped into IPv6; a name that starts with 127. is not', async t => {
  for (const h of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) t.ok(isLoopbackHost(h), h)
  for (const h of ['127.example', '128.0.0.1', '::2', '0.0.0.0', '', '::ffff:10.0.0.1']) t.notOk(isLoopbackHost(h), h)
})
