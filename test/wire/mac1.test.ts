// mac1 (proto-spec/wire.md §4.1.1): the key is SHA-256 of the label and the fingerprint's 25
// bytes (the vector wire.md §8 states), the MAC covers every byte before it, any change to those
// bytes or to the MAC fails the check, and the check is a constant-time compare.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mac1Key, sealMac1, checkMac1, computeMac1 } from '../../src/wire/mac1.js'
import { fingerprintBytes } from '../../src/crypto/fingerprint.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { encodeHandshakeInitiation } from '../../src/wire/packet.js'
import { HandshakePattern, MAC1_BYTES } from '../../src/wire/constants.js'
import { MAC1_FINGERPRINT } from '../helpers/wire-vector-inputs.js'
import { testRng } from '../helpers/seed.js'

t.test('the key is wire.md §8\'s for its fingerprint, and SHA-256("dmess-mac1-v1\\0" ‖ fingerprint bytes)', async t => {
  t.equal(Buffer.from(mac1Key(MAC1_FINGERPRINT)).toString('hex'), '5a2993b8ad29f24350f6876a2023734c84858104a5fab92d24aa0fa95f0c8143')
  const fp = generateIdentity().fingerprint
  t.same(mac1Key(fp), new Uint8Array(createHash('sha256').update('dmess-mac1-v1\0').update(fingerprintBytes(fp)).digest()))
  t.same(mac1Key(fp.toUpperCase()), mac1Key(fp), 'the fingerprint in any accepted spelling')
  t.throws(() => mac1Key('nope'), { code: 'BAD_FINGERPRINT' })
})

t.test('seal then check; every covered byte and every MAC byte matters; another fingerprint fails', async t => {
  const rng = testRng(t, 0x3ac1)
  const key = mac1Key(generateIdentity().fingerprint)
  const init = sealMac1(encodeHandshakeInitiation({ senderIndex: 5, pattern: HandshakePattern.XX, cookie: null, message: rng.bytes(32) }), key)
  t.ok(checkMac1(init, key))
  t.same(init.subarray(init.length - MAC1_BYTES), computeMac1(key, init.subarray(0, init.length - MAC1_BYTES)))
  let caught = 0
  for (let i = 0; i < init.length; i++) {
    const bad = init.slice()
    bad[i] = (bad[i] ?? 0) ^ (1 << (i % 8))
    if (!checkMac1(bad, key)) caught++
  }
  t.equal(caught, init.length, 'a flipped bit anywhere fails the check')
  t.notOk(checkMac1(init, mac1Key(generateIdentity().fingerprint)), 'not under another fingerprint\'s key')
  t.notOk(checkMac1(init.subarray(0, MAC1_BYTES), key), 'too short to carry one')
})

t.test('the compare is crypto.timingSafeEqual (constant time)', async t => {
  const src = (await import('node:fs')).readFileSync(new URL('../../src/wire/mac1.ts', import.meta.url), 'utf8')
  t.match(src, /constantTimeEqual\(/, 'checkMac1 compares with constantTimeEqual')
  const prim = (await import('node:fs')).readFileSync(new URL('../../src/crypto/primitives.ts', import.meta.url), 'utf8')
  t.match(prim, /export function constantTimeEqual[\s\S]{0,160}timingSafeEqual\(a, b\)/, 'which is timingSafeEqual')
})
