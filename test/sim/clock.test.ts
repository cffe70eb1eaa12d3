import t from 'tap'
import { SimClock } from '../../src/sim/clock.js'

t.test('events run in time order, ties in scheduling order', async t => {
  const c = new SimClock()
  const seen: string[] = []
  c.schedule(30, () => seen.push('c30'))
  c.schedule(10, () => seen.push('a10'))
  c.schedule(10, () => seen.push('b10'))
  c.after(20, () => seen.push('d20'))
  t.equal(c.run(), 4)
  t.same(seen, ['a10', 'b10', 'd20', 'c30'])
  t.equal(c.now, 30)
})

t.test('cancelled events do not run; past times run now', async t => {
  const c = new SimClock(100)
  let ran = 0
  const tm = c.schedule(150, () => ran++)
  c.cancel(tm)
  c.cancel(null)
  c.schedule(50, () => { ran += 10; t.equal(c.now, 100, 'clamped to now') })
  c.run()
  t.equal(ran, 10)
})

t.test('run stops at until, maxEvents and done; advance moves time', async t => {
  const c = new SimClock()
  let n = 0
  const tick = (): void => { n++; c.after(10, tick) }
  c.after(10, tick)
  c.run({ until: 55 })
  t.equal(n, 5)
  t.equal(c.now, 55, 'clock left at until')
  t.equal(c.run({ maxEvents: 3 }), 3)
  t.equal(n, 8)
  c.run({ done: () => n >= 12 })
  t.equal(n, 12)
  const before = c.now
  c.advance(100)
  t.equal(c.now, before + 100)
  t.equal(n, 22)
  t.ok(c.fired >= 22)
  t.ok(c.pending >= 1)
})

t.test('events scheduled from an event at the same time run in order', async t => {
  const c = new SimClock()
  const seen: number[] = []
  c.schedule(5, () => { seen.push(1); c.schedule(5, () => seen.push(3)) })
  c.schedule(5, () => seen.push(2))
  c.run()
  t.same(seen, [1, 2, 3])
})
