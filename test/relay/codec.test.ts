// The relay's control messages and proofs against proto-spec/relay.md §9 (read from the document
// itself, and written out here too), and the decoder's refusals (wrong length, padding, enums).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { encodeRelayMessage, decodeRelayMessage, isRelayControl, type RelayMessage } from '../../src/relay/codec.js'
import { bindKeyOf, bindProof, releaseProof } from '../../src/relay/keys.js'
import { RelayType } from '../../src/relay/constants.js'
import { classifyDatagram } from '../../src/wire/packet.js'

const seq = (n: number, start: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const Z38 = '00'.repeat(38)
const requestId = seq(8, 0xa0)
const allocationId = seq(8, 0xb0)
const cookie = seq(16, 0xc0)
const bindKey = bindKeyOf(seq(32, 0))
const proof = bindProof(bindKey, allocationId, 40001, cookie)
const release = releaseProof(bindKey, allocationId, 40001)

t.equal(hex(bindKey), '7db1972f234de5dce9a44dcc5d058347f77cdd0b5cf6067ffe9ee2b270fbf605', 'bind key')
t.equal(hex(proof), '38bb082108de064bfa99d1a6e51904f37b06014d9a1b1eaa7467c2eec6b259b2', 'bind proof')
t.equal(hex(release), '2d790a2d135d2670c233b20e03f0a143167eaa053e028dac96ac482a3bdcb39b', 'release proof')

const vectors: Array<[string, RelayMessage, string]> = [
  ['ALLOCATE', { type: RelayType.ALLOCATE, requestId, cookie, bindKey },
    'c150a0a1a2a3a4a5a6a7c0c1c2c3c4c5c6c7c8c9cacbcccdcecf7db1972f234de5dce9a44dcc5d058347f77cdd0b5cf6067ffe9ee2b270fbf605' + Z38],
  ['ALLOCATE_CHALLENGE', { type: RelayType.ALLOCATE_CHALLENGE, requestId, cookie }, 'c151a0a1a2a3a4a5a6a7c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'],
  ['ALLOCATE_OK', { type: RelayType.ALLOCATE_OK, requestId, allocationId, portA: 40000, portB: 40001, idleTimeoutS: 60 },
    'c152a0a1a2a3a4a5a6a7b0b1b2b3b4b5b6b79c409c41003c'],
  ['ALLOCATE_REFUSED', { type: RelayType.ALLOCATE_REFUSED, requestId, reason: 1 }, 'c153a0a1a2a3a4a5a6a701'],
  ['BIND', { type: RelayType.BIND, allocationId, cookie, proof },
    'c154b0b1b2b3b4b5b6b7c0c1c2c3c4c5c6c7c8c9cacbcccdcecf38bb082108de064bfa99d1a6e51904f37b06014d9a1b1eaa7467c2eec6b259b2' + Z38],
  ['BIND_CHALLENGE', { type: RelayType.BIND_CHALLENGE, allocationId, cookie }, 'c155b0b1b2b3b4b5b6b7c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'],
  ['BOUND', { type: RelayType.BOUND, allocationId, state: 1 }, 'c156b0b1b2b3b4b5b6b701'],
  ['RELEASE', { type: RelayType.RELEASE, allocationId, cookie: null, proof: release },
    'c157b0b1b2b3b4b5b6b7' + '00'.repeat(16) + '2d790a2d135d2670c233b20e03f0a143167eaa053e028dac96ac482a3bdcb39b' + Z38]
]

for (const [name, msg, bytes] of vectors) {
  t.test(name, async t => {
    const enc = encodeRelayMessage(msg)
    t.equal(hex(enc), bytes, 'encodes to the vector')
    t.same(decodeRelayMessage(enc), msg, 'decodes back')
    t.ok(isRelayControl(enc))
    t.equal(classifyDatagram(enc), 'dmess', 'a dmess datagram (wire.md §2.1), never STUN')
    t.equal(decodeRelayMessage(enc.subarray(0, enc.length - 1)), null, 'one byte short: dropped')
    t.equal(decodeRelayMessage(Uint8Array.of(...enc, 0)), null, 'one byte long: dropped')
  })
}

/** §9's vectors as name → hex: "+ N zero bytes" and "+ hex" pieces joined, parentheses dropped. */
function specVectors (): Map<string, string> {
  const text = readFileSync(new URL('../../proto-spec/relay.md', import.meta.url), 'utf8')
  const block = text.slice(text.indexOf('## 9. Test vectors'))
  const out = new Map<string, string>()
  let name = ''
  for (const line of block.split('\n')) {
    if (!line.startsWith('    ')) continue
    const body = line.replace(/\(.*\)/, '').trim()
    const m = /^([A-Z_]+|[a-z]+ [a-z]+)\s+(.*)$/.exec(body)
    if (m !== null) name = m[1]!
    const rest = m === null ? body : m[2]!
    const hexText = rest.split('+').map(p => p.trim()).map(p => {
      const zeros = /^(\d+) zero bytes$/.exec(p)
      return zeros === null ? p : '00'.repeat(Number(zeros[1]))
    }).join('')
    out.set(name, (out.get(name) ?? '') + hexText)
  }
  return out
}

t.test('the vectors in proto-spec/relay.md §9 are what the code makes', async t => {
  const spec = specVectors()
  t.equal(spec.get('bind key'), hex(bindKey))
  t.equal(spec.get('bind proof'), hex(proof))
  t.equal(spec.get('release proof'), hex(release))
  for (const [name, msg] of vectors) t.equal(spec.get(name), hex(encodeRelayMessage(msg)), name)
})

t.test('non-zero padding, bad enums and equal ports are refused', async t => {
  const alloc = encodeRelayMessage(vectors[0]![1])
  alloc[95] = 1
  t.equal(decodeRelayMessage(alloc), null)
  const refused = encodeRelayMessage({ type: RelayType.ALLOCATE_REFUSED, requestId, reason: 1 })
  refused[10] = 9
  t.equal(decodeRelayMessage(refused), null)
  const bound = encodeRelayMessage({ type: RelayType.BOUND, allocationId, state: 1 })
  bound[10] = 2
  t.equal(decodeRelayMessage(bound), null)
  t.equal(decodeRelayMessage(encodeRelayMessage({ type: RelayType.ALLOCATE_OK, requestId, allocationId, portA: 5, portB: 5, idleTimeoutS: 1 })), null)
  t.equal(decodeRelayMessage(Uint8Array.of(0xc1, 0x58)), null, 'a reserved type')
  t.equal(decodeRelayMessage(Uint8Array.of(0xc2, 0x56, ...allocationId, 1)), null, 'another wire version')
})
