// primitives.xchacha.peekUnauthenticated (added for the store's search prefilter) and the
// store's record cipher.
import t from 'tap'
import { xchacha } from '../../src/crypto/primitives.js'
import { RecordCipher } from '../../src/store/crypt.js'
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

t.test('sealIntoSubkey: the same bytes as sealInto with the whole nonce', async (t) => {
  const key = randomBytes(32)
  for (const len of [0, 1, 64, 300]) {
    const nonce = randomBytes(24)
    const pt = randomBytes(len)
    const ad = randomBytes(20)
    const subkey = xchacha.subkey(key, nonce.subarray(0, 16))
    const out = new Uint8Array(len + 16)
    xchacha.sealIntoSubkey(subkey, nonce.subarray(16), pt, ad, out)
    t.same(out, xchacha.seal(key, nonce, pt, ad), `${len} bytes`)
  }
})

t.test('record nonces: one subkey per group of 256, every nonce distinct, every value opens as XChaCha20-Poly1305', async (t) => {
  const storeKey = randomBytes(32)
  const cipher = new RecordCipher(storeKey)
  t.teardown(() => { cipher.wipe() })
  const ad = new Uint8Array([1, 2, 3])
  const sealed = Array.from({ length: 700 }, (_, i) => cipher.sealValue(new Uint8Array([i & 0xff, i >> 8]), 96, ad))
  const nonces = sealed.map(v => Buffer.from(v.subarray(0, 24)).toString('hex'))
  t.equal(new Set(nonces).size, 700, 'no nonce repeats')
  const prefixes = new Set(nonces.map(n => n.slice(0, 32)))
  t.equal(prefixes.size, 3, '700 records: three 16-byte prefixes (groups of 256)')
  sealed.forEach((v, i) => {
    const content = cipher.openValue(v, ad)
    if (content === null || content[0] !== (i & 0xff) || content[1] !== i >> 8) t.fail(`record ${i} does not open to what was sealed`)
  })
  // and with nothing but the standard construction (draft-irtf-cfrg-xchacha-03 §2.3) under the record key
  const reopened = new RecordCipher(storeKey)
  t.teardown(() => { reopened.wipe() })
  t.ok(sealed.every(v => reopened.openValue(v, ad) !== null), 'another cipher of the same key opens them all')
})
