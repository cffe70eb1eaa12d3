// Every peer's Double Ratchet sessions, in memory, and how envelope v2 is sealed and opened with
// them (proto-spec/envelope.md §8). Pure over its inputs: randomness, the clock and the PQXDH
// responder (our prekey ring) are passed in, and every change hands back the peer's record to
// commit (SessionWrite) in the same store batch as the message it produced or consumed. The
// caller sends a ciphertext only once that batch has landed, so a message key is never used twice
// even across a crash (§8.4).
import { constantTimeEqual } from '../crypto/primitives.js'
import type { Identity } from '../crypto/identity.js'
import { initAlice, initBob, ratchetDecrypt, ratchetEncrypt, disposeState, type NextKeyPairs, type RandomBytes, type DecryptFailure } from '../ratchet/index.js'
import { initiate, decodeInitialMessage, type PqxdhResult, type Response } from '../pqxdh/index.js'
import { decodeEnvelopeV2, decodeV2Inner, encodeEnvelopeV2, encodeV2Clear, encodeV2Inner } from '../wire/envelope-v2.js'
import type { TypedPayload } from '../wire/payloads.js'
import { PayloadType } from '../wire/constants.js'
import { decodePeerSessions, MAX_SESSIONS, type PeerSessions, type Session } from './record.js'
import { DeferredRecords } from './deferred-records.js'
import { KeysAhead } from './keys-ahead.js'

import type { SessionWrite } from '../store/index.js'
export type { SessionWrite }

export type OpenFailure = DecryptFailure | 'no-session' | 'bad-initial' | 'sender-mismatch' | 'bad-payload' | 'unknown-payload-type'

export type OpenV2Result =
  | ({ ok: true, id: Uint8Array, timestamp: number, write: SessionWrite, started: Response | null, reset: boolean } & TypedPayload)
  | { ok: false, reason: OpenFailure, id: Uint8Array | null }

/** `dh`, `n`: the ratchet key and message number it was sealed under (public values, hidden from carriers by the header encryption). */
export interface SealedV2 { bytes: Uint8Array, base: string, write: SessionWrite, dh: Uint8Array, n: number }

export interface SessionBookOptions {
  identity: Identity
  random: RandomBytes
  /** PQXDH §3.4 against our prekey ring (PrekeyService.respond); none: we answer no session start */
  respond?: (initialMessage: Uint8Array) => PqxdhResult<Response>
  /** key pair sets kept ready for DH steps (keys-ahead.ts); default KEYS_AHEAD, 0: every step makes its own */
  keysAhead?: number
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export class SessionBook {
  readonly #peers = new Map<string, PeerSessions>()
  /** the records handed to the store, encoded only if it keeps them; replaced states wiped after */
  readonly #records = new DeferredRecords()
  /** key pairs for the next DH steps (and session starts), made by prepareKeys in idle time */
  readonly #keys: KeysAhead

  constructor (private readonly o: SessionBookOptions) {
    this.#keys = new KeysAhead(o.random, o.keysAhead)
  }

  /**
   * The caller has time: true when a set of key pairs for a coming DH step is worth making now
   * (fewer than the book keeps are ready, and there is a session a peer may answer on).
   */
  get keysWanted (): boolean { return this.#keys.wanted && this.#peers.size > 0 }

  /** Makes one set of key pairs for a coming DH step if keysWanted (~a third of a step's CPU, off its path). */
  prepareKeys (): void {
    if (this.keysWanted) this.#keys.fillOne()
  }

  /** Wipes the sets of key pairs not taken (the service stops). */
  clearKeys (): void { this.#keys.clear() }

  /** Sets of key pairs ready (tests, stats). */
  get keysReady (): number { return this.#keys.ready }

  /** DH steps and session starts that took a set made ahead, and those that found none ready and made their own. */
  readonly keysAhead = { taken: 0, missed: 0 }

  /** What the ratchet calls for a set: one made ahead, counted. */
  readonly #takeKeys = (): NextKeyPairs | undefined => {
    const set = this.#keys.take()
    if (set === undefined) this.keysAhead.missed++
    else this.keysAhead.taken++
    return set
  }

  /** A stored record (at start); false when it does not decode (the peer starts afresh). */
  load (peer: string, bytes: Uint8Array): boolean {
    const p = decodePeerSessions(bytes)
    if (p === null) return false
    this.#peers.set(peer, p)
    return true
  }

  has (peer: string): boolean { return this.sessionCount(peer) > 0 }

  /** Sessions held with `peer` (the active one and older ones still open for messages in flight). */
  sessionCount (peer: string): number { return this.#peers.get(peer)?.list.length ?? 0 }

  /** The session we send on, by base (hex), if it can send. */
  activeBase (peer: string): string | null {
    const s = this.#peers.get(peer)?.list[0]
    return s !== undefined && s.state.cks !== null ? hex(s.base) : null
  }

  /**
   * Where each session with `peer` sends next: its base, our ratchet public key and the next
   * message number (public values). A state read back after a crash must be past every key whose
   * ciphertext left (envelope.md §8.4); tests check it against what they saw on the wire.
   */
  sendingKeys (peer: string): Array<{ base: string, dh: Uint8Array, ns: number }> {
    return (this.#peers.get(peer)?.list ?? []).map(s => ({ base: hex(s.base), dh: s.state.dhs.publicKey, ns: s.state.ns }))
  }

  /** The session we send on is one we started that the peer has not answered yet (its initial message rides along). */
  startPending (peer: string): boolean {
    const s = this.#peers.get(peer)?.list[0]
    return s !== undefined && s.ours && !s.confirmed && s.state.cks !== null
  }

  /** The initial message of the start we send on while the peer has not answered it, else null. */
  pendingInitial (peer: string): Uint8Array | null {
    return this.startPending(peer) ? this.#peers.get(peer)!.list[0]!.initial : null
  }

  /**
   * Drops the start we send on, unanswered (the peer may no longer hold the prekey it used); the
   * peer's record to store, or null when there was none to drop. Older sessions stay.
   */
  dropPendingStart (peer: string): SessionWrite | null {
    const p = this.#peers.get(peer)
    if (p === undefined || !this.startPending(peer)) return null
    const [gone, ...rest] = p.list
    this.#records.retire(peer, gone!.state)
    const next = { list: rest }
    this.#peers.set(peer, next)
    return this.#write(peer, next)
  }

  /** Forget a peer's sessions (contact removed). */
  forget (peer: string): void {
    this.#records.settle(peer) // records still to be written are encoded before their states are wiped
    for (const s of this.#peers.get(peer)?.list ?? []) disposeState(s.state)
    this.#peers.delete(peer)
    if (this.#peers.size === 0) this.#keys.clear() // no session left to step on
  }

  /**
   * PQXDH §3.3 towards `peer` from its bundle: a new session we started becomes the active one.
   * Its record is written with the first message sealed on it.
   */
  start (peer: string, bundle: Uint8Array, now: number): PqxdhResult<void> {
    const i = initiate(this.o.identity, bundle, peer, now, this.o.random)
    if (!i.ok) return i
    const { sk, ad, responderRatchetPublic, initialMessage } = i.value
    const state = initAlice({ sk, ad, bobRatchetPublic: responderRatchetPublic }, this.o.random, this.#takeKeys)
    sk.fill(0)
    const im = decodeInitialMessage(initialMessage)
    if (!im.ok) return im
    this.#add(peer, { base: im.value.ephemeral, state, initial: initialMessage, ours: true, confirmed: false }, true)
    return { ok: true, value: undefined }
  }

  /** Seals `payload` on the active session (envelope.md §8.2); null when there is none that can send. */
  seal (peer: string, payload: TypedPayload, id: Uint8Array, timestamp: number, body?: Uint8Array): SealedV2 | null {
    const p = this.#peers.get(peer)
    const s = p?.list[0]
    if (p === undefined || s === undefined || s.state.cks === null) return null
    const clear = encodeV2Clear(id, s.initial)
    const r = ratchetEncrypt(s.state, encodeV2Inner(payload, timestamp, body), this.o.random, clear)
    const old = s.state
    s.state = r.state
    this.#records.retire(peer, old, r.state)
    return { bytes: encodeEnvelopeV2(clear, r.message), base: hex(s.base), write: this.#write(peer, p), dh: s.state.dhs.publicKey, n: s.state.ns - 1 }
  }

  /** Opens a v2 envelope from `peer` (the link's proven identity) (envelope.md §8.5). Never throws. */
  open (peer: string, bytes: Uint8Array, now: number): OpenV2Result {
    const env = decodeEnvelopeV2(bytes)
    if (env === null) return { ok: false, reason: 'malformed', id: null }
    const p = this.#peers.get(peer) ?? { list: [] }
    const opts = { now, random: this.o.random, associated: env.clear, takeKeyPairs: this.#takeKeys }
    let at = -1
    let dec: ReturnType<typeof ratchetDecrypt> = { ok: false, reason: 'no-header-key' }
    let started: Response | null = null
    let fresh: Session | null = null
    if (env.initial !== null) {
      const im = decodeInitialMessage(env.initial)
      if (!im.ok) return { ok: false, reason: 'bad-initial', id: env.id }
      at = p.list.findIndex(s => constantTimeEqual(s.base, im.value.ephemeral))
      if (at >= 0) {
        dec = ratchetDecrypt(p.list[at]!.state, env.ratchet, opts)
      } else {
        const r = this.o.respond?.(env.initial)
        if (r === undefined || !r.ok) return { ok: false, reason: 'bad-initial', id: env.id }
        if (r.value.initiatorFingerprint !== peer) return { ok: false, reason: 'sender-mismatch', id: env.id }
        const state = initBob({ sk: r.value.sk, ad: r.value.ad, ratchetKeyPair: r.value.ratchetKeyPair })
        r.value.sk.fill(0)
        dec = ratchetDecrypt(state, env.ratchet, opts)
        if (dec.ok) {
          started = r.value
          fresh = { base: im.value.ephemeral, state: dec.state, initial: null, ours: false, confirmed: true }
        }
      }
    } else {
      // newest first: a message on an older session (in flight when the active one changed) still opens
      for (let i = 0; i < p.list.length; i++) {
        dec = ratchetDecrypt(p.list[i]!.state, env.ratchet, opts)
        if (dec.ok || dec.reason !== 'no-header-key') { at = i; break }
      }
    }
    // no-session: nothing we hold can be the peer's, so it lost nothing, we did (§8.6). A session
    // the peer writes on without an initial message is one it started and we opened (confirmed),
    // or ours, whose replies open; our own unanswered starts are not it.
    if (!dec.ok) return { ok: false, reason: fresh === null && env.initial === null && p.list.every(s => s.ours && !s.confirmed) ? 'no-session' : dec.reason, id: env.id }
    const inner = decodeV2Inner(dec.plaintext)
    if (!inner.ok) return { ok: false, reason: inner.reason === 'malformed' ? 'bad-payload' : inner.reason, id: env.id }
    // a BATCH's envelope id is its first text's (§3.7), so a receipt of that id answers a resend of it
    if (inner.type === PayloadType.BATCH && !constantTimeEqual(inner.payload.messages[0]!.id, env.id)) return { ok: false, reason: 'bad-payload', id: env.id }
    let reset = false
    if (fresh !== null) {
      // a start from a peer we had a confirmed session with: it lost its state (§8.6)
      reset = p.list.some(s => s.confirmed)
      // both started at once: the session the smaller fingerprint started wins (§8.3)
      const mine = p.list[0]
      const keepOurs = mine !== undefined && mine.ours && !mine.confirmed && this.o.identity.fingerprint < peer
      this.#add(peer, fresh, !keepOurs)
    } else {
      const s = p.list[at]!
      const old = s.state
      s.state = dec.state
      this.#records.retire(peer, old, dec.state)
      if (s.ours && !s.confirmed) { s.confirmed = true; s.initial = null }
    }
    const { ok: _ok, timestamp, ...typed } = inner
    return { ok: true, id: env.id, timestamp, ...(typed as TypedPayload), write: this.#write(peer, this.#peers.get(peer)!), started, reset }
  }

  #add (peer: string, s: Session, active: boolean): void {
    const p = this.#peers.get(peer) ?? { list: [] }
    const list = active ? [s, ...p.list] : [p.list[0]!, s, ...p.list.slice(1)]
    for (const gone of list.slice(MAX_SESSIONS)) this.#records.retire(peer, gone.state)
    this.#peers.set(peer, { list: list.slice(0, MAX_SESSIONS) })
  }

  #write (peer: string, p: PeerSessions): SessionWrite {
    return this.#records.write(peer, p)
  }
}
