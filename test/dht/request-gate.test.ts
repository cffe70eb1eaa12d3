// dht.md §8.4: requests are limited per source IP, per source network (/24, /64) and by a global
// answer budget whose light share keeps answering a node that asks little while a flood lasts.
import t from 'tap'
import { RequestGate } from '../../src/dht/defences.js'

const count = (verdicts: string[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const v of verdicts) out[v] = (out[v] ?? 0) + 1
  return out
}

t.test('the addresses of one /24 or one /64 share a network bucket', async t => {
  const gate = new RequestGate()
  const v4: string[] = []
  for (let i = 1; i <= 100; i++) for (let j = 0; j < 10; j++) v4.push(gate.admit(`198.51.100.${i}:4000`, 0))
  t.same(count(v4), { ok: 400, 'rate-limited': 600 }, '100 IPs × 10 in one /24: the network burst (400) is answered')
  t.equal(gate.admit('198.51.101.1:4000', 0), 'ok', 'the next /24 is not affected')
  const v6: string[] = []
  for (let i = 1; i <= 1000; i++) v6.push(gate.admit(`[2001:db8:1:2::${i.toString(16)}]:4000`, 0))
  t.same(count(v6), { ok: 400, 'rate-limited': 600 }, '1000 addresses of one /64 count as one network')
  t.equal(gate.admit('[2001:db8:1:3::1]:4000', 0), 'ok', 'another /64 is another network')
})

t.test('the global budget bounds answers whatever the number of sources', async t => {
  const gate = new RequestGate({ answerBudget: { ratePerSecond: 1000, burst: 2000 } })
  let ok = 0
  let over = 0
  // 5,000 sources in distinct /24s, each asking 20 times a second for 10 s
  for (let ms = 0; ms < 10_000; ms += 50) {
    for (let s = 0; s < 5000; s++) {
      const v = gate.admit(`10.${s >> 8}.${s & 255}.1:4000`, ms)
      if (v === 'ok') ok++
      else if (v === 'over-budget') over++
    }
  }
  t.comment(JSON.stringify({ metric: 'dht_gate_answers_10s', value: ok, unit: 'answers', demand: 5000 * 20 * 10 }))
  t.ok(ok <= 2000 + 1000 * 10, `${ok} answers in 10 s ≤ burst + 10 s × rate`)
  t.ok(ok >= 1000 * 9, 'and the budget is used')
  t.ok(over > 0, 'the rest dropped as over-budget')
})

t.test('a light source is still answered while heavy sources exhaust the budget', async t => {
  const gate = new RequestGate({ answerBudget: { ratePerSecond: 1000, burst: 2000 } })
  let lightOk = 0
  let flooderOk = 0
  let lightAsked = 0
  for (let ms = 0; ms < 5000; ms += 10) {
    // 600 flooders in distinct /24s, 10 requests each per 10 ms (1,000/s each: far over their rate;
    // what passes their own limits, 600 × 50/s, is 40 times the shared budget)
    for (let s = 0; s < 600; s++) for (let k = 0; k < 10; k++) if (gate.admit(`172.${16 + (s >> 8)}.${s & 255}.1:4000`, ms) === 'ok') flooderOk++
    if (ms >= 1000 && ms % 500 === 0) { // once the flood runs, a request every 500 ms from a quiet node
      lightAsked++
      if (gate.admit('203.0.113.50:4000', ms) === 'ok') lightOk++
    }
  }
  t.comment(JSON.stringify({ metric: 'dht_gate_light_answered', value: lightOk, of: lightAsked, unit: 'requests' }))
  t.equal(lightOk, lightAsked, 'every request of the quiet node is answered')
  t.ok(flooderOk <= 2000 + 1000 * 5, `the flooders got ${flooderOk} answers in 5 s: within the budget`)
})
