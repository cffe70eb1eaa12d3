import t from 'tap'
import { createRng } from '../../src/sim/rng.js'

t.test('same seed gives the same stream, different seeds differ', async t => {
  const a = createRng(42)
  const b = createRng(42)
  const c = createRng(43)
  const sa = Array.from({ length: 1000 }, () => a.u32())
  const sb = Array.from({ length: 1000 }, () => b.u32())
  const sc = Array.from({ length: 1000 }, () => c.u32())
  t.same(sa, sb)
  t.not(sa.join(), sc.join())
})

t.test('floats are uniform in [0, 1) and ints cover their range', async t => {
  const r = createRng(7)
  const n = 100_000
  let sum = 0
  let min = 1
  let max = 0
  const buckets = new Array<number>(10).fill(0)
  for (let i = 0; i < n; i++) {
    const f = r.float()
    sum += f
    min = Math.min(min, f)
    max = Math.max(max, f)
    buckets[r.int(10)]!++
  }
  t.ok(min >= 0 && max < 1, 'in range')
  t.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`)
  t.ok(buckets.every(b => Math.abs(b - n / 10) < n / 100), `buckets ${buckets.join(',')}`)
})

t.test('chance matches its probability; 0 never fires', async t => {
  const r = createRng(9)
  let hits = 0
  for (let i = 0; i < 50_000; i++) if (r.chance(0.2)) hits++
  t.ok(Math.abs(hits / 50_000 - 0.2) < 0.01, `rate ${hits / 50_000}`)
  let zero = 0
  for (let i = 0; i < 1000; i++) if (r.chance(0)) zero++
  t.equal(zero, 0)
})

t.test('bytes and fork are deterministic; a fork does not disturb its parent afterwards', async t => {
  const a = createRng(5)
  const b = createRng(5)
  t.same(a.bytes(13), b.bytes(13))
  const fa = a.fork()
  const fb = b.fork()
  t.same([fa.u32(), fa.u32()], [fb.u32(), fb.u32()])
  t.equal(a.u32(), b.u32())
  const r = createRng(1).range(5, 6)
  t.ok(r >= 5 && r < 6)
})
