// Noise handshakes framed as wire packets (proto-spec/session.md §2, wire.md §4.1–§4.3,
// noise.md §3–§4). Pure: wire-decoded packets in, wire bytes and verified keys out. Every
// handshake payload carries our identity proof (proof.ts), so a completed handshake names the
// peer's fingerprint. Network input never throws: failures come back as a reason to drop.
import { HandshakeState, NOISE_XX, NOISE_IK, NOISE_PROLOGUE, type CipherState } from '../crypto/noise/index.js'
import { errors, isDmessError } from '../errors.js'
import type { Identity } from '../crypto/identity.js'
import { HandshakePattern } from '../wire/constants.js'
import {
  encodeHandshakeInitiation, encodeHandshakeResponse, encodeHandshakeFinal,
  type HandshakeInitiation, type HandshakeResponse
} from '../wire/packet.js'
import { sealMac1 } from '../wire/mac1.js'
import { encodeProof, verifyProof, payloadTimestamp, type VerifiedPeer } from './proof.js'

export interface HandshakeKeys {
  send: CipherState
  receive: CipherState
  /** Noise §5.2 h: channel binding for upper layers */
  handshakeHash: Uint8Array
}

export interface CompletedHandshake { keys: HandshakeKeys, peer: VerifiedPeer }

/**
 * Why a handshake message was not accepted (the state is dead afterwards). 'replay': an IK
 * message 1 whose timestamp is not newer than one already answered for its static key (session.md §6.4).
 * 'crossed': an IK message 1 the responder leaves unanswered because its own dial to that key wins
 * (session.md §3.1).
 */
export type HandshakeFailure = 'decrypt-failed' | 'bad-proof' | 'bad-message' | 'replay' | 'crossed'

export type HandshakeResult<T> = { ok: true, value: T } | { ok: false, reason: HandshakeFailure }

export interface HandshakeParty {
  identity: Identity
  /** our session index for this handshake (wire.md §2.4) */
  localIndex: number
  /** ephemeral randomness; undefined → OpenSSL key generation (faster) */
  random?: ((n: number) => Uint8Array) | undefined
}

function newState (party: HandshakeParty, initiator: boolean, pattern: HandshakePattern, rs?: Uint8Array): HandshakeState {
  return new HandshakeState({
    protocolName: pattern === HandshakePattern.IK ? NOISE_IK : NOISE_XX,
    initiator,
    prologue: NOISE_PROLOGUE,
    // the identity's own arrays, so primitives' per-key cache is reused across handshakes
    s: { publicKey: party.identity.dhPublic, secretKey: party.identity.dhSecret },
    rs,
    randomBytes: party.random
  })
}

/**
 * Run one Noise step on peer input: noise.md §3 — a DmessError here is bad input, not a local
 * bug. Writing counts too: our reply mixes DH with the peer's keys, and a low-order key from the
 * peer (RFC 7748 §6.1) only shows up then (XX message 1 carries `e` with no DH).
 */
function guard<T> (hs: HandshakeState, step: () => T): HandshakeResult<T> {
  try {
    return { ok: true, value: step() }
  } catch (err) {
    if (!isDmessError(err)) throw err
    hs.destroy()
    return { ok: false, reason: err.code === 'NOISE_DECRYPT' ? 'decrypt-failed' : 'bad-message' }
  }
}

function read (hs: HandshakeState, message: Uint8Array): HandshakeResult<Uint8Array> {
  return guard(hs, () => hs.readMessage(message))
}

function finish (hs: HandshakeState, peer: VerifiedPeer): CompletedHandshake {
  const cs = hs.cipherStates
  const h = hs.handshakeHash
  if (cs === null || h === null) throw errors.NOISE_STATE('handshake not complete') // unreachable: callers check
  return { keys: { send: cs.send, receive: cs.receive, handshakeHash: h }, peer }
}

/**
 * Check the proof that came with the peer's static key (noise.md §4 step 3). An initiator's
 * payload must also name the session (session.md §2.3).
 */
function checkProof (hs: HandshakeState, payload: Uint8Array, fromInitiator: boolean): HandshakeResult<VerifiedPeer> {
  const peer = verifyProof(payload, hs.remoteStatic)
  if (peer === null || (fromInitiator && peer.sessionId === null)) {
    hs.destroy()
    return { ok: false, reason: peer === null ? 'bad-proof' : 'bad-message' }
  }
  return { ok: true, value: peer }
}

/**
 * The initiator's side of one handshake attempt. Message 1 is computed once: a retransmission
 * resends the same bytes (wire.md §6.3), with a cookie if the responder asked for one.
 */
export class InitiatorHandshake {
  readonly localIndex: number
  readonly pattern: HandshakePattern
  /** Noise message 1 */
  readonly message: Uint8Array
  readonly #party: HandshakeParty
  readonly #hs: HandshakeState

  readonly #sessionId: Uint8Array
  readonly #mac1Key: Uint8Array | null

  /**
   * IK when the responder's static X25519 key is given (noise.md §1), else XX. `sessionId` names
   * the session this handshake opens (new random id) or rekeys (its id), session.md §2.3.
   * `mac1Key` (src/wire/mac1.ts) comes from the responder's fingerprint: without it the
   * initiation carries a zero mac1 and no dmess responder answers. `timestamp` (TAI64N, IK only)
   * lets the responder refuse a replayed message 1 (session.md §6.4).
   */
  constructor (party: HandshakeParty, remoteStatic: Uint8Array | null, sessionId: Uint8Array, mac1Key: Uint8Array | null = null, timestamp: Uint8Array | null = null) {
    this.#party = party
    this.#sessionId = sessionId
    this.#mac1Key = mac1Key
    this.localIndex = party.localIndex
    this.pattern = remoteStatic === null ? HandshakePattern.XX : HandshakePattern.IK
    this.#hs = newState(party, true, this.pattern, remoteStatic ?? undefined)
    // noise.md §4: XX message 1 is cleartext and carries nothing; IK's carries our proof and the time
    this.message = this.#hs.writeMessage(this.pattern === HandshakePattern.IK ? encodeProof(party.identity, sessionId, timestamp) : undefined)
  }

  /** HANDSHAKE_INITIATION bytes (wire.md §4.1), mac1 last (§4.1.1). */
  initiation (cookie: Uint8Array | null = null): Uint8Array {
    const bytes = encodeHandshakeInitiation({ senderIndex: this.localIndex, pattern: this.pattern, cookie, message: this.message })
    return this.#mac1Key === null ? bytes : sealMac1(bytes, this.#mac1Key)
  }

  /**
   * Read HANDSHAKE_RESPONSE. XX also yields the HANDSHAKE_FINAL bytes to send (with our proof).
   * The caller compares `peer.fingerprint` with the one it wanted (key substitution).
   */
  consumeResponse (p: HandshakeResponse): HandshakeResult<CompletedHandshake & { final: Uint8Array | null }> {
    const payload = read(this.#hs, p.message)
    if (!payload.ok) return payload
    const peer = checkProof(this.#hs, payload.value, false)
    if (!peer.ok) return peer
    let final: Uint8Array | null = null
    if (this.pattern === HandshakePattern.XX) {
      const msg3 = guard(this.#hs, () => this.#hs.writeMessage(encodeProof(this.#party.identity, this.#sessionId)))
      if (!msg3.ok) return msg3
      final = encodeHandshakeFinal({ receiverIndex: p.senderIndex, message: msg3.value })
    }
    return { ok: true, value: { ...finish(this.#hs, peer.value), final } }
  }

  /** Abandon: wipe the ephemeral secret. */
  destroy (): void {
    this.#hs.destroy()
  }
}

/** An XX responder waiting for message 3 (the half-open state of wire.md §6.3). */
export class ResponderXX {
  readonly #hs: HandshakeState

  constructor (hs: HandshakeState) {
    this.#hs = hs
  }

  /** Read HANDSHAKE_FINAL's Noise message: the initiator's static key and proof. */
  consumeFinal (message: Uint8Array): HandshakeResult<CompletedHandshake> {
    const payload = read(this.#hs, message)
    if (!payload.ok) return payload
    const peer = checkProof(this.#hs, payload.value, true)
    if (!peer.ok) return peer
    return { ok: true, value: finish(this.#hs, peer.value) }
  }

  destroy (): void {
    this.#hs.destroy()
  }
}

export interface Responded {
  /** HANDSHAKE_RESPONSE bytes */
  response: Uint8Array
  /** XX: the state waiting for message 3 */
  xx: ResponderXX | null
  /** IK: complete (keys split) but not yet confirmed by the initiator (noise.md §4) */
  ik: CompletedHandshake | null
}

/**
 * session.md §6.4: is this IK message 1's timestamp newer than any answered for `remoteStatic`?
 * Asked after the DHs authenticated the static key and before the proof is verified.
 */
export type FreshnessCheck = (remoteStatic: Uint8Array, timestamp: Uint8Array) => boolean

/**
 * session.md §3.1, crossed initiations: is our own dial to `remoteStatic` under way, and does its
 * session win over the one this message 1 would open? Then it is not answered. Asked after the
 * freshness check: the DHs authenticated the key, so no signature need be verified to decide.
 */
export type CrossingCheck = (remoteStatic: Uint8Array) => boolean

/**
 * Read a HANDSHAKE_INITIATION and write the response (wire.md §6.1, §6.2). For IK the
 * initiator's timestamp and proof are checked here; for XX the proof comes with message 3.
 * The caller has checked mac1 already (wire.md §4.1.1).
 */
export function respondToInitiation (party: HandshakeParty, p: HandshakeInitiation, fresh: FreshnessCheck = () => true, crossing: CrossingCheck = () => false): HandshakeResult<Responded> {
  const hs = newState(party, false, p.pattern)
  const payload = read(hs, p.message)
  if (!payload.ok) return payload
  const proof = encodeProof(party.identity)
  if (p.pattern === HandshakePattern.XX) {
    // noise.md §2: XX message 1 has an empty payload (it would be neither secret nor authenticated)
    if (payload.value.length !== 0) {
      hs.destroy()
      return { ok: false, reason: 'bad-message' }
    }
    const msg2 = guard(hs, () => hs.writeMessage(proof))
    if (!msg2.ok) return msg2
    const response = encodeHandshakeResponse({ senderIndex: party.localIndex, receiverIndex: p.senderIndex, message: msg2.value })
    return { ok: true, value: { response, xx: new ResponderXX(hs), ik: null } }
  }
  // session.md §6.4: a replayed (or older) message 1 gets nothing; its timestamp is authentic,
  // since only the holder of the static key could encrypt it to us (es, ss)
  const timestamp = payloadTimestamp(payload.value)
  const rs = hs.remoteStatic
  if (timestamp === null || rs === null || !fresh(rs, timestamp)) {
    hs.destroy()
    return { ok: false, reason: timestamp === null ? 'bad-message' : 'replay' }
  }
  if (crossing(rs)) {
    hs.destroy()
    return { ok: false, reason: 'crossed' }
  }
  const peer = checkProof(hs, payload.value, true)
  if (!peer.ok) return peer
  const msg2 = guard(hs, () => hs.writeMessage(proof))
  if (!msg2.ok) return msg2
  const response = encodeHandshakeResponse({ senderIndex: party.localIndex, receiverIndex: p.senderIndex, message: msg2.value })
  return { ok: true, value: { response, xx: null, ik: finish(hs, peer.value) } }
}
