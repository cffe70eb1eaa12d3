// Every wire type number and size limit of dmess, in one place (proto-spec/wire.md,
// proto-spec/envelope.md). Spec constants only: tuning knobs (timeouts, rates) live with the
// component that owns them. Numbering leaves gaps per subsystem so a new subsystem can claim a
// range without renumbering anything already deployed.

// ---- Outer packet framing (proto-spec/wire.md §2) ----

/**
 * Byte 0 of every dmess datagram is `VERSION_MARKER | version`. The top two bits are 0b11, which
 * no STUN message can have (RFC 8489 §5: first two bits are zero) and which RFC 9443's
 * demultiplexing table leaves unassigned (STUN 0–3, ZRTP 16–19, DTLS 20–63, TURN channels 64–79,
 * RTP/RTCP 128–191), so STUN, and later TURN or DTLS, can share the socket. wire.md §2.1.
 */
export const VERSION_MARKER = 0xc0
export const VERSION_MARKER_MASK = 0xc0
/** The low six bits of byte 0. */
export const VERSION_MASK = 0x3f
/** Version 0 is reserved for version-invariant packets (VERSION_NEGOTIATION only). wire.md §2.3 */
export const WIRE_VERSION_INVARIANT = 0
/** The packet format this code speaks. */
export const WIRE_VERSION = 1
/** Versions we accept, highest first; sent in VERSION_NEGOTIATION. */
export const SUPPORTED_WIRE_VERSIONS: readonly number[] = [WIRE_VERSION]

/** Packet types: byte 1 of every dmess datagram. wire.md §3 */
export const PacketType = {
  // 0x00 reserved: never valid.
  // 0x01–0x0f: handshake and DoS protection
  HANDSHAKE_INITIATION: 0x01,
  HANDSHAKE_RESPONSE: 0x02,
  HANDSHAKE_FINAL: 0x03,
  COOKIE_REPLY: 0x04,
  VERSION_NEGOTIATION: 0x05,
  // 0x10–0x1f: established sessions (0x11 left unassigned)
  TRANSPORT_DATA: 0x10,
  SESSION_CLOSE: 0x12
  // 0x20–0x3f: DHT RPCs (DHT_TYPE_FIRST..DHT_TYPE_LAST), defined by proto-spec/dht.md
  // 0x40–0x4f: NAT traversal (TRAVERSAL_TYPE_FIRST..LAST), defined by proto-spec/traversal.md
  // 0x50–0x5f: relay control (RELAY_TYPE_FIRST..RELAY_TYPE_LAST), defined by proto-spec/relay.md
  // 0x60–0xff: reserved
} as const
export type PacketType = typeof PacketType[keyof typeof PacketType]

export const DHT_TYPE_FIRST = 0x20
export const DHT_TYPE_LAST = 0x3f
/** 0x50–0x5f: the blind relay's control messages (proto-spec/relay.md §3); 0x40–0x4f are hole punching's. */
export const RELAY_TYPE_FIRST = 0x50
export const RELAY_TYPE_LAST = 0x5f
/** Rendezvous, punch and probe messages (proto-spec/traversal.md §4): handed whole to the traversal hook. */
export const TRAVERSAL_TYPE_FIRST = 0x40
export const TRAVERSAL_TYPE_LAST = 0x4f

/** Handshake pattern carried by HANDSHAKE_INITIATION (proto-spec/noise.md names the protocols). */
export const HandshakePattern = {
  XX: 0x01,
  IK: 0x02
} as const
export type HandshakePattern = typeof HandshakePattern[keyof typeof HandshakePattern]

/**
 * No datagram we send or accept is larger (fits a 1500-byte MTU behind IPv6 + tunnels) — except
 * TRANSPORT_DATA on a path whose larger size path MTU discovery confirmed (MAX_TRANSPORT_DATAGRAM_BYTES).
 */
export const MAX_DATAGRAM_BYTES = 1400
/**
 * The largest TRANSPORT_DATA datagram a receiver accepts: the largest UDP payload over IPv4
 * (65535 − 20 − 8). A sender goes above MAX_DATAGRAM_BYTES only with a path MTU probe or at a
 * size a probe confirmed (reliable.md §15, RFC 8899), so an old receiver that refuses it only
 * stops the search. wire.md §3
 */
export const MAX_TRANSPORT_DATAGRAM_BYTES = 65_507
export const PACKET_HEADER_BYTES = 2
export const SESSION_INDEX_BYTES = 4
export const COUNTER_BYTES = 8
export const COOKIE_BYTES = 16
export const AEAD_TAG_BYTES = 16
/**
 * The last 16 bytes of every HANDSHAKE_INITIATION, in every version: a MAC over the bytes before
 * it, keyed by the responder's fingerprint (wire.md §4.1.1, src/wire/mac1.ts). A responder
 * answers nothing without a valid one.
 */
export const MAC1_BYTES = 16

// HANDSHAKE_INITIATION: marker, type, sender index, pattern, cookie length, [cookie],
// noise length, noise msg, zero padding, mac1
export const HANDSHAKE_INITIATION_HEADER_BYTES = 10
/**
 * Initiations are zero-padded to at least this size, so that nothing a responder sends back
 * (response ≤ 203 bytes with the identity proof, cookie reply, version negotiation) is larger
 * than the datagram that caused it: no reflection amplification (cf. RFC 9000 §8.1). wire.md §4.1
 */
export const HANDSHAKE_INITIATION_MIN_BYTES = 256
// HANDSHAKE_RESPONSE: marker, type, sender index, receiver index, noise msg
export const HANDSHAKE_RESPONSE_HEADER_BYTES = 10
// HANDSHAKE_FINAL: marker, type, receiver index, noise msg
export const HANDSHAKE_FINAL_HEADER_BYTES = 6
/** Smallest Noise messages with empty payloads (Noise §7: XX msg1 = e; IK msg2 = e + tag; XX msg3 = s + tags). */
export const NOISE_INITIATION_MIN_BYTES = 32
export const NOISE_RESPONSE_MIN_BYTES = 48
export const NOISE_FINAL_MIN_BYTES = 64
/**
 * Noise §3 allows 65535 bytes; ours must fit one datagram in every handshake packet, including
 * an initiation that carries a cookie and its mac1: 1400 − 10 − 16 − 16 = 1358.
 */
export const NOISE_MESSAGE_MAX_BYTES = MAX_DATAGRAM_BYTES - HANDSHAKE_INITIATION_HEADER_BYTES - COOKIE_BYTES - MAC1_BYTES
// COOKIE_REPLY: marker, type, receiver index, cookie — fixed size
export const COOKIE_REPLY_BYTES = 22
// VERSION_NEGOTIATION: marker, type, receiver index, count, versions
export const VERSION_NEGOTIATION_HEADER_BYTES = 7
export const VERSION_NEGOTIATION_MAX_VERSIONS = 63
// TRANSPORT_DATA: marker, type, receiver index, counter, ciphertext (≥ tag)
export const TRANSPORT_DATA_HEADER_BYTES = 14
export const TRANSPORT_DATA_MIN_BYTES = TRANSPORT_DATA_HEADER_BYTES + AEAD_TAG_BYTES
/** Plaintext of a session packet that fits MAX_DATAGRAM_BYTES: every path is assumed to carry it. */
export const BASE_TRANSPORT_PLAINTEXT_BYTES = MAX_DATAGRAM_BYTES - TRANSPORT_DATA_MIN_BYTES
/** The most plaintext one session packet carries, on a path confirmed for the largest datagram. */
export const MAX_TRANSPORT_PLAINTEXT_BYTES = MAX_TRANSPORT_DATAGRAM_BYTES - TRANSPORT_DATA_MIN_BYTES
// SESSION_CLOSE: the TRANSPORT_DATA layout with an empty plaintext — fixed size (wire.md §4.8)
export const SESSION_CLOSE_BYTES = TRANSPORT_DATA_MIN_BYTES
/** Noise §5.1: nonce 2^64-1 is reserved; counters are below it. */
export const MAX_COUNTER = 2n ** 64n - 2n
// DHT packets: marker, type, body (proto-spec/dht.md)
export const DHT_HEADER_BYTES = 2

// ---- Session timing and DoS bounds (wire.md §6, §7) ----
// Not byte layouts, but peer-visible behaviour both ends rely on; the session manager
// (src/transport/) uses these. Values follow WireGuard's (whitepaper §6.1) where they apply.

/** First retransmission of an unanswered handshake message; doubles each time (wire.md §6.2). */
export const HANDSHAKE_RETRY_INITIAL_MS = 1000
export const HANDSHAKE_RETRY_MAX_MS = 8000
/** Sends of one handshake message before giving up: 1 + 2 + 4 + 8 + 8 + 8 ≈ 31 s. */
export const HANDSHAKE_MAX_ATTEMPTS = 6
/** A responder forgets a half-open handshake (message 1 read, message 3 not yet) after this. */
export const HALF_OPEN_TTL_MS = 35_000
/** Start a fresh handshake once a session is this old (new ephemerals: forward secrecy). */
export const REKEY_AFTER_MS = 120_000
/** Never send or accept on a session older than this. */
export const REJECT_AFTER_MS = 180_000
/** Start a fresh handshake after this many packets sent on one session. */
export const REKEY_AFTER_MESSAGES = 2n ** 60n
/** Receivers accept a counter at most once, within this window below the highest seen (RFC 6479). */
export const REPLAY_WINDOW = 2048
/** The cookie secret is replaced this often; the previous one is still accepted (wire.md §4.4). */
export const COOKIE_SECRET_ROTATE_MS = 120_000

// ---- STUN recognition (RFC 8489 §5, §6.3 framing) ----
export const STUN_HEADER_BYTES = 20
export const STUN_MAGIC_COOKIE = 0x2112a442

// ---- Envelope (proto-spec/envelope.md) ----

export const ENVELOPE_VERSION = 1
export const MESSAGE_ID_BYTES = 16
/** Fingerprints are lowercase [a-z0-9] strings (proto-spec/identity.md); we bound the length only. */
export const FINGERPRINT_MAX_CHARS = 64
export const HPKE_ENC_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64
export const ED25519_PUBLIC_BYTES = 32
export const X25519_PUBLIC_BYTES = 32
/** 2020-01-01T00:00:00Z: anything earlier is a broken clock or a forgery. */
export const TIMESTAMP_MIN_MS = 1_577_836_800_000
/** 2100-01-01T00:00:00Z: an upper bound that keeps timestamps far inside 2^53. */
export const TIMESTAMP_MAX_MS = 4_102_444_800_000
/** openEnvelope rejects envelopes dated further than this ahead of the receiver's clock. */
export const ENVELOPE_MAX_FUTURE_SKEW_MS = 5 * 60_000
/** Largest encoded payload (before encryption). */
export const MAX_PAYLOAD_BYTES = 96 * 1024

// ---- Envelope version 2: a Double Ratchet message (envelope.md §8) ----
export const ENVELOPE_V2 = 2
/** Flags byte of a v2 envelope: the PQXDH initial message follows the id. */
export const V2_FLAG_INITIAL = 0x01
/** The PQXDH initial message (pqxdh.md §4.2; src/pqxdh INITIAL_MESSAGE_BYTES, checked by a test). */
export const V2_INITIAL_MESSAGE_BYTES = 1254
/** The ratchet's encrypted header (ratchet.md §4; src/ratchet ENC_HEADER_BYTES, checked by a test). */
export const V2_ENC_HEADER_BYTES = 2353
/** Clear part before the initial message: version, flags, id. */
export const V2_FIXED_BYTES = 2 + MESSAGE_ID_BYTES
/** Inner plaintext before the payload body: type (1) and timestamp (8). */
export const V2_INNER_FIXED_BYTES = 9

/** Envelope payload types. envelope.md §3 */
export const PayloadType = {
  // 0x00 reserved
  // 0x01–0x0f: content
  TEXT: 0x01,
  FILE: 0x02,
  /** several TEXTs in one envelope v2 message (envelope.md §3.7); never in v1 */
  BATCH: 0x03,
  // 0x10–0x1f: conversation signals
  TYPING: 0x10,
  READ_RECEIPT: 0x11,
  DELIVERY_RECEIPT: 0x12,
  // 0x20–0x2f: contacts
  CONTACT_REQUEST: 0x20,
  // 0x30–0x3f: presence
  PRESENCE: 0x30
  // 0x40–0x4f: reserved (once set aside for the Double Ratchet, which became envelope version 2,
  // envelope.md §8, instead of payload types)
  // 0x50–0xff: reserved
} as const
export type PayloadType = typeof PayloadType[keyof typeof PayloadType]

/** PRESENCE states on the wire. envelope.md §3.7 */
export const PresenceCode = {
  ONLINE: 1,
  AWAY: 2,
  OFFLINE: 3
} as const

// Per-field limits (envelope.md §3)
export const TEXT_MAX_BYTES = 64 * 1024
export const FILE_NAME_MAX_BYTES = 255
/** Files travel in chunks of exactly this size (the last one shorter). */
export const FILE_CHUNK_BYTES = 32 * 1024
export const FILE_MAX_BYTES = Number.MAX_SAFE_INTEGER
export const SHA256_BYTES = 32
export const RECEIPT_MAX_IDS = 256
/** BATCH (envelope.md §3.7): at most this many texts, and at most BATCH_MAX_TEXT_BYTES of text in all. */
export const BATCH_MAX_MESSAGES = 64
export const BATCH_MAX_TEXT_BYTES = 16 * 1024
/** PRESENCE `caps` bits (envelope.md §3.6): bit 0, the sender opens BATCH payloads. */
export const CAP_BATCH = 1
/**
 * bit 1: the sender follows envelope.md §8.3's link-up rule: with no session between us, the one
 * whose fingerprint sorts first starts it, with nothing to send if need be; the other waits for it
 */
export const CAP_STARTS_FIRST = 2
/**
 * bit 2: the sender follows envelope.md §8.3's link-up rule as revised: of two such ends, the one
 * whose link-up PRESENCE frame has bit 3 set while the other's has not starts the session, not
 * the smaller fingerprint
 */
export const CAP_WAITING_STARTS = 4
/** bit 3, in a link-up PRESENCE frame only: the sender has messages queued for the recipient (envelope.md §8.3) */
export const CAP_MESSAGES_WAITING = 8
export const CAPS_MAX = 2 ** 32 - 1
export const CONTACT_NAME_MAX_BYTES = 64
export const GREETING_MAX_BYTES = 1024
export const PRESENCE_MAX_ADDRESSES = 16
export const ADDRESS_HOST_MAX_BYTES = 64
