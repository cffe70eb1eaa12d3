// Two in-process parties running real handshakes with random keys: round trips, key
// substitution, tampering, replay, truncation, misuse, and wiping of ephemeral secrets.
import t, { type Test } from 'tap'
import { HandshakeState, NOISE_XX, NOISE_IK, NOISE_PROLOGUE, MAX_MESSAGE_BYTES, PATTERN_NAMES, requiredKeys, getPattern } from '../../src/crypto/noise/index.js'
import { x25519, utf8, type KeyPair } from '../../src/crypto/primitives.js'
import { testRng } from '../helpers/seed.js'

/** Random test inputs, seeded (test/helpers/seed.ts): DMESS_TEST_SEED replays a run. */
const randomBytes = testRng(t, 0x4a5d).bytes

const enc = utf8.encode
const dec = utf8.decode

interface Pair { i: HandshakeState, r: HandshakeState }

function xx (iS: KeyPair, rS: KeyPair, extra: { iE?: KeyPair, rE?: KeyPair, rPrologue?: Uint8Array } = {}): Pair {
  return {
    i: new HandshakeState({ protocolName: NOISE_XX, initiator: true, prologue: NOISE_PROLOGUE, s: iS, e: extra.iE }),
    r: new HandshakeState({ protocolName: NOISE_XX, initiator: false, prologue: extra.rPrologue ?? NOISE_PROLOGUE, s: rS, e: extra.rE })
  }
}

function ik (iS: KeyPair, rS: KeyPair, rsAtInitiator = rS.publicKey): Pair {
  return {
    i: new HandshakeState({ protocolName: NOISE_IK, initiator: true, prologue: NOISE_PROLOGUE, s: iS, rs: rsAtInitiator }),
    r: new HandshakeState({ protocolName: NOISE_IK, initiator: false, prologue: NOISE_PROLOGUE, s: rS })
  }
}

/** Deliver one message from a to b and return what b read. */
function send (a: HandshakeState, b: HandshakeState, text: string): string {
  return dec(b.readMessage(a.writeMessage(enc(text))))
}

function checkTransport (t: Test, { i, r }: Pair): void {
  const iCs = i.cipherStates
  const rCs = r.cipherStates
  if (iCs === null || rCs === null) throw new Error('not complete')
  for (let n = 0; n < 5; n++) {
    t.equal(dec(rCs.receive.decryptWithAd(new Uint8Array(0), iCs.send.encryptWithAd(new Uint8Array(0), enc(`ping ${n}`)))), `ping ${n}`)
    t.equal(dec(iCs.receive.decryptWithAd(new Uint8Array(0), rCs.send.encryptWithAd(new Uint8Array(0), enc(`pong ${n}`)))), `pong ${n}`)
  }
  const [c1, c2] = i.split()
  t.equal(c1, iCs.send)
  t.equal(c2, iCs.receive)
}

t.test('XX round trip with random keys and payloads in every message', async t => {
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  const p = xx(iS, rS)
  t.equal(p.i.nextAction, 'write')
  t.equal(p.r.nextAction, 'read')
  t.equal(p.i.remoteStatic, null)
  t.equal(send(p.i, p.r, 'hello from initiator'), 'hello from initiator')
  t.equal(send(p.r, p.i, 'hello from responder'), 'hello from responder')
  t.notOk(p.i.complete)
  t.same(p.i.remoteStatic, rS.publicKey, 'initiator learned the responder key in message 2')
  t.equal(send(p.i, p.r, 'initiator identity'), 'initiator identity')
  t.ok(p.i.complete && p.r.complete)
  t.equal(p.i.nextAction, 'done')
  t.same(p.r.remoteStatic, iS.publicKey)
  t.same(p.i.handshakeHash, p.r.handshakeHash)
  t.equal(p.i.getHandshakeHash().length, 64, 'BLAKE2b handshake hash')
  checkTransport(t, p)
})

t.test('IK round trip: the initiator knows the responder key, one round trip', async t => {
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  const p = ik(iS, rS)
  t.same(p.i.remoteStatic, rS.publicKey)
  t.equal(send(p.i, p.r, 'first'), 'first')
  t.same(p.r.remoteStatic, iS.publicKey, 'responder learned the initiator key in message 1')
  t.equal(send(p.r, p.i, 'second'), 'second')
  t.ok(p.i.complete && p.r.complete)
  t.same(p.i.getHandshakeHash(), p.r.getHandshakeHash())
  checkTransport(t, p)
})

t.test('IK with the wrong responder static key fails at the responder', async t => {
  const rS = x25519.generateKeyPair()
  const impostorKey = x25519.generateKeyPair().publicKey
  const p = ik(x25519.generateKeyPair(), rS, impostorKey)
  const m1 = p.i.writeMessage(enc('secret payload'))
  t.throws(() => p.r.readMessage(m1), { code: 'NOISE_DECRYPT' })
  t.equal(p.r.nextAction, 'failed')
  t.throws(() => p.r.writeMessage(), { code: 'NOISE_STATE' }, 'a failed state stays dead')
  t.equal(p.r.remoteStatic, null, 'no remote key is reported')
})

t.test('every pattern round-trips in-process (the engine is generic)', async t => {
  for (const name of PATTERN_NAMES) {
    const pattern = getPattern(name)
    const iS = x25519.generateKeyPair()
    const rS = x25519.generateKeyPair()
    const opts = (initiator: boolean): ConstructorParameters<typeof HandshakeState>[0] => {
      const need = requiredKeys(pattern, initiator)
      return {
        pattern: name, suite: '25519_ChaChaPoly_SHA256', initiator,
        s: need.s ? (initiator ? iS : rS) : undefined,
        rs: need.rs ? (initiator ? rS : iS).publicKey : undefined
      }
    }
    const i = new HandshakeState(opts(true))
    const r = new HandshakeState(opts(false))
    for (let n = 0; n < pattern.messages.length; n++) {
      const [a, b] = n % 2 === 0 ? [i, r] : [r, i]
      t.equal(send(a, b, `m${n}`), `m${n}`)
    }
    t.ok(i.complete && r.complete, `${name} completes`)
    t.same(i.handshakeHash, r.handshakeHash, `${name} hashes agree`)
    if (i.remoteStatic !== null) t.same(i.remoteStatic, rS.publicKey)
    if (r.remoteStatic !== null) t.same(r.remoteStatic, iS.publicKey)
  }
})

t.test('XX: a bit flip anywhere in message 1 or 2 is rejected', async t => {
  // fixed keys so every run produces the same messages, and each flip gets a fresh pair
  const keys = { iS: x25519.generateKeyPair(), rS: x25519.generateKeyPair(), iE: x25519.generateKeyPair(), rE: x25519.generateKeyPair() }
  const fresh = (): Pair => xx(keys.iS, keys.rS, { iE: keys.iE, rE: keys.rE })
  const ref = fresh()
  const m1 = ref.i.writeMessage(enc('one'))
  ref.r.readMessage(m1)
  const m2 = ref.r.writeMessage(enc('two'))
  let rejected1 = 0
  let rejected2 = 0
  for (let byte = 0; byte < m1.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const p = fresh()
      const bad = p.i.writeMessage(enc('one'))
      bad[byte] = (bad[byte] as number) ^ (1 << bit)
      // message 1 is not authenticated by itself (no key yet, §7.7): the tamper shows when the
      // initiator reads message 2, whose AD (h) and key (ee) no longer match
      p.r.readMessage(bad)
      const reply = p.r.writeMessage(enc('two'))
      try { p.i.readMessage(reply) } catch (err) { if ((err as { code?: string }).code === 'NOISE_DECRYPT') rejected1++ }
    }
  }
  for (let byte = 0; byte < m2.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const p = fresh()
      p.r.readMessage(p.i.writeMessage(enc('one')))
      const bad = p.r.writeMessage(enc('two'))
      bad[byte] = (bad[byte] as number) ^ (1 << bit)
      try { p.i.readMessage(bad) } catch (err) { if ((err as { code?: string }).code === 'NOISE_DECRYPT') rejected2++ }
    }
  }
  t.equal(rejected1, m1.length * 8, `all ${m1.length * 8} flips of message 1 rejected`)
  t.equal(rejected2, m2.length * 8, `all ${m2.length * 8} flips of message 2 rejected`)
})

t.test('XX: a key from a handshake that failed later in the message is not reported', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  p.r.readMessage(p.i.writeMessage())
  const m2 = p.r.writeMessage(enc('two'))
  m2[m2.length - 1] = (m2[m2.length - 1] as number) ^ 1 // the static key decrypts, the payload tag fails
  t.throws(() => p.i.readMessage(m2), { code: 'NOISE_DECRYPT' })
  t.equal(p.i.remoteStatic, null)
})

t.test('XX: a tampered message 3 is rejected by the responder', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  p.r.readMessage(p.i.writeMessage())
  p.i.readMessage(p.r.writeMessage())
  const m3 = p.i.writeMessage(enc('three'))
  m3[5] = (m3[5] as number) ^ 0x80
  t.throws(() => p.r.readMessage(m3), { code: 'NOISE_DECRYPT' })
  t.notOk(p.r.complete)
  t.equal(p.r.cipherStates, null)
})

t.test('a different prologue makes the first authenticated message fail', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair(), { rPrologue: enc('dmess/2') })
  p.r.readMessage(p.i.writeMessage())
  t.throws(() => p.i.readMessage(p.r.writeMessage()), { code: 'NOISE_DECRYPT' })
})

t.test('truncated handshake messages are rejected as malformed', async t => {
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  const ref = ik(iS, rS)
  const m1 = ref.i.writeMessage(enc('payload'))
  for (let len = 0; len < m1.length; len++) {
    const p = ik(iS, rS)
    const msg = p.i.writeMessage(enc('payload'))
    const err = t.throws(() => p.r.readMessage(msg.subarray(0, len))) as { code?: string }
    // short of the 32+48+16 fixed part: malformed; otherwise the payload tag does not verify
    t.ok(err.code === (len < 32 + 48 + 16 ? 'NOISE_BAD_MESSAGE' : 'NOISE_DECRYPT'), `length ${len}: ${err.code}`)
  }
  const p = ik(iS, rS)
  t.throws(() => p.r.readMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1)), { code: 'NOISE_BAD_MESSAGE' })
})

t.test('replayed handshake messages are rejected', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  const m1 = p.i.writeMessage()
  p.r.readMessage(m1)
  t.throws(() => p.r.readMessage(m1), { code: 'NOISE_STATE' }, 'responder is not expecting a message now')
  const m2 = p.r.writeMessage()
  p.i.readMessage(m2)
  p.r.readMessage(p.i.writeMessage())
  t.ok(p.r.complete)
  t.throws(() => p.i.readMessage(m2), { code: 'NOISE_STATE' }, 'a completed handshake takes no more messages')
  // message 2 of another session does not authenticate in this one
  const q = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  q.i.writeMessage()
  t.throws(() => q.i.readMessage(m2), { code: 'NOISE_DECRYPT' })
})

t.test('out-of-turn calls and misuse are local errors', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  t.throws(() => p.r.writeMessage(), { code: 'NOISE_STATE' })
  t.throws(() => p.i.readMessage(new Uint8Array(32)), { code: 'NOISE_STATE' })
  t.equal(p.i.nextAction, 'write', 'misuse does not kill the state')
  t.throws(() => p.i.split(), { code: 'NOISE_STATE' })
  t.throws(() => p.i.getHandshakeHash(), { code: 'NOISE_STATE' })
  t.equal(p.i.handshakeHash, null)
  t.throws(() => p.i.writeMessage(new Uint8Array(MAX_MESSAGE_BYTES - 31)), { code: 'NOISE_TOO_LARGE' })
  t.equal(p.i.writeMessage(new Uint8Array(MAX_MESSAGE_BYTES - 32)).length, MAX_MESSAGE_BYTES, 'exactly 65535 is fine')
  p.i.destroy()
  const q = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  q.i.destroy()
  t.throws(() => q.i.writeMessage(), { code: 'NOISE_STATE' }, 'destroyed mid-handshake')
})

t.test('XX message 2 at the size limit: the static key and payload tags are counted', async t => {
  const p = xx(x25519.generateKeyPair(), x25519.generateKeyPair())
  p.r.readMessage(p.i.writeMessage())
  const limit = MAX_MESSAGE_BYTES - 32 - 48 - 16
  t.throws(() => p.r.writeMessage(new Uint8Array(limit + 1)), { code: 'NOISE_TOO_LARGE' })
  t.equal(p.r.nextAction, 'write', 'a refused write leaves the state usable')
  t.equal(p.i.readMessage(p.r.writeMessage(new Uint8Array(limit))).length, limit)
})

t.test('missing or malformed keys and unsupported names are refused up front', async t => {
  t.throws(() => new HandshakeState({ protocolName: NOISE_XX, initiator: true }), { code: 'NOISE_MISSING_KEY' })
  t.throws(() => new HandshakeState({ protocolName: NOISE_IK, initiator: true, s: x25519.generateKeyPair() }), { code: 'NOISE_MISSING_KEY' })
  t.throws(() => new HandshakeState({ protocolName: NOISE_IK, initiator: true, s: x25519.generateKeyPair(), rs: new Uint8Array(31) }), { code: 'NOISE_MISSING_KEY' })
  t.throws(() => new HandshakeState({ protocolName: NOISE_XX, initiator: true, s: x25519.generateKeyPair(), rs: randomBytes(32) }), { code: 'BAD_ARGUMENT' })
  t.throws(() => new HandshakeState({ initiator: true }), { code: 'BAD_ARGUMENT' })
  for (const name of ['Noise_XX_448_ChaChaPoly_BLAKE2b', 'Noise_XX_25519_AESGCM_BLAKE2b', 'Noise_XX_25519_ChaChaPoly_BLAKE2s',
    'Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b', 'Noise_ZZ_25519_ChaChaPoly_BLAKE2b', 'Noise_XX_25519_ChaChaPoly', 'Nois_XX_25519_ChaChaPoly_SHA256']) {
    t.throws(() => new HandshakeState({ protocolName: name, initiator: true }), { code: 'NOISE_UNSUPPORTED' }, name)
  }
  const nn = new HandshakeState({ pattern: 'NN', initiator: true })
  t.equal(nn.protocolName, 'Noise_NN_25519_ChaChaPoly_BLAKE2b', 'default suite')
})

t.test('ephemeral secrets are wiped when the handshake completes or fails', async t => {
  const handedOut: Uint8Array[] = []
  const rng = (n: number): Uint8Array => { const b = randomBytes(n); handedOut.push(b); return b }
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  const i = new HandshakeState({ protocolName: NOISE_XX, initiator: true, s: iS, randomBytes: rng })
  const r = new HandshakeState({ protocolName: NOISE_XX, initiator: false, s: rS, randomBytes: rng })
  r.readMessage(i.writeMessage())
  i.readMessage(r.writeMessage())
  t.equal(handedOut.length, 2)
  t.ok(handedOut.every(b => b.some(x => x !== 0)), 'secrets in use mid-handshake')
  r.readMessage(i.writeMessage())
  t.ok(handedOut.every(b => b.every(x => x === 0)), 'both ephemeral secrets zeroed after completion')
  t.ok(iS.secretKey.some(x => x !== 0), 'the caller\'s static key is left alone')
  const f = new HandshakeState({ protocolName: NOISE_XX, initiator: true, s: iS, randomBytes: rng })
  f.writeMessage()
  t.throws(() => f.readMessage(randomBytes(96)), { code: 'NOISE_DECRYPT' })
  t.ok((handedOut[2] as Uint8Array).every(x => x === 0), 'zeroed after a failure too')
})

t.test('a low-order remote ephemeral key is a bad message, not a crash', async t => {
  const r = new HandshakeState({ protocolName: NOISE_XX, initiator: false, s: x25519.generateKeyPair() })
  r.readMessage(new Uint8Array(32)) // the all-zero point: accepted by `e`, refused at `ee`
  t.throws(() => r.writeMessage(), { code: 'NOISE_BAD_MESSAGE' })
  t.equal(r.nextAction, 'failed')
})
