// The IPC methods (proto-spec/ipc.md §Methods). One table serves both the daemon's socket and a
// CLI command that opens the store itself when no daemon runs, so the two paths cannot drift.
// Contact semantics are those of src/app/contacts.ts; these handlers only validate and shape.
import { errors } from '../errors.js'
import { addContact, checkName, contactIdentity, resolveContact } from '../app/contacts.js'
import { contactJson, contactLabel, type ContactJson } from '../app/contact-json.js'
import { backupBody, type BackupBody } from '../app/backup.js'
import { publicIdentityOf, safetyNumber, type Identity } from '../crypto/identity.js'
import type { Store } from '../store/index.js'
import type { InviteAddresses } from '../crypto/invite.js'
import { EVENT_TYPES, isEventType, type EventBus, type EventType } from '../runtime/events.js'
import { invalidParams, RPC, RpcError } from './protocol.js'
import { MESSAGING_METHODS, type MessagingSpec } from './rpc-messaging.js'
import type { MessagingActions } from '../messaging/actions.js'
import type { RelayUseJson } from '../node/auto-relay.js'
import { DHT_METHODS, type DhtLookup, type DhtSpec } from './rpc-dht.js'
import { FILES_METHODS, type FilesSpec } from './rpc-files.js'
import type { FileService } from '../files/service.js'
import type { PortmapReport } from '../node/portmap.js'

export interface DaemonStatus {
  running: true
  /**
   * 'daemon': the node, online; 'agent': the unlock agent (`dmess unlock`, ipc.md §14), which holds
   * the keys and the store with no networking (host '', port 0, no peers, no DHT) until `locksAt`
   */
  mode: 'daemon' | 'agent'
  /** the agent's: when it stops by itself (ISO 8601) */
  locksAt?: string
  fingerprint: string
  host: string
  port: number
  pid: number
  /** ISO 8601 */
  startedAt: string
  /** peers online or away right now (the connection manager's onlineCount) */
  peers: number
  home: string
  mdns: boolean
  /** nodes in the DHT routing table */
  dhtNodes: number
  /** the port mapping on the home router (proto-spec/portmap.md §4) */
  portmap?: PortmapReport
  /** what STUN taught us (proto-spec/stun.md §5): the NAT kind, our public address(es), and
   *  whether we answer STUN; natKind 'unknown' and no addresses until a probe has answers;
   *  filtering (stun.md §5.1) stays 'unknown' unless a server with two addresses answered */
  /**
   * whether this node relays for others now (publicly reachable, relay.md §1), and its allocations;
   * `using`: the relay paths this node uses itself (traversal.md §7.4)
   */
  relay?: { serving: boolean, allocations: number, using?: RelayUseJson[] }
  /** the rendezvous nodes we are registered with, and registrations we hold for others (traversal.md §3) */
  traversal?: { registeredWith: string[], servingRegistrations: number }
  nat?: { natKind: 'open' | 'endpoint-independent' | 'address-dependent' | 'unknown', filtering: 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown', publicAddresses: string[], publiclyReachable: boolean, stunServing: boolean }
  /** which ChaCha20-Poly1305 carries sessions (crypto-policy.md §3.1), and why not the addon */
  aead: 'openssl-addon' | 'node:crypto'
  aeadFallbackReason?: string
  /** V8 heap bytes in use after a full collection; only when the daemon runs with node's --expose-gc (src/platform/heap.ts) */
  heapUsedAfterGc?: number
}

/** What only a running daemon offers (absent when a command runs the methods on its own store). */
export interface DaemonControl {
  status: () => DaemonStatus
  requestStop: (reason: string) => void
}

/** One IPC connection's subscription state. */
export interface Session {
  subscribe: (types: readonly EventType[]) => EventType[]
  unsubscribe: (types?: readonly EventType[]) => EventType[]
}

export interface MethodContext {
  store: Store
  identity: Identity
  now: () => number
  events?: EventBus
  daemon?: DaemonControl
  session?: Session
  /** the running daemon's messaging service (rpc-messaging.ts) */
  messaging?: MessagingActions
  /** the running daemon's DHT (rpc-dht.ts) */
  dht?: DhtLookup
  /** the running daemon's file transfers (rpc-files.ts) */
  files?: FileService
  /** what becomes of a version 2 invite's addresses: dialled and joined through, or kept for the next start */
  inviteSeed?: (fingerprint: string, addresses: InviteAddresses) => Promise<void>
}

/** Params and result of every method: the typed contract of ipc.md §Methods. */
export interface RpcSpec extends MessagingSpec, DhtSpec, FilesSpec {
  status: { params: Record<string, never>, result: DaemonStatus }
  stop: { params: Record<string, never>, result: { stopping: true, pid: number } }
  subscribe: { params: { events: EventType[] }, result: { events: EventType[] } }
  unsubscribe: { params: { events?: EventType[] }, result: { events: EventType[] } }
  'contacts.list': { params: Record<string, never>, result: ContactJson[] }
  'contacts.add': { params: { who: string, name?: string }, result: { contact: ContactJson, created: boolean, keysLearned: boolean } }
  'contacts.remove': { params: { contact: string }, result: { contact: ContactJson } }
  'contacts.rename': { params: { contact: string, name: string }, result: { contact: ContactJson, clash: boolean } }
  'contacts.verify': { params: { contact: string, set?: boolean }, result: { contact: ContactJson, safetyNumber: string } }
  /** what `dmess export` seals beside the keys, which it reads from the keystore itself (src/app/backup.ts) */
  'backup.body': { params: { history?: boolean }, result: BackupBody }
}

export type MethodName = keyof RpcSpec
export type Params<M extends MethodName> = RpcSpec[M]['params']
export type Result<M extends MethodName> = RpcSpec[M]['result']
/** How a command calls a method, whether over the socket or on its own store. */
export type Call = <M extends MethodName>(method: M, params: Params<M>) => Promise<Result<M>>

type Handler = (ctx: MethodContext, params: Record<string, unknown>) => Promise<unknown>

// ---- parameter checks (a failed check is INVALID_PARAMS, never an exception of another kind) ----

const MAX_PARAM_STRING_BYTES = 8 * 1024

function str (p: Record<string, unknown>, key: string): string {
  const v = p[key]
  if (typeof v !== 'string') throw invalidParams(`"${key}" must be a string`)
  if (Buffer.byteLength(v) > MAX_PARAM_STRING_BYTES) throw invalidParams(`"${key}" is longer than ${MAX_PARAM_STRING_BYTES} bytes`)
  return v
}

function optStr (p: Record<string, unknown>, key: string): string | undefined {
  return p[key] === undefined ? undefined : str(p, key)
}

function optBool (p: Record<string, unknown>, key: string): boolean | undefined {
  const v = p[key]
  if (v !== undefined && typeof v !== 'boolean') throw invalidParams(`"${key}" must be true or false`)
  return v
}

function eventList (p: Record<string, unknown>, key: string, required: boolean): EventType[] | undefined {
  const v = p[key]
  if (v === undefined && !required) return undefined
  if (!Array.isArray(v) || v.length > EVENT_TYPES.length * 2) throw invalidParams(`"${key}" must be a list of event types (${EVENT_TYPES.join(', ')})`)
  for (const t of v) if (!isEventType(t)) throw invalidParams(`unknown event type ${JSON.stringify(t)} (known: ${EVENT_TYPES.join(', ')})`)
  return v as EventType[]
}

function needDaemon (ctx: MethodContext): DaemonControl {
  if (!ctx.daemon) throw errors.DAEMON_NOT_RUNNING('this needs a running daemon')
  return ctx.daemon
}

function needSession (ctx: MethodContext): Session {
  if (!ctx.session) throw errors.DAEMON_NOT_RUNNING('subscriptions need a connection to a running daemon')
  return ctx.session
}

// ---- methods ----

async function contactsAdd (ctx: MethodContext, p: Record<string, unknown>): Promise<Result<'contacts.add'>> {
  const who = str(p, 'who')
  // the daemon starts looking the new contact up while its record is written (messaging.md §5.2)
  const undo = ctx.messaging?.contactComing(who)
  let r: Awaited<ReturnType<typeof addContact>>
  try {
    r = await addContact(ctx.store, who, { name: optStr(p, 'name'), self: ctx.identity.fingerprint, now: ctx.now() })
  } catch (err) {
    undo?.()
    throw err
  }
  const contact = contactJson(r.contact)
  ctx.events?.emit({ type: 'contact', action: r.created ? 'added' : 'updated', contact })
  // a version 2 invite's addresses (identity.md §7.1): the daemon dials and joins through them
  // (src/node/invite-seed.ts), a command without one keeps them for the next start
  if (r.addresses !== undefined) await ctx.inviteSeed?.(r.contact.fingerprint, r.addresses)
  return { contact, created: r.created, keysLearned: r.keysLearned }
}

async function contactsRemove (ctx: MethodContext, p: Record<string, unknown>): Promise<Result<'contacts.remove'>> {
  const c = await resolveContact(ctx.store, str(p, 'contact'))
  await ctx.store.removeContact(c.fingerprint)
  const contact = contactJson(c)
  ctx.events?.emit({ type: 'contact', action: 'removed', contact })
  return { contact }
}

async function contactsRename (ctx: MethodContext, p: Record<string, unknown>): Promise<Result<'contacts.rename'>> {
  const c = await resolveContact(ctx.store, str(p, 'contact'))
  const name = checkName(str(p, 'name'))
  // a second contact with the same name is allowed but makes the name ambiguous: the CLI warns
  const clash = (await ctx.store.listContacts()).some(o => o.fingerprint !== c.fingerprint && o.name?.toLowerCase() === name.toLowerCase())
  const contact = contactJson(await ctx.store.renameContact(c.fingerprint, name))
  ctx.events?.emit({ type: 'contact', action: 'renamed', contact })
  return { contact, clash }
}

async function contactsVerify (ctx: MethodContext, p: Record<string, unknown>): Promise<Result<'contacts.verify'>> {
  let c = await resolveContact(ctx.store, str(p, 'contact'))
  const set = optBool(p, 'set')
  const theirs = contactIdentity(c)
  if (!theirs) throw errors.BAD_ARGUMENT(`the keys of ${contactLabel(c)} are not known yet: add them from an invite to verify`)
  const number = safetyNumber(publicIdentityOf(ctx.identity), theirs)
  if (set !== undefined) {
    c = await ctx.store.setVerified(c.fingerprint, set)
    ctx.events?.emit({ type: 'contact', action: set ? 'verified' : 'unverified', contact: contactJson(c) })
  }
  return { contact: contactJson(c), safetyNumber: number }
}

const METHODS: Record<MethodName, Handler> = {
  status: async ctx => needDaemon(ctx).status(),
  stop: async ctx => {
    const d = needDaemon(ctx)
    // answer first: the shutdown closes this connection after the response is flushed
    setImmediate(() => d.requestStop('ipc stop'))
    return { stopping: true, pid: process.pid }
  },
  subscribe: async (ctx, p) => ({ events: needSession(ctx).subscribe(eventList(p, 'events', true) ?? []) }),
  unsubscribe: async (ctx, p) => ({ events: needSession(ctx).unsubscribe(eventList(p, 'events', false)) }),
  'contacts.list': async ctx => (await ctx.store.listContacts()).map(contactJson),
  'contacts.add': contactsAdd,
  'contacts.remove': contactsRemove,
  'contacts.rename': contactsRename,
  'contacts.verify': contactsVerify,
  'backup.body': async (ctx, p) => await backupBody(ctx.store, { history: optBool(p, 'history') === true, now: ctx.now() }),
  ...MESSAGING_METHODS,
  ...DHT_METHODS,
  ...FILES_METHODS
}

function isMethodName (name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, name)
}

/** Runs one method; unknown names are METHOD_NOT_FOUND. Errors propagate to the caller to encode. */
export async function dispatch (ctx: MethodContext, method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  if (!isMethodName(method)) throw new RpcError(RPC.METHOD_NOT_FOUND, `unknown method "${method}"`)
  return await METHODS[method](ctx, params)
}

/**
 * The methods run in this process on a store it opened (no daemon running). Results pass through
 * JSON like on the socket, so a command sees identical shapes on both paths.
 */
export function localCall (ctx: MethodContext): Call {
  return async (method, params) => JSON.parse(JSON.stringify(await dispatch(ctx, method, params as Record<string, unknown>)))
}
