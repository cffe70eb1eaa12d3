// File messages (proto-spec/files.md §3): the vectors of §3.5 read from the document, round trips,
// and decoding random and mutated bytes never throws.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { CancelReason, decodeFileMessage, encodeFileMessage, FileKind, type FileMessage } from '../../src/files/codec.js'
import { decodeFrame, encodeFileFrame, FrameType } from '../../src/messaging/frames.js'
import { HashTree, leafHash, rootOf, verifyChunk } from '../../src/files/merkle.js'
import { testRng } from '../helpers/seed.js'

const spec = readFileSync(new URL('../../proto-spec/files.md', import.meta.url), 'utf8')
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const vector = (name: string): string => {
  const m = new RegExp(`^${name}_HEX = ([0-9a-f]+)$`, 'm').exec(spec)
  if (m === null) throw new Error(`${name}_HEX not in files.md`)
  return m[1] as string
}
const id = Uint8Array.from({ length: 16 }, (_, i) => i)
const fileOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, j) => j & 0xff)
const frame = (m: FileMessage): string => toHex(encodeFileFrame(encodeFileMessage(m)))

t.test('the vectors of files.md §3.5, byte for byte, and back', async t => {
  const small = fileOf(8197)
  const tree = new HashTree([0, 1, 2].map(i => leafHash(small.subarray(i * 4096, (i + 1) * 4096))))
  t.equal(toHex(tree.root), 'c2a31a57ee0799ec4ebbba57f46f660ac62230abb4afc19b6d21cc930a2af9b0')
  const cases: Array<[string, FileMessage]> = [
    ['OFFER', { kind: FileKind.OFFER, id, size: 163940, chunkSize: 32768, root: rootOf(fileOf(163940), 32768), name: 'report.pdf', mediaType: 'application/pdf' }],
    ['ACCEPT', { kind: FileKind.ACCEPT, id }],
    ['DONE', { kind: FileKind.DONE, id }],
    ['CANCEL', { kind: FileKind.CANCEL, id, reason: CancelReason.DISK_FULL }],
    ['REQUEST', { kind: FileKind.REQUEST, id, ranges: [{ first: 0, count: 3 }, { first: 5, count: 1 }] }],
    ['DATA', { kind: FileKind.DATA, id, index: 2, proof: tree.proof(2), data: small.subarray(8192) }]
  ]
  for (const [name, m] of cases) {
    const hex = vector(name)
    t.equal(frame(m), hex, `${name} encodes to the document's bytes`)
    const f = decodeFrame(Buffer.from(hex, 'hex'))
    if (f?.type !== FrameType.FILE) { t.fail(`${name}: not a FILE frame`); continue }
    const back = decodeFileMessage(f.body)
    t.ok(back !== null, `${name} decodes`)
    t.equal(frame(back as FileMessage), hex, `${name} re-encodes to the same bytes`)
  }
  const data = decodeFileMessage(Buffer.from(vector('DATA'), 'hex').subarray(1))
  if (data?.kind !== FileKind.DATA) throw new Error('DATA')
  t.ok(verifyChunk(tree.root, 3, data.index, data.data, data.proof), 'the DATA vector verifies against its root')
})

t.test('malformed bodies decode to null, never throw', async t => {
  const rng = testRng(t, 0xf11ec)
  const good = ['OFFER', 'ACCEPT', 'DONE', 'CANCEL', 'REQUEST', 'DATA'].map(n => Buffer.from(vector(n), 'hex').subarray(1))
  const bad = [
    Uint8Array.of(0x02), // no id
    Uint8Array.of(0x09, ...id), // unknown kind
    Uint8Array.of(0x02, ...id, 0), // ACCEPT with a body
    Uint8Array.of(0x05, ...id, 0), // REQUEST of no ranges
    Uint8Array.of(0x05, ...id, 1, 0, 0, 0, 0, 0, 0, 0, 0) // a range of zero chunks
  ]
  for (const b of bad) t.equal(decodeFileMessage(b), null, `rejects ${toHex(b)}`)
  const offer = good[0] as Uint8Array
  const odd = offer.slice(); odd[17 + 8 + 2] = 0x12 // chunk size 0x00128000: not a power of two
  t.equal(decodeFileMessage(odd), null, 'an odd chunk size is refused')
  const tooLarge = offer.slice(); tooLarge[17] = 0xff // size ≥ 2^56
  t.equal(decodeFileMessage(tooLarge), null, 'a size beyond 2^53 − 1 is refused')
  t.equal(decodeFileMessage(offer.subarray(0, offer.length - 1)), null, 'a truncated offer is refused')
  let decoded = 0
  for (let i = 0; i < 5000; i++) {
    const base = (good[rng.int(good.length)] as Uint8Array).slice()
    const n = 1 + rng.int(4)
    for (let k = 0; k < n; k++) base[rng.int(base.length)] = rng.int(256)
    const cut = rng.float() < 0.3 ? base.subarray(0, rng.int(base.length + 1)) : base
    const m = decodeFileMessage(cut)
    if (m !== null) {
      decoded++
      if (toHex(encodeFileMessage(m)) !== toHex(cut)) t.fail(`decoded ${toHex(cut)} does not re-encode to itself`)
    }
  }
  t.ok(decoded > 0, `${decoded} mutated bodies still decoded, each canonical`)
})
