// Tuning of the messaging layer (proto-spec/messaging.md §8). Local policy, not wire format:
// the frame and payload numbers are in frames.ts and src/wire/constants.ts. Units in the names.

// ---- outbox retries (messaging.md §4) ----
/** First retry of an entry whose peer could not be reached; doubles per attempt. */
export const RETRY_INITIAL_MS = 1000
/** Retries never wait longer than this (a LAN peer that comes back is found within it). */
export const RETRY_MAX_MS = 5 * 60_000
/** After a send the transport acknowledged, wait this long for the end-to-end receipt before resending. */
export const RECEIPT_WAIT_MS = 10_000
/** ± this fraction of random jitter on every retry delay (so a restart does not retry in lockstep). */
export const RETRY_JITTER = 0.2

// ---- connection manager (messaging.md §5) ----
export const RECONNECT_INITIAL_MS = 500
export const RECONNECT_MAX_MS = 60_000
export const RECONNECT_JITTER = 0.2
/**
 * A session that lasted this long was not a flap: the reconnect backoff starts over. A session
 * closed sooner (a peer that evicts us as one stranger too many, session.md §3.7, or a path that
 * keeps breaking) backs off further each time, so a full node is not redialled in a loop.
 */
export const STABLE_SESSION_MS = 60_000
/** Dials running at once (each is a Noise handshake with retransmissions). */
export const MAX_CONCURRENT_DIALS = 8
/** DHT lookups of a wanted peer with no working address (§5.2): 5 s doubling to 5 min, ± 20 %. */
export const DHT_LOOKUP_INITIAL_MS = 5000
export const DHT_LOOKUP_MAX_MS = 5 * 60_000
export const DHT_LOOKUP_JITTER = 0.2
/** Lookups running at once (each sends α = 3 requests at a time), and how long one may take. */
export const MAX_CONCURRENT_LOOKUPS = 4
export const DHT_LOOKUP_TIMEOUT_MS = 30_000
/** Failed dials of a peer's known addresses before the DHT is asked where it is now. */
export const LOOKUP_AFTER_DIAL_FAILURES = 1
/** Peers the table remembers (discovered, static, inbound); the oldest offline stranger goes first. */
export const MAX_PEERS = 1024

// ---- inbound admission (messaging.md §6) ----
/** Envelopes per second a contact may send us, and its burst: a safety valve far above any person (flow control paces contacts). */
export const CONTACT_RATE_PER_S = 5000
export const CONTACT_BURST = 10_000
/** A stranger may only introduce itself: a few envelopes per second. */
export const STRANGER_RATE_PER_S = 2
export const STRANGER_BURST = 10
/**
 * A stranger that sent more than its request can hold (§3.2) has its link closed and its
 * sessions refused for this long: bytes it would send meanwhile would be received only to be dropped.
 */
export const STRANGER_COOL_OFF_MS = 60_000
/** Distinct peers with a live bucket at once (beyond it, new strangers are refused until buckets refill). */
export const MAX_RATE_LIMITED_PEERS = 4096
/** Envelopes waiting to be opened, per peer and in total; beyond it they are dropped (the sender retries). */
export const MAX_QUEUED_PER_PEER = 1024
export const MAX_QUEUED_TOTAL = 16_384
/** Envelopes opened per turn of the inbound worker before it yields to the event loop. */
export const INBOUND_BATCH = 64

// ---- contact requests (messaging.md §3) ----
/** Pending requests kept; a request beyond it is dropped (and counted). */
export const MAX_PENDING_REQUESTS = 100
/** Messages held per pending request; later ones are dropped without a receipt (the sender retries). */
export const MAX_HELD_PER_REQUEST = 50
/** A declined fingerprint's envelopes are dropped silently for this long. */
export const DECLINE_MEMORY_MS = 30 * 24 * 3600_000
/**
 * Bytes of held messages (and greeting) one pending request may keep: four 64 KiB texts, or a
 * few hundred ordinary ones. Beyond it a stranger's messages are dropped without a receipt.
 */
export const MAX_HELD_BYTES_PER_REQUEST = 256 * 1024
/** Bytes held across the whole book: what strangers can make us keep, in memory and on disk. */
export const MAX_HELD_BYTES_TOTAL = 8 * 1024 * 1024
/** Bookkeeping a held message costs besides its text (id, timestamps, encoding): counted against the budgets. */
export const HELD_OVERHEAD_BYTES = 64
/** Pending requests from one source network (IPv4 /24, IPv6 /64): one network cannot fill the book. */
export const MAX_REQUESTS_PER_NETWORK = 16
/** A request not answered within this long is dropped with its messages (as the decline memory). */
export const REQUEST_EXPIRY_MS = 30 * 24 * 3600_000
/** Request files written at once (each is a temp file, fsync and rename). */
export const MAX_REQUEST_WRITES = 4

// ---- signals (messaging.md §7) ----
/** A peer shown as typing stops being so after this long without a refresh. */
export const TYPING_TIMEOUT_MS = 6000
// ---- IPC (messaging.md §9) ----
/** `messages.send` with `wait` gives up after this long unless the caller asks otherwise. */
export const DEFAULT_WAIT_MS = 30_000
export const MAX_WAIT_MS = 3600_000
