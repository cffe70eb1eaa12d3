// The DHT IPC methods (proto-spec/ipc.md §12), registered in rpc-methods.ts's table. `dht.lookup`
// asks the network for a fingerprint's presence record (proto-spec/dht.md §5) and returns it only
// once it opened under the fingerprint and the identity inside certified it (dht.md §5.3).
import { errors } from '../errors.js'
import { parseFingerprint } from '../crypto/fingerprint.js'
import type { RecordAddress } from '../dht/records.js'
import type { OpenedPresence } from '../dht/presence-seal.js'
import type { InviteAddresses } from '../crypto/invite.js'
import { invalidParams } from './protocol.js'
import type { MethodContext } from './rpc-methods.js'

/** What the methods need of the daemon's DhtComponent. */
export interface DhtLookup {
  readonly tableSize: number
  lookup: (fingerprint: string, signal?: AbortSignal) => Promise<OpenedPresence | null>
  /** where we are and which DHT nodes we met, for an invite (identity.md §7.1) */
  inviteAddresses?: () => InviteAddresses
}

export interface PresenceJson {
  fingerprint: string
  addresses: RecordAddress[]
  /** the 24-hour period the record is for (dht.md §5.1) */
  period: number
  /** order within the period (dht.md §5.4) */
  seq: number
  /** ISO 8601 */
  expiresAt: string
  /** NAT traversal fields (dht.md §5.2, proto-spec/traversal.md §2–§3): the owner's NAT kind, and its rendezvous nodes (their tags left out) */
  natKind: string
  rendezvous: Array<{ host: string, port: number }>
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000
export const MAX_LOOKUP_TIMEOUT_MS = 120_000

/** Params and results: merged into RpcSpec (rpc-methods.ts). */
export interface DhtSpec {
  'dht.lookup': { params: { fingerprint: string, timeoutMs?: number }, result: { found: boolean, record: PresenceJson | null, dhtNodes: number } }
  'dht.inviteAddresses': { params: Record<string, never>, result: InviteAddresses }
}

function timeoutOf (p: Record<string, unknown>): number {
  const v = p.timeoutMs
  if (v === undefined) return DEFAULT_LOOKUP_TIMEOUT_MS
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_LOOKUP_TIMEOUT_MS) throw invalidParams(`"timeoutMs" must be an integer 1–${MAX_LOOKUP_TIMEOUT_MS}`)
  return v
}

function presenceJson (r: OpenedPresence): PresenceJson {
  return {
    fingerprint: r.fingerprint,
    addresses: r.addresses.map(a => ({ ...a })),
    period: r.period,
    seq: r.seq,
    expiresAt: new Date(r.expiresAt).toISOString(),
    natKind: r.natKind ?? 'unknown',
    rendezvous: (r.rendezvous ?? []).map(e => ({ host: e.host, port: e.port }))
  }
}

async function lookup (ctx: MethodContext, p: Record<string, unknown>): Promise<DhtSpec['dht.lookup']['result']> {
  if (ctx.dht === undefined) throw errors.DAEMON_NOT_RUNNING('a DHT lookup needs a running daemon (start one with `dmess daemon --detach`)')
  if (typeof p.fingerprint !== 'string') throw invalidParams('"fingerprint" must be a string')
  const fp = parseFingerprint(p.fingerprint)
  // an expired record is as good as none: the owner stopped renewing it (dht.md §5)
  // a lookup that runs out of time has found nothing: the same answer as an exhausted one
  const r = await ctx.dht.lookup(fp, AbortSignal.timeout(timeoutOf(p))).catch(() => null)
  const live = r !== null && r.expiresAt > ctx.now() ? r : null
  return { found: live !== null, record: live === null ? null : presenceJson(live), dhtNodes: ctx.dht.tableSize }
}

async function inviteAddresses (ctx: MethodContext): Promise<InviteAddresses> {
  if (ctx.dht?.inviteAddresses === undefined) throw errors.DAEMON_NOT_RUNNING('current addresses need a running daemon')
  return ctx.dht.inviteAddresses()
}

export const DHT_METHODS = {
  'dht.lookup': lookup,
  'dht.inviteAddresses': inviteAddresses
}
