// DHT RPC codec (dht.md §3): one datagram per message, marker and type as in wire.md §4.7, then
// txid, flags and the sender's DHT public key, then the type's body. Decoders are strict (exact
// lengths, no trailing bytes, reserved bits zero) and return null instead of throwing (dht.md §3.7).
import { VERSION_MARKER, WIRE_VERSION } from '../wire/constants.js'
import { parseAddress, type ParsedAddress } from '../io/address.js'
import { readAddress, writeAddress, addressBytes, addressTextBytes, writeAddressText, ADDRESS_V4_BYTES, ADDRESS_V6_BYTES } from './address-codec.js'
import * as constants from './constants.js'
import { internContact } from './intern.js'
import { errors } from '../errors.js'

// Copied out of the module namespace once: the codec runs per datagram, and some loaders (tsx)
// turn every read of an imported binding into a getter call.
const {
  DhtType, MESSAGE_HEADER_BYTES, TXID_BYTES, DHT_PUBLIC_KEY_BYTES, ID_BYTES, TOKEN_BYTES, MAX_CONTACTS,
  MAX_MESSAGE_BYTES, FLAG_READ_ONLY, FIND_VALUE_HAS_SEQ, FIND_VALUE_HAS_PERIOD_KEY, FIND_VALUE_HAS_START,
  ValueStatus, StoreStatus, RECORD_MAX_BYTES, MAX_VALUE_RECORDS, PERIOD_KEY_BYTES
} = constants
type StoreStatus = constants.StoreStatus
const MARKER = VERSION_MARKER | WIRE_VERSION

export interface NodeInfo { id: Uint8Array, addr: string }

export interface Header {
  /** Random per request; the response echoes it (dht.md §3.1). */
  txid: number
  readOnly: boolean
  /** The sender's DHT public key; its node id is nodeIdOf(senderKey). */
  senderKey: Uint8Array
}

export type Body =
  | { type: typeof DhtType.PING }
  | { type: typeof DhtType.PONG, observed: string }
  | { type: typeof DhtType.FIND_NODE, target: Uint8Array }
  | { type: typeof DhtType.NODES, nodes: NodeInfo[] }
  | FindValueBody
  | { type: typeof DhtType.VALUE, token: Uint8Array, status: typeof ValueStatus.NONE, nodes: NodeInfo[] }
  | RecordsBody
  | { type: typeof DhtType.VALUE, token: Uint8Array, status: typeof ValueStatus.NOT_NEWER, seq: number, nodes: NodeInfo[] }
  | { type: typeof DhtType.STORE, key: Uint8Array, token: Uint8Array, record: Uint8Array }
  | { type: typeof DhtType.STORED, status: StoreStatus }

/**
 * FIND_VALUE (dht.md §3.4). `periodKey` narrows the question to the record under that period key
 * (a publisher's announce: other writers' records under the key are not its business); `start`
 * asks for the records from that index on (the follow-up when one VALUE could not carry them all).
 */
export interface FindValueBody {
  type: typeof DhtType.FIND_VALUE
  key: Uint8Array
  haveSeq: number | null
  periodKey?: Uint8Array | null
  start?: number
}

/** VALUE RECORDS (dht.md §3.5): records `start` .. `start + records.length - 1` of the `total` the answer selects. */
export interface RecordsBody {
  type: typeof DhtType.VALUE
  token: Uint8Array
  status: typeof ValueStatus.RECORDS
  total: number
  start: number
  records: Uint8Array[]
}

export type DhtMessage = Header & Body

export function isRequest (type: number): boolean {
  return type === DhtType.PING || type === DhtType.FIND_NODE || type === DhtType.FIND_VALUE || type === DhtType.STORE
}

// ---- encoding (local misuse throws WIRE_ENCODE) ----

function checkNodes (nodes: NodeInfo[]): void {
  if (nodes.length > MAX_CONTACTS) throw errors.WIRE_ENCODE(`at most ${MAX_CONTACTS} contacts per answer, got ${nodes.length}`)
}

function nodesSize (nodes: NodeInfo[]): number {
  checkNodes(nodes)
  let size = 1
  for (const n of nodes) size += ID_BYTES + addressTextBytes(n.addr)
  return size
}

function bodySize (m: Body): number {
  switch (m.type) {
    case DhtType.PING: return 0
    case DhtType.PONG: return addressBytes(mustParse(m.observed))
    case DhtType.FIND_NODE: return ID_BYTES
    case DhtType.NODES: return nodesSize(m.nodes)
    case DhtType.FIND_VALUE:
      return ID_BYTES + 1 + (m.haveSeq === null ? 0 : 8) + (m.periodKey == null ? 0 : PERIOD_KEY_BYTES) + (m.start === undefined ? 0 : 1)
    case DhtType.VALUE:
      if (m.status === ValueStatus.RECORDS) return TOKEN_BYTES + 1 + 3 + m.records.reduce((n, r) => n + 2 + r.length, 0)
      return TOKEN_BYTES + 1 + (m.status === ValueStatus.NOT_NEWER ? 8 : 0) + nodesSize(m.nodes)
    case DhtType.STORE: return ID_BYTES + TOKEN_BYTES + 2 + m.record.length
    case DhtType.STORED: return 1
  }
}

function mustParse (addr: string): ParsedAddress {
  const p = parseAddress(addr)
  if (!p) throw errors.WIRE_ENCODE(`expected a canonical IP:port, got ${addr}`)
  return p
}

function put (out: Uint8Array, off: number, bytes: Uint8Array, len: number, what: string): number {
  if (bytes.length !== len) throw errors.WIRE_ENCODE(`${what}: expected ${len} bytes, got ${bytes.length}`)
  out.set(bytes, off)
  return off + len
}

function putNodes (out: Uint8Array, view: DataView, off: number, nodes: NodeInfo[]): number {
  out[off++] = nodes.length
  for (const n of nodes) {
    if (n.id.length !== ID_BYTES) throw errors.WIRE_ENCODE(`contact id: expected ${ID_BYTES} bytes, got ${n.id.length}`)
    out.set(n.id, off)
    off = writeAddressText(view, out, off + ID_BYTES, n.addr)
    if (off < 0) throw errors.WIRE_ENCODE(`contact address: expected a canonical IP:port, got ${n.addr}`)
  }
  return off
}

function putRecord (out: Uint8Array, view: DataView, off: number, record: Uint8Array): number {
  if (record.length > RECORD_MAX_BYTES) throw errors.WIRE_ENCODE(`record: at most ${RECORD_MAX_BYTES} bytes, got ${record.length}`)
  view.setUint16(off, record.length)
  out.set(record, off + 2)
  return off + 2 + record.length
}

function putSeq (view: DataView, off: number, seq: number): number {
  if (!Number.isSafeInteger(seq) || seq < 0) throw errors.WIRE_ENCODE(`seq: expected a safe unsigned integer, got ${seq}`)
  view.setBigUint64(off, BigInt(seq))
  return off + 8
}

function putFindValue (out: Uint8Array, view: DataView, off: number, m: FindValueBody): number {
  off = put(out, off, m.key, ID_BYTES, 'key')
  const hasPeriodKey = m.periodKey !== undefined && m.periodKey !== null
  out[off++] = (m.haveSeq === null ? 0 : FIND_VALUE_HAS_SEQ) | (hasPeriodKey ? FIND_VALUE_HAS_PERIOD_KEY : 0) |
    (m.start === undefined ? 0 : FIND_VALUE_HAS_START)
  if (m.haveSeq !== null) off = putSeq(view, off, m.haveSeq)
  if (hasPeriodKey) off = put(out, off, m.periodKey!, PERIOD_KEY_BYTES, 'period key')
  if (m.start === undefined) return off
  if (!Number.isInteger(m.start) || m.start < 0 || m.start > 0xff) throw errors.WIRE_ENCODE(`start: expected a u8, got ${m.start}`)
  out[off] = m.start
  return off + 1
}

function putRecords (out: Uint8Array, view: DataView, off: number, m: RecordsBody): number {
  const n = m.records.length
  if (n < 1 || n > MAX_VALUE_RECORDS) throw errors.WIRE_ENCODE(`VALUE: 1 to ${MAX_VALUE_RECORDS} records, got ${n}`)
  if (!Number.isInteger(m.start) || !Number.isInteger(m.total) || m.start < 0 || m.total > 0xff || m.start + n > m.total) {
    throw errors.WIRE_ENCODE(`VALUE: records ${m.start}..${m.start + n - 1} of ${m.total} do not fit a u8 count`)
  }
  out[off++] = m.total
  out[off++] = m.start
  out[off++] = n
  for (const r of m.records) off = putRecord(out, view, off, r)
  return off
}

function putBody (out: Uint8Array, view: DataView, off: number, m: Body): number {
  switch (m.type) {
    case DhtType.PING: return off
    case DhtType.PONG: return writeAddress(view, out, off, mustParse(m.observed))
    case DhtType.FIND_NODE: return put(out, off, m.target, ID_BYTES, 'target')
    case DhtType.NODES: return putNodes(out, view, off, m.nodes)
    case DhtType.FIND_VALUE: return putFindValue(out, view, off, m)
    case DhtType.VALUE:
      off = put(out, off, m.token, TOKEN_BYTES, 'token')
      out[off++] = m.status
      if (m.status === ValueStatus.RECORDS) return putRecords(out, view, off, m)
      if (m.status === ValueStatus.NOT_NEWER) off = putSeq(view, off, m.seq)
      return putNodes(out, view, off, m.nodes)
    case DhtType.STORE:
      off = put(out, off, m.key, ID_BYTES, 'key')
      off = put(out, off, m.token, TOKEN_BYTES, 'token')
      return putRecord(out, view, off, m.record)
    case DhtType.STORED:
      out[off] = m.status
      return off + 1
  }
}

/** One datagram for `m`. Throws WIRE_ENCODE on local misuse (wrong sizes, too many contacts). */
export function encodeMessage (m: DhtMessage): Uint8Array {
  return encodeParts(m, m)
}

/** encodeMessage with the header apart from the body (saves building one object per datagram). */
export function encodeParts (h: Header, m: Body): Uint8Array {
  const total = MESSAGE_HEADER_BYTES + bodySize(m)
  if (total > MAX_MESSAGE_BYTES) throw errors.WIRE_ENCODE(`DHT message of ${total} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  if (!Number.isInteger(h.txid) || h.txid < 0 || h.txid > 0xffffffff) throw errors.WIRE_ENCODE(`txid must be a u32, got ${h.txid}`)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out[0] = MARKER
  out[1] = m.type
  view.setUint32(2, h.txid)
  out[2 + TXID_BYTES] = h.readOnly ? FLAG_READ_ONLY : 0
  put(out, 3 + TXID_BYTES, h.senderKey, DHT_PUBLIC_KEY_BYTES, 'sender key')
  const end = putBody(out, view, MESSAGE_HEADER_BYTES, m)
  if (end !== total) throw errors.WIRE_ENCODE(`DHT encoder size mismatch: ${end} != ${total}`)
  return out
}

// ---- decoding (network input: null, never a throw) ----

class Reader {
  off: number
  readonly view: DataView
  constructor (readonly buf: Uint8Array, off: number) {
    this.off = off
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get left (): number { return this.buf.length - this.off }

  bytes (n: number): Uint8Array | null {
    if (this.left < n) return null
    const b = this.buf.slice(this.off, this.off + n)
    this.off += n
    return b
  }

  u8 (): number | null {
    return this.left < 1 ? null : this.buf[this.off++]!
  }

  seq (): number | null {
    if (this.left < 8) return null
    const v = this.view.getBigUint64(this.off)
    this.off += 8
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v)
  }

  address (): string | null {
    const a = readAddress(this.view, this.buf, this.off)
    if (!a) return null
    this.off = a.off
    return a.addr
  }

  // Contacts are interned by their wire bytes (intern.ts): the same few thousand recur in every answer.
  nodes (): NodeInfo[] | null {
    const count = this.u8()
    if (count === null || count > MAX_CONTACTS) return null
    const text = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
    const nodes: NodeInfo[] = []
    for (let i = 0; i < count; i++) {
      const family = this.buf[this.off + ID_BYTES]
      const size = ID_BYTES + (family === 4 ? ADDRESS_V4_BYTES : ADDRESS_V6_BYTES)
      if (this.left < size) return null
      const at = this.off
      const c = internContact(text, at, size, () => {
        const a = readAddress(this.view, this.buf, at + ID_BYTES)
        return a && a.off === at + size ? { id: this.buf.slice(at, at + ID_BYTES), addr: a.addr } : null
      })
      if (c === null) return null
      this.off = at + size
      nodes.push(c)
    }
    return nodes
  }

  record (): Uint8Array | null {
    if (this.left < 2) return null
    const len = this.view.getUint16(this.off)
    this.off += 2
    return len > RECORD_MAX_BYTES ? null : this.bytes(len)
  }
}

function decodeValue (r: Reader): Body | null {
  const token = r.bytes(TOKEN_BYTES)
  const status = r.u8()
  if (!token || status === null) return null
  if (status === ValueStatus.RECORDS) return decodeRecords(r, token)
  if (status === ValueStatus.NONE) {
    const nodes = r.nodes()
    return nodes && { type: DhtType.VALUE, token, status, nodes }
  }
  if (status !== ValueStatus.NOT_NEWER) return null
  const seq = r.seq()
  const nodes = seq === null ? null : r.nodes()
  return nodes && { type: DhtType.VALUE, token, status, seq: seq!, nodes }
}

function decodeRecords (r: Reader, token: Uint8Array): Body | null {
  const total = r.u8()
  const start = r.u8()
  const n = r.u8()
  if (total === null || start === null || n === null || n < 1 || n > MAX_VALUE_RECORDS || start + n > total) return null
  const records: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const record = r.record()
    if (record === null) return null
    records.push(record)
  }
  return { type: DhtType.VALUE, token, status: ValueStatus.RECORDS, total, start, records }
}

const FIND_VALUE_FLAGS = FIND_VALUE_HAS_SEQ | FIND_VALUE_HAS_PERIOD_KEY | FIND_VALUE_HAS_START

function decodeFindValue (r: Reader): Body | null {
  const key = r.bytes(ID_BYTES)
  const flags = r.u8()
  if (!key || flags === null || (flags & ~FIND_VALUE_FLAGS) !== 0) return null
  const m: FindValueBody = { type: DhtType.FIND_VALUE, key, haveSeq: null }
  if ((flags & FIND_VALUE_HAS_SEQ) !== 0) {
    m.haveSeq = r.seq()
    if (m.haveSeq === null) return null
  }
  if ((flags & FIND_VALUE_HAS_PERIOD_KEY) !== 0) {
    m.periodKey = r.bytes(PERIOD_KEY_BYTES)
    if (m.periodKey === null) return null
  }
  if ((flags & FIND_VALUE_HAS_START) !== 0) {
    const start = r.u8()
    if (start === null) return null
    m.start = start
  }
  return m
}

function decodeBody (type: number, r: Reader): Body | null {
  switch (type) {
    case DhtType.PING: return { type }
    case DhtType.PONG: {
      const observed = r.address()
      return observed === null ? null : { type, observed }
    }
    case DhtType.FIND_NODE: {
      const target = r.bytes(ID_BYTES)
      return target && { type, target }
    }
    case DhtType.NODES: {
      const nodes = r.nodes()
      return nodes && { type, nodes }
    }
    case DhtType.FIND_VALUE: return decodeFindValue(r)
    case DhtType.VALUE: return decodeValue(r)
    case DhtType.STORE: {
      const key = r.bytes(ID_BYTES)
      const token = key && r.bytes(TOKEN_BYTES)
      const record = token && r.record()
      return key && token && record ? { type, key, token, record } : null
    }
    case DhtType.STORED: {
      const status = r.u8()
      return status === null || status > StoreStatus.FULL ? null : { type, status: status as StoreStatus }
    }
    default: return null
  }
}

/**
 * Decodes one datagram: null when it is not exactly one well-formed DHT message of version 1
 * (wrong marker, unknown type, oversize, truncated, trailing bytes, reserved bits set).
 */
export function decodeMessage (buf: Uint8Array): DhtMessage | null {
  if (!(buf instanceof Uint8Array) || buf.length < MESSAGE_HEADER_BYTES || buf.length > MAX_MESSAGE_BYTES) return null
  if (buf[0] !== MARKER) return null
  const flags = buf[2 + TXID_BYTES]!
  if ((flags & ~FLAG_READ_ONLY) !== 0) return null
  const r = new Reader(buf, 2)
  const txid = r.view.getUint32(2)
  r.off = 3 + TXID_BYTES
  const senderKey = r.bytes(DHT_PUBLIC_KEY_BYTES)!
  const body = decodeBody(buf[1]!, r)
  if (body === null || r.left !== 0) return null
  const msg = body as DhtMessage // header fields set in place: no copy per datagram
  msg.txid = txid
  msg.readOnly = flags === FLAG_READ_ONLY
  msg.senderKey = senderKey
  return msg
}
