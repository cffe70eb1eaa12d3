// Handshake framing and the identity proof (noise.md §4, session.md §2): XX and IK through the
// wire codecs, proofs that do not match the static key, forged and truncated messages.
import t from 'tap'
import { generateIdentity } from '../../src/crypto/identity.js'
import { decodePacket, type HandshakeInitiation, type HandshakeResponse, type HandshakeFinal } from '../../src/wire/packet.js'
import { InitiatorHandshake, respondToInitiation } from '../../src/transport/handshake.js'
import { encodeProof, verifyProof, tai64n, compareTimestamps, PROOF_BYTES } from '../../src/transport/proof.js'
import { HandshakeState, NOISE_IK, NOISE_PROLOGUE } from '../../src/crypto/noise/index.js'

const SID = new Uint8Array(8).fill(0x5a)

const dec = <T>(b: Uint8Array): T => decodePacket(b) as T

t.test('proof: 97 bytes; verifies only with the X25519 key it signs', async t => {
  const id = generateIdentity()
  const proof = encodeProof(id)
  t.equal(proof.length, PROOF_BYTES)
  t.equal(PROOF_BYTES, 97)
  t.equal(verifyProof(proof, id.dhPublic)?.fingerprint, id.fingerprint)
  t.equal(verifyProof(proof, generateIdentity().dhPublic), null, 'another static key: refused')
  t.equal(verifyProof(proof, null), null)
  t.equal(verifyProof(proof.subarray(0, 96), id.dhPublic), null, 'truncated')
  const v0 = proof.slice(); v0[0] = 0
  t.equal(verifyProof(v0, id.dhPublic), null, 'version 0')
  const longer = new Uint8Array(120); longer.set(proof); longer[0] = 2
  t.equal(verifyProof(longer, id.dhPublic)?.fingerprint, id.fingerprint, 'a later version may append fields')
  const sig = proof.slice(); sig[50]! ^= 1
  t.equal(verifyProof(sig, id.dhPublic), null, 'bad signature')
})

t.test('XX through the codecs: both sides learn each other, keys match', async t => {
  const [i, r] = [generateIdentity(), generateIdentity()]
  const init = new InitiatorHandshake({ identity: i, localIndex: 11 }, null, SID)
  const m1 = dec<HandshakeInitiation>(init.initiation())
  t.equal(m1.message.length, 32, 'XX message 1 is just e')
  const res = respondToInitiation({ identity: r, localIndex: 22 }, m1)
  if (!res.ok) throw new Error(res.reason)
  const done = init.consumeResponse(dec<HandshakeResponse>(res.value.response))
  if (!done.ok) throw new Error(done.reason)
  t.equal(done.value.peer.fingerprint, r.fingerprint)
  t.ok(done.value.final !== null)
  const fin = res.value.xx!.consumeFinal(dec<HandshakeFinal>(done.value.final!).message)
  if (!fin.ok) throw new Error(fin.reason)
  t.equal(fin.value.peer.fingerprint, i.fingerprint)
  t.same(fin.value.peer.sessionId, SID, 'the responder learns the session id from message 3')
  t.equal(done.value.peer.sessionId, null, 'the responder sends none')
  t.same(fin.value.keys.handshakeHash, done.value.keys.handshakeHash)
  const ct = done.value.keys.send.encryptWithAd(new Uint8Array(0), new Uint8Array([1, 2, 3]))
  t.same(fin.value.keys.receive.decryptWithAd(new Uint8Array(0), ct), new Uint8Array([1, 2, 3]))
})

t.test('IK: the responder checks the proof in message 1; a wrong responder key fails silently', async t => {
  const [i, r] = [generateIdentity(), generateIdentity()]
  const init = new InitiatorHandshake({ identity: i, localIndex: 1 }, r.dhPublic, SID, null, tai64n(1_700_000_000_000))
  const res = respondToInitiation({ identity: r, localIndex: 2 }, dec(init.initiation()))
  t.ok(res.ok && res.value.ik?.peer.fingerprint === i.fingerprint)
  t.same(res.ok && res.value.ik?.peer.sessionId, SID, 'IK carries the session id in message 1')
  t.same(res.ok && res.value.ik?.peer.timestamp, tai64n(1_700_000_000_000), 'and the TAI64N timestamp')
  const other = generateIdentity()
  const wrong = respondToInitiation({ identity: other, localIndex: 3 }, dec(init.initiation()))
  t.same(wrong, { ok: false, reason: 'decrypt-failed' })
})

t.test('IK replay (session.md §6.4): a timestamp that is not newer is refused before the proof; none at all is malformed', async t => {
  const [i, r] = [generateIdentity(), generateIdentity()]
  const at = 1_700_000_000_000
  let last: Uint8Array | null = null
  const fresh = (rs: Uint8Array, ts: Uint8Array): boolean => {
    t.same(rs, i.dhPublic, 'asked about the initiator\'s authenticated static key')
    return last === null || compareTimestamps(ts, last) > 0
  }
  const first = new InitiatorHandshake({ identity: i, localIndex: 1 }, r.dhPublic, SID, null, tai64n(at))
  const ok = respondToInitiation({ identity: r, localIndex: 2 }, dec(first.initiation()), fresh)
  t.ok(ok.ok)
  last = tai64n(at)
  t.same(respondToInitiation({ identity: r, localIndex: 3 }, dec(first.initiation()), fresh), { ok: false, reason: 'replay' }, 'the same message 1 again')
  const older = new InitiatorHandshake({ identity: i, localIndex: 4 }, r.dhPublic, SID, null, tai64n(at - 1))
  t.same(respondToInitiation({ identity: r, localIndex: 5 }, dec(older.initiation()), fresh), { ok: false, reason: 'replay' }, 'an older one')
  const later = new InitiatorHandshake({ identity: i, localIndex: 6 }, r.dhPublic, SID, null, tai64n(at, 1))
  t.ok(respondToInitiation({ identity: r, localIndex: 7 }, dec(later.initiation()), fresh).ok, 'one nanosecond later is fresh')
  const none = new InitiatorHandshake({ identity: i, localIndex: 8 }, r.dhPublic, SID)
  t.same(respondToInitiation({ identity: r, localIndex: 9 }, dec(none.initiation()), fresh), { ok: false, reason: 'bad-message' })
  t.ok(compareTimestamps(tai64n(at + 1000), tai64n(at, 999_999)) > 0, 'byte order is time order')
  t.equal(Buffer.from(tai64n(0)).toString('hex'), '400000000000000a00000000', 'TAI64N of the epoch, as wireguard-go writes it')
})

t.test('forged and malformed handshake messages are refused without throwing', async t => {
  const [i, r] = [generateIdentity(), generateIdentity()]
  const init = new InitiatorHandshake({ identity: i, localIndex: 1 }, null, SID)
  const res = respondToInitiation({ identity: r, localIndex: 2 }, dec(init.initiation()))
  if (!res.ok) throw new Error(res.reason)
  const resp = dec<HandshakeResponse>(res.value.response)
  const tampered = { ...resp, message: resp.message.slice() }
  tampered.message[40]! ^= 1
  t.same(init.consumeResponse(tampered), { ok: false, reason: 'decrypt-failed' })
  // XX message 1 with a payload is refused (noise.md §2: it must be empty)
  const m1 = dec<HandshakeInitiation>(init.initiation())
  const withPayload = { ...m1, message: Uint8Array.from([...m1.message, 1, 2, 3]) }
  t.same(respondToInitiation({ identity: r, localIndex: 5 }, withPayload), { ok: false, reason: 'bad-message' })
  // message 3 truncated
  const init2 = new InitiatorHandshake({ identity: i, localIndex: 7 }, null, SID)
  const res2 = respondToInitiation({ identity: r, localIndex: 8 }, dec(init2.initiation()))
  if (!res2.ok) throw new Error(res2.reason)
  const done2 = init2.consumeResponse(dec(res2.value.response))
  if (!done2.ok) throw new Error(done2.reason)
  const fin = dec<HandshakeFinal>(done2.value.final!)
  t.same(res2.value.xx!.consumeFinal(fin.message.subarray(0, 70)), { ok: false, reason: 'decrypt-failed' })
})

t.test('a low-order ephemeral key in XX message 1 is refused, not thrown (RFC 7748 §6.1)', async t => {
  const r = generateIdentity()
  for (const e of [new Uint8Array(32), Uint8Array.from([1, ...new Array<number>(31).fill(0)])]) {
    const m1: HandshakeInitiation = { kind: 'handshake-initiation', senderIndex: 9, pattern: 0x01, cookie: null, message: e, mac1: new Uint8Array(16) }
    t.same(respondToInitiation({ identity: r, localIndex: 10 }, m1), { ok: false, reason: 'bad-message' })
  }
})

t.test('session id field: carried after the proof, unknown fields skipped, required from an initiator', async t => {
  const id = generateIdentity()
  const withSid = encodeProof(id, SID)
  t.equal(withSid.length, PROOF_BYTES + 10)
  t.same(verifyProof(withSid, id.dhPublic)?.sessionId, SID)
  const withUnknownFirst = Uint8Array.from([...encodeProof(id), 0x7f, 3, 1, 2, 3, 0x01, 8, ...SID])
  t.same(verifyProof(withUnknownFirst, id.dhPublic)?.sessionId, SID, 'an unknown field is skipped')
  const truncated = Uint8Array.from([...encodeProof(id), 0x01, 8, 1, 2])
  t.equal(verifyProof(truncated, id.dhPublic)?.sessionId, null, 'a truncated field is ignored')
  // an IK initiator whose payload has no session id is refused by the responder
  const r = generateIdentity()
  const hs = new HandshakeState({ protocolName: NOISE_IK, initiator: true, prologue: NOISE_PROLOGUE, s: { publicKey: id.dhPublic, secretKey: id.dhSecret }, rs: r.dhPublic })
  const m1: HandshakeInitiation = { kind: 'handshake-initiation', senderIndex: 3, pattern: 0x02, cookie: null, message: hs.writeMessage(encodeProof(id, null, tai64n(1))), mac1: new Uint8Array(16) }
  t.same(respondToInitiation({ identity: r, localIndex: 4 }, m1), { ok: false, reason: 'bad-message' })
})
