// The outbox entry's payload (local, proto-spec/messaging.md §4.1; sealed at rest by the store):
// what to send, not yet sealed, so an entry written before the recipient's keys were known can
// be sealed once they are, and every attempt is a fresh HPKE encryption of the same id and
// timestamp (receivers de-duplicate on the id). An entry sealed as envelope v2 keeps that
// envelope and its session (`sealed`), written in the batch that advanced the ratchet: a retry
// sends those same bytes, never a new encryption under a used message key (envelope.md §8.4).
import { Packr } from 'msgpackr'
import { decodePayload, encodePayload, isPayloadType, type PayloadOf, type TypedPayload } from '../wire/payloads.js'
import type { PayloadType } from '../wire/constants.js'
import type { AckKind } from './outbox-scheduler.js'

export interface OutboxPayload {
  /** the envelope's payload, typed */
  payload: TypedPayload
  /** the envelope's timestamp (sender's clock when the user sent it) */
  timestamp: number
  ack: AckKind
  /** the v2 envelope sealed for it and the base (hex) of the session that sealed it */
  sealed?: { bytes: Uint8Array, base: string }
}

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

/** `body`, when given, is encodePayload(type, payload) already made by the caller. */
export function encodeOutboxPayload<T extends PayloadType> (type: T, payload: PayloadOf<T>, timestamp: number, ack: AckKind, sealed?: OutboxPayload['sealed'], body?: Uint8Array): Uint8Array {
  return packr.pack({ t: type, b: body ?? encodePayload(type, payload), s: timestamp, a: ack === 'receipt' ? 'r' : 't', ...(sealed === undefined ? {} : { e: sealed.bytes, k: sealed.base }) })
}

/** Null when the bytes are not an entry this version wrote (the entry is then dropped and counted). */
export function decodeOutboxPayload (bytes: Uint8Array): OutboxPayload | null {
  let v: { t?: unknown, b?: unknown, s?: unknown, a?: unknown, e?: unknown, k?: unknown }
  try {
    v = packr.unpack(bytes) as typeof v
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || typeof v.t !== 'number' || !isPayloadType(v.t) || !(v.b instanceof Uint8Array)) return null
  if (typeof v.s !== 'number' || (v.a !== 'r' && v.a !== 't')) return null
  const p = decodePayload(v.t, v.b)
  if (!p.ok) return null
  const { ok: _ok, ...typed } = p
  const sealed = v.e instanceof Uint8Array && typeof v.k === 'string' ? { sealed: { bytes: v.e, base: v.k } } : {}
  return { payload: typed as TypedPayload, timestamp: v.s, ack: v.a === 'r' ? 'receipt' : 'transport', ...sealed }
}
