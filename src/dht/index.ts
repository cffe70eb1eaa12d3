// dmess's Kademlia DHT (proto-spec/dht.md): the node, its parts, and presence records.
export { DhtNode, type DhtNodeOptions, type DhtStats, type LookupOptions } from './node.js'
export type { Transaction } from './rpc.js'
export type { DhtSettings } from './context.js'
export type { LookupResult, LookupProgress, LookupMode, LookupParams, LookupHandle } from './lookup-run.js'
export type { PublishResult } from './publisher.js'
export type { JoinResult } from './join.js'
export { nodeIdOf, clearDhtMemos, compareDistance, commonPrefixLength, xorDistance, idToHex, idFromHex, type NodeId } from './ids.js'
export { RoutingTable, type Contact, type AddResult } from './routing-table.js'
export { Lookup, type Candidate } from './lookup.js'
export {
  verifyPresenceRecord, cachedRecordVerifier, decodePresenceRecord, compareRecords,
  type PresenceRecord, type OuterRecord, type VerifiedRecord, type RecordAddress, type AddressKind
} from './records.js'
export { presenceKey, presenceAeadKey, periodSigningKey, periodOf, periodStartMs } from './presence-keys.js'
export { sealPresenceRecord, openPresenceRecord, type OpenedPresence } from './presence-seal.js'
export { presencePlan, presenceSeq, presenceExpiry, PREPUBLISH_MS } from './presence-plan.js'
export { dialable, type DialScope, type Prefix } from './address-scope.js'
export { RecordStore } from './record-store.js'
export { WriteTokens } from './tokens.js'
export { RateLimiter, DhtDropCounter, type DhtDropReason } from './defences.js'
export { encodeMessage, decodeMessage, type DhtMessage, type NodeInfo } from './messages.js'
export { DhtType, K, ALPHA, RECORD_MAX_BYTES, MAX_RECORD_TTL_MS } from './constants.js'
