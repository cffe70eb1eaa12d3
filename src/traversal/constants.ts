// Numbers of NAT traversal (proto-spec/traversal.md): packet types 0x40–0x4f of wire.md §2.2,
// sizes, and timing. Spec constants first, tuning after.

/** Packet types (byte 1; byte 0 is 0xC1, wire.md §2.1). traversal.md §4 */
export const TraversalType = {
  REGISTER: 0x40,
  REGISTERED: 0x41,
  PUNCH_REQUEST: 0x42,
  PUNCH_FORWARD: 0x43,
  PUNCH_REPLY: 0x44,
  PUNCH_ANSWER: 0x45,
  PUNCH_UNKNOWN: 0x46,
  PROBE: 0x48,
  PROBE_ACK: 0x49
} as const
export type TraversalType = typeof TraversalType[keyof typeof TraversalType]


/** marker, type */
export const HEADER_BYTES = 2
export const TAG_BYTES = 16
export const TXID_BYTES = 4
export const HANDLE_BYTES = 16
export const PUNCH_ID_BYTES = 16
/** REGISTER is padded to this, so REGISTERED (at most 28 bytes) is never larger: traversal.md §4.1 */
export const REGISTER_BYTES = 40
/** PROBE and PROBE_ACK: marker, type, punch id, round */
export const PROBE_BYTES = HEADER_BYTES + PUNCH_ID_BYTES + 1

/** The plaintext inside a punch offer or answer: fixed, whatever the candidate count (traversal.md §5.2). */
export const MAX_CANDIDATES = 8
/** The relay block (traversal.md §5.2): flag, allocation id, port, pair secret, relay address (7 or 19) */
export const RELAY_BLOCK_BYTES = 1 + 8 + 2 + 32 + 19
export const PUNCH_PAYLOAD_BYTES = 1 + PUNCH_ID_BYTES + 8 + 1 + 32 + 64 + 1 + MAX_CANDIDATES * 20 + RELAY_BLOCK_BYTES
/** Noise X message 1: e (32), encrypted s (32 + 16), encrypted payload (+ 16) */
export const PUNCH_SEALED_BYTES = 32 + 48 + PUNCH_PAYLOAD_BYTES + 16
export const PUNCH_PACKET_BYTES = HEADER_BYTES + TAG_BYTES + PUNCH_SEALED_BYTES

/** Noise_X over SHA-256 for the end-to-end punch messages (traversal.md §5.1). */
export const NOISE_PUNCH = 'Noise_X_25519_ChaChaPoly_SHA256'
export const PUNCH_PROLOGUE = new TextEncoder().encode('dmess-punch/1')

// ---- timing (tuning: not visible on the wire) ----
/** Re-REGISTER this often: under the 30 s idle timeout of Linux conntrack and most home routers (RFC 4787 REQ-5 allows 2 min). */
export const KEEPALIVE_MS = 20_000
/** A rendezvous forgets a registration not refreshed for this long. */
export const REGISTRATION_TTL_MS = 60_000
/** How long a rendezvous remembers a forwarded request's requester, for the one answer. */
export const PENDING_TTL_MS = 10_000
/** A punch message older or newer than this (sender's wall clock) is refused: replay bound. */
export const PUNCH_MAX_SKEW_MS = 60_000
/** Gap between probes (RFC 8445 §14.2's Ta; smaller than its 50 ms default: at most 8 checks of 19 bytes). */
export const PROBE_PACE_MS = 10
/** Probe rounds over every candidate before a punch gives up. */
export const PROBE_ROUNDS = 40
/** A punch that has not completed by then has failed (then the relay hook is called). */
export const PUNCH_TIMEOUT_MS = 10_000

// ---- birthday punching (traversal.md §6.3; tuning: not visible on the wire) ----
/** Side sockets the symmetric ("hard") side opens, each sending one PROBE to the cone side (hyperdht and Tailscale use 256). */
export const BIRTHDAY_SOCKETS = 256
/**
 * The cone ("easy") side sends this many probes to random ports of the hard side's IP ... (8: the
 * median hit, 175 probes, comes in ~0.22 s, before the relay race's 500 ms; at 3 it took ~0.58 s,
 * and the relay won most races, traversal.md §6.3, §7.2)
 */
export const BIRTHDAY_PROBES_PER_TICK = 8
/** ... every this many ms: 800 probes/s of 19 bytes (about 38 KB/s with IP and UDP headers). */
export const BIRTHDAY_TICK_MS = 10
/** A spray timer that fired late sends the ticks it missed, at most this many at once (32 probes, 608 bytes). */
export const BIRTHDAY_CATCH_UP_TICKS = 4
/** At most this many random probes per attempt (3 s at the rate above; P(hit) ≈ 99.99 % with 256 sockets). */
export const BIRTHDAY_MAX_PROBES = 2400
/** Where a port-randomising NAT draws from: RFC 6056 §3.2's recommended range, and Linux MASQUERADE --random-fully's for a source port ≥ 1024. */
export const BIRTHDAY_PORT_MIN = 1024
export const BIRTHDAY_PORT_MAX = 65535

/**
 * Offers from strangers (not contacts) a node takes at all (traversal.md §5.4): a global budget
 * and one per stranger's fingerprint. Each admitted one costs a relay allocation, never a probe.
 */
export const STRANGER_PUNCH_RATE_PER_S = 0.2
export const STRANGER_PUNCH_BURST = 4
export const STRANGER_PUNCH_PER_PEER_MS = 30_000
