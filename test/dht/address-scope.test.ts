// Which record addresses a reader dials (dht.md §5.3, src/dht/address-scope.ts, on the scopes of
// src/io/address.ts), and the networks a node counts as its own (src/node/dht.ts localNetworks).
import t from 'tap'
import { networkInterfaces } from 'node:os'
import { dialable, privateBlock } from '../../src/dht/address-scope.js'
import { localNetworks } from '../../src/node/dht.js'
import { hostScope, inPrefix, parseIp } from '../../src/io/address.js'

t.test('scopes of the special-purpose ranges (RFC 6890)', async t => {
  const cases: Array<[string, string | null]> = [
    ['0.1.2.3', 'unspecified'], ['127.0.0.1', 'loopback'], ['169.254.1.1', 'link-local'], ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'], ['254.1.2.3', 'reserved'], ['10.9.9.9', 'private'], ['172.31.0.1', 'private'], ['172.32.0.1', 'public'],
    ['192.168.0.1', 'private'], ['100.64.0.1', 'private'], ['100.128.0.1', 'public'], ['8.8.8.8', 'public'],
    ['::', 'unspecified'], ['::1', 'loopback'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['fec0::1', 'public'],
    ['ff02::1', 'multicast'], ['fc00::1', 'private'], ['fdff::1', 'private'], ['2001:db8::1', 'public'],
    ['::ffff:127.0.0.1', 'loopback'], ['example.com', null]
  ]
  for (const [host, want] of cases) t.equal(hostScope(host), want, host)
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
  t.notOk(dialable('240.0.0.1', lan), 'class E (RFC 1112 §4): reserved, never dialled')
  t.notOk(dialable('255.255.255.255', lan))
  t.ok(inPrefix(parseIp('172.20.1.1')!, [172, 16], 12))
  t.notOk(inPrefix(parseIp('172.32.1.1')!, [172, 16], 12))
})

t.test('localNetworks: the private blocks of our own addresses (a routed private network spans subnets)', async t => {
  const block = (ip: string, bits: number): { ip: Uint8Array, bits: number } => ({ ip: parseIp(ip)!, bits })
  t.same(localNetworks({ host: '10.7.3.1' }), [block('10.0.0.0', 8)], 'bound to 10.7.3.1: all of 10/8, so 10.2.0.2 on another routed subnet is dialable')
  t.same(localNetworks({ host: '172.20.3.1' }), [block('172.16.0.0', 12)])
  t.same(localNetworks({ host: '192.168.5.5' }), [block('192.168.0.0', 16)])
  t.same(localNetworks({ host: 'fd12::5' }), [block('fc00::', 7)])
  t.same(localNetworks({ host: '127.0.0.1' }), [], 'loopback is no private network (a loopback node dials anything anyway)')
  t.same(localNetworks({ host: '203.0.113.5' }), [], 'a node on a public address dials no private ones')
  const wild = localNetworks({ host: '0.0.0.0' })
  const own = Object.values(networkInterfaces()).flat().filter(i => i !== undefined && !i.internal).map(i => i!.address)
  for (const a of own) {
    if (privateBlock(a) !== null) t.ok(wild.some(n => inPrefix(parseIp(a)!, n.ip, n.bits)), `the wildcard covers ${a}`)
  }
  t.equal(new Set(wild.map(n => `${Buffer.from(n.ip).toString('hex')}/${n.bits}`)).size, wild.length, 'each block once')
})
