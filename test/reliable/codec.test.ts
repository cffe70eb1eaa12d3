import t from 'tap'
import { decodePacket, encodePacket, PacketWriter, PacketDecoder, ackFrameBytes, type Packet } from '../../src/transport/reliable/codec.js'
import { FrameType, MAX_U48, MAX_ACK_RANGES, DATA_HEADER_BYTES, ACK_FIXED_BYTES } from '../../src/transport/reliable/constants.js'
import { testRng } from '../helpers/seed.js'

const sample: Packet = {
  pn: 2 ** 40 + 7,
  frames: [
    { type: FrameType.ACK, ackDelayUs: 12_345, cumOffset: 1000, maxOffset: 2 ** 33 + 5, ranges: [{ lo: 90, hi: 100 }, { lo: 50, hi: 80 }, { lo: 0, hi: 0 }] },
    { type: FrameType.DATA, offset: 2 ** 47, payload: new Uint8Array([1, 2, 3, 4, 5]) },
    { type: FrameType.BLOCKED, limit: 65536 },
    { type: FrameType.PING },
    { type: FrameType.DATA, offset: 0, payload: new Uint8Array(300).fill(7) }
  ]
}

t.test('every frame type round-trips, several to a packet', async t => {
  const bytes = encodePacket(sample)
  t.same(decodePacket(bytes), sample)
})

t.test('byte layout matches proto-spec/reliable.md §2', async t => {
  const bytes = encodePacket({ pn: 0x010203040506, frames: [{ type: FrameType.DATA, offset: 0x0a0b0c0d0e0f, payload: new Uint8Array([0xee]) }] })
  t.same([...bytes], [1, 2, 3, 4, 5, 6, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x00, 0x01, 0xee])
  const ack = encodePacket({ pn: 1, frames: [{ type: FrameType.ACK, ackDelayUs: 0x11223344, cumOffset: 5, maxOffset: 6, ranges: [{ lo: 8, hi: 10 }, { lo: 3, hi: 4 }] }] })
  t.same([...ack.subarray(6)], [
    0x02, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 6,
    0, 0, 0, 0, 0, 10, 2, 0, 0, 0, 2, // largest 10, two ranges, first covers 8..10
    0, 0, 0, 3, 0, 0, 0, 1 // gap of 3 missing (5, 6, 7), then 3..4
  ])
  t.equal(ack.length - 6, ackFrameBytes(2))
})

t.test('padding is skipped; a packet without frames is rejected', async t => {
  const w = new PacketWriter(100).begin(3)
  w.writePadding(10)
  w.writePing()
  w.writePadding(5)
  t.same(decodePacket(w.finish()), { pn: 3, frames: [{ type: FrameType.PING }] })
  t.equal(decodePacket(new Uint8Array(6)), null, 'header only')
  t.equal(decodePacket(new Uint8Array(3)), null, 'short header')
})

t.test('malformed frames are rejected', async t => {
  const hdr = [0, 0, 0, 0, 0, 1]
  const bad: Record<string, number[]> = {
    'unknown type': [...hdr, 0x7f],
    'zero-length DATA': [...hdr, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
    'DATA past 2^48': [...hdr, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 2, 1, 1],
    'DATA longer than packet': [...hdr, 0x01, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2],
    'ACK with zero ranges': [...hdr, 0x02, ...new Array(22).fill(0), 0, 0, 0, 0, 0],
    'ACK first range below zero': [...hdr, 0x02, ...new Array(16).fill(0), 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 4],
    'ACK gap of zero': [...hdr, 0x02, ...new Array(16).fill(0), 0, 0, 0, 0, 0, 9, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    'ACK range below zero': [...hdr, 0x02, ...new Array(16).fill(0), 0, 0, 0, 0, 0, 9, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9],
    'ACK too many ranges': [...hdr, 0x02, ...new Array(16).fill(0), 0, 0, 0, 0, 0, 9, MAX_ACK_RANGES + 1, 0, 0, 0, 0],
    'truncated BLOCKED': [...hdr, 0x03, 0, 0]
  }
  for (const [name, bytes] of Object.entries(bad)) t.equal(decodePacket(new Uint8Array(bytes)), null, name)
})

t.test('a truncated packet is rejected unless cut exactly between frames', async t => {
  // Frames are self-delimiting, so a cut at a frame boundary is a valid, shorter packet (the
  // session's AEAD is what rules truncation out on the wire). Any other cut must be rejected.
  const bytes = encodePacket(sample)
  const accepted: number[] = []
  let wrong = 0
  for (let n = 0; n < bytes.length; n++) {
    const p = decodePacket(bytes.subarray(0, n))
    if (p === null) continue
    accepted.push(p.frames.length)
    if (JSON.stringify(p.frames) !== JSON.stringify(sample.frames.slice(0, p.frames.length))) wrong++
  }
  t.same(accepted, [1, 2, 3, 4], 'only the four frame boundaries decode')
  t.equal(wrong, 0, 'and they decode to a prefix of the frames')
})

t.test('fuzz: thousands of random mutations never throw, and what decodes re-encodes identically', async t => {
  const rng = testRng(t, 0xfeed, 'packet mutations')
  const base = encodePacket(sample)
  let threw = 0
  let decoded = 0
  let mismatched = 0
  for (let i = 0; i < 5000; i++) {
    const m = rng.chance(0.1) ? rng.bytes(rng.int(80)) : base.slice(0, rng.chance(0.3) ? rng.int(base.length + 1) : base.length)
    for (let k = rng.int(4) + 1; k > 0 && m.length > 0; k--) m[rng.int(m.length)] = rng.u32() & 0xff
    try {
      const p = decodePacket(m)
      if (p) {
        decoded++
        // a decoded packet re-encodes to the same bytes, padding aside
        const again = decodePacket(encodePacket(p))
        if (JSON.stringify(again) !== JSON.stringify(p)) mismatched++
      }
    } catch { threw++ }
  }
  t.equal(threw, 0, 'no throws')
  t.equal(mismatched, 0, 'decode ∘ encode is stable')
  t.ok(decoded > 100, `some mutations still decode (${decoded}), so the fuzz reaches deep`)
})

// The channel's decoder reuses its objects from packet to packet (docs/performance.md §2): one
// decoder fed a stream of mutated packets of every shape must answer exactly what a fresh
// decodePacket answers for each, with no state left over from the packet before.
t.test('a reused PacketDecoder answers like decodePacket, packet after packet', async t => {
  const rng = testRng(t, 0xdec0, 'packet mutations')
  const shapes = [
    encodePacket(sample),
    encodePacket({ pn: 1, frames: [{ type: FrameType.PING }] }),
    encodePacket({ pn: 2, frames: [{ type: FrameType.ACK, ackDelayUs: 1, cumOffset: 2, maxOffset: 3, ranges: [{ lo: 5, hi: 9 }] }, { type: FrameType.DATA, offset: 4, payload: new Uint8Array([9, 9]) }] }),
    encodePacket({ pn: 3, frames: [{ type: FrameType.ACK, ackDelayUs: 0, cumOffset: 0, maxOffset: 0, ranges: Array.from({ length: MAX_ACK_RANGES }, (_, i) => ({ lo: 1000 - 3 * i, hi: 1000 - 3 * i })) }] })
  ]
  const d = new PacketDecoder()
  let differ = 0
  let decoded = 0
  for (let i = 0; i < 5000; i++) {
    const m = shapes[rng.int(shapes.length)]!.slice()
    if (rng.chance(0.5)) for (let k = rng.int(3) + 1; k > 0; k--) m[rng.int(m.length)] = rng.u32() & 0xff
    const want = decodePacket(m)
    const got = d.decode(m)
    if (got !== null) decoded++
    if (JSON.stringify(got) !== JSON.stringify(want)) differ++
  }
  t.equal(differ, 0)
  t.ok(decoded > 2000, `most packets decode (${decoded})`)
  const a = d.decode(shapes[0]!)
  t.equal(d.decode(shapes[1]!), a, 'the same packet object, reused')
  t.same(a, { pn: 1, frames: [{ type: FrameType.PING }] }, 'holding only the newest packet')
})

t.test('encoder misuse throws a BAD_ARGUMENT', async t => {
  const w = new PacketWriter(64).begin(0)
  t.throws(() => new PacketWriter(64).begin(-1), { code: 'BAD_ARGUMENT' })
  t.throws(() => new PacketWriter(64).begin(MAX_U48 + 1), { code: 'BAD_ARGUMENT' })
  t.throws(() => w.writeData(0, 0), { code: 'BAD_ARGUMENT' })
  t.throws(() => w.writeData(0, 64 - 6 - DATA_HEADER_BYTES + 1), { code: 'BAD_ARGUMENT' }, 'does not fit')
  t.throws(() => w.writeData(MAX_U48, 2), { code: 'BAD_ARGUMENT' })
  const ack = { ackDelayUs: 0, cumOffset: 0, maxOffset: 0 }
  t.throws(() => w.writeAck({ ...ack, ranges: [] }), { code: 'BAD_ARGUMENT' })
  t.throws(() => w.writeAck({ ...ack, ranges: [{ lo: 5, hi: 9 }, { lo: 2, hi: 4 }] }), { code: 'BAD_ARGUMENT' }, 'adjacent ranges')
  t.throws(() => w.writeAck({ ...ack, ranges: [{ lo: 5, hi: 4 }] }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new PacketWriter(ACK_FIXED_BYTES).begin(0).writeAck({ ...ack, ranges: [{ lo: 0, hi: 0 }] }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new PacketWriter(8).begin(0).writeBlocked(1), { code: 'BAD_ARGUMENT' })
})

t.test('ack delay is clamped to u32 microseconds', async t => {
  const p = decodePacket(encodePacket({ pn: 0, frames: [{ type: FrameType.ACK, ackDelayUs: 2 ** 40, cumOffset: 0, maxOffset: 0, ranges: [{ lo: 0, hi: 0 }] }] }))
  t.equal(p?.frames[0]?.type === FrameType.ACK && p.frames[0].ackDelayUs, 2 ** 32 - 1)
})
