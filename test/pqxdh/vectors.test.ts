// The known-answer run of proto-spec/pqxdh.md §10, read from the spec itself: a prekey pair made
// from fixed secrets, its bundle, Alice's initial message with a fixed EK_A and ML-KEM randomness,
// and SK and AD on both sides. Any change to a layout, a signed message, the KDF or AD shows here.
import t from 'tap'
import { identityFromSecrets, IDENTITY_SECRET_NAMES, type Identity } from '../../src/crypto/identity.js'
import { x25519, sha256 } from '../../src/crypto/primitives.js'
import {
  createPrekeySet, bundleOf, initiate, respond, spkSignedMessage, pqspkSignedMessage, mlkem768, decodeBundle,
  decodeInitialMessage, type PrekeyRing
} from '../../src/pqxdh/index.js'
import { specVectors, fromHex, toHex } from '../helpers/spec-vectors.js'

const V = specVectors('pqxdh.md')
const get = (k: string): string => {
  const v = V.get(k)
  if (v === undefined) throw new Error(`pqxdh.md §10 has no ${k}`)
  return v
}
const hex = (k: string): Uint8Array => fromHex(get(k))

function load (who: string): Identity {
  return identityFromSecrets({ [IDENTITY_SECRET_NAMES.sign]: hex(`${who}.signSecret`), [IDENTITY_SECRET_NAMES.dh]: hex(`${who}.dhSecret`) })
}

/** A KeyRandom that hands out exactly these buffers, in order, and fails on anything else. */
function fixedRandom (...bufs: Uint8Array[]): (n: number) => Uint8Array {
  return (n: number) => {
    const next = bufs.shift()
    if (next === undefined || next.length !== n) throw new Error(`unexpected randomness request for ${n} bytes`)
    return next.slice()
  }
}

const alice = load('alice')
const bob = load('bob')
const prekeyId = Number(get('prekeyId'))
const createdS = Number(get('createdS'))
const nowMs = Number(get('nowMs'))
const set = createPrekeySet(bob, prekeyId, createdS, fixedRandom(hex('spkSecret'), hex('kemSeed')))
const ring: PrekeyRing = { nextId: prekeyId + 1, sets: [set] }

t.test('the prekey pair, its signed messages and signatures', async t => {
  t.equal(toHex(set.spk.publicKey), get('spkPublic'))
  t.equal(toHex(sha256(set.pqspk.publicKey)), get('pqspkPublicSha256'))
  t.equal(toHex(spkSignedMessage(prekeyId, createdS, set.spk.publicKey)), get('spkSignedMessage'))
  t.equal(spkSignedMessage(prekeyId, createdS, set.spk.publicKey).length, 60, '60 bytes, as §3.2 says')
  t.equal(pqspkSignedMessage(prekeyId, createdS, set.pqspk.publicKey).length, 1214, '1214 bytes, as §3.2 says')
  t.equal(toHex(sha256(pqspkSignedMessage(prekeyId, createdS, set.pqspk.publicKey))), get('pqspkSignedMessageSha256'))
  t.equal(toHex(set.spkSignature), get('spkSignature'))
  t.equal(toHex(set.pqspkSignature), get('pqspkSignature'))
})

t.test('the bundle bytes, and their fields where §3.3 puts them', async t => {
  const bundle = bundleOf(ring, bob)
  t.equal(toHex(bundle), get('bundle'))
  const d = decodeBundle(hex('bundle'))
  if (!d.ok) throw d.error
  t.equal(d.value.prekeyId, prekeyId)
  t.equal(d.value.createdS, createdS)
  t.equal(toHex(d.value.owner.signPublic), toHex(bob.signPublic))
  t.equal(toHex(d.value.spk), get('spkPublic'))
  t.equal(toHex(sha256(d.value.pqspk)), get('pqspkPublicSha256'))
})

t.test('Alice: DH values, KEM step, SK, AD and the initial message', async t => {
  const ekSecret = hex('ekSecret')
  t.equal(toHex(x25519.publicFromSecret(ekSecret)), get('ekPublic'))
  t.equal(toHex(x25519.dh(alice.dhSecret, set.spk.publicKey)), get('dh1'))
  t.equal(toHex(x25519.dh(ekSecret, bob.dhPublic)), get('dh2'))
  t.equal(toHex(x25519.dh(ekSecret, set.spk.publicKey)), get('dh3'))
  const kem = mlkem768.encapsulate(set.pqspk.publicKey, hex('kemRandom'))
  t.equal(toHex(sha256(kem.cipherText)), get('kemCiphertextSha256'))
  t.equal(toHex(kem.sharedSecret), get('ss'))
  const run = initiate(alice, hex('bundle'), bob.fingerprint, nowMs, fixedRandom(hex('ekSecret'), hex('kemRandom')))
  if (!run.ok) throw run.error
  t.equal(toHex(run.value.sk), get('sk'))
  t.equal(toHex(run.value.ad), get('ad'))
  t.equal(toHex(run.value.initialMessage), get('initialMessage'))
  t.equal(toHex(run.value.responderRatchetPublic), get('spkPublic'), "SPK_B is the ratchet's first remote key")
  t.equal(run.value.prekeyId, prekeyId)
})

t.test('Bob: the initial message of §10 gives the same SK and AD', async t => {
  const m = decodeInitialMessage(hex('initialMessage'))
  if (!m.ok) throw m.error
  t.equal(toHex(m.value.ephemeral), get('ekPublic'))
  t.equal(toHex(sha256(m.value.kemCiphertext)), get('kemCiphertextSha256'))
  const r = respond(bob, ring, hex('initialMessage'))
  if (!r.ok) throw r.error
  t.equal(toHex(r.value.sk), get('sk'))
  t.equal(toHex(r.value.ad), get('ad'))
  t.equal(r.value.initiatorFingerprint, alice.fingerprint)
  t.equal(toHex(r.value.ratchetKeyPair.publicKey), get('spkPublic'))
  t.equal(toHex(r.value.ratchetKeyPair.secretKey), get('spkSecret'))
})
