// Size classes (proto-spec/storage.md §Padding): Padmé above a floor, ISO/IEC 7816-4 padding.
import t from 'tap'
import { pad, padme, sizeClass, unpad } from '../../src/store/padding.js'
import { testRng } from '../helpers/seed.js'

const rng = testRng(t, 0x9add)

t.test('the classes of the spec table', async (t) => {
  t.same([1, 100, 256, 257, 300, 1000, 5000].map((l) => sizeClass(l - 1, 256)), [256, 256, 256, 272, 304, 1024, 5120])
  t.same([1, 2, 3, 9, 17, 255, 513, 1025].map(padme), [1, 2, 3, 10, 18, 256, 544, 1088], 'Padmé (PURBs §4) below any floor')
})

t.test('Padmé: never smaller, at most 12% larger, few classes', async (t) => {
  const classes = new Set<number>()
  for (let l = 1; l <= 100_000; l++) {
    const p = padme(l)
    if (p < l || p > l * 1.12 + 1) t.fail(`padme(${l}) = ${p}`)
    classes.add(p)
  }
  t.ok(classes.size < 2000, `100,000 lengths fall in ${classes.size} classes`)
})

t.test('pad and unpad round-trip; malformed padding is refused', async (t) => {
  for (const len of [0, 1, 94, 95, 96, 255, 256, 1000, rng.int(5000)]) {
    const content = rng.bytes(len)
    content.fill(0, Math.max(0, len - 3)) // content ending in zeros must survive
    const padded = pad(content, 96)
    t.equal(padded.length, sizeClass(len, 96), `${len} bytes → ${padded.length}`)
    t.same(unpad(padded), content)
  }
  t.equal(unpad(new Uint8Array(96)), null, 'all zeros: no marker')
  t.equal(unpad(Uint8Array.of(1, 2, 3)), null, 'no 0x80 before the zeros')
})
