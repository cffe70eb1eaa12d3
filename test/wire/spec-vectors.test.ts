// The test vectors of proto-spec/wire.md §8, read from the spec itself: every packet type of §4
// encodes to exactly the documented bytes and decodes to exactly the documented fields, and the
// field-by-field dumps spell the same bytes.
import t from 'tap'
import { decodePacketResult, encodePacket, versionNegotiationReply, type Packet } from '../../src/wire/packet.js'
import { computeCookie } from '../../src/wire/cookie.js'
import { CipherState, parseSuite } from '../../src/crypto/noise/index.js'
import { PacketType } from '../../src/wire/constants.js'
import { specVectors, specDumps, fromHex, toHex } from '../helpers/spec-vectors.js'
import {
  wireVectorPackets, COOKIE_SECRET, COOKIE_SOURCE, INITIATOR_INDEX, TRANSPORT_KEY, TRANSPORT_PLAINTEXT, DATA_COUNTER, CLOSE_COUNTER
} from '../helpers/wire-vector-inputs.js'

const vectors = specVectors('wire.md')
const dumps = specDumps('wire.md')
const packets = wireVectorPackets()

/** Byte fields of a decoded packet are views into the datagram: compare them as plain copies. */
function plain (p: Packet): unknown {
  return JSON.parse(JSON.stringify(p, (_k, v: unknown) =>
    v instanceof Uint8Array ? toHex(v) : typeof v === 'bigint' ? `${v}n` : v))
}

t.test('wire.md §8 has one vector for every packet type of §4, and a dump of each', async t => {
  t.same([...vectors.keys()].sort(), Object.keys(packets).sort())
  t.same([...dumps.keys()].sort(), Object.keys(packets).sort())
  const kinds = new Set(Object.values(packets).map(p => p.kind))
  t.same([...kinds].sort(), ['cookie-reply', 'dht', 'handshake-final', 'handshake-initiation', 'handshake-response',
    'session-close', 'transport-data', 'version-negotiation'])
})

for (const [name, want] of Object.entries(packets)) {
  t.test(`${name}: encoder, decoder and dump agree with the spec`, async t => {
    const hex = vectors.get(name) ?? ''
    t.equal(toHex(encodePacket(want)), hex, 'encodes to the documented bytes')
    const got = decodePacketResult(fromHex(hex))
    t.ok(got.ok, 'decodes')
    if (got.ok) t.same(plain(got.packet), plain(want), 'to the documented fields')
    t.equal(dumps.get(name), hex, 'the field-by-field dump spells the same bytes')
  })
}

t.test('the computed fields are what the text says they are', async t => {
  t.equal(toHex(computeCookie(COOKIE_SECRET, COOKIE_SOURCE.address, COOKIE_SOURCE.port, INITIATOR_INDEX)),
    vectors.get('cookie-reply')?.slice(12), 'the cookie is §4.4 construction for the stated source')
  // §8.5: a version-2 initiation gets exactly this answer
  const v2 = fromHex(vectors.get('handshake-initiation') ?? '')
  v2[0] = 0xc2
  t.equal(toHex(versionNegotiationReply(v2) ?? new Uint8Array(0)), vectors.get('version-negotiation'))
  // §8.6, §8.7: a Noise CipherState with the stated key opens them at their counters
  const suite = parseSuite('25519_ChaChaPoly_BLAKE2b', 'wire.md §8')
  for (const [name, counter, plaintext] of [['transport-data', DATA_COUNTER, TRANSPORT_PLAINTEXT], ['session-close', CLOSE_COUNTER, new Uint8Array(0)]] as const) {
    const bytes = fromHex(vectors.get(name) ?? '')
    const cs = new CipherState(suite.cipher, TRANSPORT_KEY.slice())
    cs.setNonce(counter)
    t.same(cs.tryDecryptWithAd(bytes.subarray(0, 14), bytes.subarray(14)), plaintext, `${name} opens under the stated key`)
    const retyped = bytes.slice()
    retyped[1] = retyped[1] === PacketType.SESSION_CLOSE ? PacketType.TRANSPORT_DATA : PacketType.SESSION_CLOSE
    cs.setNonce(counter)
    t.equal(cs.tryDecryptWithAd(retyped.subarray(0, 14), retyped.subarray(14)), null, `${name} with its type byte changed does not`)
  }
})
