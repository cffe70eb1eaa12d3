// primitives.xchacha.peekUnauthenticated (added for the store's search prefilter) and the
// store's record cipher.
import t from 'tap'
import { xchacha } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0xc7e1).bytes

t.test('peekUnauthenticated recovers what seal encrypted, for every length, and nothing more', async (t) => {
  const key = randomBytes(32)
  for (const len of [0, 1, 15, 63, 64, 65, 127, 128, 129, 1000]) {
    const nonce = randomBytes(24)
    const pt = randomBytes(len)
    const sealed = xchacha.seal(key, nonce, pt, randomBytes(10))
    t.same(xchacha.peekUnauthenticated(key, nonce, sealed), pt, `${len} bytes (multi-block at 64+)`)
  }
  const nonce = randomBytes(24)
  const pt = randomBytes(40)
  const sealed = xchacha.seal(key, nonce, pt)
  t.notSame(xchacha.peekUnauthenticated(randomBytes(32), nonce, sealed), pt, 'another key gives other bytes')
  const tampered = sealed.slice()
  tampered[0] = (tampered[0] as number) ^ 1
  t.equal(xchacha.open(key, nonce, tampered), null, 'open refuses the tampered ciphertext…')
  t.notSame(xchacha.peekUnauthenticated(key, nonce, tampered), pt, '…which peek does not authenticate: it only XORs')
  t.equal(xchacha.peekUnauthenticated(key, nonce, new Uint8Array(15)), null, 'shorter than a tag')
  t.throws(() => xchacha.peekUnauthenticated(key, new Uint8Array(12), sealed), { code: 'CRYPTO' })
})
