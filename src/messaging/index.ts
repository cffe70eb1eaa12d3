// Messaging (proto-spec/messaging.md): what other parts of dmess use. The composition root,
// class Node in src/node/node.ts, builds the MessagingService (for the daemon and for each node of
// the testnet); clients talk to it through the IPC methods of src/daemon/rpc-messaging.ts.
export { MessagingService, type MessagingServiceOptions } from './service.js'
export { MessagingActions, type SendResult } from './actions.js'
export { messageJson, requestJson, type MessageJson, type PeerJson, type RequestJson, type ShownStatus } from './json.js'
export { OutboxScheduler, type OutboxItem, type OutboxAction, type AckKind } from './outbox-scheduler.js'
export { ConnectionManager, type PeerState, type PeerSource, type PeerView, type ConnAction, type FoundPresence } from './connections.js'
export { PresenceLookups, foundPresence, type LookupPresence } from './dht-lookups.js'
export { PeerSeek, RecordAddresses } from './dht-seek.js'
export { RequestBook, type PendingRequest, type RequestOutcome } from './requests.js'
export { InboundGate, type Admission } from './inbound-gate.js'
export { FairQueue } from './fair-queue.js'
export { ReceiptBatcher, TypingTracker } from './signals.js'
export { backoffDelay, type BackoffPolicy } from './backoff.js'
export { encodeEnvelopeFrame, encodePrekeyRequestFrame, encodePrekeyBundleFrame, decodeFrame, FrameType } from './frames.js'
export { PrekeyExchange, PREKEY_FETCH_TIMEOUT_MS } from './prekey-exchange.js'
export type { WaitTarget } from './waiters.js'
export * as messagingConstants from './constants.js'
