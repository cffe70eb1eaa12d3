// sourceNetworkOf (src/io/address.ts): the unit the responder bounds half-open handshakes by
// (proto-spec/session.md §6.1): an IPv4 /24, an IPv6 /64, one key per network whatever the spelling.
import t from 'tap'
import { sourceNetworkOf } from '../../src/io/address.js'

t.test('IPv4 /24 and IPv6 /64, spelling-independent; IPv4-mapped counts as IPv4', async t => {
  t.equal(sourceNetworkOf('127.0.3.1'), '127.0.3/24')
  t.equal(sourceNetworkOf('127.0.3.254'), sourceNetworkOf('127.0.3.1'), 'same /24')
  t.not(sourceNetworkOf('127.0.4.1'), sourceNetworkOf('127.0.3.1'), 'another /24')
  t.equal(sourceNetworkOf('::ffff:127.0.3.9'), '127.0.3/24', 'IPv4-mapped IPv6 is its IPv4 /24')
  t.equal(sourceNetworkOf('2001:db8:1:2:3:4:5:6'), '20010db800010002/64')
  t.equal(sourceNetworkOf('2001:DB8:1:2::ffff'), sourceNetworkOf('2001:db8:1:2:3:4:5:6'), 'same /64, other spelling')
  t.not(sourceNetworkOf('2001:db8:1:3::1'), sourceNetworkOf('2001:db8:1:2::1'), 'another /64')
  t.equal(sourceNetworkOf('not-an-ip'), 'not-an-ip', 'no IP literal: itself')
})
