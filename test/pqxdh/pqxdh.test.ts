// PQXDH between two real identities (src/pqxdh/pqxdh.ts, proto-spec/pqxdh.md §3.4, §4, §6): both
// sides derive the same SK and AD, and every bad bundle or initial message is answered with its
// own typed error, never a throw: bad signatures, another identity, tampering, truncation, stale
// prekeys, replays. Ends with a seeded fuzz of both decoders.
import t from 'tap'
import { generateIdentity, encodePublicIdentity, type Identity } from '../../src/crypto/identity.js'
import { ed25519, x25519 } from '../../src/crypto/primitives.js'
import {
  EMPTY_RING, rotatePrekeys, bundleOf, initiate, respond, openBundle, encodeBundle, decodeBundle, decodeInitialMessage,
  spkSignedMessage, pqspkSignedMessage, rememberInitial, currentSet, BUNDLE_BYTES, INITIAL_MESSAGE_BYTES,
  BUNDLE_MAX_AGE_MS, MAX_SEEN_PER_PREKEY, type PqxdhResult, type PrekeyRing
} from '../../src/pqxdh/index.js'
import { testRng } from '../helpers/seed.js'

const T0 = Date.UTC(2030, 0, 1)
const alice = generateIdentity()
const bob = generateIdentity()
const mallory = generateIdentity()
const ring = rotatePrekeys(EMPTY_RING, bob, T0).ring
const bundle = bundleOf(ring, bob)

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
function code<T> (r: PqxdhResult<T>): string { return r.ok ? 'ok' : r.error.code }
function flip (b: Uint8Array, at: number, mask = 0x01): Uint8Array { const c = b.slice(); c[at] = c[at]! ^ mask; return c }

/** A bundle with these keys, properly signed by `owner`: for keys a real owner would never sign. */
function signedBundle (owner: Identity, spk: Uint8Array, pqspk: Uint8Array, createdS = T0 / 1000): Uint8Array {
  return encodeBundle({
    owner, prekeyId: 9, createdS, spk, pqspk,
    spkSignature: ed25519.sign(spkSignedMessage(9, createdS, spk), owner.signSecret),
    pqspkSignature: ed25519.sign(pqspkSignedMessage(9, createdS, pqspk), owner.signSecret)
  })
}

function start (r: PrekeyRing = ring, now = T0): { msg: Uint8Array, sk: Uint8Array, ad: Uint8Array } {
  const i = initiate(alice, bundleOf(r, bob), bob.fingerprint, now)
  if (!i.ok) throw i.error
  return { msg: i.value.initialMessage, sk: i.value.sk, ad: i.value.ad }
}

t.test('a full run: both sides derive the same SK and AD, and the ratchet gets SPK_B', async t => {
  const i = initiate(alice, bundle, bob.fingerprint, T0)
  if (!i.ok) throw i.error
  t.equal(i.value.initialMessage.length, INITIAL_MESSAGE_BYTES)
  const r = respond(bob, ring, i.value.initialMessage)
  if (!r.ok) throw r.error
  t.equal(hex(r.value.sk), hex(i.value.sk), 'same SK')
  t.equal(r.value.sk.length, 32)
  t.equal(hex(r.value.ad), hex(i.value.ad), 'same AD')
  t.equal(r.value.initiatorFingerprint, alice.fingerprint, 'Bob learns who started it')
  t.equal(hex(i.value.responderRatchetPublic), hex(r.value.ratchetKeyPair.publicKey), "Alice's first remote ratchet key is Bob's SPK")
  t.equal(hex(x25519.publicFromSecret(r.value.ratchetKeyPair.secretKey)), hex(r.value.ratchetKeyPair.publicKey))
  const again = initiate(alice, bundle, bob.fingerprint, T0)
  if (!again.ok) throw again.error
  t.not(hex(again.value.sk), hex(i.value.sk), 'a second start is a fresh secret (fresh EK_A and KEM randomness)')
  t.equal(hex(again.value.ad), hex(i.value.ad), 'AD depends only on the two identities')
})

t.test('AD binds both whole identities, in order', async t => {
  const a = start().ad
  t.equal(a.length, 130)
  const i = initiate(mallory, bundle, bob.fingerprint, T0)
  if (!i.ok) throw i.error
  t.not(hex(i.value.ad), hex(a), 'another initiator, another AD')
  t.equal(hex(a.subarray(1, 33)), hex(alice.dhPublic))
  t.equal(hex(a.subarray(34, 66)), hex(bob.dhPublic))
  t.equal(hex(a.subarray(66, 98)), hex(alice.signPublic))
  t.equal(hex(a.subarray(98)), hex(bob.signPublic))
})

t.test('bundles that must be refused, each with its own code', async t => {
  const at = { owner: 1, dhSig: 65, id: 129, created: 133, spk: 138, spkSig: 170, pqspk: 240, pqspkSig: 1419 }
  const cases: Array<[string, Uint8Array, string, number?]> = [
    ['truncated by one byte', bundle.subarray(0, BUNDLE_BYTES - 1), 'PQXDH_MALFORMED'],
    ['one byte too many', new Uint8Array([...bundle, 0]), 'PQXDH_MALFORMED'],
    ['empty', new Uint8Array(0), 'PQXDH_MALFORMED'],
    ['version 2', flip(bundle, 0, 0x03), 'PQXDH_MALFORMED'],
    ['SPK type byte', flip(bundle, 137), 'PQXDH_MALFORMED'],
    ['PQSPK type byte', flip(bundle, 234), 'PQXDH_MALFORMED'],
    ["the owner's key binding", flip(bundle, at.dhSig), 'PQXDH_BAD_IDENTITY'],
    ['another signing key (another fingerprint)', flip(bundle, at.owner + 5), 'PQXDH_BAD_IDENTITY'],
    ['a byte of SPK', flip(bundle, at.spk), 'PQXDH_BAD_SPK_SIGNATURE'],
    ['the SPK signature', flip(bundle, at.spkSig + 3), 'PQXDH_BAD_SPK_SIGNATURE'],
    ['the prekey id (signed)', flip(bundle, at.id + 3), 'PQXDH_BAD_SPK_SIGNATURE'],
    ['the creation time (signed)', flip(bundle, at.created + 3), 'PQXDH_BAD_SPK_SIGNATURE'],
    ['a byte of PQSPK', flip(bundle, at.pqspk + 500), 'PQXDH_BAD_PQSPK_SIGNATURE'],
    ['the PQSPK signature', flip(bundle, at.pqspkSig + 10), 'PQXDH_BAD_PQSPK_SIGNATURE']
  ]
  for (const [what, bytes, want] of cases) t.equal(code(openBundle(bytes, bob.fingerprint, T0)), want, what)
  t.equal(code(openBundle(bundle, mallory.fingerprint, T0)), 'PQXDH_WRONG_IDENTITY', "Bob's valid bundle is not Mallory's")
  const mallorysOwn = bundleOf(rotatePrekeys(EMPTY_RING, mallory, T0).ring, mallory)
  const r = openBundle(mallorysOwn, bob.fingerprint, T0)
  t.equal(code(r), 'PQXDH_WRONG_IDENTITY', "Mallory's valid bundle offered as Bob's")
  t.match(r.ok ? '' : r.error.message, mallory.fingerprint, 'the message names whose it is')
  t.equal(code(initiate(alice, mallorysOwn, bob.fingerprint, T0)), 'PQXDH_WRONG_IDENTITY', 'initiate refuses it too, computing nothing')
})

t.test("keys no owner should sign, signed anyway, are refused (PQXDH_BAD_KEY)", async t => {
  const set = currentSet(ring)!
  const lowOrder = new Uint8Array(32) // the all-zero u-coordinate: low order
  t.equal(code(openBundle(signedBundle(bob, lowOrder, set.pqspk.publicKey), bob.fingerprint, T0)), 'PQXDH_BAD_KEY')
  const badEk = set.pqspk.publicKey.slice()
  badEk[0] = 0xff; badEk[1] = 0xff // first coefficient 4095 ≥ q
  t.equal(code(openBundle(signedBundle(bob, set.spk.publicKey, badEk), bob.fingerprint, T0)), 'PQXDH_BAD_KEY')
  t.equal(code(openBundle(signedBundle(bob, set.spk.publicKey, set.pqspk.publicKey), bob.fingerprint, T0)), 'ok', 'the same bundle with good keys opens')
})

t.test('age: a bundle up to 14 days old opens; older, or from the future, is stale', async t => {
  t.equal(code(openBundle(bundle, bob.fingerprint, T0 + BUNDLE_MAX_AGE_MS)), 'ok')
  t.equal(code(openBundle(bundle, bob.fingerprint, T0 + BUNDLE_MAX_AGE_MS + 1000)), 'PQXDH_STALE_PREKEY')
  t.equal(code(openBundle(bundle, bob.fingerprint, T0 - 2 * 3600_000)), 'PQXDH_STALE_PREKEY')
  t.equal(code(openBundle(bundle, bob.fingerprint, T0 - 30 * 60_000)), 'ok', 'half an hour of clock skew is fine')
})

t.test('initial messages that must be refused', async t => {
  const { msg } = start()
  const cases: Array<[string, Uint8Array, string]> = [
    ['truncated', msg.subarray(0, INITIAL_MESSAGE_BYTES - 1), 'PQXDH_MALFORMED'],
    ['version', flip(msg, 0, 0x02), 'PQXDH_MALFORMED'],
    ['EK type byte', flip(msg, 133), 'PQXDH_MALFORMED'],
    ["the initiator's key binding", flip(msg, 1 + 70), 'PQXDH_BAD_IDENTITY'],
    ['an unknown prekey id', flip(msg, 132, 0x40), 'PQXDH_UNKNOWN_PREKEY']
  ]
  for (const [what, bytes, want] of cases) t.equal(code(respond(bob, ring, bytes)), want, what)
  const lowEk = msg.slice()
  lowEk.fill(0, 134, 166)
  t.equal(code(respond(bob, ring, lowEk)), 'PQXDH_BAD_KEY', 'a low-order EK_A')
  const otherId = msg.slice()
  otherId.set(encodePublicIdentity(mallory), 1)
  const r = respond(bob, ring, otherId)
  t.ok(r.ok, "a valid identity swapped in is not detected here…")
  t.not(r.ok ? hex(r.value.sk) : '', hex(start().sk), '…but gives another SK (DH1 changes), so the first ratchet message fails')
})

t.test('a modified KEM ciphertext is not an error but another SK (implicit rejection)', async t => {
  const i = initiate(alice, bundle, bob.fingerprint, T0)
  if (!i.ok) throw i.error
  const r = respond(bob, ring, flip(i.value.initialMessage, 600))
  if (!r.ok) throw r.error
  t.not(hex(r.value.sk), hex(i.value.sk))
})

t.test('replay: the same initial message is refused once its ring is committed', async t => {
  const { msg, sk } = start()
  const first = respond(bob, ring, msg)
  if (!first.ok) throw first.error
  t.equal(hex(first.value.sk), hex(sk))
  t.equal(code(respond(bob, first.value.ring, msg)), 'PQXDH_REPLAY', 'the committed ring refuses it')
  t.equal(code(respond(bob, ring, msg)), 'ok', 'the ring from before is unchanged (pure): not committed, nothing remembered')
  const other = start()
  t.equal(code(respond(bob, first.value.ring, other.msg)), 'ok', 'another initial message under the same prekey is fine')
})

t.test('a prekey pair whose replay memory is full takes no more starts', async t => {
  const id = currentSet(ring)!.id
  const seen = new Set(Array.from({ length: MAX_SEEN_PER_PREKEY - 1 }, (_, i) => i.toString(16).padStart(64, '0')))
  const full = rememberInitial({ ...ring, sets: ring.sets.map(s => ({ ...s, seen })) }, id, new Uint8Array(32).fill(0xee))
  t.equal(currentSet(full)!.seen.size, MAX_SEEN_PER_PREKEY)
  t.equal(code(respond(bob, full, start().msg)), 'PQXDH_PREKEY_FULL')
})

t.test('seeded fuzz: decoders never throw, and no single-byte change to a bundle opens', async t => {
  const rng = testRng(t, 0x9a1d7e, 'bundle and initial-message mutations')
  const { msg } = start()
  const codes = new Set<string>()
  for (let n = 0; n < 400; n++) {
    const base = rng.chance(0.5) ? bundle : msg
    let bytes: Uint8Array = base.slice()
    const kind = rng.int(4)
    if (kind === 0) bytes = bytes.subarray(0, rng.int(bytes.length)) // truncate
    else if (kind === 1) bytes = new Uint8Array([...bytes, ...rng.bytes(1 + rng.int(8))]) // extend
    else if (kind === 2) bytes = rng.bytes(rng.int(2 * bytes.length)) // noise
    else bytes = flip(bytes, rng.int(bytes.length), 1 + rng.int(255)) // one byte changed
    let a: PqxdhResult<unknown>, b: PqxdhResult<unknown>, c: PqxdhResult<unknown>
    try {
      a = decodeBundle(bytes); b = openBundle(bytes, bob.fingerprint, T0); c = respond(bob, ring, bytes)
      decodeInitialMessage(bytes)
    } catch (err) {
      t.fail(`threw on mutation ${n} (kind ${kind}, ${bytes.length} bytes): ${String(err)}`)
      return
    }
    for (const r of [a, b, c]) if (!r.ok) { codes.add(r.error.code); t.match(r.error.code, /^PQXDH_/) }
    if (base === bundle && kind === 3) t.notOk(b.ok, `mutation ${n}: a changed bundle does not open`)
  }
  t.ok(codes.size >= 4, `typed errors seen: ${[...codes].sort().join(', ')}`)
})

t.test('respond uses the prekey pair the message names: current or retired', async t => {
  const week = T0 + 7 * 86_400_000
  const r1 = rotatePrekeys(ring, bob, week).ring
  const old = start(ring)
  const fresh = start(r1, week)
  const a = respond(bob, r1, old.msg)
  const b = respond(bob, r1, fresh.msg)
  if (!a.ok || !b.ok) throw new Error('both pairs should answer')
  t.equal(hex(a.value.sk), hex(old.sk), 'a message to the retired pair still opens during the grace period')
  t.equal(hex(b.value.sk), hex(fresh.sk))
  t.not(a.value.prekeyId, b.value.prekeyId)
})
