// The test vectors of proto-spec/reliable.md §13, read from the spec itself so the text and the
// code cannot drift apart.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodePacket, encodePacket, type Packet } from '../../src/transport/reliable/codec.js'
import { FrameType } from '../../src/transport/reliable/constants.js'

const SPEC = join(dirname(fileURLToPath(import.meta.url)), '../../proto-spec/reliable.md')

function specVectors (): Map<string, string> {
  const text = readFileSync(SPEC, 'utf8')
  const block = /<!-- vectors:begin -->\s*```\n([\s\S]*?)```\s*<!-- vectors:end -->/.exec(text)?.[1]
  if (block === undefined) throw new Error('reliable.md has no vectors block')
  return new Map(block.trim().split('\n').map(line => {
    const at = line.indexOf(': ')
    return [line.slice(0, at), line.slice(at + 2)]
  }))
}

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs)

// The frames §13 describes in prose.
const expected: Record<string, Packet> = {
  data: { pn: 1, frames: [{ type: FrameType.DATA, offset: 0, payload: bytes(0, 0, 0, 2, 0x68, 0x69) }] },
  ack: {
    pn: 7,
    frames: [{ type: FrameType.ACK, ackDelayUs: 1500, cumOffset: 1000, maxOffset: 1049576, ranges: [{ lo: 10, hi: 12 }, { lo: 5, hi: 8 }, { lo: 0, hi: 2 }] }]
  },
  blocked: { pn: 9, frames: [{ type: FrameType.BLOCKED, limit: 65536 }] },
  mixed: {
    pn: 0x0102030405,
    frames: [
      { type: FrameType.ACK, ackDelayUs: 0, cumOffset: 6, maxOffset: 65542, ranges: [{ lo: 0, hi: 3 }] },
      { type: FrameType.DATA, offset: 6, payload: bytes(0, 0, 0, 0) },
      { type: FrameType.PING }
    ]
  }
}

t.test('the spec lists exactly the vectors the test checks', async t => {
  t.same([...specVectors().keys()].sort(), Object.keys(expected).sort())
})

for (const [name, hex] of specVectors()) {
  t.test(`vector ${name}: decodes to the frames of §13 and encodes back to the same bytes`, async t => {
    const want = expected[name]
    t.ok(want, `the test knows vector ${name}`)
    const wire = new Uint8Array(Buffer.from(hex, 'hex'))
    t.same(decodePacket(wire), want)
    t.equal(Buffer.from(encodePacket(want!)).toString('hex'), hex)
  })
}
