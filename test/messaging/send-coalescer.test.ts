// The sends of one event-loop turn, joined per contact (src/messaging/send-coalescer.ts): one
// store call per contact in call order, each caller its own results; another turn is another
// call; a run longer than one sendMany may carry is split; a failed store call fails its callers only.
import t from 'tap'
import { MAX_JOINED_TEXTS, SendCoalescer } from '../../src/messaging/send-coalescer.js'

interface Call { peer: string, texts: readonly string[], ids: readonly string[] }

function recorder (fail?: (c: Call) => boolean): { calls: Call[], coalescer: SendCoalescer<string> } {
  const calls: Call[] = []
  const coalescer = new SendCoalescer<string>(async (peer, texts, ids) => {
    const c = { peer, texts, ids }
    calls.push(c)
    if (fail?.(c) === true) throw new Error('store failed')
    return ids.map(id => `stored ${id}`)
  })
  return { calls, coalescer }
}

t.test('one turn: one store call per contact, in call order; each caller gets its own results', async t => {
  const { calls, coalescer } = recorder()
  const a1 = coalescer.send('alice', ['a1'], ['i1'])
  const b1 = coalescer.send('bob', ['b1', 'b2'], ['i2', 'i3'])
  const a2 = coalescer.send('alice', ['a2', 'a3'], ['i4', 'i5'])
  t.same(await a1, ['stored i1'])
  t.same(await b1, ['stored i2', 'stored i3'])
  t.same(await a2, ['stored i4', 'stored i5'])
  t.same(calls, [
    { peer: 'alice', texts: ['a1', 'a2', 'a3'], ids: ['i1', 'i4', 'i5'] },
    { peer: 'bob', texts: ['b1', 'b2'], ids: ['i2', 'i3'] }
  ])
})

t.test('sends of another turn are another store call', async t => {
  const { calls, coalescer } = recorder()
  await coalescer.send('alice', ['x'], ['i1'])
  await coalescer.send('alice', ['y'], ['i2'])
  t.same(calls.map(c => c.texts), [['x'], ['y']])
})

t.test(`a run above ${MAX_JOINED_TEXTS} texts goes as several calls, in order, none larger than one sendMany`, async t => {
  const { calls, coalescer } = recorder()
  const texts = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `t${from + i}`)
  const sends = [coalescer.send('alice', texts(0, 600), texts(0, 600)), coalescer.send('alice', texts(600, 600), texts(600, 600)), coalescer.send('alice', ['last'], ['last'])]
  await Promise.all(sends)
  t.same(calls.map(c => c.texts.length), [600, 601], 'split before the send that would pass the bound')
  t.ok(calls.every(c => c.texts.length <= MAX_JOINED_TEXTS))
  t.same(calls.flatMap(c => c.texts), [...texts(0, 1200), 'last'], 'in call order')
})

t.test('a store call that fails fails its callers, not another contact\'s', async t => {
  const { coalescer } = recorder(c => c.peer === 'bob')
  const a = coalescer.send('alice', ['a'], ['i1'])
  const b1 = coalescer.send('bob', ['b1'], ['i2'])
  const b2 = coalescer.send('bob', ['b2'], ['i3'])
  t.same(await a, ['stored i1'])
  await t.rejects(b1, /store failed/)
  await t.rejects(b2, /store failed/)
})
