// Session-layer tuning (proto-spec/session.md §7). The peer-visible timing constants both ends
// rely on (handshake retries, rekey, reject, half-open lifetime, replay window) are spec
// constants in src/wire/constants.ts; these are local policy, and SessionTuning lets a caller
// (a test, the benchmark, a bootstrap node) change any of them.
import {
  REKEY_AFTER_MS, REJECT_AFTER_MS, REKEY_AFTER_MESSAGES, HANDSHAKE_RETRY_INITIAL_MS,
  HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_MAX_ATTEMPTS, HALF_OPEN_TTL_MS, MAX_TRANSPORT_PLAINTEXT_BYTES,
  BASE_TRANSPORT_PLAINTEXT_BYTES
} from '../wire/constants.js'

/**
 * The largest datagram `Session.send` takes: one TRANSPORT_DATA plaintext (wire.md §3). Above
 * BASE_SESSION_DATAGRAM_BYTES only for a path whose size was confirmed (reliable.md §15).
 */
export const MAX_SESSION_DATAGRAM_BYTES = MAX_TRANSPORT_PLAINTEXT_BYTES
/** A session datagram every path is assumed to carry (fits a 1400-byte UDP payload). */
export const BASE_SESSION_DATAGRAM_BYTES = BASE_TRANSPORT_PLAINTEXT_BYTES

/** Send an empty (keepalive) packet when nothing has been sent on a session for this long. */
export const KEEPALIVE_AFTER_MS = 15_000
/** Close a session when nothing authenticated has arrived on it for this long (4 keepalives). */
export const IDLE_TIMEOUT_MS = 60_000
/**
 * The side that *responded* to the current keys' handshake rekeys this much later than the
 * initiator (REKEY_AFTER_MS), so both ends do not usually start one at the same moment
 * (WireGuard does the same); still well before REJECT_AFTER_MS.
 */
export const RESPONDER_REKEY_AFTER_MS = REKEY_AFTER_MS + 30_000
/** IK sends before an unanswered IK connect falls back to XX (noise.md §1): 1 + 2 + 4 s. */
export const IK_ATTEMPTS_BEFORE_XX = 3
/** A connect gives up after this long, fallback included. */
export const CONNECT_TIMEOUT_MS = 45_000
/** ± this fraction of random jitter on every handshake retransmission delay (wire.md §6.3). */
export const HANDSHAKE_RETRY_JITTER = 0.1
/** At most one keepalive per this interval in answer to duplicate HANDSHAKE_FINALs. */
export const DUPLICATE_FINAL_REPLY_INTERVAL_MS = 1000

/** Initiations one source IP may make us process per second, and its burst. */
export const INITIATIONS_PER_IP_PER_S = 20
export const INITIATION_BURST_PER_IP = 20
/** Initiations per second (all sources) above which we are "under load" and demand cookies. */
export const UNDER_LOAD_INITIATIONS_PER_S = 400
export const UNDER_LOAD_INITIATION_BURST = 100
/** Half-open handshakes above which we are "under load". */
export const UNDER_LOAD_HALF_OPEN = 256
/**
 * Hard bound on half-open handshakes; beyond it the oldest of the source network holding the
 * most makes room, or the initiation is dropped (session.md §6.1).
 */
export const MAX_HALF_OPEN = 4096
/**
 * Half-open handshakes one source network (IPv4 /24, IPv6 /64) may hold; beyond it its own
 * oldest makes room. 32 networks are needed to fill MAX_HALF_OPEN.
 */
export const MAX_HALF_OPEN_PER_NETWORK = 128
/**
 * Initiator static keys whose newest IK timestamp a responder remembers (session.md §6.4),
 * least recently answered forgotten first: 16,384 × ~100 bytes ≈ 1.6 MiB at most.
 */
export const MAX_IK_TIMESTAMP_KEYS = 16_384
/**
 * Open sessions with peers that are not contacts (session.md §3.7); beyond it the one heard
 * from least recently is closed. Contacts are never counted or evicted.
 */
export const MAX_STRANGER_SESSIONS = 128
/** Distinct source IPs being rate-limited at once. */
export const MAX_RATE_LIMITED_IPS = 16_384

export interface SessionTuning {
  keepaliveAfterMs: number
  idleTimeoutMs: number
  rekeyAfterMs: number
  responderRekeyAfterMs: number
  rejectAfterMs: number
  rekeyAfterMessages: bigint
  handshakeRetryInitialMs: number
  handshakeRetryMaxMs: number
  handshakeMaxAttempts: number
  ikAttemptsBeforeXx: number
  connectTimeoutMs: number
  halfOpenTtlMs: number
  initiationsPerIpPerS: number
  initiationBurstPerIp: number
  underLoadInitiationsPerS: number
  underLoadInitiationBurst: number
  underLoadHalfOpen: number
  maxHalfOpen: number
  maxHalfOpenPerNetwork: number
  maxStrangerSessions: number
}

export const DEFAULT_TUNING: Readonly<SessionTuning> = Object.freeze({
  keepaliveAfterMs: KEEPALIVE_AFTER_MS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  rekeyAfterMs: REKEY_AFTER_MS,
  responderRekeyAfterMs: RESPONDER_REKEY_AFTER_MS,
  rejectAfterMs: REJECT_AFTER_MS,
  rekeyAfterMessages: REKEY_AFTER_MESSAGES,
  handshakeRetryInitialMs: HANDSHAKE_RETRY_INITIAL_MS,
  handshakeRetryMaxMs: HANDSHAKE_RETRY_MAX_MS,
  handshakeMaxAttempts: HANDSHAKE_MAX_ATTEMPTS,
  ikAttemptsBeforeXx: IK_ATTEMPTS_BEFORE_XX,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  halfOpenTtlMs: HALF_OPEN_TTL_MS,
  initiationsPerIpPerS: INITIATIONS_PER_IP_PER_S,
  initiationBurstPerIp: INITIATION_BURST_PER_IP,
  underLoadInitiationsPerS: UNDER_LOAD_INITIATIONS_PER_S,
  underLoadInitiationBurst: UNDER_LOAD_INITIATION_BURST,
  underLoadHalfOpen: UNDER_LOAD_HALF_OPEN,
  maxHalfOpen: MAX_HALF_OPEN,
  maxHalfOpenPerNetwork: MAX_HALF_OPEN_PER_NETWORK,
  maxStrangerSessions: MAX_STRANGER_SESSIONS
})
