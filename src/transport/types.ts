// Small shared types of the session layer (proto-spec/session.md).

// Addresses are src/io/address.ts's; re-exported here because every session module uses them.
export { type PeerAddress, addressKey, sameAddress } from '../io/address.js'

/** Why a session ended (session.md §3.6). */
export type CloseReason =
  /** we called close() */
  | 'local'
  /** the peer sent an authenticated SESSION_CLOSE */
  | 'peer'
  /** nothing authenticated arrived for idleTimeoutMs */
  | 'timeout'
  /** the endpoint was closed */
  | 'endpoint-closed'
  /** a newer session with the same peer took its place (session.md §3.1) */
  | 'replaced'
  /** a stranger's session closed to keep strangers within their cap (session.md §3.7) */
  | 'evicted'

/** Session-layer reasons a datagram is dropped (wire-level reasons are wire's DropReason). */
export type SessionDropReason =
  /** receiver index names no session or handshake of ours */
  | 'unknown-session'
  /** counter already seen or older than the replay window */
  | 'replay'
  /** AEAD or Noise authentication failed */
  | 'decrypt-failed'
  /** per-IP initiation bucket empty, or the half-open table is full */
  | 'rate-limited'
  /** a handshake message that authenticated but carried a bad identity proof or Noise message */
  | 'handshake-failed'
  /** the peer's fingerprint was not the one we asked for (key substitution) */
  | 'fingerprint-mismatch'
  /** keys older than rejectAfterMs */
  | 'expired'
  /** a valid packet that does not fit the state: data for a half-open XX index, a late response, … */
  | 'unexpected'
  /** a retransmitted handshake message we already answered */
  | 'duplicate'
  /** an initiation without a valid mac1 for our fingerprint: no answer at all (wire.md §4.1.1) */
  | 'bad-mac1'
  /** an IK message 1 not newer than one already answered for its static key (session.md §6.4) */
  | 'ik-replay'
  /**
   * an IK message 1 from a peer we are dialling ourselves, whose session our dial's would beat
   * (session.md §3.1, crossed initiations): not answered, our own initiation goes instead
   */
  | 'crossed'

export const SESSION_DROP_REASONS: readonly SessionDropReason[] = [
  'unknown-session', 'replay', 'decrypt-failed', 'rate-limited', 'handshake-failed',
  'fingerprint-mismatch', 'expired', 'unexpected', 'duplicate', 'bad-mac1', 'ik-replay', 'crossed'
]
