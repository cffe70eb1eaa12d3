// DhtNode: the Kademlia node (dht.md). Ties the routing table, RPC table, lookups, record store,
// write tokens and defences together over an abstract datagram transport, with injected time and
// randomness, so the same code runs in the simulator (src/dht/sim) and over the UDP endpoint.
import { nodeIdAt, idEquals, idToHex, type NodeId } from './ids.js'
import { RoutingTable, type Contact } from './routing-table.js'
import { RpcTable, type Transaction } from './rpc.js'
import type { Scheduler } from '../io/scheduler.js'
import type { Random } from '../io/random.js'
import type { DatagramTransport } from '../io/datagram.js'
import { RecordStore, type RecordStoreOptions } from './record-store.js'
import { WriteTokens } from './tokens.js'
import { RequestGate, DhtDropCounter, type RateLimiterOptions, type AnswerBudgetOptions } from './defences.js'
import { encodeParts, decodeMessage, isRequest, type Body, type DhtMessage } from './messages.js'
import { cachedRecordVerifier, compareRecords, type VerifiedRecord } from './records.js'
import { addressOf, type IpScope } from '../io/address.js'
import { addressFacts, canonicalOf } from './address-facts.js'
import { localScopeOf, usableContacts } from './address-policy.js'
import { handleRequest } from './server.js'
import { startLookup, type LookupHandle, type LookupParams } from './lookup-run.js'
import { Maintenance } from './maintenance.js'
import { Publisher, type PublishResult } from './publisher.js'
import { join, type JoinResult } from './join.js'
import { findPresence, type PresenceLookupOptions } from './presence-lookup.js'
import type { OpenedPresence } from './presence-seal.js'
import type { LookupResult } from './lookup-run.js'
import type { DhtSettings, NodeInternals, RequestHandlers } from './context.js'
import * as C from './constants.js'
import { errors } from '../errors.js'

export interface LookupOptions {
  signal?: AbortSignal
  onProgress?: LookupParams['onProgress']
}

export interface DhtNodeOptions extends Partial<DhtSettings> {
  /** The node's DHT public key (32 bytes; not the user's identity key): id = nodeIdAt(publicKey, our address). */
  publicKey: Uint8Array
  /** datagrams in and out; the node sets `onDatagram` in start() and clears it in stop() */
  transport: DatagramTransport
  /** the DHT keeps wall-clock time (wallNow): records carry epoch expiries (dht.md §5) */
  scheduler: Scheduler
  random: Random
  /** Ask others not to add us to their tables (we cannot take unsolicited datagrams). */
  readOnly?: boolean
  /** requests per source IP (dht.md §8.4) */
  rateLimit?: RateLimiterOptions
  /** requests per source network, /24 or /64 (dht.md §8.4) */
  networkRateLimit?: RateLimiterOptions
  /** answers per second in total (dht.md §8.4) */
  answerBudget?: AnswerBudgetOptions
  records?: RecordStoreOptions
  tokenRotateMs?: number
  /** Record verification (default: verifyPresenceRecord behind a per-node cache); replaceable only to share a cache. */
  verifyRecord?: (bytes: Uint8Array, key: Uint8Array, now: number) => VerifiedRecord | null
}

export interface DhtStats {
  contacts: number
  records: number
  pendingRpcs: number
  requestsAnswered: number
  drops: ReturnType<DhtDropCounter['snapshot']>
}

function settingsOf (o: Partial<DhtSettings>): DhtSettings {
  return {
    k: o.k ?? C.K,
    alpha: o.alpha ?? C.ALPHA,
    rpcTimeoutMs: o.rpcTimeoutMs ?? C.RPC_TIMEOUT_MS,
    lookupStallMs: o.lookupStallMs ?? C.LOOKUP_STALL_MS,
    maxPerSubnet: o.maxPerSubnet ?? C.MAX_PER_SUBNET,
    republishMs: o.republishMs ?? C.REPUBLISH_MS,
    refreshMs: o.refreshMs ?? C.BUCKET_REFRESH_MS,
    maintenanceMs: o.maintenanceMs ?? C.MAINTENANCE_MS,
    staleMs: o.staleMs ?? C.CONTACT_STALE_MS,
    refreshOnJoin: o.refreshOnJoin ?? true
  }
}

export class DhtNode {
  readonly id: NodeId
  readonly publicKey: Uint8Array
  readonly readOnly: boolean
  readonly internals: NodeInternals
  readonly #transport: DatagramTransport
  /** where we run: decides which contact addresses we accept (address-policy.ts) */
  readonly #localScope: IpScope
  readonly #gate: RequestGate
  readonly #verifying = new Set<string>()
  readonly #lookups = new Set<LookupHandle>()
  readonly #maintenance: Maintenance
  readonly #publisher: Publisher
  #running = false
  #answered = 0

  constructor (opts: DhtNodeOptions) {
    this.publicKey = opts.publicKey.slice()
    // dht.md §1.1: our id is placed by the address we are bound to, as peers will compute it
    const local = opts.transport.local
    this.#localScope = localScopeOf(local.host)
    this.id = nodeIdAt(this.publicKey, addressOf(local.host, local.port === 0 ? 1 : local.port) ?? '').slice()
    this.readOnly = opts.readOnly ?? false
    this.#transport = opts.transport
    this.#gate = new RequestGate(opts, opts.scheduler.wallNow())
    const settings = settingsOf(opts)
    const now = opts.scheduler.wallNow()
    const random = (n: number): Uint8Array => opts.random.bytes(n)
    const rpc = new RpcTable({ scheduler: opts.scheduler, random, send: (to, d) => { this.#send(to, d) } })
    this.internals = {
      id: this.id,
      settings,
      table: new RoutingTable(this.id, { k: settings.k, maxPerSubnet: settings.maxPerSubnet }, now),
      rpc,
      store: new RecordStore(opts.records),
      tokens: new WriteTokens({ random, rotateMs: opts.tokenRotateMs }, now),
      drops: new DhtDropCounter(),
      scheduler: opts.scheduler,
      random,
      verifyRecord: opts.verifyRecord ?? cachedRecordVerifier(),
      reply: (to, txid, body) => this.#sendMessage(to, txid, body),
      request: (to, body, h) => this.#request(to, body, h),
      heardFrom: (id, from, readOnly) => this.#heardFrom(id, from, readOnly),
      contactFailed: (id) => { this.#contactFailed(id) }
    }
    this.#maintenance = new Maintenance(this.internals, (p) => this.startLookup(p), this.#gate, (max) => this.checkQuiet(max))
    this.#publisher = new Publisher(this.internals, (p) => this.startLookup(p))
  }

  get running (): boolean { return this.#running }
  get table (): RoutingTable { return this.internals.table }

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#transport.onDatagram = (d, from) => {
      const addr = canonicalOf(from.host, from.port)
      if (addr === null) this.internals.drops.count('bad-address')
      else this.receive(d, addr)
    }
    this.#maintenance.start()
  }

  /** Stops timers, abandons lookups (they finish as aborted) and forgets the token secrets. */
  stop (): void {
    if (!this.#running) return
    this.#running = false
    this.#transport.onDatagram = null
    this.#maintenance.stop()
    this.#publisher.stop()
    for (const l of [...this.#lookups]) l.abort()
    this.internals.rpc.cancelAll()
    this.internals.tokens.destroy()
  }

  /** To a canonical address (dht.md §2); anything else is counted, never sent. */
  #send (to: string, datagram: Uint8Array): void {
    const a = addressFacts(to)
    if (a === null) this.internals.drops.count('bad-address')
    else this.#transport.send(a.peer, datagram)
  }

  stats (): DhtStats {
    const n = this.internals
    return { contacts: n.table.size, records: n.store.size, pendingRpcs: n.rpc.size, requestsAnswered: this.#answered, drops: n.drops.snapshot() }
  }

  /** Where the UDP endpoint's 'dht' hook (or the simulator) delivers a datagram. Never throws. */
  receive (datagram: Uint8Array, from: string): void {
    const n = this.internals
    if (!this.#running) return n.drops.count('not-running')
    if (datagram.length > C.MAX_MESSAGE_BYTES) return n.drops.count('oversize')
    const msg = decodeMessage(datagram)
    if (msg === null) return n.drops.count('malformed')
    if (!isRequest(msg.type)) {
      const r = n.rpc.receive(msg, from)
      if (r !== 'ok') n.drops.count(r)
      return
    }
    const verdict = this.#gate.admit(from, n.scheduler.wallNow())
    if (verdict !== 'ok') return n.drops.count(verdict)
    const asker = nodeIdAt(msg.senderKey, from)
    // our own key: ourselves (seen at our public address, where our id is placed elsewhere) or
    // someone claiming to be us; both 32-byte strings, compared like ids
    if (idEquals(asker, this.id) || idEquals(msg.senderKey, this.publicKey)) return n.drops.count('malformed')
    this.#answered++
    // The answer (dht.md §3) and the check of what it hands out (§7.3) read the same k closest
    // contacts: nothing between them changes the table (a reply or a PING only sends), so the
    // table is walked and sorted once per request, not twice.
    const target = msg.type === C.DhtType.FIND_NODE ? msg.target : msg.type === C.DhtType.FIND_VALUE ? msg.key : null
    const closest = target === null ? null : n.table.closest(target, n.settings.k)
    handleRequest(n, msg, from, asker, closest)
    this.#considerRequester(asker, from, msg.readOnly)
    if (closest !== null) this.#checkHandedOut(closest)
  }

  /** Callback form of every lookup (what the simulator uses); see findNode/findValue for promises. */
  startLookup (p: LookupParams, seeds: Array<{ id: NodeId, addr: string }> = []): LookupHandle {
    const onDone = p.onDone
    // a lookup with no one to ask (empty table) finishes inside startLookup, before `handle` is set
    let handle: LookupHandle | null = null
    handle = startLookup(this.internals, { ...p, onDone: (r) => { if (handle !== null) this.#lookups.delete(handle); onDone(r) } }, seeds)
    if (!handle.result) this.#lookups.add(handle)
    return handle
  }

  // ---- operations: callback forms (simulator) and promise forms (daemon) ----

  /** Join through bootstrap addresses (callback form of bootstrap()). */
  join (addrs: readonly string[], onDone: (r: JoinResult) => void): void {
    join(this, addrs, onDone)
  }

  async bootstrap (addrs: readonly string[]): Promise<JoinResult> {
    return await new Promise(resolve => join(this, addrs, resolve))
  }

  /** The k closest nodes to `target` (iterative FIND_NODE). Rejects with signal.reason if aborted. */
  async findNode (target: NodeId, opts: LookupOptions = {}): Promise<LookupResult> {
    return await this.#promise({ mode: 'find-node', target, ...opts })
  }

  /** The record stored under `key`, verified (result.record null if none was found). */
  async findValue (key: Uint8Array, opts: LookupOptions & { exhaustive?: boolean, accept?: (r: VerifiedRecord) => boolean } = {}): Promise<LookupResult> {
    const r = await this.#promise({ mode: 'find-value', target: key, ...opts })
    // A node close to the key may itself be the one holding the record (in a small network, the
    // only one): the lookup asks only others, so our own store counts too, newest seq wins (§5.4),
    // among the records it holds that `accept` takes (several writers may share a key).
    let best = r.record
    for (const { record: held } of this.internals.store.list(key, this.internals.scheduler.wallNow())) {
      if (!(opts.accept?.(held) ?? true)) continue
      if (best === null || compareRecords(best, held) === 'replace') best = held
    }
    return best === r.record ? r : { ...r, record: best }
  }

  /**
   * The presence record of `fingerprint`, opened, or null: looked up under this period's key, then
   * the adjacent period's (dht.md §5.1, §5.3); only a record that opens under the fingerprint and
   * carries the identity's certificate counts.
   */
  async findPresence (fingerprint: string, opts: PresenceLookupOptions = {}): Promise<OpenedPresence | null> {
    return await findPresence(this, fingerprint, this.internals.scheduler.wallNow(), opts)
  }

  /** Publish (callback form): announce now, re-announce every republishMs until it expires. */
  publishRecord (record: VerifiedRecord, onDone: (r: PublishResult) => void, signal?: AbortSignal): void {
    this.#publisher.publish(record, onDone, signal)
  }

  /** Verify our own signed record bytes, then publish them (throws BAD_ARGUMENT if invalid). */
  async publish (bytes: Uint8Array, key: Uint8Array, signal?: AbortSignal): Promise<PublishResult> {
    const record = this.internals.verifyRecord(bytes, key, this.internals.scheduler.wallNow())
    if (record === null) throw errors.BAD_ARGUMENT('publish: the record does not verify under that key (or has expired)')
    return await new Promise((resolve, reject) => this.#publisher.publish(record, (r) => {
      if (r.lookup.aborted) reject(signal?.reason ?? errors.BAD_ARGUMENT('publish aborted'))
      else resolve(r)
    }, signal))
  }

  unpublish (key: Uint8Array): boolean {
    return this.#publisher.unpublish(key)
  }

  async #promise (p: Omit<LookupParams, 'onDone'>): Promise<LookupResult> {
    return await new Promise((resolve, reject) => {
      this.startLookup({
        ...p,
        onDone: (r) => {
          if (r.aborted) reject(p.signal?.reason ?? errors.BAD_ARGUMENT('lookup aborted: the node stopped'))
          else resolve(r)
        }
      })
    })
  }

  /** Ping an address; calls back with the answering node's id, or null on timeout. */
  ping (addr: string, done: (id: NodeId | null) => void, retries = 1): void {
    const tx = this.#request(addr, { type: C.DhtType.PING }, {
      retries,
      onTimeout: () => done(null),
      onResponse: (msg) => {
        const id = nodeIdAt(msg.senderKey, addr)
        this.#heardFrom(id, addr, msg.readOnly)
        if (msg.type === C.DhtType.PONG) this.#maintenance.observed(msg.observed)
        done(id)
      }
    })
    if (tx === null) done(null)
  }

  /** Our address as most recent PONGs reported it (for NAT discovery), or null. */
  observedAddress (): string | null {
    return this.#maintenance.observedAddress()
  }

  get maintenance (): Maintenance { return this.#maintenance }

  #sendMessage (to: string, txid: number, body: Body): void {
    this.#send(to, encodeParts({ txid, readOnly: this.readOnly, senderKey: this.publicKey }, body))
  }

  #request (to: string, body: Body, h: RequestHandlers): Transaction | null {
    if (!this.#running) return null
    const n = this.internals
    return n.rpc.request(to, body.type, (txid) => encodeParts({ txid, readOnly: this.readOnly, senderKey: this.publicKey }, body), {
      timeoutMs: n.settings.rpcTimeoutMs, retries: h.retries, stallMs: h.stallMs,
      onResponse: (msg, from) => h.onResponse(this.#sanitized(msg, from), from), onTimeout: h.onTimeout, onStall: h.onStall
    })
  }

  // dht.md §8.1: the contacts an answer names are dropped (and counted) if we must not send to
  // their address or their id cannot be that of a node at that address (BEP 42). Decoded answers
  // may be shared (intern.ts), so a filtered list is a new message, never an edit.
  #sanitized (msg: DhtMessage, from: string): DhtMessage {
    if (!('nodes' in msg) || msg.nodes.length === 0) return msg
    const nodes = usableContacts(msg.nodes, from, this.#localScope, () => this.internals.drops.count('refused-contact'))
    return nodes === msg.nodes ? msg : { ...msg, nodes }
  }

  // A node answered a request of ours from the address we asked: it is reachable there.
  // Kademlia §2.2: a full bucket keeps its old contacts; the least recently seen one is pinged
  // only if it has been quiet for a while, and replaced (from the cache) if it does not answer.
  #heardFrom (id: NodeId, from: string, readOnly: boolean): void {
    if (readOnly) return
    const n = this.internals
    const r = n.table.add(id, from, n.scheduler.wallNow())
    if (r.status === 'full' && n.scheduler.wallNow() - r.oldest.lastSeen >= n.settings.staleMs) this.#checkOldest(r.oldest)
  }

  // A request went unanswered. A contact with one failure is no longer handed out (routing-table
  // closest()) nor asked by our lookups, so nothing would ever ask it again: one PING settles it —
  // an answer restores it, silence makes the second failure that evicts it (dht.md §7.3).
  #contactFailed (id: NodeId): void {
    const table = this.internals.table
    if (table.fail(id)) return
    const c = table.get(id)
    if (c !== undefined) this.#checkOldest(c)
  }

  /** Pings contacts quiet for staleMs, least recently seen first, at most `max` (BEP 5 "questionable"). */
  checkQuiet (max: number): number {
    const now = this.internals.scheduler.wallNow()
    const quiet = this.internals.table.all().filter(c => now - c.lastSeen >= this.internals.settings.staleMs)
    quiet.sort((a, b) => a.lastSeen - b.lastSeen)
    for (const c of quiet.slice(0, max)) this.#checkOldest(c)
    return Math.min(max, quiet.length)
  }

  // dht.md §7.3: contacts we hand out should be alive. One quiet for VERIFY_HANDED_OUT_MS is
  // pinged (at most once per that time): if it is dead, its failure keeps it out of the next
  // answers (routing-table closest()). Without this, a node that asks nobody anything — a
  // bootstrap node — handed out restarted nodes' old ids until its 5-minute quiet check.
  #checkHandedOut (handedOut: readonly Contact[]): void {
    const now = this.internals.scheduler.wallNow()
    for (const c of handedOut) {
      if (now - c.lastSeen < C.VERIFY_HANDED_OUT_MS || now - (c.checkedAt ?? -Infinity) < C.VERIFY_HANDED_OUT_MS) continue
      c.checkedAt = now
      this.#checkOldest(c)
    }
  }

  #checkOldest (c: Contact): void {
    const key = idToHex(c.id)
    if (this.#verifying.has(key) || this.#verifying.size >= C.MAX_PENDING_VERIFICATIONS) return
    this.#verifying.add(key)
    this.ping(c.addr, (id) => {
      this.#verifying.delete(key)
      if (id === null || !idEquals(id, c.id)) this.internals.table.fail(c.id)
    }, 0)
  }

  // A request came from an unknown node. Its source address may be spoofed, so it joins the table
  // only after it answers a PING at that address (dht.md §8.1); known nodes are just refreshed.
  #considerRequester (id: NodeId, from: string, readOnly: boolean): void {
    if (readOnly) return
    const n = this.internals
    const known = n.table.get(id)
    if (known) {
      if (known.addr === from) known.lastSeen = n.scheduler.wallNow()
      return
    }
    if (!n.table.canAdd(id, from)) return
    const key = idToHex(id)
    if (this.#verifying.has(key) || this.#verifying.size >= C.MAX_PENDING_VERIFICATIONS) return
    this.#verifying.add(key)
    this.ping(from, () => { this.#verifying.delete(key) }, 0)
  }
}
