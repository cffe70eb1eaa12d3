// Numbers for LAN discovery (proto-spec/discovery.md). Spec constants first (RFC 6762 mDNS,
// RFC 6763 DNS-SD, RFC 1035 names), then dmess's own choices and tuning.

// ---- RFC constants ----

/** RFC 6762 §3: the mDNS port (multicast-dns joins the IPv4 group, 224.0.0.251, itself). */
export const MDNS_PORT = 5353
/** RFC 6763 §9: browsing this PTR name lists every service type on the link. */
export const SERVICES_ENUMERATION = '_services._dns-sd._udp.local'
/** RFC 1035 §2.3.4: labels up to 63 bytes, names up to 255 bytes on the wire. */
export const MAX_LABEL_BYTES = 63
export const MAX_NAME_BYTES = 255
/** RFC 6763 §6.2: a TXT record SHOULD stay under 1300 bytes; anything larger is absurd for us. */
export const MAX_TXT_BYTES = 1300
/** RFC 6763 §6.4: keys are 1+ printable ASCII characters other than '=', SHOULD be ≤ 9. */
export const MAX_TXT_KEY_CHARS = 9
/** RFC 6762 §10: TTL of records that carry a host name (SRV, A, AAAA), and of the rest. */
export const HOST_RECORD_TTL_S = 120
export const OTHER_RECORD_TTL_S = 4500
/** RFC 6762 §10.1: a goodbye (TTL 0) removes a record one second later. */
export const GOODBYE_DELAY_MS = 1000
/** RFC 6762 §10.2: a cache-flush record flushes same-name records older than one second. */
export const CACHE_FLUSH_GRACE_MS = 1000
/** RFC 6762 §6.7: legacy unicast answers carry TTLs of at most 10 s and no cache-flush bit. */
export const LEGACY_UNICAST_MAX_TTL_S = 10
/** RFC 6762 §6: shared answers wait 20–120 ms; a record is multicast at most once a second. */
export const RESPONSE_DELAY_MIN_MS = 20
export const RESPONSE_DELAY_MAX_MS = 120
export const MIN_MULTICAST_INTERVAL_MS = 1000
/** RFC 6762 §5.4: a QU question is answered by multicast anyway if we last multicast that record
 * more than a quarter of its TTL ago. */
export const QU_MULTICAST_FRACTION = 0.25
/** RFC 6762 §5.2: first query after 20–120 ms, then ≥ 1 s, doubling, capped at 60 minutes. */
export const FIRST_QUERY_DELAY_MIN_MS = 20
export const FIRST_QUERY_DELAY_MAX_MS = 120
export const QUERY_INTERVAL_MIN_MS = 1000
export const QUERY_INTERVAL_MAX_MS = 60 * 60 * 1000
/** RFC 6762 §5.2: refresh a cached record at 80, 85, 90 and 95 % of its TTL, plus 0–2 % jitter. */
export const REFRESH_FRACTIONS: readonly number[] = [0.80, 0.85, 0.90, 0.95]
export const REFRESH_JITTER_FRACTION = 0.02
/** RFC 6762 §7.1: a known answer suppresses ours only while it has more than half its TTL left. */
export const KNOWN_ANSWER_MIN_FRACTION = 0.5
/** RFC 6762 §8.3: at least two announcements one second apart, intervals doubling (≤ 8). */
export const ANNOUNCE_FIRST_INTERVAL_MS = 1000
/** RFC 6762 §18.3, §18.11: mDNS messages with another opcode or a non-zero rcode are ignored. */
export const DNS_OPCODE_QUERY = 'QUERY'
export const DNS_RCODE_NOERROR = 'NOERROR'

// ---- dmess choices (discovery.md §2) ----

/** Our DNS-SD service type (RFC 6763 §7: `_<name>._udp`; dmess speaks UDP only). */
export const SERVICE_TYPE = '_dmess._udp.local'
/** TXT keys (discovery.md §2.3): the rotating token and the protocol version. */
export const TXT_TOKEN = 't'
export const TXT_VERSION = 'v'
/** The discovery token (discovery.md §2.4): 16 bytes as 32 lowercase hex characters. */
export const TOKEN_BYTES = 16
export const TOKEN_PATTERN = /^[0-9a-f]{32}$/
/** HKDF info (RFC 5869) that makes a fingerprint's token key good for nothing else. */
export const TOKEN_KEY_INFO = 'dmess mdns discovery token key v1'
/** How long one token, instance label and host label are announced before the next. */
export const TOKEN_WINDOW_MS = 15 * 60 * 1000
/** The random instance label of one window: 8 bytes as 16 lowercase hex characters. */
export const LABEL_BYTES = 8
export const LABEL_PATTERN_HEX = /^[0-9a-f]{16}$/
/** Protocol versions a TXT `v` may name: the wire version range (wire.md §2.1). */
export const MIN_PROTOCOL_VERSION = 1
export const MAX_PROTOCOL_VERSION = 63

// ---- tuning ----

/** Announcements sent at start and after an interface change (RFC 6762 §8.3 allows 2..8). */
export const ANNOUNCE_COUNT = 3
/** We believe no TTL over 3 hours: a peer cannot pin stale addresses in our cache for longer. */
export const MAX_ACCEPTED_TTL_S = 3 * 60 * 60
/** Bounds on what one LAN can make us remember. */
export const MAX_INSTANCES = 256
export const MAX_ADDRESSES_PER_HOST = 16
export const MAX_ADDRESSES_PER_PEER = 16
/** Unicast answers (QU, legacy) we send per second at most: they go to a spoofable source. */
export const UNICAST_ANSWERS_PER_SECOND = 20
/** How often os.networkInterfaces() is compared with the last look (RFC 6762 §8.3 re-announce). */
export const INTERFACE_POLL_MS = 5000
/** Asking for an incomplete instance's SRV/TXT/A: first after 250 ms (the rest may be on its
 * way in the next packet), then 1 s, doubling, at most 4 times. */
export const RESOLVE_FIRST_DELAY_MS = 250
export const RESOLVE_FIRST_RETRY_MS = 1000
export const RESOLVE_MAX_ATTEMPTS = 4
