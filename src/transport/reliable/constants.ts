// Reliable channel constants — proto-spec/reliable.md. Wire layout first (only codec.ts reads
// offsets), then values taken from RFCs, then tuning defaults that are ours to change.

// ---- wire (proto-spec/reliable.md §2) ----
export const PACKET_NUMBER_BYTES = 6 // u48, never reused (RFC 9000 §12.3)
export const PACKET_HEADER_BYTES = PACKET_NUMBER_BYTES
export const MAX_U48 = 2 ** 48 - 1
export const MAX_U32 = 2 ** 32 - 1

export const FrameType = {
  PADDING: 0x00,
  DATA: 0x01,
  ACK: 0x02,
  BLOCKED: 0x03,
  PING: 0x04
} as const

// DATA: type u8 | offset u48 | length u16 | payload
export const DATA_HEADER_BYTES = 1 + 6 + 2
export const MAX_DATA_PAYLOAD_BYTES = 0xffff
// ACK: type u8 | ack_delay_us u32 | cum_offset u48 | max_offset u48 | largest u48 |
//      range_count u8 | first_range_len u32 | (gap u32, len u32) × (range_count − 1)
export const ACK_FIXED_BYTES = 1 + 4 + 6 + 6 + 6 + 1 + 4
export const ACK_RANGE_BYTES = 8
export const MAX_ACK_RANGES = 32
// BLOCKED: type u8 | limit u48 (RFC 9000 §19.12 DATA_BLOCKED)
export const BLOCKED_BYTES = 1 + 6
export const PING_BYTES = 1

// In-stream message framing: u32 big-endian length, then the message (proto-spec §3).
export const MESSAGE_HEADER_BYTES = 4

// ---- from the RFCs ----
export const RTT_ALPHA = 1 / 8 // RFC 6298 §2.3
export const RTT_BETA = 1 / 4 // RFC 6298 §2.3
export const RTO_K = 4 // RFC 6298 §2.3
export const CLOCK_GRANULARITY_MS = 1 // RFC 6298 "G"; RFC 9002 kGranularity
export const INITIAL_RTO_MS = 1000 // RFC 6298 §2.1
export const PACKET_THRESHOLD = 3 // RFC 9002 §6.1.1 kPacketThreshold; RFC 6675 DupThresh
export const TIME_THRESHOLD = 9 / 8 // RFC 9002 §6.1.2 kTimeThreshold
export const LOSS_REDUCTION_FACTOR = 0.5 // RFC 9002 §7.3.2; RFC 5681 §3.1 eq. (4)
export const INITIAL_WINDOW_PACKETS = 10 // RFC 9002 §7.2, RFC 6928
export const INITIAL_WINDOW_BYTES_CAP = 14720 // RFC 9002 §7.2
export const MINIMUM_WINDOW_PACKETS = 2 // RFC 9002 §7.2 kMinimumWindow
export const LOSS_WINDOW_PACKETS = 1 // RFC 5681 §3.1 LW after a retransmission timeout

// ---- tuning defaults ----
export const DEFAULT_MTU = 1200 // plaintext bytes per datagram; leaves room for encryption under a 1280 path MTU
export const MIN_MTU = 512 // fits a header, a full ACK (MAX_ACK_RANGES) and a DATA frame with payload
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
export const DEFAULT_SEND_BUFFER_BYTES = 8 * 1024 * 1024
export const DEFAULT_RECV_WINDOW_BYTES = 1024 * 1024
export const DEFAULT_MIN_RTO_MS = 200 // below RFC 6298 §2.4's 1 s, as Linux and RFC 8961 allow
export const DEFAULT_MAX_RTO_MS = 60_000 // RFC 6298 §2.5: a cap of at least 60 s
export const DEFAULT_MAX_ACK_DELAY_MS = 10
export const DEFAULT_ACK_EVERY_PACKETS = 2 // RFC 5681 §4.2, RFC 9000 §13.2.2
export const DEFAULT_MAX_CWND_BYTES = 16 * 1024 * 1024
export const RECEIVED_PN_RANGES_KEPT = 64 // receiver memory for packet-number ranges
export const ACK_REPORTS_PER_RANGE = 8 // a pn range is repeated in this many ACKs, then retired
// Until the peer's first ACK says otherwise, assume it accepts this much (RFC 9293 §3.8.6-style
// conservative start); every receive window must be at least this large.
export const INITIAL_PEER_WINDOW_BYTES = 64 * 1024
// Longest wait between flow-control probes while the peer's window is closed (RFC 9293 §3.8.6.1).
export const MAX_PERSIST_INTERVAL_MS = 5_000

// ---- path MTU discovery (proto-spec/reliable.md §15, RFC 8899) ----
// RFC 8899 §5.1.2 MAX_PROBES: consecutive failed probes of one size before it counts as too big.
export const PMTU_MAX_PROBES = 3
// RFC 8899 §5.1.1 PROBE_TIMER "MUST NOT be smaller than 1 second" without better knowledge; ours
// is max(this, 2 RTO): a probe not acknowledged by then is lost.
export const PMTU_PROBE_TIMER_MIN_MS = 1000
// RFC 8899 §5.1.1 PMTU_RAISE_TIMER: how long a completed search below the ceiling rests.
export const PMTU_RAISE_TIMER_MS = 600_000
// Stop searching when the confirmed size is within this of the smallest size known to fail.
export const PMTU_SEARCH_GRANULARITY = 64
// Retransmission timeouts in a row, with a confirmed size above the base, that count as a black hole.
export const PMTU_BLACK_HOLE_RTOS = 2
