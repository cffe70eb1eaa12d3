import t from 'tap'
import { CookieJar, computeCookie } from '../../src/wire/cookie.js'
import { COOKIE_BYTES, COOKIE_SECRET_ROTATE_MS } from '../../src/wire/constants.js'
import { encodeHandshakeInitiation, encodeCookieReply, decodePacket } from '../../src/wire/packet.js'
import { HandshakePattern } from '../../src/wire/constants.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xc00c).bytes

t.test('a cookie is bound to the source address, port and sender index', async t => {
  const secret = randomBytes(32)
  const c = computeCookie(secret, '192.0.2.7', 4000, 99)
  t.equal(c.length, COOKIE_BYTES)
  t.same(computeCookie(secret, '192.0.2.7', 4000, 99), c, 'deterministic for one secret')
  t.not(Buffer.from(computeCookie(secret, '192.0.2.8', 4000, 99)).toString('hex'), Buffer.from(c).toString('hex'))
  t.not(Buffer.from(computeCookie(secret, '192.0.2.7', 4001, 99)).toString('hex'), Buffer.from(c).toString('hex'))
  t.not(Buffer.from(computeCookie(secret, '192.0.2.7', 4000, 98)).toString('hex'), Buffer.from(c).toString('hex'))
  t.not(Buffer.from(computeCookie(randomBytes(32), '192.0.2.7', 4000, 99)).toString('hex'), Buffer.from(c).toString('hex'))
})

t.test('retry flow: COOKIE_REPLY, then an initiation carrying the cookie passes the check', async t => {
  const jar = new CookieJar(randomBytes, 0)
  const from = { address: '2001:db8::5', port: 5555 }
  const init = decodePacket(encodeHandshakeInitiation({ senderIndex: 7, pattern: HandshakePattern.XX, cookie: null, message: randomBytes(32) }))
  if (init?.kind !== 'handshake-initiation') throw new Error('decode')
  const reply = decodePacket(encodeCookieReply({ receiverIndex: init.senderIndex, cookie: jar.make(from.address, from.port, init.senderIndex, 1000) }))
  if (reply?.kind !== 'cookie-reply') throw new Error('decode')
  const retry = decodePacket(encodeHandshakeInitiation({ senderIndex: 7, pattern: HandshakePattern.XX, cookie: reply.cookie, message: init.message }))
  if (retry?.kind !== 'handshake-initiation' || retry.cookie === null) throw new Error('decode')
  t.ok(jar.check(retry.cookie, from.address, from.port, retry.senderIndex, 2000))
  t.notOk(jar.check(retry.cookie, '2001:db8::6', from.port, retry.senderIndex, 2000), 'spoofed source')
  t.notOk(jar.check(retry.cookie.subarray(1), from.address, from.port, retry.senderIndex, 2000), 'wrong length')
})

t.test('secrets rotate: the previous one is honoured once, then cookies expire', async t => {
  const jar = new CookieJar(randomBytes, 0)
  const c = jar.make('10.0.0.1', 1, 1, 0)
  t.ok(jar.check(c, '10.0.0.1', 1, 1, COOKIE_SECRET_ROTATE_MS - 1))
  t.ok(jar.check(c, '10.0.0.1', 1, 1, COOKIE_SECRET_ROTATE_MS + 1), 'previous secret still accepted')
  t.notOk(jar.check(c, '10.0.0.1', 1, 1, 2 * COOKIE_SECRET_ROTATE_MS + 2), 'two rotations later: expired')
  const late = new CookieJar(randomBytes, 0)
  const d = late.make('10.0.0.1', 1, 1, 0)
  t.notOk(late.check(d, '10.0.0.1', 1, 1, 10 * COOKIE_SECRET_ROTATE_MS), 'after a long pause nothing old is accepted')
})

t.test('retired cookie secrets are wiped', async t => {
  const handedOut: Uint8Array[] = []
  const random = (n: number): Uint8Array => { const b = randomBytes(n); handedOut.push(b); return b }
  const jar = new CookieJar(random, 0)
  jar.make('10.0.0.1', 1, 1, COOKIE_SECRET_ROTATE_MS) // first rotation: secret 0 becomes "previous"
  t.ok(handedOut[0]!.some(b => b !== 0), 'previous secret still in use')
  jar.make('10.0.0.1', 1, 1, 2 * COOKIE_SECRET_ROTATE_MS) // second rotation retires secret 0
  t.ok(handedOut[0]!.every(b => b === 0), 'retired secret zeroed')
  jar.make('10.0.0.1', 1, 1, 10 * COOKIE_SECRET_ROTATE_MS) // long pause: both retired
  t.ok(handedOut[1]!.every(b => b === 0) && handedOut[2]!.every(b => b === 0))
  t.ok(handedOut[3]!.some(b => b !== 0))
})
