// A seeded fuzz of both port-mapping decoders (proto-spec/portmap.md §2, §3): mutations of the
// spec's vectors and plain random bytes never throw, and whatever decodes is self-consistent.
// Bounded in count only (the verdict is about every input, not this machine's speed; tap's per-file
// timeout in .taprc guards against a hang); the figures, time included, go out as JSON lines.
import t from 'tap'
import { testSeed } from '../helpers/seed.js'
import { fromHex, specDumps } from '../helpers/spec-vectors.js'
import { int, mutate, randomBuf, rng } from '../wire/fuzz.js'
import { decodeNatPmpResponse } from '../../src/portmap/natpmp.js'
import { decodePcpResponse } from '../../src/portmap/pcp.js'

const ROUNDS = 50_000

t.test('the NAT-PMP and PCP decoders never throw and never accept nonsense', async t => {
  const seed = testSeed(t, 0x5351, 'decoder fuzz')
  const r = rng(seed)
  const corpus = [...specDumps('portmap.md').values()].map(fromHex)
  const started = performance.now()
  let rounds = 0
  const decoded = { natpmp: 0, pcp: 0 }
  let problems = 0
  for (; rounds < ROUNDS; rounds++) {
    const input = r() < 0.8 ? mutate(r, corpus[int(r, corpus.length)]!, corpus) : randomBuf(r, int(r, 120))
    let n, p
    try {
      n = decodeNatPmpResponse(input)
      p = decodePcpResponse(input)
    } catch (err) {
      problems++
      t.fail(`a decoder threw on ${Buffer.from(input).toString('hex')}: ${(err as Error).message}`)
      continue
    }
    if (n !== null) {
      decoded.natpmp++
      if (input[0] !== 0 || n.op > 0x7f || (n.kind === 'error' && n.result === 0) || (n.kind === 'map' && input.length < 16)) { problems++; t.fail(`inconsistent NAT-PMP decode: ${JSON.stringify(n)}`) }
    }
    if (p !== null) {
      decoded.pcp++
      if (input[0] !== 2 || input.length % 4 !== 0 || input.length > 1100 || (p.kind === 'map' && p.nonce.length !== 12)) { problems++; t.fail(`inconsistent PCP decode: ${JSON.stringify(p)}`) }
    }
    if (n !== null && p !== null) { problems++; t.fail('one datagram read as both protocols') }
  }
  const ms = performance.now() - started
  t.comment(JSON.stringify({ metric: 'portmap_fuzz_inputs', value: rounds, unit: 'inputs' }))
  t.comment(JSON.stringify({ metric: 'portmap_fuzz_decoded_natpmp', value: decoded.natpmp, unit: 'inputs' }))
  t.comment(JSON.stringify({ metric: 'portmap_fuzz_decoded_pcp', value: decoded.pcp, unit: 'inputs' }))
  t.comment(JSON.stringify({ metric: 'portmap_fuzz_rate', value: Math.round(rounds / (ms / 1000)), unit: 'inputs/s' }))
  t.equal(problems, 0, `${rounds} inputs, none threw or decoded inconsistently`)
  t.ok(decoded.natpmp > 0 && decoded.pcp > 0, 'mutations of valid messages still decode sometimes (the fuzz reaches the field readers)')
})
