// Public record types of the local store. The on-disk layout is in proto-spec/storage.md.
import type { Storage } from '../io/storage.js'

export type Direction = 'in' | 'out'

/**
 * Outbound: sending → sent → delivered → read (see `advanceStatus`); never given up, so never
 * failed. Inbound messages are always 'received'; whether the user has seen one is `read`.
 */
export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'received'

export interface StoredMessage {
  id: string
  /** fingerprint of the other party */
  peer: string
  direction: Direction
  text: string
  /** sender's clock, ms since the epoch */
  timestamp: number
  /** our clock when stored, ms since the epoch */
  receivedAt: number
  status: MessageStatus
  /** inbound: shown to the user (outbound: not used; only unread inbound messages count) */
  read: boolean
  /** per-conversation local order, 1, 2, 3, … assigned by the store */
  seq: number
}

/** What a caller hands to addMessage: everything but the seq the store assigns. */
export type NewMessage = Omit<StoredMessage, 'seq'>

export interface AddResult {
  message: StoredMessage
  /** true when a message with this id was already stored: nothing was written */
  duplicate: boolean
}

export interface Contact {
  fingerprint: string
  name?: string
  signPublic?: Uint8Array
  dhPublic?: Uint8Array
  dhSignature?: Uint8Array
  verified: boolean
  addedAt: number
  lastSeen?: number
}

export interface OutboxEntry {
  id: string
  peer: string
  payload: Uint8Array
  attempts: number
  nextAttemptAt: number
  createdAt: number
  /**
   * The entry sends the stored outbound message with this id (a TEXT of its text and timestamp,
   * acknowledged by a receipt): its payload is empty and the store keeps the entry in the
   * message's msgindex entry, not as a record of its own (proto-spec/storage.md §Outbox). The
   * message must be stored already, or earlier in the same batch.
   */
  ofMessage?: boolean
}

export interface BlockedEntry {
  fingerprint: string
  blockedAt: number
}

export interface Conversation {
  peer: string
  lastMessage: StoredMessage
  unread: number
}

export interface HistoryOptions {
  /** at most this many messages (default 50) */
  limit?: number
  /** only messages with seq < before (the next page of an earlier call) */
  before?: number
  /** only messages with seq > after (what arrived since) */
  after?: number
}

export interface SearchOptions {
  /** search one conversation only */
  peer?: string
  /** at most this many results (default 50) */
  limit?: number
}

export interface OutboxListOptions {
  /** only entries with nextAttemptAt <= dueBy */
  dueBy?: number
  limit?: number
}

export interface StoreOptions {
  /** clock for blockedAt and similar stamps the store makes itself (default Date.now) */
  now?: () => number
  /**
   * fsync every batch (default false; one fsync per group commit, not per write). Without it a
   * killed process loses nothing that was acknowledged; a power cut may lose the last moments.
   * See proto-spec/storage.md §Durability.
   */
  sync?: boolean
  /** where the database lives (default: LevelDB on disk, src/io/storage.ts) */
  storage?: Storage
}
