// What goes in and out of the SessionManager (proto-spec/session.md §8): the actions it returns
// for the Endpoint to carry out, connect options, and its counters.
import type { DmessError } from '../errors.js'
import type { DropReason } from '../wire/drops.js'
import type { SessionCore } from './session-core.js'
import type { PeerAddress, CloseReason, SessionDropReason } from './types.js'

export type ManagerAction =
  | { type: 'send', to: PeerAddress, bytes: Uint8Array }
  /** a session the peer opened (inbound), now authenticated */
  | { type: 'session', session: SessionCore }
  | { type: 'connected', dialId: number, session: SessionCore }
  | { type: 'connect-failed', dialId: number, error: DmessError }
  | { type: 'data', session: SessionCore, data: Uint8Array }
  | { type: 'roamed', session: SessionCore, address: PeerAddress }
  /** new keys installed on an existing session (rekey, or a second handshake with the same peer) */
  | { type: 'rekeyed', session: SessionCore }
  | { type: 'closed', session: SessionCore, reason: CloseReason }
  /** a DHT packet (wire.md §4.7): not ours, for the DHT handler */
  | { type: 'dht', datagram: Uint8Array, from: PeerAddress }

export interface ConnectOptions {
  /** fail with FINGERPRINT_MISMATCH unless the peer proves this fingerprint */
  expectFingerprint?: string
  /** the peer's static X25519 key, if known: a 1-RTT IK handshake (noise.md §1) */
  remoteStatic?: Uint8Array
  timeoutMs?: number
  /**
   * Dial even when a session with `expectFingerprint` is open (a new path to the same peer, e.g.
   * leaving a relay: proto-spec/relay.md §8); the new session replaces the old (session.md §3.1).
   */
  fresh?: boolean
}

export interface ManagerStats {
  dropped: Record<DropReason | SessionDropReason, number>
  handshakesCompleted: number
  /**
   * Handshakes we began (connects and rekeys) and the initiations sent for them, retransmissions
   * included; responses we computed; sessions closed because another with the same peer took
   * their place (session.md §3.1): a reconnect, or the losing half of a simultaneous open.
   */
  handshakes: { started: number, initiationsSent: number, responsesSent: number, sessionsReplaced: number, held: number }
  cookieRepliesSent: number
  /** half-open handshakes dropped to make room (session.md §6.1) */
  halfOpenEvicted: number
  /** stranger sessions closed to keep them within their cap (session.md §3.7) */
  strangersEvicted: number
  sessions: number
  halfOpen: number
  dials: number
}
