// The rotating discovery token (proto-spec/discovery.md §2.4): it changes every window, those who
// know the fingerprint recognise it for the window and its neighbours, nobody else can.
import t from 'tap'
import { TokenBook, discoveryToken, tokenKey, tokenWindow } from '../../src/discovery/token.js'
import { TOKEN_PATTERN, TOKEN_WINDOW_MS } from '../../src/discovery/constants.js'
import { newFingerprint } from './fixtures/helpers.js'

const W = TOKEN_WINDOW_MS
const t0 = Date.parse('2026-01-01T00:05:00Z')

t.test('a token: 32 hex characters, new every window, different per fingerprint, no piece of the fingerprint', async t => {
  const fp = newFingerprint()
  const k = tokenKey(fp)
  const w = tokenWindow(t0)
  const tokens = [-2, -1, 0, 1, 2].map(d => discoveryToken(k, w + d))
  t.ok(tokens.every(x => TOKEN_PATTERN.test(x)))
  t.equal(new Set(tokens).size, 5, 'every window its own token')
  t.equal(tokenWindow(t0 + W - (t0 % W) - 1), w, 'the last millisecond of the window')
  t.equal(tokenWindow(t0 - (t0 % W) + W), w + 1, 'the first of the next')
  t.not(discoveryToken(tokenKey(newFingerprint()), w), tokens[2], 'another fingerprint, another token')
  for (const tok of tokens) for (let i = 0; i + 8 <= fp.length; i++) t.notOk(tok.includes(fp.slice(i, i + 8)))
})

t.test('recognised by who knows the fingerprint, for the window and its neighbours only; not by a stranger', async t => {
  const alice = newFingerprint()
  const bob = newFingerprint()
  const k = tokenKey(alice)
  const w = tokenWindow(t0)
  const book = new TokenBook()
  t.equal(book.recognise(discoveryToken(k, w), t0, [bob, alice]), alice, 'this window')
  t.equal(book.recognise(discoveryToken(k, w - 1), t0, [bob, alice]), alice, 'the last (a clock behind, a record heard late)')
  t.equal(book.recognise(discoveryToken(k, w + 1), t0, [bob, alice]), alice, 'the next (a clock ahead)')
  t.equal(book.recognise(discoveryToken(k, w - 2), t0, [bob, alice]), null, 'two windows ago: stale')
  t.equal(book.recognise(discoveryToken(k, w), t0, [bob]), null, 'someone who does not know Alice')
  t.equal(book.recognise(discoveryToken(k, w), t0, []), null)
  t.equal(book.recognise(discoveryToken(k, w), t0 + 3 * W, [alice]), null, 'the same token 45 minutes later: not current')
  t.equal(book.recognise(discoveryToken(k, w + 3), t0 + 3 * W, [alice]), alice, 'the table follows the clock')
  t.equal(book.recognise('0'.repeat(32), t0, [alice, bob]), null, 'a made-up token')
})
