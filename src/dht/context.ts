// What the node's parts (server handlers, lookup driver, publisher) share: the node's state and a
// few actions. DhtNode builds one of these; the parts never see the transport directly.
import type { NodeId } from './ids.js'
import type { RoutingTable } from './routing-table.js'
import type { RpcTable, Transaction } from './rpc.js'
import type { Scheduler } from '../io/scheduler.js'
import type { RecordStore } from './record-store.js'
import type { WriteTokens } from './tokens.js'
import type { DhtDropCounter } from './defences.js'
import type { Body, DhtMessage } from './messages.js'
import type { VerifiedRecord } from './records.js'

export interface DhtSettings {
  k: number
  alpha: number
  rpcTimeoutMs: number
  lookupStallMs: number
  maxPerSubnet: number
  republishMs: number
  refreshMs: number
  maintenanceMs: number
  staleMs: number
  /** After joining, refresh every bucket farther than the closest neighbour (Kademlia §2.3). */
  refreshOnJoin: boolean
}

export interface RequestHandlers {
  onResponse: (msg: DhtMessage, from: string) => void
  onTimeout: () => void
  onStall?: () => void
  retries?: number
  stallMs?: number
}

export interface NodeInternals {
  readonly id: NodeId
  readonly settings: DhtSettings
  readonly table: RoutingTable
  readonly rpc: RpcTable
  readonly store: RecordStore
  readonly tokens: WriteTokens
  readonly drops: DhtDropCounter
  readonly scheduler: Scheduler
  readonly random: (n: number) => Uint8Array
  verifyRecord: (bytes: Uint8Array, key: Uint8Array, now: number) => VerifiedRecord | null
  /** Answer a request (same txid). */
  reply: (to: string, txid: number, body: Body) => void
  /** Send a request; null when the transaction table is full (treat as a failure). */
  request: (to: string, body: Body, handlers: RequestHandlers) => Transaction | null
  /** A response we asked for came from `from`, sent by node `id`: routing-table upkeep. */
  heardFrom: (id: NodeId, from: string, readOnly: boolean) => void
  /** A request to node `id` went unanswered. */
  contactFailed: (id: NodeId) => void
}
