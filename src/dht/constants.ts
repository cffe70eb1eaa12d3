// DHT constants — proto-spec/dht.md. Spec constants (wire layout, packet types, limits every
// node must agree on) first, then tuning defaults that are ours to change per node.
import { MAX_DATAGRAM_BYTES } from '../wire/constants.js'
import { utf8 } from '../crypto/primitives.js'

// ---- ids and distance (dht.md §1) ----
export const ID_BYTES = 32
export const ID_BITS = ID_BYTES * 8
export const DHT_PUBLIC_KEY_BYTES = 32

// ---- domain strings (crypto-policy.md §3 convention: `dmess-<purpose>-v<N>\0`) ----
export const NODE_ID_DOMAIN = utf8.encode('dmess-dht-node-id-v1\0')
/** HKDF salt of every presence derivation (dht.md §5.1); the info strings below say which. */
export const PRESENCE_SALT = utf8.encode('dmess-presence-v2\0')
export const PRESENCE_KEY_INFO = utf8.encode('dmess-presence-key-v2\0')
export const PRESENCE_AEAD_INFO = utf8.encode('dmess-presence-aead-v2\0')
export const PRESENCE_PERIOD_SIGN_INFO = utf8.encode('dmess-presence-period-sign-v2\0')
export const PRESENCE_CERT_DOMAIN = utf8.encode('dmess-presence-cert-v2\0')
export const PRESENCE_SIG_DOMAIN = utf8.encode('dmess-presence-sig-v2\0')
export const TOKEN_DOMAIN = utf8.encode('dmess-dht-token-v1\0')

// ---- packet types (dht.md §3; wire.md §4.7 reserves 0x20–0x3f). Requests even, responses odd. ----
export const DhtType = {
  PING: 0x20,
  PONG: 0x21,
  FIND_NODE: 0x22,
  NODES: 0x23,
  FIND_VALUE: 0x24,
  VALUE: 0x25,
  STORE: 0x26,
  STORED: 0x27
  // 0x28–0x3f reserved (mailboxes for store-and-forward, later)
} as const
export type DhtType = typeof DhtType[keyof typeof DhtType]

/** The response type that answers a request type (dht.md §3). */
export const RESPONSE_OF: Readonly<Record<number, number>> = {
  [DhtType.PING]: DhtType.PONG,
  [DhtType.FIND_NODE]: DhtType.NODES,
  [DhtType.FIND_VALUE]: DhtType.VALUE,
  [DhtType.STORE]: DhtType.STORED
}

// ---- message layout (dht.md §3.1) ----
export const TXID_BYTES = 4
/** marker, type, txid, flags, sender DHT public key */
export const MESSAGE_HEADER_BYTES = 2 + TXID_BYTES + 1 + DHT_PUBLIC_KEY_BYTES
/** flags bit 0: the sender is read-only (behind a NAT it cannot open): never add it to a table (cf. BEP 43). */
export const FLAG_READ_ONLY = 0x01
export const TOKEN_BYTES = 16
/** A presence record's period signing public key (Ed25519, dht.md §5.1), as FIND_VALUE names it. */
export const PERIOD_KEY_BYTES = 32
export const MAX_MESSAGE_BYTES = MAX_DATAGRAM_BYTES
/** Kademlia's k: bucket size, replication factor, contacts per NODES answer. */
export const K = 20
/** Most contacts one NODES/VALUE answer may carry; decoders reject more. */
export const MAX_CONTACTS = K

/** FIND_VALUE flags bit 0: a `have seq` field follows. */
export const FIND_VALUE_HAS_SEQ = 0x01
/** FIND_VALUE flags bit 1: a period key follows: only the record under it is asked about (dht.md §3.4). */
export const FIND_VALUE_HAS_PERIOD_KEY = 0x02
/** FIND_VALUE flags bit 2: a `start` index follows: the records from there on (the follow-up, dht.md §3.5). */
export const FIND_VALUE_HAS_START = 0x04
/**
 * VALUE status byte (dht.md §3.5). 1 was version 1's single RECORD, retired: its layout changed,
 * and a node of either version drops the other's (an unknown status is malformed).
 */
export const ValueStatus = { NONE: 0, NOT_NEWER: 2, RECORDS: 3 } as const
/** Records one VALUE carries: 2 × (2 + 498) bytes fit a datagram after the header, 3 do not (dht.md §3.5). */
export const MAX_VALUE_RECORDS = 2
/** STORED status byte (dht.md §3.6). */
export const StoreStatus = { OK: 0, BAD_TOKEN: 1, INVALID: 2, STALE: 3, FULL: 4 } as const
export type StoreStatus = typeof StoreStatus[keyof typeof StoreStatus]

// ---- presence records (dht.md §5) ----
/** v2: blinded, encrypted, fixed size (dht.md §5.2). v1 records (type 0x01) are refused as malformed. */
export const RECORD_TYPE_PRESENCE = 0x02
/** One time period (dht.md §5.1): DHT key, period signing key and AEAD key change with it. */
export const PRESENCE_PERIOD_MS = 24 * 60 * 60_000
/** A record's expiry is a multiple of this (coarse: it does not tell when it was signed). */
export const EXPIRY_GRANULE_MS = 10 * 60_000
/** Addresses one record can hold; the sealed body is padded as if it held this many IPv6 ones. */
export const RECORD_MAX_ADDRESSES = 8
/** Rendezvous entries a record lists (proto-spec/traversal.md §3) and the size of each one's tag. */
export const RECORD_MAX_RENDEZVOUS = 3
export const RENDEZVOUS_TAG_BYTES = 16
/** kind, family, IPv6 address, port: the largest address entry. */
export const RECORD_ADDRESS_MAX_BYTES = 1 + 1 + 16 + 2
/** type, period public key, seq (u32), expiry (u32 seconds), XChaCha20 nonce */
export const RECORD_HEADER_BYTES = 1 + 32 + 4 + 4 + 24
/** signPublic, dhPublic, dhSignature, certificate, address count, the padded address area */
export const RECORD_PLAINTEXT_BYTES = 32 + 32 + 64 + 64 + 1 + RECORD_MAX_ADDRESSES * RECORD_ADDRESS_MAX_BYTES
export const RECORD_SIGNATURE_BYTES = 64
/** Every v2 record is exactly this long: header, ciphertext and tag, signature. */
export const RECORD_BYTES = RECORD_HEADER_BYTES + RECORD_PLAINTEXT_BYTES + 16 + RECORD_SIGNATURE_BYTES
/** The most the wire codec carries (dht.md §3.5, §3.6). */
export const RECORD_MAX_BYTES = RECORD_BYTES
/**
 * Records a storer keeps per key, one per period key (dht.md §5.4): anyone who knows a fingerprint
 * can write under its key, so one squatter's record must not keep the owner's out.
 */
export const RECORDS_PER_KEY = 4
/** Storers keep a record at most this long after they receive it, whatever it claims (dht.md §5.3). */
export const MAX_RECORD_TTL_MS = 2 * 60 * 60_000

// ---- tuning defaults (dht.md §7): per node, not part of the protocol ----
export const ALPHA = 3
/** How long a request waits for its answer before it counts as failed. */
export const RPC_TIMEOUT_MS = 1000
/** A lookup stops counting an unanswered request against α after this (Kademlia §2.3 "stalled"). */
export const LOOKUP_STALL_MS = 400
/**
 * A lookup's own stall time (dht.md §6.1): once α answered, a request still out is passed over
 * when it has waited this many times the slowest answer the same lookup got (its peers, asked
 * from the same host over the same network), at least LOOKUP_TAIL_FLOOR_MS (cf. dht-rpc, which
 * stops waiting for requests that missed their first timeout once it holds k replies).
 */
export const LOOKUP_TAIL_FACTOR = 2
export const LOOKUP_TAIL_FLOOR_MS = 5
/** Transactions in flight per node; past this, new requests fail at once (bounded memory). */
export const MAX_PENDING_RPCS = 2048
/** Contacts from one /24 (IPv4) or /48 (IPv6) in one routing table, and among one lookup's candidates. */
export const MAX_PER_SUBNET = 2
/** A contact is removed after this many consecutive failures (sooner if a replacement waits). */
export const MAX_CONTACT_FAILURES = 2
/** Kademlia §2.3: refresh a bucket nobody looked into for this long. */
export const BUCKET_REFRESH_MS = 60 * 60_000
/**
 * A contact quiet for this long is "questionable" (BEP 5 says 15 min): maintenance pings it, and a
 * full bucket's least recently seen contact is pinged before a newcomer may take its place. Five
 * minutes keeps the share of dead contacts flat when nodes restart often (dht.md §7.3; measured in
 * test/dht/churn.test.ts: with 15 min they piled up), at one PING per quiet contact per 5 min.
 */
export const CONTACT_STALE_MS = 5 * 60_000
/** A contact we are about to hand out in an answer is pinged if quiet this long (dht.md §7.3). */
export const VERIFY_HANDED_OUT_MS = 30_000
/** The write-token secret is replaced this often; the previous one is still accepted (BEP 5). */
export const TOKEN_ROTATE_MS = 5 * 60_000
/** The publisher re-announces its record this often (dht.md §6). */
export const REPUBLISH_MS = 30 * 60_000
/** Housekeeping tick: expiry, token rotation, refresh, republish. */
export const MAINTENANCE_MS = 60_000
/** Per source IP: requests per second and burst (token bucket). */
export const RATE_PER_SECOND = 50
export const RATE_BURST = 100
/**
 * Per source network (/24 IPv4, /64 IPv6): requests per second and burst. Four IPs' worth: a home
 * or office with a few nodes behind distinct addresses is not limited, one host holding a whole
 * /64 (or a /24 of addresses) gets no more than four hosts would.
 */
export const NETWORK_RATE_PER_SECOND = 4 * RATE_PER_SECOND
export const NETWORK_RATE_BURST = 4 * RATE_BURST
/**
 * Answers per second the node sends in total (the global budget, dht.md §8.4), and its burst.
 * 1,000 answers of at most 1,077 bytes bound what the node can reflect at ~1.1 MB/s whatever the
 * number of sources; a busy bootstrap node sees a few hundred requests per second.
 */
export const ANSWERS_PER_SECOND = 1000
export const ANSWERS_BURST = 2000
/** The part of the answer budget kept for light sources (few recent requests; defences.ts). */
export const LIGHT_SHARE = 0.25
/**
 * What "light" means (defences.ts RequestGate): a source IP with at least half of a bucket of 40
 * (refilled at 1/s) left, and its network half of one of 160 (4/s). A join asks its bootstrap
 * node about ten questions, a lookup one or two of each node it meets; a flood source empties its
 * bucket and, asking on, keeps it empty.
 */
export const QUIET_RATE_PER_SECOND = 1
export const QUIET_BURST = 40
export const QUIET_NETWORK_RATE_PER_SECOND = 4
export const QUIET_NETWORK_BURST = 160
/** Source IPs the rate limiter tracks at once (oldest forgotten first). */
export const RATE_MAX_TRACKED = 8192
/** Records one node stores in total, and per source IP. */
export const MAX_RECORDS = 20_000
export const MAX_RECORDS_PER_SOURCE = 32
/** New requesters verified by ping at once (the rest are ignored until a slot frees). */
export const MAX_PENDING_VERIFICATIONS = 64
