// Key substitution over real UDP (session.md §4.1, noise.md §4): a handshake that authenticates
// a key other than the one that belongs to the fingerprint we want must not give a session.
// The crafted peers below speak the wire format by hand (HandshakeState + wire codecs on a raw
// socket); each negative case has a control with an honest proof, so the crafting is shown right.
import t from 'tap'
import { createSocket, type Socket } from 'node:dgram'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity, type Identity } from '../../src/crypto/identity.js'
import { x25519, type KeyPair } from '../../src/crypto/primitives.js'
import { HandshakeState, NOISE_XX, NOISE_PROLOGUE } from '../../src/crypto/noise/index.js'
import { decodePacket, encodeHandshakeResponse, encodeHandshakeInitiation, encodeHandshakeFinal } from '../../src/wire/packet.js'
import { HandshakePattern } from '../../src/wire/constants.js'
import { encodeProof } from '../../src/transport/proof.js'
import { until } from './fixtures/tap.js'

async function raw (): Promise<Socket> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', resolve) })
  return s
}

async function listen (identity = generateIdentity(), tuning = {}): Promise<Endpoint> {
  return await Endpoint.listen({ host: '127.0.0.1', identity, tuning })
}

/** An XX responder whose Noise static key is `staticKey` but whose proof is `proofOf`'s. */
function craftedResponder (sock: Socket, staticKey: KeyPair, proofOf: Identity): void {
  sock.on('message', (msg, rinfo) => {
    const p = decodePacket(msg)
    if (p?.kind !== 'handshake-initiation') return
    const hs = new HandshakeState({ protocolName: NOISE_XX, initiator: false, prologue: NOISE_PROLOGUE, s: staticKey })
    hs.readMessage(p.message)
    const response = encodeHandshakeResponse({ senderIndex: 0x5eed, receiverIndex: p.senderIndex, message: hs.writeMessage(encodeProof(proofOf)) })
    sock.send(response, rinfo.port, rinfo.address)
  })
}

/** Run an XX initiator by hand against `to`; message 3 carries `proofOf`'s proof under `staticKey`. */
async function craftedInitiator (sock: Socket, to: { host: string, port: number }, staticKey: KeyPair, proofOf: Identity): Promise<void> {
  const hs = new HandshakeState({ protocolName: NOISE_XX, initiator: true, prologue: NOISE_PROLOGUE, s: staticKey })
  const sender = 0x1234
  const response = new Promise<Buffer>(resolve => { sock.once('message', resolve) })
  sock.send(encodeHandshakeInitiation({ senderIndex: sender, pattern: HandshakePattern.XX, cookie: null, message: hs.writeMessage() }), to.port, to.host)
  const p = decodePacket(await response)
  if (p?.kind !== 'handshake-response') throw new Error('no response')
  hs.readMessage(p.message)
  const sessionId = new Uint8Array(8).fill(7)
  sock.send(encodeHandshakeFinal({ receiverIndex: p.senderIndex, message: hs.writeMessage(encodeProof(proofOf, sessionId)) }), to.port, to.host)
}

t.test('IK to a real static key of the wrong identity: FINGERPRINT_MISMATCH, no session on either side', async t => {
  const malloryId = generateIdentity()
  const [a, mallory] = [await listen(), await listen(malloryId)]
  t.teardown(async () => { await a.close(); await mallory.close() })
  const bob = generateIdentity()
  const inbound: Session[] = []
  mallory.on('session', s => inbound.push(s))
  // we believe mallory's key is bob's: the handshake completes, and proves mallory's fingerprint
  await t.rejects(a.connect(mallory.address, { expectFingerprint: bob.fingerprint, remoteStatic: malloryId.dhPublic }), { code: 'FINGERPRINT_MISMATCH' })
  t.equal(a.sessions().length, 0)
  t.equal(a.stats().dropped['fingerprint-mismatch'], 1)
  t.equal(mallory.stats().halfOpen, 1, 'only an unconfirmed half-open handshake, which expires')
  // an honest handshake from the same socket afterwards: whatever we sent mallory before it
  // (a key confirmation, had we sent one) arrived first, on one loopback path, in order
  const control = new Promise<Session>(resolve => mallory.once('session', resolve))
  const honest = await a.connect(mallory.address, { expectFingerprint: malloryId.fingerprint })
  const seen = await control
  t.equal(seen.remoteFingerprint, a.fingerprint, 'the control session arrived')
  t.equal(honest.remoteFingerprint, malloryId.fingerprint)
  t.equal(inbound.length, 1, 'mallory never got key confirmation for the first handshake: the control is her only session')
})

t.test('IK toward a key that is not the peer\'s: the peer drops it; the XX fallback proves the real identity', async t => {
  const bobId = generateIdentity()
  const [a, bob] = [await listen(undefined, { handshakeRetryInitialMs: 40 }), await listen(bobId)]
  t.teardown(async () => { await a.close(); await bob.close() })
  const stale = generateIdentity().dhPublic
  const s = await a.connect(bob.address, { expectFingerprint: bobId.fingerprint, remoteStatic: stale })
  t.equal(s.remoteFingerprint, bobId.fingerprint)
  t.same(s.remoteStatic, bobId.dhPublic, 'the session uses the key the peer proved, not the stale one')
  t.ok(bob.stats().dropped['decrypt-failed'] >= 3, 'each IK message 1 failed at the peer')
  // and toward a third identity the fallback ends in a mismatch, not a session
  await t.rejects(a.connect(bob.address, { expectFingerprint: generateIdentity().fingerprint, remoteStatic: stale }), { code: 'FINGERPRINT_MISMATCH' })
})

t.test('XX responder whose proof does not match its static key: HANDSHAKE_FAILED, no session', async t => {
  const a = await listen()
  t.teardown(async () => { await a.close() })
  const victim = generateIdentity()
  const bad = await raw()
  t.teardown(() => { bad.close() })
  craftedResponder(bad, x25519.generateKeyPair(), victim)
  const port = bad.address().port
  await t.rejects(a.connect({ host: '127.0.0.1', port }), { code: 'HANDSHAKE_FAILED' })
  await t.rejects(a.connect({ host: '127.0.0.1', port }, { expectFingerprint: victim.fingerprint }), { code: 'HANDSHAKE_FAILED' })
  t.equal(a.sessions().length, 0)
  t.equal(a.stats().dropped['handshake-failed'], 2)
  // control: the same crafted responder with an honest proof is accepted
  const honest = await raw()
  t.teardown(() => { honest.close() })
  craftedResponder(honest, { publicKey: victim.dhPublic, secretKey: victim.dhSecret }, victim)
  const s = await a.connect({ host: '127.0.0.1', port: honest.address().port }, { expectFingerprint: victim.fingerprint })
  t.equal(s.remoteFingerprint, victim.fingerprint)
})

t.test('XX initiator whose proof does not match its static key: dropped, no inbound session', async t => {
  const b = await listen()
  t.teardown(async () => { await b.close() })
  const inbound: Session[] = []
  b.on('session', s => inbound.push(s))
  const victim = generateIdentity()
  const sock = await raw()
  t.teardown(() => { sock.close() })
  await craftedInitiator(sock, b.address, x25519.generateKeyPair(), victim)
  await until(() => b.stats().dropped['handshake-failed'] === 1, 2000, 'the bad FINAL to be dropped')
  t.equal(inbound.length, 0)
  t.equal(b.stats().halfOpen, 0, 'the failed handshake left nothing behind')
  // control: an honest proof from the same hand-made initiator gives a session
  const sock2 = await raw()
  t.teardown(() => { sock2.close() })
  await craftedInitiator(sock2, b.address, { publicKey: victim.dhPublic, secretKey: victim.dhSecret }, victim)
  await until(() => inbound.length === 1, 2000, 'the honest session')
  t.equal(inbound[0]?.remoteFingerprint, victim.fingerprint)
})
