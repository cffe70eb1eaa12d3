// pooledRandom (udp.ts): OS randomness drawn in blocks, handed out as independent copies.
import t from 'tap'
import { pooledRandom } from '../../src/dht/udp.js'

t.test('pooled randomness: right lengths, no repeats across block refills, copies the caller may wipe', async t => {
  const random = pooledRandom()
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
