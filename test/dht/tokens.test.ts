// Write tokens: valid only for the address and key they were issued for, and only until the
// secret has rotated twice.
import t from 'tap'
import { WriteTokens } from '../../src/dht/tokens.js'
import { createRng } from '../../src/sim/rng.js'

const rng = createRng(21)
const key = rng.bytes(32)
const other = rng.bytes(32)

t.test('a token is valid for the asking address and key only', async t => {
  const tokens = new WriteTokens({ random: n => rng.bytes(n), rotateMs: 1000 }, 0)
  const tok = tokens.issue('198.51.100.1:4000', key, 0)
  t.equal(tok.length, 16)
  t.ok(tokens.check(tok, '198.51.100.1:4000', key, 10))
  t.notOk(tokens.check(tok, '198.51.100.2:4000', key, 10), 'another IP')
  t.notOk(tokens.check(tok, '198.51.100.1:4001', key, 10), 'another port')
  t.notOk(tokens.check(tok, '198.51.100.1:4000', other, 10), 'another key')
  t.notOk(tokens.check(tok.subarray(0, 15), '198.51.100.1:4000', key, 10), 'wrong length')
  const forged = tok.slice()
  forged[0]! ^= 1
  t.notOk(tokens.check(forged, '198.51.100.1:4000', key, 10), 'altered')
})

t.test('tokens survive one rotation and expire at the second', async t => {
  const tokens = new WriteTokens({ random: n => rng.bytes(n), rotateMs: 1000 }, 0)
  const tok = tokens.issue('198.51.100.1:4000', key, 500)
  t.ok(tokens.check(tok, '198.51.100.1:4000', key, 999), 'same period')
  t.ok(tokens.check(tok, '198.51.100.1:4000', key, 1500), 'after one rotation (previous secret)')
  t.ok(tokens.check(tok, '198.51.100.1:4000', key, 2400), 'still the previous secret until the next rotation')
  t.notOk(tokens.check(tok, '198.51.100.1:4000', key, 2600), 'after the second rotation')
  const late = tokens.issue('198.51.100.1:4000', key, 2700)
  t.notOk(tokens.check(late, '198.51.100.1:4000', key, 4800), 'a long pause rotates both secrets')
})

t.test('two nodes issue different tokens; destroy forgets the secrets', async t => {
  const a = new WriteTokens({ random: n => rng.bytes(n) }, 0)
  const b = new WriteTokens({ random: n => rng.bytes(n) }, 0)
  const tok = a.issue('198.51.100.1:4000', key, 0)
  t.notOk(b.check(tok, '198.51.100.1:4000', key, 0))
  a.destroy()
  t.notOk(a.check(tok, '198.51.100.1:4000', key, 0), 'secret wiped')
  const again = a.issue('198.51.100.1:4000', key, 0)
  const zeroed = new WriteTokens({ random: n => new Uint8Array(n) }, 0).issue('198.51.100.1:4000', key, 0)
  t.notSame(again, zeroed, 'a fresh secret is drawn, not the zeroed one')
  t.ok(a.check(again, '198.51.100.1:4000', key, 0))
})
