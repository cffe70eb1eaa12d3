import t from 'tap'
import { SendStream } from '../../src/transport/reliable/send-stream.js'
import { createRng } from '../../src/sim/rng.js'

/** The framed stream bytes [start, end) of `messages` (u32 length ‖ bytes each, reliable.md §3). */
function framed (messages: Uint8Array[]): Uint8Array {
  const out: number[] = []
  for (const m of messages) out.push(m.length >>> 24, (m.length >>> 16) & 0xff, (m.length >>> 8) & 0xff, m.length & 0xff, ...m)
  return Uint8Array.from(out)
}

function message (rng: ReturnType<typeof createRng>, len: number): Uint8Array {
  return Uint8Array.from({ length: len }, () => rng.int(256))
}

// Request/response: every message is acknowledged before the next is written, so each one
// lands in a recycled slab (docs/performance.md §2). The bytes sent must still be the new message.
t.test('messages written after everything was acknowledged read back intact (recycled slab)', async t => {
  const rng = createRng(11)
  const s = new SendStream(1 << 20)
  const all: Uint8Array[] = []
  let bad = 0
  for (let i = 0; i < 200; i++) {
    const m = message(rng, 1 + rng.int(3000))
    all.push(m)
    t.ok(s.write(m))
    const r = s.next(1 << 20, Infinity)
    if (r === null) { bad++; continue }
    const got = new Uint8Array(r.end - r.start)
    s.copyTo(r.start, got)
    const want = framed(all).subarray(r.start, r.end)
    if (Buffer.compare(got, want) !== 0) bad++
    s.onCumulativeAck(r.end) // the peer has it all
  }
  t.equal(bad, 0)
  t.equal(s.buffered, 0)
})

t.test('a slab in use is never recycled: unacknowledged bytes survive later writes', async t => {
  const rng = createRng(12)
  const s = new SendStream(1 << 20)
  const msgs = Array.from({ length: 60 }, () => message(rng, 1 + rng.int(900)))
  const stream = framed(msgs)
  let acked = 0
  for (const m of msgs) {
    t.ok(s.write(m))
    // acknowledge only part of what was written: the slab holding the rest stays live
    acked = Math.max(acked, Math.floor(s.writeOffset * 0.6))
    s.onCumulativeAck(acked)
  }
  const rest = new Uint8Array(stream.length - acked)
  s.copyTo(acked, rest)
  t.same(rest, stream.subarray(acked))
})
