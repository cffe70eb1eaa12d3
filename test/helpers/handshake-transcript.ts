// The XX and IK transcripts of proto-spec/session.md §11, produced by the code dmess runs: the
// handshake (src/transport/handshake.ts, proof.ts over the Noise engine) with fixed static keys
// (identity.md §8's Alice and Bob), fixed ephemerals (the engine's injected random source), fixed
// indices and session id, then the first TRANSPORT_DATA each way (src/transport/session-keys.ts).
import { identityFromSecrets, IDENTITY_SECRET_NAMES, type Identity } from '../../src/crypto/identity.js'
import { InitiatorHandshake, respondToInitiation, type CompletedHandshake } from '../../src/transport/handshake.js'
import { SessionKeys } from '../../src/transport/session-keys.js'
import { decodePacket, type HandshakeInitiation, type HandshakeResponse, type HandshakeFinal } from '../../src/wire/packet.js'
import { checkMac1, mac1Key } from '../../src/wire/mac1.js'
import { counting, fromHex, toHex } from './spec-vectors.js'

export const TRANSCRIPT_INPUTS = {
  initiatorIndex: 0x1a2b3c4d,
  responderIndex: 0x5e6f7081,
  initiatorEphemeral: counting(0x80, 32),
  responderEphemeral: counting(0xa0, 32),
  sessionId: counting(0xc0, 8),
  /** IK message 1's TIMESTAMP (session.md §6.4): TAI64N of 2023-11-14T22:13:20Z */
  timestamp: fromHex('400000006553f10a00000000'),
  hello: new TextEncoder().encode('hello')
}

export function identities (): { alice: Identity, bob: Identity } {
  const id = (sign: number, dh: number): Identity => identityFromSecrets({
    [IDENTITY_SECRET_NAMES.sign]: counting(sign, 32), [IDENTITY_SECRET_NAMES.dh]: counting(dh, 32)
  })
  return { alice: id(0x00, 0x20), bob: id(0x40, 0x60) }
}

/** The engine draws one 32-byte ephemeral secret per handshake; give it the fixed one. */
const fixed = (secret: Uint8Array) => (n: number): Uint8Array => secret.slice(0, n)

/** Every value session.md §11 lists for one handshake, by its name there (`xx.` / `ik.` prefix). */
export function transcript (pattern: 'xx' | 'ik'): Map<string, string> {
  const { alice, bob } = identities()
  const I = TRANSCRIPT_INPUTS
  const out = new Map<string, string>()
  const put = (name: string, b: Uint8Array): void => { out.set(`${pattern}.${name}`, toHex(b)) }
  const initiator = new InitiatorHandshake({ identity: alice, localIndex: I.initiatorIndex, random: fixed(I.initiatorEphemeral) },
    pattern === 'ik' ? bob.dhPublic : null, I.sessionId, mac1Key(bob.fingerprint), pattern === 'ik' ? I.timestamp : null)
  const initiation = initiator.initiation()
  if (!checkMac1(initiation, mac1Key(bob.fingerprint))) throw new Error('Bob would not answer: bad mac1')
  put('msg1', initiator.message)
  put('initiation', initiation)
  const responded = respondToInitiation({ identity: bob, localIndex: I.responderIndex, random: fixed(I.responderEphemeral) },
    decodePacket(initiation) as HandshakeInitiation)
  if (!responded.ok) throw new Error(`responder refused message 1: ${responded.reason}`)
  const response = decodePacket(responded.value.response) as HandshakeResponse
  put('msg2', response.message)
  put('response', responded.value.response)
  const completed = initiator.consumeResponse(response)
  if (!completed.ok) throw new Error(`initiator refused message 2: ${completed.reason}`)
  let responderSide: CompletedHandshake
  if (pattern === 'xx') {
    const final = completed.value.final
    if (final === null || responded.value.xx === null) throw new Error('XX without a message 3')
    put('msg3', (decodePacket(final) as HandshakeFinal).message)
    put('final', final)
    const read = responded.value.xx.consumeFinal((decodePacket(final) as HandshakeFinal).message)
    if (!read.ok) throw new Error(`responder refused message 3: ${read.reason}`)
    responderSide = read.value
  } else {
    if (responded.value.ik === null) throw new Error('IK without keys after message 2')
    responderSide = responded.value.ik
  }
  put('handshakeHash', completed.value.keys.handshakeHash)
  if (toHex(responderSide.keys.handshakeHash) !== toHex(completed.value.keys.handshakeHash)) throw new Error('the two sides disagree on h')
  out.set(`${pattern}.initiatorLearns`, completed.value.peer.fingerprint)
  out.set(`${pattern}.responderLearns`, responderSide.peer.fingerprint)
  put('sessionId', responderSide.peer.sessionId ?? new Uint8Array(0))
  if (pattern === 'ik') put('timestamp', responderSide.peer.timestamp ?? new Uint8Array(0))
  // The first packet each way: XX, the initiator's data then the responder's keepalive (§2.1);
  // IK, the initiator's keepalive that confirms the keys, then the responder's data (§2.2).
  const a = new SessionKeys({ localIndex: I.initiatorIndex, remoteIndex: I.responderIndex, initiator: true, createdAt: 0 }, completed.value.keys)
  const b = new SessionKeys({ localIndex: I.responderIndex, remoteIndex: I.initiatorIndex, initiator: false, createdAt: 0 }, responderSide.keys)
  const empty = new Uint8Array(0)
  put('data.initiatorToResponder', a.seal(pattern === 'xx' ? I.hello : empty))
  put('data.responderToInitiator', b.seal(pattern === 'xx' ? empty : I.hello))
  return out
}
