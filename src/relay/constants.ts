// Numbers of the blind relay (proto-spec/relay.md): message types inside the relay's range of
// wire.md §2.2, fixed sizes, and the relay's default caps. Spec constants first, tuning after.

/** Byte 1 of a relay control message (relay.md §3), inside RELAY_TYPE_FIRST..LAST of src/wire/constants.ts. */
export const RelayType = {
  ALLOCATE: 0x50, // client → the relay's main port
  ALLOCATE_CHALLENGE: 0x51, // relay → client
  ALLOCATE_OK: 0x52,
  ALLOCATE_REFUSED: 0x53,
  BIND: 0x54, // client → an allocation port
  BIND_CHALLENGE: 0x55, // allocation port → client
  BOUND: 0x56,
  RELEASE: 0x57 // client → an allocation port
  // 0x58–0x5f: reserved
} as const
export type RelayType = typeof RelayType[keyof typeof RelayType]

export const REQUEST_ID_BYTES = 8
export const ALLOCATION_ID_BYTES = 8
export const RELAY_COOKIE_BYTES = 16
export const BIND_KEY_BYTES = 32
export const PAIR_SECRET_BYTES = 32
export const PROOF_BYTES = 32
/** ALLOCATE and BIND are padded to this, so no answer is larger than the request (relay.md §6). */
export const RELAY_REQUEST_BYTES = 96

/** ALLOCATE_REFUSED reasons (relay.md §3.4); a client skips a relay that refused. */
export const RefuseReason = {
  NETWORK_CAP: 1, // too many allocations from the asker's /24 or /64
  TOTAL_CAP: 2, // the relay holds as many allocations as it will
  UNAVAILABLE: 3 // the relay could not open ports
} as const
export type RefuseReason = typeof RefuseReason[keyof typeof RefuseReason]

/** BOUND states (relay.md §3.7). */
export const BoundState = { WAITING: 0, FORWARDING: 1 } as const
export type BoundState = typeof BoundState[keyof typeof BoundState]

// ---- tuning: the relay's caps (relay.md §5) ----

export interface RelayLimits {
  /** allocations at once from one source network (src/io/address.ts networkKeyOf) */
  perNetwork: number
  /** allocations at once on this relay */
  total: number
  /** bytes per second one allocation may forward (both directions), and its burst */
  allocationBytesPerS: number
  allocationBurstBytes: number
  /** bytes per second the relay forwards in all, and its burst */
  totalBytesPerS: number
  totalBurstBytes: number
  /** an allocation both sides have not bound within this is closed */
  bindTimeoutMs: number
  /** an allocation with no BIND refresh and nothing forwarded for this long is closed */
  idleTimeoutMs: number
}

export const RELAY_DEFAULTS: RelayLimits = {
  perNetwork: 8,
  total: 256,
  allocationBytesPerS: 256 * 1024,
  allocationBurstBytes: 512 * 1024,
  totalBytesPerS: 8 * 1024 * 1024,
  totalBurstBytes: 16 * 1024 * 1024,
  bindTimeoutMs: 30_000,
  idleTimeoutMs: 60_000
}

/** Cookie challenges one source IP gets per second (and burst), at most 8,192 IPs tracked at once. */
export const CHALLENGE_LIMIT = { ratePerS: 20, burst: 40, maxKeys: 8192 }

/** How long a client waits for an answer before sending a request again, and how often. */
export const RELAY_RETRY_MS = 250
export const RELAY_REQUEST_TIMEOUT_MS = 5_000
/** A bound client re-BINDs this often: keeps the NAT mapping and the allocation alive. */
export const RELAY_REFRESH_MS = 15_000
