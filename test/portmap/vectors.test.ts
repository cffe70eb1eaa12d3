// proto-spec/portmap.md §7: the NAT-PMP and PCP vectors, read from the document itself, byte for
// byte against the encoders and field by field through the decoders.
import t from 'tap'
import { counting, fromHex, specDumps, toHex } from '../helpers/spec-vectors.js'
import { decodeNatPmpResponse, encodeNatPmpAddressRequest, encodeNatPmpMapRequest, NatPmpResult } from '../../src/portmap/natpmp.js'
import { decodePcpResponse, encodePcpAnnounceRequest, encodePcpMapRequest, PcpResult } from '../../src/portmap/pcp.js'

const dumps = specDumps('portmap.md')
const dump = (name: string): string => {
  const hex = dumps.get(name)
  if (hex === undefined) throw new Error(`proto-spec/portmap.md has no dump ${name}`)
  return hex
}
const NONCE = counting(1, 12)

t.test('NAT-PMP requests are the bytes of proto-spec/portmap.md §7', async t => {
  t.equal(toHex(encodeNatPmpAddressRequest()), dump('natpmp-address-request'))
  t.equal(toHex(encodeNatPmpMapRequest({ internalPort: 47474, externalPort: 47474, lifetimeS: 7200 })), dump('natpmp-map-request'))
  t.equal(toHex(encodeNatPmpMapRequest({ internalPort: 47474, externalPort: 0, lifetimeS: 0 })), dump('natpmp-delete-request'))
})

t.test('NAT-PMP responses decode to the fields written beside them', async t => {
  t.same(decodeNatPmpResponse(fromHex(dump('natpmp-address-response'))), { kind: 'address', op: 0, result: NatPmpResult.SUCCESS, epochS: 7200, externalAddress: '203.0.113.7' })
  t.same(decodeNatPmpResponse(fromHex(dump('natpmp-map-response'))), { kind: 'map', op: 1, result: NatPmpResult.SUCCESS, epochS: 3600, internalPort: 47474, externalPort: 50000, lifetimeS: 7200 })
  t.same(decodeNatPmpResponse(fromHex(dump('natpmp-unsupported-version'))), { kind: 'error', op: 1, result: NatPmpResult.UNSUPPORTED_VERSION, epochS: 5 })
  t.equal(decodeNatPmpResponse(fromHex(dump('natpmp-map-request'))), null, 'a request is not a response')
  t.equal(decodeNatPmpResponse(fromHex(dump('natpmp-map-response')).subarray(0, 12)), null, 'a success cut short is malformed')
})

t.test('PCP requests are the bytes of proto-spec/portmap.md §7', async t => {
  t.equal(toHex(encodePcpMapRequest({ clientAddress: '192.168.1.2', lifetimeS: 7200, nonce: NONCE, internalPort: 47474, externalPort: 47474 })), dump('pcp-map-request'))
  t.equal(toHex(encodePcpAnnounceRequest('192.168.1.2')), dump('pcp-announce-request'))
  t.equal(dump('pcp-map-request').length / 2, 60, 'a MAP request is 24 + 36 bytes')
})

t.test('PCP responses decode to the fields written beside them', async t => {
  t.same(decodePcpResponse(fromHex(dump('pcp-map-response'))), {
    kind: 'map', opcode: 1, result: PcpResult.SUCCESS, lifetimeS: 7200, epochS: 3600, nonce: NONCE, protocol: 17, internalPort: 47474, externalPort: 50000, externalAddress: '203.0.113.7'
  })
  t.same(decodePcpResponse(fromHex(dump('pcp-map-refused'))), {
    kind: 'map', opcode: 1, result: PcpResult.NOT_AUTHORIZED, lifetimeS: 30, epochS: 3600, nonce: NONCE, protocol: 17, internalPort: 47474, externalPort: 0, externalAddress: '::'
  })
  t.same(decodePcpResponse(fromHex(dump('pcp-announce-response'))), { kind: 'announce', opcode: 0, result: PcpResult.SUCCESS, lifetimeS: 0, epochS: 42 })
  t.equal(decodePcpResponse(fromHex(dump('pcp-map-request'))), null, 'a request (R=0) is not a response')
  t.equal(decodePcpResponse(fromHex(dump('pcp-map-response')).subarray(0, 58)), null, 'not a multiple of 4')
  t.equal(decodePcpResponse(fromHex(dump('pcp-map-response')).subarray(0, 24)), null, 'a successful MAP without its payload')
  t.equal(decodePcpResponse(fromHex(dump('natpmp-map-response'))), null, 'NAT-PMP is not PCP')
})

t.test('encoders refuse what cannot be sent', async t => {
  t.throws(() => encodeNatPmpMapRequest({ internalPort: 0, externalPort: 0, lifetimeS: 1 }), RangeError)
  t.throws(() => encodeNatPmpMapRequest({ internalPort: 1, externalPort: 70000, lifetimeS: 1 }), RangeError)
  t.throws(() => encodeNatPmpMapRequest({ internalPort: 1, externalPort: 0, lifetimeS: -1 }), RangeError)
  t.throws(() => encodePcpMapRequest({ clientAddress: 'nope', lifetimeS: 1, nonce: NONCE, internalPort: 1, externalPort: 0 }), RangeError)
  t.throws(() => encodePcpMapRequest({ clientAddress: '10.0.0.1', lifetimeS: 1, nonce: NONCE.subarray(1), internalPort: 1, externalPort: 0 }), RangeError)
  t.equal(toHex(encodePcpMapRequest({ clientAddress: 'fd00::2', lifetimeS: 1, nonce: NONCE, internalPort: 1, externalPort: 0 }).subarray(40, 60)), '0001000000000000000000000000000000000000', 'an IPv6 client suggests :: (no preference)')
})
