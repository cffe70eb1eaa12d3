// Which record addresses a reader dials (dht.md §5.3, src/dht/address-scope.ts), and the networks
// a node counts as its own (src/node/dht.ts localNetworks).
import t from 'tap'
import { networkInterfaces } from 'node:os'
import { addressScope, dialable, inPrefix } from '../../src/dht/address-scope.js'
import { localNetworks } from '../../src/node/dht.js'
import { parseIp } from '../../src/io/address.js'

t.test('scopes of the special-purpose ranges (RFC 6890)', async t => {
  const cases: Array<[string, string | null]> = [
    ['0.1.2.3', 'unspecified'], ['127.0.0.1', 'loopback'], ['169.254.1.1', 'link-local'], ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'], ['10.9.9.9', 'private'], ['172.31.0.1', 'private'], ['172.32.0.1', 'public'],
    ['192.168.0.1', 'private'], ['100.64.0.1', 'private'], ['100.128.0.1', 'public'], ['8.8.8.8', 'public'],
    ['::', 'unspecified'], ['::1', 'loopback'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['fec0::1', 'public'],
    ['ff02::1', 'multicast'], ['fc00::1', 'private'], ['fdff::1', 'private'], ['2001:db8::1', 'public'],
    ['::ffff:127.0.0.1', 'loopback'], ['example.com', null]
  ]
  for (const [host, want] of cases) t.equal(addressScope(host), want, host)
})

t.test('dialable: public always, private only on our networks, the rest never (unless on loopback)', async t => {
  const lan = { loopback: false, localNetworks: [{ ip: parseIp('192.168.1.7')!, bits: 24 }] }
  t.ok(dialable('192.168.1.20', lan))
  t.notOk(dialable('192.168.2.20', lan), 'another /24: another LAN')
  t.notOk(dialable('10.0.0.1', lan))
  t.ok(dialable('203.0.113.9', lan))
  t.notOk(dialable('127.0.0.1', lan))
  t.ok(dialable('127.0.0.1', { loopback: true, localNetworks: [] }))
  t.notOk(dialable('not-an-ip', { loopback: true, localNetworks: [] }))
  t.ok(inPrefix(parseIp('172.20.1.1')!, [172, 16], 12))
  t.notOk(inPrefix(parseIp('172.32.1.1')!, [172, 16], 12))
})

t.test('localNetworks: the interfaces\' prefixes on the wildcard; a host on no interface stands for its private block', async t => {
  const wild = localNetworks({ host: '0.0.0.0' })
  const expected = Object.values(networkInterfaces()).flat().filter(i => i !== undefined && !i.internal && i.cidr !== null).length
  t.equal(wild.length, expected)
  for (const n of wild) t.ok(n.bits >= 0 && n.bits <= 128)
  t.same(localNetworks({ host: '10.7.3.1' }), [{ ip: parseIp('10.7.3.1'), bits: 8 }], 'a simulated host: its RFC 1918 block')
  t.same(localNetworks({ host: '172.20.3.1' }).map(n => n.bits), [12])
  t.same(localNetworks({ host: '127.0.0.1' }), [], 'loopback is no network of ours (a loopback node dials anything anyway)')
  t.same(localNetworks({ host: '203.0.113.5' }), [], 'a public host not on this machine: none')
})
