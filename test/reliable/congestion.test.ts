import t from 'tap'
import { NewReno } from '../../src/transport/reliable/congestion.js'

const MSS = 1200

t.test('RFC 9002 §7.2: initial window is min(10 MSS, max(14720, 2 MSS))', async t => {
  t.equal(new NewReno(MSS, 1e9).cwnd, 12_000)
  t.equal(new NewReno(1500, 1e9).cwnd, 14_720)
  t.equal(new NewReno(9000, 1e9).cwnd, 18_000)
})

t.test('slow start grows by the bytes acked, doubling per round trip', async t => {
  const cc = new NewReno(MSS, 1e9)
  t.ok(cc.inSlowStart)
  for (let i = 0; i < 10; i++) cc.onAck(MSS, i, true) // one full window acked
  t.equal(cc.cwnd, 24_000)
})

t.test('a loss halves the window once per round trip; recovery blocks growth', async t => {
  const cc = new NewReno(MSS, 1e9)
  for (let i = 0; i < 10; i++) cc.onAck(MSS, i, true)
  t.ok(cc.onLoss(15, 100), 'a new congestion event')
  t.equal(cc.cwnd, 12_000)
  t.equal(cc.ssthresh, 12_000)
  t.notOk(cc.onLoss(50, 110), 'packet sent before recovery began: same event')
  t.equal(cc.cwnd, 12_000)
  cc.onAck(MSS, 99, true)
  t.equal(cc.cwnd, 12_000, 'no growth for packets sent before recovery')
  cc.onAck(MSS, 101, true)
  t.equal(cc.cwnd, 12_000 + MSS * MSS / 12_000, 'congestion avoidance: + MSS*acked/cwnd')
  t.ok(cc.onLoss(120, 200), 'a loss sent after recovery began is a new event')
})

t.test('the window never drops below 2 MSS on loss', async t => {
  const cc = new NewReno(MSS, 1e9)
  for (let i = 0; i < 20; i++) cc.onLoss(i * 10 + 5, i * 10 + 6)
  t.equal(cc.cwnd, 2 * MSS)
  t.notOk(cc.canSend(2 * MSS))
  t.ok(cc.canSend(2 * MSS - 1))
})

t.test('RFC 5681 §3.1: a timeout resets cwnd to 1 MSS and sets ssthresh from the flight once', async t => {
  const cc = new NewReno(MSS, 1e9)
  cc.onTimeout(30_000, true, 10)
  t.equal(cc.cwnd, MSS)
  t.equal(cc.ssthresh, 15_000)
  cc.onTimeout(1_000, false, 20)
  t.equal(cc.ssthresh, 15_000, 'a repeated timeout keeps ssthresh')
  cc.onTimeout(1_000, true, 30)
  t.equal(cc.ssthresh, 2 * MSS, 'ssthresh is at least 2 MSS')
  cc.onAck(MSS, 31, true)
  t.equal(cc.cwnd, 2 * MSS, 'slow start again after the timeout')
})

t.test('an application-limited sender does not grow its window; growth is capped', async t => {
  const cc = new NewReno(MSS, 20_000)
  for (let i = 0; i < 10; i++) cc.onAck(MSS, i, false)
  t.equal(cc.cwnd, 12_000)
  for (let i = 0; i < 100; i++) cc.onAck(MSS, i, true)
  t.equal(cc.cwnd, 20_000)
})
