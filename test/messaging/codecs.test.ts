// Frames on a link (messaging.md §2), outbox payloads (§4.1), receipts batching and typing (§7).
import t from 'tap'
import { SimClock } from '../../src/sim/clock.js'
import { simScheduler } from '../../src/sim/io.js'
import { decodeFrame, encodeEnvelopeFrame, encodePrekeyBundleFrame, encodePrekeyNoneFrame, encodePrekeyRequestFrame, FrameType, PrekeyNone } from '../../src/messaging/frames.js'
import { BUNDLE_BYTES } from '../../src/pqxdh/index.js'
import { decodeOutboxPayload, encodeOutboxPayload } from '../../src/messaging/outbox-codec.js'
import { ReceiptBatcher, TypingTracker } from '../../src/messaging/signals.js'
import { PayloadType } from '../../src/wire/constants.js'
import { reached, StatusWaiters } from '../../src/messaging/waiters.js'

t.test('frames: one type byte and an envelope; junk is null, never thrown', async t => {
  const env = new Uint8Array([1, 2, 3])
  const f = encodeEnvelopeFrame(env)
  t.same([...f], [FrameType.ENVELOPE, 1, 2, 3])
  t.same(decodeFrame(f), { type: FrameType.ENVELOPE, envelope: env })
  t.equal(decodeFrame(new Uint8Array([])), null)
  t.equal(decodeFrame(new Uint8Array([FrameType.ENVELOPE])), null, 'no envelope')
  t.equal(decodeFrame(new Uint8Array([0x7f, 1, 2])), null, 'unknown type')
})

t.test('prekey frames (pqxdh.md §8): a one-byte request, a bundle of exactly its size, a one-byte refusal; anything else is null', async t => {
  t.same([...encodePrekeyRequestFrame()], [FrameType.PREKEY_REQUEST, 2], 'we ask as a node that opens envelope v2')
  t.same(decodeFrame(encodePrekeyRequestFrame()), { type: FrameType.PREKEY_REQUEST, wants: 2 })
  t.same(decodeFrame(Uint8Array.of(FrameType.PREKEY_REQUEST, 1)), { type: FrameType.PREKEY_REQUEST, wants: 1 }, "an older node's request")
  t.equal(decodeFrame(Uint8Array.of(FrameType.PREKEY_REQUEST, 3)), null, 'a request version we do not know')
  t.equal(decodeFrame(Uint8Array.of(FrameType.PREKEY_REQUEST, 1, 0)), null, 'a longer request')
  const bundle = new Uint8Array(BUNDLE_BYTES).fill(9)
  const f = encodePrekeyBundleFrame(bundle)
  t.equal(f[0], FrameType.PREKEY_BUNDLE)
  t.same(decodeFrame(f), { type: FrameType.PREKEY_BUNDLE, bundle })
  t.equal(decodeFrame(f.subarray(0, f.length - 1)), null, 'a truncated bundle')
  t.equal(decodeFrame(new Uint8Array([...f, 0])), null, 'a bundle with a byte more')
  // messaging.md §2: "no bundle for you", and why, in one byte
  t.same([...encodePrekeyNoneFrame(PrekeyNone.NOT_A_CONTACT)], [0x12, 0x01], 'not a contact')
  t.same([...encodePrekeyNoneFrame(PrekeyNone.NO_PREKEYS)], [0x12, 0x02], 'keeps no prekeys')
  t.same(decodeFrame(Uint8Array.of(0x12, 0x01)), { type: FrameType.PREKEY_NONE, reason: PrekeyNone.NOT_A_CONTACT })
  t.same(decodeFrame(Uint8Array.of(0x12, 0x02)), { type: FrameType.PREKEY_NONE, reason: PrekeyNone.NO_PREKEYS })
  t.equal(decodeFrame(Uint8Array.of(0x12, 0x03)), null, 'a reason we do not know')
  t.equal(decodeFrame(Uint8Array.of(0x12, 0x01, 0x00)), null, 'a longer answer')
})

t.test('outbox payloads round-trip; damaged ones decode to null', async t => {
  const bytes = encodeOutboxPayload(PayloadType.TEXT, { text: 'hé' }, 1_700_000_000_000, 'receipt')
  t.same(decodeOutboxPayload(bytes), { payload: { type: PayloadType.TEXT, payload: { text: 'hé' } }, timestamp: 1_700_000_000_000, ack: 'receipt' })
  const ids = [new Uint8Array(16).fill(7)]
  const r = decodeOutboxPayload(encodeOutboxPayload(PayloadType.READ_RECEIPT, { ids }, 5, 'transport'))
  t.equal(r?.ack, 'transport')
  t.same(r?.payload, { type: PayloadType.READ_RECEIPT, payload: { ids } })
  t.equal(decodeOutboxPayload(new Uint8Array([0xc1])), null)
  t.equal(decodeOutboxPayload(bytes.subarray(0, bytes.length - 3)), null)
  t.throws(() => encodeOutboxPayload(PayloadType.TEXT, { text: '' }, 5, 'receipt'), { code: 'WIRE_ENCODE' }, 'an empty TEXT is refused at the source')
})

t.test('receipts are gathered per peer and kind, in envelopes of at most RECEIPT_MAX_IDS', async t => {
  const b = new ReceiptBatcher()
  t.ok(b.empty)
  b.add('bob', 'delivered', Array.from({ length: 300 }, (_, i) => `d${i}`))
  b.add('bob', 'delivered', ['d0'])
  b.add('bob', 'read', ['r1'])
  b.add('eve', 'delivered', ['e1'])
  const out = b.take()
  t.same(out.map(x => [x.peer, x.kind, x.ids.length]), [['bob', 'delivered', 256], ['bob', 'delivered', 44], ['bob', 'read', 1], ['eve', 'delivered', 1]])
  t.ok(b.empty)
})

t.test('typing lapses without a refresh', async t => {
  const tt = new TypingTracker(6000)
  t.ok(tt.set('bob', true, 0))
  t.notOk(tt.set('bob', true, 1000), 'a refresh is not a change')
  t.equal(tt.nextDeadline, 7000)
  t.same(tt.expire(6999), [])
  t.same(tt.expire(7000), ['bob'])
  t.notOk(tt.isTyping('bob'))
  t.notOk(tt.set('bob', false, 8000))
  t.equal(tt.nextDeadline, Infinity)
})

t.test('status waits', async t => {
  t.ok(reached('read', 'delivered'))
  t.notOk(reached('sent', 'delivered'))
  t.notOk(reached('received', 'sent'), 'an inbound status never satisfies an outbound wait')
  const clock = new SimClock(0)
  const w = new StatusWaiters(simScheduler(clock))
  const p = w.wait('a', 'delivered', 10_000)
  w.changed('a', 'sent')
  w.changed('a', 'read')
  t.equal(await p, 'read')
  const timedOut = w.wait('b', 'read', 5)
  clock.advance(4)
  w.changed('b', 'sent')
  clock.advance(1)
  t.equal(await timedOut, null, 'times out with null after 5 ms of the scheduler\'s time')
  const q = w.wait('c', 'read', 10_000)
  w.close()
  t.equal(await q, null, 'closed: null')
})
