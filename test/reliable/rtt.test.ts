import t from 'tap'
import { RttEstimator } from '../../src/transport/reliable/rtt.js'

const opts = { initialRtoMs: 1000, minRtoMs: 200, maxRtoMs: 60_000, maxAckDelayMs: 10 }

t.test('RFC 6298 §2: first sample, then smoothed updates (hand-computed)', async t => {
  const r = new RttEstimator(opts)
  t.equal(r.rto, 1000, '§2.1: 1 s before any sample')
  r.update(100, 0)
  // §2.2: SRTT = R = 100, RTTVAR = R/2 = 50, RTO = 100 + 4*50 = 300
  t.same([r.srtt, r.rttvar, r.rto], [100, 50, 300])
  r.update(200, 0)
  // §2.3: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5; RTO = 112.5 + 250
  t.same([r.srtt, r.rttvar, r.rto], [112.5, 62.5, 362.5])
  r.update(100, 0)
  // RTTVAR = 3/4*62.5 + 1/4*12.5 = 50; SRTT = 7/8*112.5 + 1/8*100 = 110.9375; RTO = 310.9375
  t.same([r.srtt, r.rttvar, r.rto], [110.9375, 50, 310.9375])
})

t.test('RTO is clamped to [minRto, maxRto]; G bounds the variance term', async t => {
  const r = new RttEstimator(opts)
  for (let i = 0; i < 50; i++) r.update(10, 0)
  t.equal(r.rto, 200, 'min RTO')
  const slow = new RttEstimator(opts)
  slow.update(50_000, 0)
  t.equal(slow.rto, 60_000, 'max RTO')
  const steady = new RttEstimator({ ...opts, minRtoMs: 0.001, initialRtoMs: 1 })
  for (let i = 0; i < 200; i++) steady.update(300, 0)
  t.ok(Math.abs(steady.rto - 301) < 1e-6, `RTO = SRTT + G when RTTVAR → 0 (${steady.rto})`)
})

t.test('RFC 6298 §5.5: exponential backoff, capped; reset on new acks', async t => {
  const r = new RttEstimator(opts)
  r.update(100, 0) // RTO 300
  r.backOff()
  t.equal(r.rto, 600)
  r.backOff()
  t.equal(r.rto, 1200)
  for (let i = 0; i < 20; i++) r.backOff()
  t.equal(r.rto, 60_000, 'capped at max RTO')
  t.ok(r.backoff < 10, 'backoff stops growing once capped')
  r.resetBackoff()
  t.equal(r.rto, 300)
})

t.test('RFC 9002 §5.3: ack delay is subtracted, capped, and never below min_rtt', async t => {
  const r = new RttEstimator(opts)
  r.update(100, 0)
  r.update(130, 20) // delay capped to 10 → adjusted 120
  t.equal(r.srtt, 7 / 8 * 100 + 1 / 8 * 120)
  const s = new RttEstimator(opts)
  s.update(100, 0)
  s.update(105, 8) // 105 - 8 = 97 < min_rtt 100 → use 105
  t.equal(s.srtt, 7 / 8 * 100 + 1 / 8 * 105)
  t.equal(s.minRtt, 100)
  t.equal(s.latest, 105)
  s.update(-1, 0)
  t.equal(s.latest, 105, 'a negative sample is ignored')
})

t.test('RFC 9002 §6.1.2: loss delay is 9/8 of max(SRTT, latest)', async t => {
  const r = new RttEstimator(opts)
  t.equal(r.lossDelay, 9 / 8 * 1000, 'before samples: from the initial RTO')
  r.update(80, 0)
  r.update(160, 0)
  t.equal(r.lossDelay, 9 / 8 * 160)
})
