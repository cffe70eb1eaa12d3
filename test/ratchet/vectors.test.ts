// proto-spec/ratchet.md §8: the KDF known answers and the transcript are recomputed here and must
// be the bytes written in the spec; the spec's numbers are the code's.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ratchetConstants as C } from '../../src/ratchet/index.js'
import { kdfVectors, transcript, parseVectors } from './transcript.js'
import { toHex } from './helpers.js'

const spec = readFileSync(new URL('../../proto-spec/ratchet.md', import.meta.url), 'utf8')
const written = parseVectors(spec)

t.test('every KDF has the known answer written in ratchet.md §8.2', async t => {
  const computed = kdfVectors()
  t.equal(computed.length, 15)
  for (const [name, bytes] of computed) t.equal(toHex(bytes), written.get(name), name)
})

t.test('the fixed transcript is byte for byte the one in ratchet.md §8.3, and every message decrypts', async t => {
  const { values, plaintexts } = transcript() // throws if a delivery fails
  t.equal(values.filter(([k]) => k.startsWith('kem_ss.')).length, 4, 'four hybrid steps')
  for (const [name, bytes] of values) t.equal(toHex(bytes), written.get(name), name)
  t.equal(plaintexts.get('m5'), 'bye')
  t.equal(written.size, values.length + 15, 'nothing in the spec block that the code does not produce')
})

t.test('the numbers of ratchet.md §4 and §6 are the code\'s', async t => {
  const row = (name: string): string | undefined => new RegExp(`\\| \`${name}\` \\| ([0-9,]+) \\|`).exec(spec)?.[1]?.replace(/,/g, '')
  t.equal(row('MAX_SKIP'), String(C.MAX_SKIP))
  t.equal(row('MAX_SKIPPED_KEYS'), String(C.MAX_SKIPPED_KEYS))
  t.equal(row('MAX_SKIPPED_CHAINS'), String(C.MAX_SKIPPED_CHAINS))
  t.equal(row('SKIPPED_MAX_AGE_MESSAGES'), String(C.SKIPPED_MAX_AGE_MESSAGES))
  t.equal(C.SKIPPED_MAX_AGE_MS, 30 * 24 * 3600 * 1000, '30 days')
  t.equal(C.HEADER_BYTES, 2313)
  t.equal(C.ENC_HEADER_BYTES, 2353)
  t.ok(spec.includes('always 2,313 bytes') && spec.includes('| 2,353 | P + 16 |'), 'the layout table says so')
})
