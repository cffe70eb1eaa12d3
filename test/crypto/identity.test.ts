// Identity keys, the signed key binding, weak keys, keystore entries and safety numbers
// (proto-spec/identity.md §1, §4, §5, §6; crypto-policy.md §1.2, §2.2).
import t from 'tap'
import {
  generateIdentity, verifyPublicIdentity, publicIdentityOf, identityToSecrets, identityFromSecrets,
  encodePublicIdentity, decodePublicIdentity, wipeIdentity, fingerprintOf, safetyNumber,
  IDENTITY_SIG_DOMAIN, IDENTITY_SECRET_NAMES, PUBLIC_IDENTITY_BYTES, type PublicIdentity
} from '../../src/crypto/identity.js'
import { ed25519, x25519 } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x1de7).bytes

const alice = generateIdentity()
const bob = generateIdentity()

function flipped (b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice()
  c[bit >> 3] = (c[bit >> 3] ?? 0) ^ (1 << (bit & 7))
  return c
}

t.test('a generated identity verifies and carries its fingerprint', async t => {
  t.equal(alice.signPublic.length, 32)
  t.equal(alice.dhPublic.length, 32)
  t.equal(alice.dhSignature.length, 64)
  t.ok(verifyPublicIdentity(alice))
  t.ok(verifyPublicIdentity(publicIdentityOf(alice)))
  t.equal(alice.fingerprint, fingerprintOf(alice))
  t.match(alice.fingerprint, /^[a-z0-9]{47}$/)
  t.not(alice.fingerprint, bob.fingerprint, 'two identities, two addresses')
  t.same(ed25519.publicFromSecret(alice.signSecret), alice.signPublic)
  t.same(x25519.publicFromSecret(alice.dhSecret), alice.dhPublic)
  // the binding is an ordinary Ed25519 signature over the domain string and the X25519 key
  t.ok(ed25519.verify(alice.dhSignature, new Uint8Array([...IDENTITY_SIG_DOMAIN, ...alice.dhPublic]), alice.signPublic))
  t.notOk(ed25519.verify(alice.dhSignature, alice.dhPublic, alice.signPublic), 'the domain string is part of the message')
})

t.test('publicIdentityOf holds no secrets and shares no buffers', async t => {
  const pub = publicIdentityOf(alice)
  t.same(Object.keys(pub).sort(), ['dhPublic', 'dhSignature', 'signPublic'])
  pub.dhPublic[0] = (pub.dhPublic[0] ?? 0) ^ 1
  t.ok(verifyPublicIdentity(alice), 'changing the copy leaves the identity alone')
})

t.test('any tampering with a public identity is caught', async t => {
  const pub = publicIdentityOf(alice)
  let caught = 0
  for (const field of ['signPublic', 'dhPublic', 'dhSignature'] as const) {
    for (let bit = 0; bit < pub[field].length * 8; bit += 7) {
      if (!verifyPublicIdentity({ ...pub, [field]: flipped(pub[field], bit) })) caught++
      else t.fail(`flipping ${field} bit ${bit} went unnoticed`)
    }
  }
  t.ok(caught > 100, `${caught} bit flips rejected`)
  t.notOk(verifyPublicIdentity({ ...pub, dhSignature: bob.dhSignature }), "someone else's signature")
  t.notOk(verifyPublicIdentity({ ...pub, dhPublic: bob.dhPublic }), "someone else's X25519 key")
  t.notOk(verifyPublicIdentity({ ...pub, signPublic: bob.signPublic }), "someone else's Ed25519 key")
  t.notOk(verifyPublicIdentity({ ...pub, dhSignature: pub.dhSignature.subarray(1) }), 'short signature')
  t.notOk(verifyPublicIdentity({ ...pub, dhPublic: new Uint8Array(33) }), 'long key')
  t.notOk(verifyPublicIdentity(null as unknown as PublicIdentity), 'not an object')
  t.notOk(verifyPublicIdentity({ signPublic: [...pub.signPublic], dhPublic: pub.dhPublic, dhSignature: pub.dhSignature } as unknown as PublicIdentity), 'arrays are not bytes')
})

t.test('a verified identity is remembered by its bytes: changed in place it fails, restored it passes', async t => {
  const pub = publicIdentityOf(alice)
  t.ok(verifyPublicIdentity(pub), 'verified (and remembered)')
  pub.dhSignature[5]! ^= 0x10
  t.notOk(verifyPublicIdentity(pub), 'the same arrays, one signature bit changed: checked afresh and refused')
  t.notOk(verifyPublicIdentity(pub), 'and refused again (failures are not remembered as passes)')
  pub.dhSignature[5]! ^= 0x10
  t.ok(verifyPublicIdentity(pub), 'restored: passes')
  // more identities than the memo holds: the first is pushed out and verified afresh
  let fresh = 0
  for (let i = 0; i < 300; i++) if (verifyPublicIdentity(generateIdentity())) fresh++
  t.equal(fresh, 300, '300 other identities verified')
  t.ok(verifyPublicIdentity(pub), 'still passes once forgotten')
})

t.test('weak keys never make a valid identity, although OpenSSL verifies under them', async t => {
  // crypto-policy.md §2.1: with the small-order key A = identity point, (R = identity, S = 0)
  // verifies for every message under OpenSSL's cofactorless check.
  const identityPoint = new Uint8Array(32)
  identityPoint[0] = 1
  const trivialSig = new Uint8Array(64)
  trivialSig[0] = 1
  const forged = { signPublic: identityPoint, dhPublic: alice.dhPublic, dhSignature: trivialSig }
  const opensslSays = ed25519.verify(trivialSig, new Uint8Array([...IDENTITY_SIG_DOMAIN, ...alice.dhPublic]), identityPoint)
  t.comment(`node:crypto ed25519.verify under the small-order key: ${opensslSays}`)
  t.notOk(ed25519.isValidPublicKey(identityPoint))
  t.notOk(verifyPublicIdentity(forged), 'a small-order signing key is refused')

  // y = p + 1: a non-canonical encoding of the identity point (RFC 8032 §5.1.3 rejects y >= p)
  const nonCanonical = new Uint8Array(32).fill(0xff)
  nonCanonical[0] = 0xee
  nonCanonical[31] = 0x7f
  t.notOk(ed25519.isValidPublicKey(nonCanonical))
  t.notOk(verifyPublicIdentity({ ...forged, signPublic: nonCanonical }))

  // X25519: a low-order key (u = 0) and a non-canonical one (bit 255 set), properly signed
  for (const [what, dh] of [['low-order', new Uint8Array(32)], ['bit 255 set', alice.dhPublic.map((b, i) => i === 31 ? b | 0x80 : b)]] as const) {
    const sig = ed25519.sign(new Uint8Array([...IDENTITY_SIG_DOMAIN, ...dh]), alice.signSecret)
    t.notOk(verifyPublicIdentity({ signPublic: alice.signPublic, dhPublic: dh, dhSignature: sig }), `X25519 key ${what} is refused even when signed`)
  }
})

t.test('the 128-byte public identity encoding round-trips and refuses bad input', async t => {
  const bytes = encodePublicIdentity(alice)
  t.equal(bytes.length, PUBLIC_IDENTITY_BYTES)
  t.same(decodePublicIdentity(bytes), publicIdentityOf(alice))
  t.equal(decodePublicIdentity(bytes.subarray(1)), null, 'short')
  t.equal(decodePublicIdentity(new Uint8Array([...bytes, 0])), null, 'long')
  t.equal(decodePublicIdentity(flipped(bytes, 700)), null, 'tampered signature')
  t.equal(decodePublicIdentity(randomBytes(PUBLIC_IDENTITY_BYTES)), null, 'noise')
  t.throws(() => encodePublicIdentity({ ...alice, dhSignature: new Uint8Array(3) }), { code: 'CRYPTO' })
})

t.test('keystore entries round-trip and nothing else is read', async t => {
  const map = identityToSecrets(alice)
  t.same(Object.keys(map).sort(), [IDENTITY_SECRET_NAMES.sign, IDENTITY_SECRET_NAMES.dh].sort())
  const storeKey = randomBytes(32)
  const back = identityFromSecrets({ ...map, storeKey, 'something.later': new Uint8Array(5) })
  t.same(back, alice, 'same keys, same signature, same fingerprint')
  t.same(storeKey.length, 32, 'the store key is left alone')
  // the map holds copies, and the identity keeps its own copies: wiping one leaves the other
  for (const v of Object.values(map)) v.fill(0)
  t.same(identityFromSecrets(identityToSecrets(alice)), alice)
  t.not(identityFromSecrets(map).fingerprint, alice.fingerprint, 'wiped entries are other keys')
  const fresh = identityToSecrets(bob)
  const loaded = identityFromSecrets(fresh)
  for (const v of Object.values(fresh)) v.fill(0)
  t.ok(verifyPublicIdentity(loaded))
  t.equal(loaded.fingerprint, bob.fingerprint, 'wiping the map after loading does not touch the identity')
})

t.test('a missing or damaged identity in the keystore is a clear error', async t => {
  t.throws(() => identityFromSecrets({ storeKey: randomBytes(32) }), { code: 'NO_IDENTITY' })
  t.throws(() => identityFromSecrets({}), { code: 'NO_IDENTITY' })
  const map = identityToSecrets(alice)
  t.throws(() => identityFromSecrets({ [IDENTITY_SECRET_NAMES.sign]: map[IDENTITY_SECRET_NAMES.sign] as Uint8Array }),
    { code: 'KEYSTORE_CORRUPT', message: /identity\.x25519' is missing/ })
  t.throws(() => identityFromSecrets({ ...map, [IDENTITY_SECRET_NAMES.dh]: new Uint8Array(31) }),
    { code: 'KEYSTORE_CORRUPT', message: /should be 32 bytes, got 31 bytes/ })
  t.throws(() => identityFromSecrets(JSON.parse('{"__proto__": {"identity.ed25519": 1}}') as Record<string, Uint8Array>),
    { code: 'NO_IDENTITY' }, 'inherited properties are not entries')
})

t.test('wipeIdentity zeroes both secrets', async t => {
  const id = generateIdentity()
  wipeIdentity(id)
  t.ok(id.signSecret.every(b => b === 0))
  t.ok(id.dhSecret.every(b => b === 0))
})

t.test('safety numbers: same on both sides, different for other pairs, 12 groups of 5 digits', async t => {
  const ab = safetyNumber(alice, bob)
  t.match(ab, /^\d{5}( \d{5}){11}$/)
  t.equal(safetyNumber(bob, alice), ab, 'order does not matter')
  t.equal(safetyNumber(publicIdentityOf(bob), publicIdentityOf(alice)), ab, 'secrets play no part')
  const carol = generateIdentity()
  const ac = safetyNumber(alice, carol)
  t.not(ac, ab, 'another contact, another number')
  // one half is Alice's, so the pairs share 30 digits, in the half Alice's key bytes sort into
  const aHalf = [ab.slice(0, 35), ab.slice(36)].filter(h => ac.includes(h))
  t.equal(aHalf.length, 1, "Alice's 30 digits appear in both numbers")
  // a new X25519 key (same signing key) changes the number: a swapped key-agreement key shows
  const dh = x25519.generateKeyPair().publicKey
  const rekeyed = { signPublic: bob.signPublic, dhPublic: dh, dhSignature: ed25519.sign(new Uint8Array([...IDENTITY_SIG_DOMAIN, ...dh]), bob.signSecret) }
  t.ok(verifyPublicIdentity(rekeyed))
  t.not(safetyNumber(alice, rekeyed), ab)
  t.throws(() => safetyNumber(alice, { ...bob, dhPublic: new Uint8Array(5) }), { code: 'CRYPTO' })
})
