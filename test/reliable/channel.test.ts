import t from 'tap'
import { ReliableChannel, decodePacket, encodePacket, type PollResult } from '../../src/transport/reliable/index.js'
import { FrameType } from '../../src/transport/reliable/constants.js'
import { createRng } from '../../src/sim/rng.js'

const msg = (n: number, fill = n & 0xff): Uint8Array => new Uint8Array(n).fill(fill)
const frameTypes = (d: Uint8Array): number[] => decodePacket(d)?.frames.map(f => f.type) ?? []

/** Poll `from` at `now` and hand its datagrams to `to`, except those `drop` picks. */
function hop (from: ReliableChannel, to: ReliableChannel, now: number, drop: (i: number) => boolean = () => false): PollResult {
  const r = from.poll(now)
  r.datagrams.forEach((d, i) => { if (!drop(i)) to.receive(d, now) })
  return r
}

/** Run both ways with 1 ms steps until a is flushed; returns what b delivered. */
function settle (a: ReliableChannel, b: ReliableChannel, start = 0, limitMs = 60_000): { delivered: Uint8Array[], now: number } {
  const delivered: Uint8Array[] = []
  let now = start
  while (!a.flushed && now < start + limitMs) {
    hop(a, b, now)
    delivered.push(...hop(b, a, now).delivered)
    now += 1
  }
  delivered.push(...b.poll(now).delivered)
  return { delivered, now }
}

t.test('one message crosses, is acked after the delayed-ack timer, and yields an RTT sample', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  t.ok(a.send(new Uint8Array([1, 2, 3])))
  const out = a.poll(0)
  t.equal(out.datagrams.length, 1)
  t.same(frameTypes(out.datagrams[0]!), [FrameType.DATA])
  t.equal(out.nextTimeoutAt, 1000, 'RFC 6298 §2.1 initial RTO armed')
  b.receive(out.datagrams[0]!, 5)
  const first = b.poll(5)
  t.same(first.delivered, [new Uint8Array([1, 2, 3])])
  t.equal(first.datagrams.length, 1, 'the first ACK goes at once: it opens the window beyond the 64 KiB the peer assumes')
  a.receive(first.datagrams[0]!, 10)
  t.ok(a.flushed)
  t.equal(a.stats.srttMs, 10)
  t.equal(a.stats.peerLimit, 7 + 1024 * 1024, 'limit = bytes taken by the application + window')
  const idle = a.poll(10)
  t.same(idle.datagrams.map(frameTypes), [[FrameType.ACK]], "a's own window update")
  for (const d of idle.datagrams) b.receive(d, 10)
  t.equal(idle.nextTimeoutAt, null, 'nothing outstanding: no timer')

  a.send(new Uint8Array([4]))
  b.receive(a.poll(20).datagrams[0]!, 25)
  const r = b.poll(25)
  t.same(r.delivered, [new Uint8Array([4])])
  t.equal(r.datagrams.length, 0, 'a single packet: the ACK waits')
  t.equal(r.nextTimeoutAt, 35, 'for max_ack_delay (10 ms)')
  const ack = b.poll(35)
  t.same(ack.datagrams.map(frameTypes), [[FrameType.ACK]])
  a.receive(ack.datagrams[0]!, 40)
  t.ok(a.flushed)
  t.equal(a.stats.latestRttMs, 20, 'raw sample 20 ms')
  t.equal(a.stats.srttMs, 7 / 8 * 10 + 1 / 8 * 10, 'the 10 ms the peer held the ACK is subtracted')
})

t.test('every second packet is acked at once', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  a.send(msg(2000))
  const out = a.poll(0)
  t.equal(out.datagrams.length, 2)
  for (const d of out.datagrams) b.receive(d, 1)
  const r = b.poll(1)
  t.equal(r.datagrams.length, 1)
  t.same(frameTypes(r.datagrams[0]!), [FrameType.ACK])
})

t.test('a 1 MiB message is fragmented into MTU-sized datagrams and reassembled', async t => {
  const a = new ReliableChannel({ now: 0, mtu: 1200 })
  const b = new ReliableChannel({ now: 0 })
  const big = createRng(1).bytes(1024 * 1024)
  t.ok(a.send(big))
  let maxSize = 0
  let count = 0
  const delivered: Uint8Array[] = []
  for (let now = 0; !a.flushed && now < 10_000; now++) {
    const r = a.poll(now)
    for (const d of r.datagrams) { maxSize = Math.max(maxSize, d.length); count++; b.receive(d, now) }
    delivered.push(...hop(b, a, now).delivered)
  }
  t.ok(maxSize <= 1200, `largest datagram ${maxSize}`)
  t.ok(count >= 1024 * 1024 / 1200, `${count} datagrams`)
  t.equal(delivered.length, 1)
  t.same(delivered[0], big)
})

t.test('small messages share datagrams; empty messages are delivered', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  for (let i = 0; i < 50; i++) a.send(msg(i % 5 === 0 ? 0 : 10, i))
  const out = a.poll(0)
  t.equal(out.datagrams.length, 1, '50 small messages in one datagram')
  b.receive(out.datagrams[0]!, 0)
  const got = b.poll(0).delivered
  t.same(got.map(m => m.length), Array.from({ length: 50 }, (_, i) => i % 5 === 0 ? 0 : 10))
  t.same(got.map(m => m[0] ?? -1), Array.from({ length: 50 }, (_, i) => i % 5 === 0 ? -1 : i))
})

t.test('bulk messages wait outside the stream: a message sent later without bulk goes first; each kind keeps its order and is counted as acknowledged', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  // slow start lets ~10 packets out of the first poll: 40 bulk messages of 4 KiB are ~160 KiB
  for (let i = 0; i < 40; i++) t.ok(a.send(msg(4096, i), true))
  t.equal(a.sendBufferedBytes, 40 * 4100, 'held bulk bytes count in the send buffer (backpressure as before)')
  t.equal(a.heldBytes, 40 * 4100)
  t.equal(a.idle, false)
  const first = a.poll(0)
  for (const d of first.datagrams) b.receive(d, 0)
  t.ok(a.heldBytes > 0 && a.heldBytes < 40 * 4100, 'what the window let out entered the stream; the rest is held')
  t.ok(a.unsentBytes < 4100, 'in the stream and unsent: at most the rest of one bulk message')
  const heldBefore = a.heldBytes
  a.send(msg(10, 0xee)) // chat
  a.send(msg(11, 0xef))
  const { delivered } = settle(a, b, 1)
  const got = [...b.poll(0).delivered, ...delivered]
  const all = [...got]
  const chat = all.findIndex(m => m.length === 10)
  t.equal(all.length, 42, 'everything delivered once')
  t.same(all.filter(m => m.length === 4096).map(m => m[0]), Array.from({ length: 40 }, (_, i) => i), 'bulk messages in the order sent')
  t.equal(all[chat + 1]?.length, 11, 'the two chat messages in the order sent')
  t.equal(all.length - chat - 2, heldBefore / 4100, 'the chat messages went ahead of every bulk message still held when they were sent')
  t.same(a.messagesWritten, { normal: 2, bulk: 40 })
  t.same(a.messagesAcked, { normal: 2, bulk: 40 }, 'every message of each kind acknowledged')
  t.equal(a.flushed, true)
  t.equal(a.heldBytes, 0)
})

t.test('send reports backpressure when the buffer is full, and recovers after acks', async t => {
  const a = new ReliableChannel({ now: 0, sendBufferBytes: 100_000, maxMessageBytes: 40_000 })
  const b = new ReliableChannel({ now: 0 })
  let accepted = 0
  while (a.send(msg(30_000))) accepted++
  t.equal(accepted, 3, '3 × (30000 + 4) fit in 100000')
  t.ok(a.sendBufferAvailable < 30_004)
  const { delivered } = settle(a, b)
  t.equal(delivered.length, 3)
  t.equal(a.sendBufferAvailable, 100_000)
  t.ok(a.send(msg(30_000)))
})

t.test('local misuse throws typed errors', async t => {
  t.throws(() => new ReliableChannel({ now: 0, mtu: 100 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new ReliableChannel({ now: 0, maxMessageBytes: 10, sendBufferBytes: 5 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new ReliableChannel({ now: 0, recvWindowBytes: 1000 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new ReliableChannel({ now: 0, minRtoMs: 0 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new ReliableChannel({ now: NaN }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new ReliableChannel({ now: 0, keepaliveMs: -1 }), { code: 'BAD_ARGUMENT' })
  const a = new ReliableChannel({ now: 0, maxMessageBytes: 1000 })
  t.throws(() => a.send(msg(1001)), { code: 'MESSAGE_TOO_LARGE' })
})

t.test('garbage is dropped and counted, never thrown, and the channel still works', async t => {
  // Integrity is the session AEAD's job; here we only check that junk cannot crash or wedge us.
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  const rng = createRng(77)
  a.send(msg(5000, 1))
  const real = a.poll(0).datagrams
  let rejected = 0
  let threw = 0
  for (let i = 0; i < 3000; i++) {
    const cut = real[rng.int(real.length)]!
    const d = rng.chance(0.7) ? rng.bytes(rng.int(1300)) : cut.slice(0, 7 + rng.int(8)) // random, or cut inside the first frame header
    try { if (!b.receive(d, 0)) rejected++ } catch { threw++ }
  }
  t.equal(threw, 0)
  t.equal(b.stats.droppedMalformed, rejected)
  t.ok(rejected > 2900, `${rejected} of 3000 rejected`)
  t.equal(b.failure, null, 'junk does not fail the channel')
  for (const d of real) b.receive(d, 1)
  const { delivered } = settle(a, b, 1)
  t.same(delivered, [msg(5000, 1)], 'the real message still arrives')
})

t.test('protocol violations are dropped whole and never acked', async t => {
  const b = new ReliableChannel({ now: 0, recvWindowBytes: 65536 })
  const ack = (over: object): Uint8Array => encodePacket({ pn: 0, frames: [{ type: FrameType.ACK, ackDelayUs: 0, cumOffset: 0, maxOffset: 0, ranges: [{ lo: 0, hi: 0 }], ...over }] })
  t.notOk(b.receive(ack({}), 0), 'acks a packet never sent')
  t.notOk(b.receive(ack({ ranges: [{ lo: 0, hi: 0 }], cumOffset: 10 }), 0), 'claims bytes never sent')
  const beyond = encodePacket({ pn: 0, frames: [{ type: FrameType.DATA, offset: 65536, payload: msg(1) }] })
  t.notOk(b.receive(beyond, 0), 'data past the advertised window')
  t.notOk(b.receive(encodePacket({ pn: 0, frames: [] }), 0), 'no frames')
  t.equal(b.stats.droppedMalformed, 4)
  t.same(b.poll(100).datagrams, [], 'nothing to acknowledge')
})

t.test('a peer announcing an oversized message fails the channel', async t => {
  const b = new ReliableChannel({ now: 0, maxMessageBytes: 1000 })
  const payload = new Uint8Array(8)
  new DataView(payload.buffer).setUint32(0, 1001)
  t.ok(b.receive(encodePacket({ pn: 0, frames: [{ type: FrameType.DATA, offset: 0, payload }] }), 0))
  t.match(b.failure, /1001-byte message/)
  t.same(b.poll(1), { datagrams: [], delivered: [], nextTimeoutAt: null })
  t.notOk(b.receive(new Uint8Array(10), 2))
  t.throws(() => b.send(msg(1)), { code: 'CHANNEL_FAILED' })
})

t.test('duplicated datagrams are counted and delivered once', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  a.send(msg(10, 4))
  const [d] = a.poll(0).datagrams
  b.receive(d!, 0)
  b.receive(d!, 0)
  t.equal(b.poll(0).delivered.length, 1)
  t.equal(b.stats.duplicatePackets, 1)
})

t.test('fast retransmit: one lost packet is resent once later packets are acked, before any RTO', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  const data = createRng(2).bytes(10_000)
  a.send(data)
  const first = hop(a, b, 0, i => i === 1) // lose the 2nd of ~9 datagrams
  t.ok(first.datagrams.length >= 8)
  hop(b, a, 0) // b acks at once: the gap makes it immediate
  t.equal(a.stats.lostPackets, 1, 'declared lost by the packet threshold (3)')
  t.equal(a.stats.congestionEvents, 1)
  const again = a.poll(0)
  const lostPayload = decodePacket(first.datagrams[1]!)!.frames.reduce((n, f) => n + (f.type === FrameType.DATA ? f.payload.length : 0), 0)
  t.ok(again.datagrams.length >= 1, 'resent at once')
  t.equal(a.stats.retransmittedBytes, lostPayload, 'exactly the lost bytes are resent')
  for (const d of again.datagrams) b.receive(d, 1)
  const r = b.poll(1)
  t.same(r.delivered, [data])
  t.equal(a.stats.rtoCount, 0)
  t.equal(a.stats.cwndBytes, a.stats.ssthreshBytes, 'window halved')
})

t.test('RTO: everything lost → retransmit at RTO with backoff; cwnd back to 1 MSS', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  a.send(msg(100, 9))
  t.equal(a.poll(0).nextTimeoutAt, 1000)
  const r1 = a.poll(1000) // timer fires: resend
  t.equal(r1.datagrams.length, 1)
  t.equal(a.stats.rtoCount, 1)
  t.equal(a.stats.cwndBytes, 1200, 'loss window: one packet')
  t.equal(r1.nextTimeoutAt, 3000, 'backed off to 2 s')
  const r2 = a.poll(3000)
  t.equal(r2.nextTimeoutAt, 7000, 'and 4 s')
  b.receive(r2.datagrams[0]!, 7000)
  t.equal(hop(b, a, 7000).delivered.length, 1)
  t.ok(a.flushed)
  t.equal(a.stats.srttMs, 4000, 'sampled from the copy sent at 3000, not the original at 0: unique packet numbers keep it unambiguous')
  t.equal(a.stats.rtoMs, 4000 + 4 * 2000, 'backoff cleared by the ack; RTO = SRTT + 4 RTTVAR')
})

t.test('keepalive: a PING after the idle interval, acked by the peer', async t => {
  const a = new ReliableChannel({ now: 0, keepaliveMs: 1000 })
  const b = new ReliableChannel({ now: 0 })
  const r0 = a.poll(0)
  t.same(r0.datagrams, [])
  t.equal(r0.nextTimeoutAt, 1000)
  const r1 = a.poll(1000)
  t.same(r1.datagrams.map(frameTypes), [[FrameType.PING]])
  b.receive(r1.datagrams[0]!, 1000)
  hop(b, a, 1010)
  t.equal(a.stats.bytesInFlight, 0, 'ping acknowledged')
  t.equal(a.poll(1010).nextTimeoutAt, 2000)
})

t.test('both directions at once: acks ride on data', async t => {
  const a = new ReliableChannel({ now: 0 })
  const b = new ReliableChannel({ now: 0 })
  const got: Record<string, number> = { a: 0, b: 0 }
  for (let i = 0; i < 200; i++) { a.send(msg(700, 1)); b.send(msg(700, 2)) }
  for (let now = 0; now < 5000 && !(a.flushed && b.flushed); now++) {
    got.b! += hop(a, b, now).delivered.length
    got.a! += hop(b, a, now).delivered.length
  }
  got.a! += a.poll(5000).delivered.length
  got.b! += b.poll(5000).delivered.length
  t.same(got, { a: 200, b: 200 })
  const pure = a.stats.packetsSent
  t.ok(pure < 200 * 700 / 1100 + 40, `few ACK-only packets (${pure} sent in all)`)
})
