// One error class for local failures, with a stable `code` per failure and a factory per code.
// Packets from the network never throw: decoders return null and callers count drops (proto-spec/wire.md §5).
// The CLI prints `message` on one line and exits non-zero; it never shows a stack for a DmessError.

export class DmessError extends Error {
  readonly code: string
  readonly exitCode: number

  constructor (code: string, message: string, exitCode = 1) {
    super(message)
    this.name = 'DmessError'
    this.code = code
    this.exitCode = exitCode
  }
}

export function isDmessError (err: unknown): err is DmessError {
  return err instanceof DmessError
}

const make = (code: string) => (message: string) => new DmessError(code, message)

export const errors = {
  // keystore
  WRONG_PASSPHRASE: make('WRONG_PASSPHRASE'),
  KEYSTORE_CORRUPT: make('KEYSTORE_CORRUPT'),
  KEYSTORE_TRUNCATED: make('KEYSTORE_TRUNCATED'),
  KEYSTORE_TOO_NEW: make('KEYSTORE_TOO_NEW'),
  KEYSTORE_MISSING: make('KEYSTORE_MISSING'),
  // identity and contacts
  NO_IDENTITY: make('NO_IDENTITY'),
  IDENTITY_EXISTS: make('IDENTITY_EXISTS'),
  BAD_FINGERPRINT: make('BAD_FINGERPRINT'),
  BAD_INVITE: make('BAD_INVITE'),
  CONTACT_NOT_FOUND: make('CONTACT_NOT_FOUND'),
  CONTACT_AMBIGUOUS: make('CONTACT_AMBIGUOUS'),
  CONTACT_EXISTS: make('CONTACT_EXISTS'),
  // configuration and input
  BAD_CONFIG: make('BAD_CONFIG'),
  BAD_ARGUMENT: make('BAD_ARGUMENT'),
  NO_PASSPHRASE: make('NO_PASSPHRASE'),
  // storage
  STORE_TOO_NEW: make('STORE_TOO_NEW'),
  STORE_LOCKED: make('STORE_LOCKED'),
  // crypto misuse (local)
  CRYPTO: make('CRYPTO'),
  // Noise handshake and transport (src/crypto/noise/)
  NOISE_UNSUPPORTED: make('NOISE_UNSUPPORTED'),
  NOISE_MISSING_KEY: make('NOISE_MISSING_KEY'),
  NOISE_STATE: make('NOISE_STATE'),
  NOISE_TOO_LARGE: make('NOISE_TOO_LARGE'),
  NOISE_BAD_MESSAGE: make('NOISE_BAD_MESSAGE'),
  NOISE_DECRYPT: make('NOISE_DECRYPT'),
  NOISE_NONCE_EXHAUSTED: make('NOISE_NONCE_EXHAUSTED'),
  KEYSTORE_EXISTS: make('KEYSTORE_EXISTS'),
  KEYSTORE_UNREADABLE: make('KEYSTORE_UNREADABLE'),
  // wire: local attempt to encode something the wire format forbids (proto-spec/wire.md)
  WIRE_ENCODE: make('WIRE_ENCODE'),
  // storage: a record failed authentication or does not parse (proto-spec/storage.md)
  STORE_CORRUPT: make('STORE_CORRUPT'),
  // storage: the store key does not open this database's key-check record
  STORE_KEY_MISMATCH: make('STORE_KEY_MISMATCH'),
  // reliable channel: a message over the channel's maxMessageBytes (proto-spec/reliable.md)
  MESSAGE_TOO_LARGE: make('MESSAGE_TOO_LARGE'),
  // reliable channel: used after the peer broke the stream protocol
  CHANNEL_FAILED: make('CHANNEL_FAILED'),
  // daemon and its IPC socket (proto-spec/ipc.md)
  DAEMON_NOT_RUNNING: make('DAEMON_NOT_RUNNING'),
  DAEMON_RUNNING: make('DAEMON_RUNNING'),
  DAEMON_FAILED: make('DAEMON_FAILED'),
  IPC: make('IPC'),
  // LAN discovery: the mDNS socket cannot be opened (proto-spec/discovery.md)
  MDNS_UNAVAILABLE: make('MDNS_UNAVAILABLE'),
  // secure sessions (proto-spec/session.md): a connect gave up, the peer's proof or version failed,
  // the peer proved another fingerprint than the one asked for, the endpoint closed, the caller aborted
  HANDSHAKE_TIMEOUT: make('HANDSHAKE_TIMEOUT'),
  HANDSHAKE_FAILED: make('HANDSHAKE_FAILED'),
  FINGERPRINT_MISMATCH: make('FINGERPRINT_MISMATCH'),
  ENDPOINT_CLOSED: make('ENDPOINT_CLOSED'),
  ABORTED: make('ABORTED'),
  // reliable session: send/flushed on a session that closed first (unacknowledged data is lost)
  SESSION_CLOSED: make('SESSION_CLOSED'),
  // messaging (proto-spec/messaging.md): `send --wait` ran out of time; no such pending contact request
  WAIT_TIMEOUT: make('WAIT_TIMEOUT'),
  REQUEST_NOT_FOUND: make('REQUEST_NOT_FOUND'),
  // the peer answered a prekey request with PREKEY_NONE (messaging.md §2): it gives us no bundle
  NO_BUNDLE: make('NO_BUNDLE'),
  // terminal chat: `dmess chat` run without a TTY to draw on and read keys from
  NOT_A_TERMINAL: make('NOT_A_TERMINAL'),
  // DHT (proto-spec/dht.md §5): no live presence record for a fingerprint (`dmess dht lookup`)
  DHT_NOT_FOUND: make('DHT_NOT_FOUND'),
  // relays (proto-spec/relay.md)
  RELAY_REFUSED: make('RELAY_REFUSED'),
  RELAY_TIMEOUT: make('RELAY_TIMEOUT'),
  RELAY_FAILED: make('RELAY_FAILED'),
  // PQXDH session start (proto-spec/pqxdh.md §7): network input is answered with these as values,
  // never thrown; only local misuse and a damaged prekey file throw
  PQXDH_MALFORMED: make('PQXDH_MALFORMED'),
  PQXDH_BAD_IDENTITY: make('PQXDH_BAD_IDENTITY'),
  PQXDH_WRONG_IDENTITY: make('PQXDH_WRONG_IDENTITY'),
  PQXDH_BAD_SPK_SIGNATURE: make('PQXDH_BAD_SPK_SIGNATURE'),
  PQXDH_BAD_PQSPK_SIGNATURE: make('PQXDH_BAD_PQSPK_SIGNATURE'),
  PQXDH_BAD_KEY: make('PQXDH_BAD_KEY'),
  PQXDH_STALE_PREKEY: make('PQXDH_STALE_PREKEY'),
  PQXDH_UNKNOWN_PREKEY: make('PQXDH_UNKNOWN_PREKEY'),
  PQXDH_REPLAY: make('PQXDH_REPLAY'),
  PQXDH_PREKEY_FULL: make('PQXDH_PREKEY_FULL'),
  PREKEYS_CORRUPT: make('PREKEYS_CORRUPT')
} as const
