import t from 'tap'
import { RangeSet } from '../../src/transport/reliable/ranges.js'
import { createRng } from '../../src/sim/rng.js'

// Compare RangeSet against a plain Set<number> over random operations.
t.test('matches a naive set under random adds, removeBelow and missing', async t => {
  const rng = createRng(3)
  let mismatches = 0
  for (let round = 0; round < 200; round++) {
    const rs = new RangeSet()
    const model = new Set<number>()
    for (let op = 0; op < 40; op++) {
      const s = rng.int(200)
      const e = s + rng.int(20)
      if (rng.chance(0.8)) {
        rs.add(s, e)
        for (let x = s; x < e; x++) model.add(x)
      } else {
        rs.removeBelow(s)
        for (const x of [...model]) if (x < s) model.delete(x)
      }
      // ranges are sorted, disjoint, non-adjacent, non-empty
      const r = rs.ranges
      for (let i = 0; i < r.length; i++) {
        if (r[i]!.start >= r[i]!.end || (i > 0 && r[i - 1]!.end >= r[i]!.start)) mismatches++
      }
      for (let x = 0; x < 230; x++) if (rs.has(x) !== model.has(x)) mismatches++
      const q0 = rng.int(220)
      const q1 = q0 + rng.int(30)
      const miss = rs.missing(q0, q1).flatMap(m => Array.from({ length: m.end - m.start }, (_, k) => m.start + k))
      const want = Array.from({ length: q1 - q0 }, (_, k) => q0 + k).filter(x => !model.has(x))
      if (miss.join() !== want.join()) mismatches++
    }
  }
  t.equal(mismatches, 0)
})

t.test('first, last, shift, keepHighest and clear', async t => {
  const rs = new RangeSet()
  t.ok(rs.isEmpty)
  rs.add(10, 20)
  rs.add(30, 40)
  rs.add(50, 60)
  rs.add(5, 5)
  t.equal(rs.size, 3)
  t.same(rs.first, { start: 10, end: 20 })
  t.same(rs.last, { start: 50, end: 60 })
  rs.add(20, 30)
  t.same(rs.ranges, [{ start: 10, end: 40 }, { start: 50, end: 60 }], 'touching ranges merge')
  rs.keepHighest(1)
  t.same(rs.ranges, [{ start: 50, end: 60 }])
  t.same(rs.shift(), { start: 50, end: 60 })
  rs.add(1, 2)
  rs.clear()
  t.ok(rs.isEmpty)
})
