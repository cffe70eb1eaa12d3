// One transfer as the daemon keeps it (proto-spec/files.md §5.1): what is persisted (encoded here
// into the opaque value the store seals), and how it is shown (`dmess files --json`, IPC files.list).
import { decode, encode } from '../store/codec.js'
import { errors } from '../errors.js'
import type { Direction, TransferState } from './state.js'

export interface Transfer {
  /** 32 hex digits: the 16-byte transfer id the sender chose */
  id: string
  direction: Direction
  peer: string
  name: string
  size: number
  mediaType: string
  root: Uint8Array
  chunkSize: number
  state: TransferState
  /** why it failed (a CANCEL reason's name, or a local error) */
  reason?: string
  createdAt: number
  updatedAt: number
  /** out: the file read from */
  source?: string
  /** in: the chunks durably held, as of the last sync (files.md §5.1) */
  bitmap?: Uint8Array
  /** in: where the finished file went */
  path?: string
  /** DATA bytes sent (out) or received (in, verified or not) over the transfer's life */
  chunkBytes: number
  /** in: chunks whose audit path did not lead to the root (dropped, asked again) */
  badChunks: number
  /** in: chunks that arrived again after they were held */
  duplicateChunks: number
}

export interface TransferJson {
  id: string
  direction: Direction
  peer: string
  name: string
  size: number
  mediaType: string
  root: string
  state: TransferState
  reason: string | null
  /** bytes held (in) or acknowledged as held by the peer (out: size when done) */
  bytesDone: number
  /** in: bytes synced to disk and recorded, what a crash leaves (files.md §5.1); out: bytesDone */
  savedBytes: number
  path: string | null
  source: string | null
  chunkBytesSent: number
  chunkBytesReceived: number
  badChunks: number
  duplicateChunks: number
  createdAt: string
  updatedAt: string
}

const STATES: readonly TransferState[] = ['offered', 'active', 'done', 'declined', 'cancelled', 'failed']

export function encodeTransfer (t: Transfer): Uint8Array {
  return encode({
    v: 1, i: t.id, d: t.direction === 'in' ? 0 : 1, p: t.peer, n: t.name, s: t.size, m: t.mediaType, r: t.root, c: t.chunkSize,
    st: STATES.indexOf(t.state), ...(t.reason === undefined ? {} : { why: t.reason }), ca: t.createdAt, ua: t.updatedAt,
    ...(t.source === undefined ? {} : { src: t.source }), ...(t.bitmap === undefined ? {} : { b: t.bitmap }),
    ...(t.path === undefined ? {} : { to: t.path }), cb: t.chunkBytes, bad: t.badChunks, dup: t.duplicateChunks
  })
}

export function decodeTransfer (bytes: Uint8Array): Transfer {
  const v = decode<Record<string, unknown>>(bytes, 'transfer')
  const state = STATES[v.st as number]
  const ok = v.v === 1 && typeof v.i === 'string' && typeof v.p === 'string' && typeof v.n === 'string' && typeof v.s === 'number' &&
    typeof v.m === 'string' && v.r instanceof Uint8Array && typeof v.c === 'number' && state !== undefined && typeof v.ca === 'number' && typeof v.ua === 'number'
  if (!ok) throw errors.STORE_CORRUPT('transfer: not a transfer record')
  const t: Transfer = {
    id: v.i as string, direction: v.d === 0 ? 'in' : 'out', peer: v.p as string, name: v.n as string, size: v.s as number,
    mediaType: v.m as string, root: new Uint8Array(v.r as Uint8Array), chunkSize: v.c as number, state: state as TransferState,
    createdAt: v.ca as number, updatedAt: v.ua as number, chunkBytes: Number(v.cb ?? 0), badChunks: Number(v.bad ?? 0), duplicateChunks: Number(v.dup ?? 0)
  }
  if (typeof v.why === 'string') t.reason = v.why
  if (typeof v.src === 'string') t.source = v.src
  if (v.b instanceof Uint8Array) t.bitmap = new Uint8Array(v.b)
  if (typeof v.to === 'string') t.path = v.to
  return t
}

export function transferJson (t: Transfer, bytesDone: number, savedBytes: number): TransferJson {
  return {
    id: t.id,
    direction: t.direction,
    peer: t.peer,
    name: t.name,
    size: t.size,
    mediaType: t.mediaType,
    root: Buffer.from(t.root).toString('hex'),
    state: t.state,
    reason: t.reason ?? null,
    bytesDone,
    savedBytes,
    path: t.path ?? null,
    source: t.source ?? null,
    chunkBytesSent: t.direction === 'out' ? t.chunkBytes : 0,
    chunkBytesReceived: t.direction === 'in' ? t.chunkBytes : 0,
    badChunks: t.badChunks,
    duplicateChunks: t.duplicateChunks,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString()
  }
}
