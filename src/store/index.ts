// Public surface of the local store (proto-spec/storage.md).
export { openStore, Store } from './store.js'
export { SCHEMA_VERSION } from './migrations.js'
export { advanceStatus } from './status.js'
export type { SessionWrite } from './sessions.js'
export type { StoredBundle } from './bundles.js'
export type {
  AddResult, BlockedEntry, Contact, Conversation, Direction, HistoryOptions, MessageStatus,
  NewMessage, OutboxEntry, OutboxListOptions, SearchOptions, StoreOptions, StoredMessage
} from './types.js'
