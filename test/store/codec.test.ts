// The store's associated data (src/store/codec.ts `aad`, proto-spec/storage.md §Encryption): the
// bytes it writes itself for record keys must be exactly msgpackr's, or no record written before
// would open. Compared byte for byte over seeded random shapes, each size boundary, and the
// shapes it hands to msgpackr (non-ASCII, long strings, negative, fractional and large numbers).
import t from 'tap'
import { Packr } from 'msgpackr'
import { aad, encodeFlat } from '../../src/store/codec.js'
import { testRng } from '../helpers/seed.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const rng = testRng(t, 0xaad)

function randomString (maxLen: number, unicode: boolean): string {
  const n = Math.floor(rng.float() * (maxLen + 1))
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(unicode && rng.float() < 0.1 ? 0x80 + Math.floor(rng.float() * 0x700) : 0x20 + Math.floor(rng.float() * 0x5f))
  return s
}

function randomPart (): string | number {
  const r = rng.float()
  if (r < 0.5) return randomString(r < 0.05 ? 300 : 80, r < 0.1)
  const bound = [1, 0x80, 0x100, 0x10000, 2 ** 32, 2 ** 40][Math.floor(rng.float() * 6)]!
  const v = Math.floor(rng.float() * bound)
  return r < 0.55 ? -v : r < 0.6 ? v + 0.5 : v
}

t.test('every boundary of fixstr/str8 and fixint/uint8/16/32 gives msgpackr\'s bytes', async t => {
  const strings = [0, 1, 31, 32, 255, 256, 300].map(n => 'k'.repeat(n))
  const numbers = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, 1.5, Number.MAX_SAFE_INTEGER]
  for (const s of strings) t.equal(hex(aad('dmess/store/v3/record', 'messages', s)), hex(packr.pack(['dmess/store/v3/record', 'messages', s])), `a ${s.length}-character key`)
  for (const v of numbers) t.equal(hex(aad('l', 'peer', v)), hex(packr.pack(['l', 'peer', v])), `the number ${v}`)
  t.equal(hex(aad('é')), hex(packr.pack(['é'])), 'a non-ASCII label')
  const many = Array.from({ length: 20 }, (_, i) => `p${i}`)
  for (const k of [13, 14, 15, 20]) t.equal(hex(aad('l', ...many.slice(0, k))), hex(packr.pack(['l', ...many.slice(0, k)])), `${k + 1} items`)
})

t.test('5,000 seeded random shapes: the same bytes as msgpackr', async t => {
  let same = 0
  for (let i = 0; i < 5000; i++) {
    const label = randomString(40, i % 7 === 0)
    const parts = Array.from({ length: Math.floor(rng.float() * 5) }, randomPart)
    if (hex(aad(label, ...parts)) === hex(packr.pack([label, ...parts]))) same++
    else t.fail(`differs for ${JSON.stringify([label, ...parts])}`)
  }
  t.equal(same, 5000)
})

t.test('encodeFlat (msgindex entries): msgpackr\'s bytes for every boundary and 5,000 seeded random objects', async t => {
  const numbers = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, 1.5, Number.MAX_SAFE_INTEGER]
  const strings = [0, 1, 31, 32, 255, 256, 300].map(n => 'f'.repeat(n))
  const check = (v: Record<string, string | number | undefined>): boolean => {
    const defined = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined))
    return hex(encodeFlat(v)) === hex(packr.pack(defined))
  }
  for (const s of strings) for (const n of numbers) t.ok(check({ p: s, s: n, st: 2 }), `p of ${s.length} characters, s = ${n}`)
  t.ok(check({ p: 'a', s: 1, st: undefined }), 'an undefined value is left out')
  t.ok(check({}), 'no keys')
  t.ok(check({ é: 1 }), 'a non-ASCII key')
  let same = 0
  for (let i = 0; i < 5000; i++) {
    const v: Record<string, string | number | undefined> = {}
    const keys = Math.floor(rng.float() * 5)
    for (let k = 0; k < keys; k++) v[randomString(6, i % 11 === 0) || `k${k}`] = rng.float() < 0.1 ? undefined : randomPart()
    if (check(v)) same++
    else t.fail(`differs for ${JSON.stringify(v)}`)
  }
  t.equal(same, 5000)
})
