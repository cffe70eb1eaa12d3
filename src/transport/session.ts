// The application's view of one secure session (proto-spec/session.md §3): send datagrams,
// receive them as 'data' events, learn who the peer is. Carries opaque plaintext datagrams for
// an upper layer (reliable-session.ts runs the reliable channel over it); it does not
// retransmit, order or fragment.
import { EventEmitter } from 'node:events'
import type { PublicIdentity } from '../crypto/identity.js'
import type { SessionCore } from './session-core.js'
import type { PeerAddress, CloseReason } from './types.js'

export interface SessionEvents {
  /** one datagram from the peer, authenticated and decrypted, never replayed */
  data: [datagram: Uint8Array]
  /** the session ended; no more events follow */
  close: [reason: CloseReason]
  /** the peer's address changed (an authenticated packet came from a new one) */
  roam: [address: PeerAddress]
  /** a handshake installed fresh keys (rekey) */
  rekey: []
}

/** What a Session asks of its Endpoint. */
export interface SessionOwner {
  sendOn (core: SessionCore, datagram: Uint8Array): boolean
  closeCore (core: SessionCore): void
  /** the Endpoint's isContact hook (session.md §3.7) */
  isContact (fingerprint: string): boolean
}

export class Session extends EventEmitter<SessionEvents> {
  readonly #core: SessionCore
  readonly #owner: SessionOwner

  constructor (core: SessionCore, owner: SessionOwner) {
    super()
    this.#core = core
    this.#owner = owner
  }

  /** The peer's fingerprint, proven by the handshake (noise.md §4). */
  get remoteFingerprint (): string {
    return this.#core.remoteFingerprint
  }

  /** The peer's public identity (Ed25519 key, X25519 key, binding signature). */
  get remoteIdentity (): PublicIdentity {
    const id = this.#core.remoteIdentity
    return { signPublic: id.signPublic.slice(), dhPublic: id.dhPublic.slice(), dhSignature: id.dhSignature.slice() }
  }

  /** The peer's static X25519 key: pass it as `remoteStatic` to reconnect with IK. */
  get remoteStatic (): Uint8Array {
    return this.#core.remoteStatic.slice()
  }

  /** Where we send: the source of the newest authenticated packet (roaming). */
  get remoteAddress (): PeerAddress {
    return { ...this.#core.address }
  }

  /**
   * True if the peer is one of the user's contacts (the Endpoint's isContact hook; true without
   * one). A stranger's session may be evicted and gets a smaller receive window (session.md §3.7).
   */
  get contact (): boolean {
    return this.#owner.isContact(this.#core.remoteFingerprint)
  }

  /** True if we dialled this session. */
  get outbound (): boolean {
    return this.#core.outbound
  }

  /** null while open, else why it closed. */
  get closed (): CloseReason | null {
    return this.#core.closed
  }

  /**
   * Send one datagram (at most MAX_SESSION_DATAGRAM_BYTES). Unreliable, like UDP: false means it
   * was not sent (session closed, or no usable keys while a rekey is pending).
   */
  send (datagram: Uint8Array): boolean {
    return this.#owner.sendOn(this.#core, datagram)
  }

  /** Send an authenticated SESSION_CLOSE and end the session; emits 'close' ('local'). */
  close (): void {
    this.#owner.closeCore(this.#core)
  }
}
