// osRandom (src/io/random.ts): OS randomness drawn in blocks, handed out as independent copies.
import t from 'tap'
import { osRandom } from '../../src/io/random.js'

t.test('pooled randomness: right lengths, no repeats across block refills, copies the caller may wipe', async t => {
  const random = osRandom().bytes
  const seen = new Set<string>()
  for (let i = 0; i < 1000; i++) { // 16 KB: four refills of the 4 KiB pool
    const b = random(16)
    t.equal(b.length, 16)
    seen.add(Buffer.from(b).toString('hex'))
  }
  t.equal(seen.size, 1000, 'no 16-byte draw repeats')
  const a = random(4)
  a.fill(0)
  t.not(Buffer.from(random(4)).toString('hex'), '00000000', 'wiping one draw does not touch the next')
  t.equal(random(4096).length, 4096, 'large draws go straight to the OS')
})

t.test('floats: in [0, 1), spread over the whole range', async t => {
  const r = osRandom()
  const buckets = new Array(10).fill(0)
  for (let i = 0; i < 10_000; i++) {
    const f = r.float()
    if (!(f >= 0 && f < 1)) t.fail(`out of range: ${f}`)
    buckets[Math.floor(f * 10)]++
  }
  for (const [i, n] of buckets.entries()) t.ok(n > 800 && n < 1200, `tenth ${i} holds ${n} of 10,000`)
})
