// The NAT kind from reflexive addresses (src/stun/classify.ts), and server picking. Pure.
import t from 'tap'
import { classifyNat, pickServers } from '../../src/stun/classify.js'

const s1 = { host: '198.51.100.1', port: 3478 }
const s2 = { host: '203.0.113.5', port: 3478 }
const local = { port: 5000, ips: ['192.168.1.2', '127.0.0.1', '2001:db8::5'] }
const seen = (host: string, port: number, server = s1): { server: typeof s1, reflexive: { host: string, port: number } } => ({ server, reflexive: { host, port } })

t.test('the four kinds', async t => {
  t.equal(classifyNat(local, []), 'unknown', 'no answers')
  t.equal(classifyNat(local, [seen('203.0.113.1', 5000)]), 'unknown', 'one answer, not our address: cone or symmetric, cannot tell')
  t.equal(classifyNat(local, [seen('192.168.1.2', 5000)]), 'open', 'one answer with our own address')
  t.equal(classifyNat(local, [seen('203.0.113.1', 5000), seen('203.0.113.1', 5000, s2)]), 'endpoint-independent')
  t.equal(classifyNat(local, [seen('203.0.113.1', 5000), seen('203.0.113.1', 40001, s2)]), 'address-dependent', 'ports differ')
  t.equal(classifyNat(local, [seen('203.0.113.1', 5000), seen('203.0.113.2', 5000, s2)]), 'address-dependent', 'addresses differ (pooling)')
  t.equal(classifyNat(local, [seen('192.168.1.2', 5000), seen('192.168.1.2', 5000, s2)]), 'open')
  t.equal(classifyNat(local, [seen('192.168.1.2', 5000), seen('2001:db8:0::5', 5000, s2)]), 'open', 'a multi-homed host seen at two of its own addresses')
  t.equal(classifyNat(local, [seen('192.168.1.2', 5001), seen('192.168.1.2', 5001, s2)]), 'endpoint-independent', 'our IP but another port: a NAT on the host (or a port-translating firewall)')
  t.equal(classifyNat(local, [seen('::ffff:192.168.1.2', 5000), seen('192.168.1.2', 5000, s2)]), 'open', 'an IPv4-mapped spelling is the same address')
})

t.test('servers are picked at distinct IPs, in order', async t => {
  t.same(pickServers([s1, { ...s1, port: 1 }, s2, { host: 'not-an-ip', port: 1 }, { host: '192.0.2.9', port: 2 }], 2), [s1, s2])
  t.same(pickServers([s1, { host: '::ffff:198.51.100.1', port: 9 }], 3), [s1], 'one IP spelled two ways is one IP')
})
