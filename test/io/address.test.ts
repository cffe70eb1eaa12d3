// networkKeyOf (src/io/address.ts) on the bare hosts a session's remote address carries: the unit
// the responder bounds half-open handshakes by (proto-spec/session.md §6.1) and the request book
// counts quotas by (messaging.md §3.2): an IPv4 /24, an IPv6 /64, one key per network whatever the
// spelling. (address-scope.test.ts covers the host:port forms the DHT passes.)
import t from 'tap'
import { networkKeyOf } from '../../src/io/address.js'

t.test('IPv4 /24 and IPv6 /64, spelling-independent; IPv4-mapped counts as IPv4', async t => {
  t.equal(networkKeyOf('127.0.3.1'), '127.0.3.0/24')
  t.equal(networkKeyOf('127.0.3.254'), networkKeyOf('127.0.3.1'), 'same /24')
  t.not(networkKeyOf('127.0.4.1'), networkKeyOf('127.0.3.1'), 'another /24')
  t.equal(networkKeyOf('::ffff:127.0.3.9'), '127.0.3.0/24', 'IPv4-mapped IPv6 is its IPv4 /24')
  t.equal(networkKeyOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(networkKeyOf('2001:DB8:1:2::ffff'), networkKeyOf('2001:db8:1:2:3:4:5:6'), 'same /64, other spelling')
  t.not(networkKeyOf('2001:db8:1:3::1'), networkKeyOf('2001:db8:1:2::1'), 'another /64')
  t.equal(networkKeyOf('fe80::1%eth0'), null, 'a scoped literal is no plain IP: callers count it by itself')
  t.equal(networkKeyOf('not-an-ip'), null)
})
