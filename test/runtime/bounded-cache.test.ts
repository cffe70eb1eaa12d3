// src/runtime/bounded-cache.ts: at most `max` entries, the least recently used forgotten first,
// and a hit counts as a use (the caches of KeyObjects, HPKE contexts and presence keys keep the
// keys in use, not the first ones seen).
import t from 'tap'
import { BoundedCache } from '../../src/runtime/bounded-cache.js'

t.test('keeps at most max entries, forgetting the least recently used', async t => {
  const c = new BoundedCache<string, number>(3)
  c.set('a', 1); c.set('b', 2); c.set('c', 3)
  t.equal(c.get('a'), 1, 'a hit makes a the most recent')
  c.set('d', 4)
  t.equal(c.size, 3)
  t.equal(c.get('b'), undefined, 'b, the least recently used, is gone')
  t.same(['a', 'c', 'd'].map(k => c.get(k)), [1, 3, 4])
  c.set('c', 30)
  t.equal(c.size, 3, 'setting a held key replaces it')
  t.equal(c.get('c'), 30)
})

t.test('getOrSet computes a value once while it is kept', async t => {
  const c = new BoundedCache<number, string>(2)
  let made = 0
  const make = (k: number) => () => { made++; return `v${k}` }
  t.equal(c.getOrSet(1, make(1)), 'v1')
  t.equal(c.getOrSet(1, make(1)), 'v1')
  t.equal(made, 1)
  c.getOrSet(2, make(2)); c.getOrSet(3, make(3))
  t.equal(c.getOrSet(1, make(1)), 'v1', 'forgotten, made again')
  t.equal(made, 4)
  c.delete(1)
  t.equal(c.get(1), undefined)
  c.clear()
  t.equal(c.size, 0)
})

t.test('a size that is not a positive integer is refused', async t => {
  t.throws(() => new BoundedCache(0), /max must be a positive integer/)
  t.throws(() => new BoundedCache(1.5), /max must be a positive integer/)
})
