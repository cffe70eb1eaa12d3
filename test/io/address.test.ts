// networkKeyOf (src/io/address.ts) on the bare hosts a session's remote address carries: the unit
// the responder bounds half-open handshakes by (proto-spec/session.md §6.1) and the request book
// counts quotas by (messaging.md §3.2): an IPv4 /24, an IPv6 /64, one key per network whatever the
// spelling. (address-scope.test.ts covers the host:port forms the DHT passes.) And "host:port" as
// users type it (--peer, --bootstrap, the config's bootstrap list) and logs and JSON show it.
import t from 'tap'
import { formatHostPort, formatHostPortOrNull, hostOf, hostPortFromText, networkKeyOf, parseHostPort, portOf, splitHostPort } from '../../src/io/address.js'

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

t.test('parseHostPort and formatHostPort', async t => {
  t.same(parseHostPort('127.0.0.1:47474'), { host: '127.0.0.1', port: 47474 })
  t.same(parseHostPort('boot.example.org:1'), { host: 'boot.example.org', port: 1 })
  t.same(parseHostPort('[::1]:9000'), { host: '::1', port: 9000 })
  t.same(parseHostPort(' 10.0.0.1:5 '), { host: '10.0.0.1', port: 5 }, 'surrounding blanks are not part of it')
  t.equal(formatHostPort({ host: '::1', port: 9000 }), '[::1]:9000')
  t.equal(formatHostPort({ host: '10.0.0.1', port: 5 }), '10.0.0.1:5')
  t.equal(formatHostPortOrNull(null), null, 'no address is null in JSON')
  t.equal(formatHostPortOrNull({ host: 'fd00::1', port: 7 }), '[fd00::1]:7')
  for (const bad of ['localhost', ':80', 'host:0', 'host:65536', 'host:http', '::1:80', 'a b:1', '']) {
    t.throws(() => parseHostPort(bad, '--peer'), { code: 'BAD_ARGUMENT', message: /--peer must be host:port/ }, JSON.stringify(bad))
    t.equal(hostPortFromText(bad), null, `${JSON.stringify(bad)} is no host:port`)
  }
  for (const a of [{ host: '10.0.0.1', port: 5 }, { host: '2001:db8::1', port: 65535 }, { host: 'boot.example.org', port: 1 }]) {
    t.same(splitHostPort(formatHostPort(a)), a, `splitHostPort undoes formatHostPort for ${a.host}`)
  }
})

t.test('hostOf and portOf: the parts of "host:port", and of a bare name', async t => {
  t.equal(hostOf('10.0.0.1:7000'), '10.0.0.1')
  t.equal(hostOf('[2001:db8::1]:7'), '[2001:db8::1]', 'an IPv6 host keeps its brackets: canonical form')
  t.equal(hostOf('server'), 'server', 'a bare name (the simulator\'s public realm) is all host')
  t.equal(portOf('10.0.0.1:7000'), 7000)
  t.equal(portOf('server'), null)
  t.equal(portOf('10.0.0.1:0'), null, 'port 0 is no UDP port to send to')
  t.equal(portOf('10.0.0.1:70000'), null)
  t.equal(portOf('10.0.0.1:http'), null)
})
