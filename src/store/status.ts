// Message status rules (proto-spec/storage.md §Status). Receipts can arrive late, twice or out
// of order over UDP, so a status only ever moves forward and a stale one is ignored.
import { errors } from '../errors.js'
import { checkFingerprint, checkId, checkTime } from './key-layout.js'
import type { MessageStatus, NewMessage } from './types.js'

const OUTBOUND_RANK: Record<MessageStatus, number> = {
  sending: 1, sent: 2, delivered: 3, read: 4, received: -1
}
const STATUSES = new Set<string>(Object.keys(OUTBOUND_RANK))

/**
 * The status after applying `to` to an outbound message now at `from` (returns `from` when
 * `to` would go backwards). sending < sent < delivered < read; there is no failed state: the
 * outbox retries an entry until its receipt arrives (messaging.md §4.2). Inbound messages stay
 * `received`.
 */
export function advanceStatus (direction: 'in' | 'out', from: MessageStatus, to: MessageStatus): MessageStatus {
  if (direction === 'in' || to === 'received' || to === from) return from
  return OUTBOUND_RANK[to] > OUTBOUND_RANK[from] ? to : from
}

export function checkStatus (s: unknown): MessageStatus {
  if (typeof s !== 'string' || !STATUSES.has(s)) {
    throw errors.BAD_ARGUMENT(`expected a message status (${[...STATUSES].join(', ')}), got ${JSON.stringify(s)}`)
  }
  return s as MessageStatus
}

/** Validate a message handed to addMessage; returns a copy holding only the known fields. */
export function checkNewMessage (m: NewMessage): NewMessage {
  checkId(m.id)
  checkFingerprint(m.peer)
  if (m.direction !== 'in' && m.direction !== 'out') {
    throw errors.BAD_ARGUMENT(`message ${m.id}: direction must be 'in' or 'out', got ${JSON.stringify(m.direction)}`)
  }
  if (typeof m.text !== 'string') throw errors.BAD_ARGUMENT(`message ${m.id}: text must be a string`)
  checkTime(m.timestamp, `message ${m.id} timestamp`)
  checkTime(m.receivedAt, `message ${m.id} receivedAt`)
  const status = checkStatus(m.status)
  if ((m.direction === 'in') !== (status === 'received')) {
    throw errors.BAD_ARGUMENT(`message ${m.id}: status '${status}' does not fit direction '${m.direction}' (inbound messages are 'received')`)
  }
  if (typeof m.read !== 'boolean') throw errors.BAD_ARGUMENT(`message ${m.id}: read must be a boolean`)
  return {
    id: m.id, peer: m.peer, direction: m.direction, text: m.text,
    timestamp: m.timestamp, receivedAt: m.receivedAt, status, read: m.read
  }
}
