// A second, deliberately plain computation of session.md §11's transcripts, written from the
// Noise specification (revision 34, §4–§5) and proto-spec/ alone, sharing no code with
// src/crypto/noise/ or src/transport/ — only the primitives (X25519, BLAKE2b, HMAC,
// ChaCha20-Poly1305, checked against RFC and Wycheproof vectors elsewhere). Both parties' symmetric
// states are equal at every step of a successful handshake, so one state plays both.
import { createHash, createHmac } from 'node:crypto'
import { x25519, blake2b, hmac, chacha20poly1305 } from '../../src/crypto/primitives.js'
import { fingerprintBytes } from '../../src/crypto/fingerprint.js'
import type { Identity } from '../../src/crypto/identity.js'
import { TRANSCRIPT_INPUTS, identities } from './handshake-transcript.js'
import { toHex } from './spec-vectors.js'

const HASHLEN = 64
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n)
const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n)

/** noise.md §1: 4 zero bytes, then the counter as 8 little-endian bytes (Noise §12.3). */
function nonce (n: number): Uint8Array {
  const out = new Uint8Array(12)
  new DataView(out.buffer).setBigUint64(4, BigInt(n), true)
  return out
}

/** Noise §5.2 SymmetricState with BLAKE2b and ChaChaPoly. */
class Symmetric {
  h: Uint8Array
  ck: Uint8Array
  k: Uint8Array | null = null
  n = 0

  constructor (name: string, prologue: Uint8Array) {
    const bytes = new TextEncoder().encode(name)
    this.h = bytes.length <= HASHLEN ? concat(bytes, new Uint8Array(HASHLEN - bytes.length)) : blake2b(bytes)
    this.ck = this.h
    this.mixHash(prologue)
  }

  mixHash (data: Uint8Array): void { this.h = blake2b(this.h, data) }

  /** Noise §4.3 HKDF with HMAC-BLAKE2b, two outputs. */
  hkdf (ikm: Uint8Array): [Uint8Array, Uint8Array] {
    const temp = hmac('blake2b512', this.ck, ikm)
    const one = hmac('blake2b512', temp, Uint8Array.of(1))
    return [one, hmac('blake2b512', temp, one, Uint8Array.of(2))]
  }

  mixKey (ikm: Uint8Array): void {
    const [ck, k] = this.hkdf(ikm)
    this.ck = ck
    this.k = k.slice(0, 32)
    this.n = 0
  }

  encryptAndHash (plaintext: Uint8Array): Uint8Array {
    const ct = this.k === null ? plaintext : chacha20poly1305.seal(this.k, nonce(this.n++), plaintext, this.h)
    this.mixHash(ct)
    return ct
  }

  split (): [Uint8Array, Uint8Array] {
    const [a, b] = this.hkdf(new Uint8Array(0))
    return [a.slice(0, 32), b.slice(0, 32)]
  }
}

/**
 * noise.md §4: version 1, signPublic, dhSignature; the initiator adds SESSION_ID (session.md
 * §2.3), and in IK message 1 the TIMESTAMP (§6.4).
 */
function proof (id: Identity, sessionId?: Uint8Array, timestamp?: Uint8Array): Uint8Array {
  const base = concat(Uint8Array.of(1), id.signPublic, id.dhSignature)
  const withSid = sessionId === undefined ? base : concat(base, Uint8Array.of(0x01, 8), sessionId)
  return timestamp === undefined ? withSid : concat(withSid, Uint8Array.of(0x02, 12), timestamp)
}

/** wire.md §4.1: header, Noise message, zero padding to 240 bytes, mac1 for `responder` (§4.1.1). */
function initiation (index: number, pattern: number, msg: Uint8Array, responder: string): Uint8Array {
  const body = concat(Uint8Array.of(0xc1, 0x01), u32(index), Uint8Array.of(pattern, 0), u16(msg.length), msg)
  const covered = concat(body, new Uint8Array(Math.max(0, 240 - body.length)))
  const key = createHash('sha256').update('dmess-mac1-v1\0').update(fingerprintBytes(responder)).digest()
  return concat(covered, createHmac('sha256', key).update(covered).digest().subarray(0, 16))
}

/** wire.md §4.6: header as associated data, counter as the nonce. */
function transportData (key: Uint8Array, receiver: number, counter: number, plaintext: Uint8Array): Uint8Array {
  const header = concat(Uint8Array.of(0xc1, 0x10), u32(receiver), u32(0), u32(counter))
  return concat(header, chacha20poly1305.seal(key, nonce(counter), plaintext, header))
}

export function referenceTranscript (pattern: 'xx' | 'ik'): Map<string, string> {
  const { alice, bob } = identities()
  const I = TRANSCRIPT_INPUTS
  const eI = { secret: I.initiatorEphemeral, pub: x25519.publicFromSecret(I.initiatorEphemeral) }
  const eR = { secret: I.responderEphemeral, pub: x25519.publicFromSecret(I.responderEphemeral) }
  const dh = x25519.dh
  const out = new Map<string, string>()
  const put = (name: string, b: Uint8Array): void => { out.set(`${pattern}.${name}`, toHex(b)) }
  const ss = new Symmetric(`Noise_${pattern.toUpperCase()}_25519_ChaChaPoly_BLAKE2b`, new TextEncoder().encode('dmess/1'))
  let msg1: Uint8Array
  let msg2: Uint8Array
  if (pattern === 'xx') {
    ss.mixHash(eI.pub) // -> e
    msg1 = concat(eI.pub, ss.encryptAndHash(new Uint8Array(0)))
    ss.mixHash(eR.pub) // <- e, ee, s, es
    ss.mixKey(dh(eI.secret, eR.pub))
    const s = ss.encryptAndHash(bob.dhPublic)
    ss.mixKey(dh(eI.secret, bob.dhPublic))
    msg2 = concat(eR.pub, s, ss.encryptAndHash(proof(bob)))
    const s3 = ss.encryptAndHash(alice.dhPublic) // -> s, se
    ss.mixKey(dh(alice.dhSecret, eR.pub))
    const msg3 = concat(s3, ss.encryptAndHash(proof(alice, I.sessionId)))
    put('msg3', msg3)
    put('final', concat(Uint8Array.of(0xc1, 0x03), u32(I.responderIndex), msg3))
  } else {
    ss.mixHash(bob.dhPublic) // pre-message <- s
    ss.mixHash(eI.pub) // -> e, es, s, ss
    ss.mixKey(dh(eI.secret, bob.dhPublic))
    const s = ss.encryptAndHash(alice.dhPublic)
    ss.mixKey(dh(alice.dhSecret, bob.dhPublic))
    msg1 = concat(eI.pub, s, ss.encryptAndHash(proof(alice, I.sessionId, I.timestamp)))
    ss.mixHash(eR.pub) // <- e, ee, se
    ss.mixKey(dh(eI.secret, eR.pub))
    ss.mixKey(dh(alice.dhSecret, eR.pub))
    msg2 = concat(eR.pub, ss.encryptAndHash(proof(bob)))
  }
  put('msg1', msg1)
  put('initiation', initiation(I.initiatorIndex, pattern === 'xx' ? 1 : 2, msg1, bob.fingerprint))
  put('msg2', msg2)
  put('response', concat(Uint8Array.of(0xc1, 0x02), u32(I.responderIndex), u32(I.initiatorIndex), msg2))
  put('handshakeHash', ss.h)
  const [k1, k2] = ss.split()
  put('key.initiatorToResponder', k1)
  put('key.responderToInitiator', k2)
  out.set(`${pattern}.initiatorLearns`, bob.fingerprint)
  out.set(`${pattern}.responderLearns`, alice.fingerprint)
  put('sessionId', I.sessionId)
  if (pattern === 'ik') put('timestamp', I.timestamp)
  const empty = new Uint8Array(0)
  put('data.initiatorToResponder', transportData(k1, I.responderIndex, 0, pattern === 'xx' ? I.hello : empty))
  put('data.responderToInitiator', transportData(k2, I.initiatorIndex, 0, pattern === 'xx' ? empty : I.hello))
  return out
}
