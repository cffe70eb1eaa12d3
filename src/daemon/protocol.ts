// The IPC wire format in one place (proto-spec/ipc.md): newline-delimited JSON-RPC 2.0 over the
// daemon's Unix socket, size limits, and the numeric error codes with their stable meanings.
// Like WireGuard's UAPI, a number means one thing forever: new failures get new numbers.
import { DmessError, isDmessError } from '../errors.js'

/** A request line longer than this is refused (ipc.md §Framing). Invites and names are far smaller. */
export const MAX_REQUEST_BYTES = 256 * 1024
/** The client accepts longer lines: results (contact lists, history pages) can be large. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024
/** Concurrent IPC connections the daemon serves; more get TOO_MANY_CONNECTIONS and are closed. */
export const MAX_CONNECTIONS = 64
/** Requests read but not yet answered on one connection (ipc.md §Limits). */
export const MAX_PENDING_PER_CONNECTION = 32
/** Bytes queued to a client that does not read (e.g. a stalled subscriber) before it is dropped. */
export const MAX_QUEUED_OUTPUT_BYTES = 4 * 1024 * 1024
/** sun_path is 108 bytes on Linux including the NUL; Node silently truncates longer paths. */
export const MAX_SOCKET_PATH_BYTES = 107

// JSON-RPC 2.0 §5.1 reserved codes
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  // server-defined range -32000..-32099 (JSON-RPC 2.0 §5.1)
  REQUEST_TOO_LARGE: -32000,
  TOO_MANY_CONNECTIONS: -32001,
  TOO_MANY_PENDING: -32002,
  SHUTTING_DOWN: -32003
} as const

/** A DmessError whose code has no number yet; `data.dmessCode` still names it. */
export const DMESS_ERROR_OTHER = 1

/** DmessError codes → stable numbers, grouped by subsystem with gaps (ipc.md §Error codes). */
export const DMESS_ERROR_NUMBERS: Readonly<Record<string, number>> = {
  // 100 keystore
  WRONG_PASSPHRASE: 101,
  KEYSTORE_CORRUPT: 102,
  KEYSTORE_TRUNCATED: 103,
  KEYSTORE_TOO_NEW: 104,
  KEYSTORE_MISSING: 105,
  KEYSTORE_EXISTS: 106,
  KEYSTORE_UNREADABLE: 107,
  // 200 identity and contacts
  NO_IDENTITY: 201,
  IDENTITY_EXISTS: 202,
  BAD_FINGERPRINT: 203,
  BAD_INVITE: 204,
  CONTACT_NOT_FOUND: 205,
  CONTACT_AMBIGUOUS: 206,
  CONTACT_EXISTS: 207,
  // 300 configuration and input
  BAD_CONFIG: 301,
  BAD_ARGUMENT: 302,
  NO_PASSPHRASE: 303,
  // 400 storage
  STORE_TOO_NEW: 401,
  STORE_LOCKED: 402,
  STORE_CORRUPT: 403,
  STORE_KEY_MISMATCH: 404,
  PREKEYS_CORRUPT: 405,
  // 500 crypto, wire and transport
  CRYPTO: 501,
  NOISE_UNSUPPORTED: 510,
  NOISE_MISSING_KEY: 511,
  NOISE_STATE: 512,
  NOISE_TOO_LARGE: 513,
  NOISE_BAD_MESSAGE: 514,
  NOISE_DECRYPT: 515,
  NOISE_NONCE_EXHAUSTED: 516,
  WIRE_ENCODE: 520,
  MESSAGE_TOO_LARGE: 530,
  CHANNEL_FAILED: 531,
  SESSION_CLOSED: 532,
  HANDSHAKE_TIMEOUT: 540,
  HANDSHAKE_FAILED: 541,
  FINGERPRINT_MISMATCH: 542,
  ENDPOINT_CLOSED: 543,
  ABORTED: 544,
  RELAY_REFUSED: 550,
  RELAY_TIMEOUT: 551,
  RELAY_FAILED: 552,
  // PQXDH session start (pqxdh.md §7)
  PQXDH_MALFORMED: 560,
  PQXDH_BAD_IDENTITY: 561,
  PQXDH_WRONG_IDENTITY: 562,
  PQXDH_BAD_SPK_SIGNATURE: 563,
  PQXDH_BAD_PQSPK_SIGNATURE: 564,
  PQXDH_BAD_KEY: 565,
  PQXDH_STALE_PREKEY: 566,
  PQXDH_UNKNOWN_PREKEY: 567,
  PQXDH_REPLAY: 568,
  PQXDH_PREKEY_FULL: 569,
  // 600 daemon and IPC
  DAEMON_NOT_RUNNING: 601,
  DAEMON_RUNNING: 602,
  DAEMON_FAILED: 603,
  IPC: 604,
  NOT_A_TERMINAL: 605,
  // 700 messaging, discovery and the DHT
  WAIT_TIMEOUT: 701,
  REQUEST_NOT_FOUND: 702,
  NO_BUNDLE: 703,
  MDNS_UNAVAILABLE: 710,
  DHT_NOT_FOUND: 720
}

export type RequestId = string | number | null

export interface RpcRequest {
  jsonrpc: '2.0'
  method: string
  params?: Record<string, unknown>
  /** absent: a notification, which gets no response (JSON-RPC 2.0 §4.1) */
  id?: RequestId
}

export interface RpcErrorObject {
  code: number
  message: string
  data?: { dmessCode?: string, exitCode?: number }
}

export type RpcResponse =
  | { jsonrpc: '2.0', id: RequestId, result: unknown }
  | { jsonrpc: '2.0', id: RequestId, error: RpcErrorObject }

export interface RpcNotification { jsonrpc: '2.0', method: string, params: Record<string, unknown> }

/** A protocol-level failure (bad JSON, unknown method, bad params) with its JSON-RPC code. */
export class RpcError extends Error {
  constructor (readonly code: number, message: string) {
    super(message)
    this.name = 'RpcError'
  }
}

export const invalidParams = (message: string): RpcError => new RpcError(RPC.INVALID_PARAMS, message)

/** The wire form of any error a method raised. Unknown errors reveal nothing but "internal error". */
export function errorObject (err: unknown): RpcErrorObject {
  if (err instanceof RpcError) return { code: err.code, message: err.message }
  if (isDmessError(err)) {
    const data: RpcErrorObject['data'] = { dmessCode: err.code }
    if (err.exitCode !== 1) data.exitCode = err.exitCode
    return { code: DMESS_ERROR_NUMBERS[err.code] ?? DMESS_ERROR_OTHER, message: err.message, data }
  }
  return { code: RPC.INTERNAL_ERROR, message: 'internal error in the daemon (see its log)' }
}

/** The client side: the same DmessError the daemon raised, so the CLI prints the same line. */
export function errorFromObject (e: RpcErrorObject): DmessError {
  const dmessCode = e.data?.dmessCode
  if (typeof dmessCode === 'string' && /^[A-Z][A-Z0-9_]*$/.test(dmessCode)) {
    return new DmessError(dmessCode, e.message, e.data?.exitCode ?? 1)
  }
  return new DmessError('IPC', `daemon: ${e.message} (code ${e.code})`)
}

export function encodeLine (msg: RpcResponse | RpcNotification | RpcRequest): string {
  return JSON.stringify(msg) + '\n'
}

export type ParsedLine =
  | { ok: true, request: RpcRequest }
  | { ok: false, id: RequestId, error: RpcErrorObject }

const isId = (v: unknown): v is RequestId => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))

/** Validates one request line (JSON-RPC 2.0 §4). Never throws: a bad line becomes an error answer. */
export function parseRequest (line: string): ParsedLine {
  let doc: unknown
  try {
    doc = JSON.parse(line)
  } catch {
    return { ok: false, id: null, error: { code: RPC.PARSE_ERROR, message: 'parse error: not valid JSON' } }
  }
  const bad = (message: string, id: RequestId = null): ParsedLine => ({ ok: false, id, error: { code: RPC.INVALID_REQUEST, message } })
  if (Array.isArray(doc)) return bad('batch requests are not supported')
  if (typeof doc !== 'object' || doc === null) return bad('a request must be a JSON object')
  const r = doc as Record<string, unknown>
  const id = isId(r.id) ? r.id : null
  if (r.id !== undefined && !isId(r.id)) return bad('id must be a string, a number or null')
  if (r.jsonrpc !== '2.0') return bad('jsonrpc must be "2.0"', id)
  if (typeof r.method !== 'string' || r.method.length === 0) return bad('method must be a non-empty string', id)
  if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null || Array.isArray(r.params))) {
    return { ok: false, id, error: { code: RPC.INVALID_PARAMS, message: 'params must be an object (by-name parameters)' } }
  }
  const request: RpcRequest = { jsonrpc: '2.0', method: r.method }
  if (r.params !== undefined) request.params = r.params as Record<string, unknown>
  if ('id' in r) request.id = id
  return { ok: true, request }
}

/**
 * Splits a byte stream into lines with a length cap (ipc.md §Framing). A line over the cap is
 * reported once and skipped up to its newline, so the connection stays usable.
 */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  private discarding = false

  constructor (private readonly maxBytes: number, private readonly onLine: (line: string) => void, private readonly onOversize: () => void) {}

  push (chunk: Buffer): void {
    let start = 0
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start)
      const end = nl === -1 ? chunk.length : nl
      this.take(chunk.subarray(start, end))
      if (nl === -1) return
      this.finishLine()
      start = nl + 1
    }
  }

  private take (piece: Buffer): void {
    if (this.discarding || piece.length === 0) return
    this.size += piece.length
    if (this.size > this.maxBytes) {
      this.parts = []
      this.size = 0
      this.discarding = true
      this.onOversize()
      return
    }
    this.parts.push(piece)
  }

  private finishLine (): void {
    const wasDiscarding = this.discarding
    const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '')
    this.parts = []
    this.size = 0
    this.discarding = false
    if (!wasDiscarding && line.trim().length > 0) this.onLine(line)
  }
}
