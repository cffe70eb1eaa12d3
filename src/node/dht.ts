// The node's DHT (proto-spec/dht.md §6): a DhtNode on the Endpoint's socket — the Endpoint's wire
// layer hands DHT packet types (wire.md §4.7, 0x20–0x3f) to its 'dht' hook, so DHT and sessions
// share the one UDP port. At start it joins through the bootstrap list and announces our presence
// records (dht.md §5.5: this period's, and near its end the next one's; sealed so that only those
// who know our fingerprint can read them); it seals fresh ones before the old ones expire.
// lookup() is what the connection manager and `dmess dht lookup` use: it also says which of the
// record's addresses this node may dial (src/dht/address-scope.ts). The nodes it meets are
// remembered (dht.md §6.4, src/node/bootstrap-memory.ts): when the bootstrap list is empty or
// does not answer, the next start joins through them.
import { networkInterfaces } from 'node:os'
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { Endpoint } from '../transport/endpoint.js'
import type { Identity } from '../crypto/identity.js'
import type { DatagramTransport } from '../io/datagram.js'
import type { TimerHandle } from '../io/scheduler.js'
import type { World } from '../io/world.js'
import { DhtNode, type DhtNodeOptions } from '../dht/node.js'
import type { LookupResult } from '../dht/lookup-run.js'
import type { PresenceRecord, RecordAddress } from '../dht/records.js'
import { sealPresenceRecord, fitRecord, type OpenedPresence } from '../dht/presence-seal.js'
import type { RecordTraversal } from '../traversal/service.js'
import { presencePlan } from '../dht/presence-plan.js'
import { privateBlock, type DialScope, type Prefix } from '../dht/address-scope.js'
import { idToHex } from '../dht/ids.js'
import { addressOf, canonicalAddress, formatHostPort, isLoopbackHost, parseIp } from '../io/address.js'
import { RECORD_MAX_ADDRESSES, RECORD_MAX_RENDEZVOUS } from '../dht/constants.js'
import { XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { BootstrapCandidates, BOOTSTRAP_CANDIDATES_TRIED, type CandidateSource } from '../dht/bootstrap-candidates.js'
import type { BootstrapMemory } from './bootstrap-memory.js'
import { pickInviteAddresses } from './invite-current.js'
import type { InviteAddresses } from '../crypto/invite.js'

/** Our records live about this long; new ones are sealed RENEW_BEFORE_MS before that (dht.md §5.5). */
export const PRESENCE_TTL_MS = 60 * 60_000
export const RENEW_BEFORE_MS = 10 * 60_000
/** The routing table's contacts are written to the bootstrap memory this often (and at stop). */
export const REMEMBER_EVERY_MS = 5 * 60_000

/** A presence found in the DHT, and which of its addresses this node may dial. */
export interface FoundRecord extends OpenedPresence {
  scope: DialScope
}

export interface DhtComponentOptions {
  endpoint: () => Endpoint
  identity: Identity
  /** "host:port" strings (IP literals), already resolved from flags, config or bootstrap/nodes.json */
  bootstrap: string[]
  log: Logger
  world: World
  node?: Partial<DhtNodeOptions>
  ttlMs?: number
  /** where the nodes we meet are remembered (none: nothing is kept across starts) */
  memory?: BootstrapMemory
  /** what NAT traversal adds to the record (candidates, NAT kind, rendezvous: dht.md §5.2) */
  traversal?: () => RecordTraversal | null
}

/** The addresses we announce: the bound one, or every non-loopback interface address when bound to the wildcard. */
export function announcedAddresses (bound: { host: string, port: number }): RecordAddress[] {
  const wildcard = bound.host === '0.0.0.0' || bound.host === '::'
  if (!wildcard) return parseIp(bound.host) !== null ? [{ host: bound.host, port: bound.port, kind: 'lan' }] : []
  const out: RecordAddress[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.internal || i.family !== 'IPv4' || addressOf(i.address, bound.port) === null) continue
      out.push({ host: i.address, port: bound.port, kind: 'lan' })
    }
  }
  return out.slice(0, RECORD_MAX_ADDRESSES)
}

/**
 * The record's content (dht.md §5.2): our interface addresses, then NAT traversal's candidates
 * (mapped, reflexive) that are not among them, its NAT kind and rendezvous entries; addresses
 * trimmed from the end until everything fits the sealed body.
 */
type RecordContent = Pick<PresenceRecord, 'addresses' | 'natKind' | 'rendezvous'>

export function recordContent (interfaces: RecordAddress[], t: RecordTraversal | null): RecordContent {
  if (t === null) return { addresses: interfaces }
  const extra = t.candidates.filter(c => (c.kind === 'mapped' || c.kind === 'reflexive') && !interfaces.some(a => a.host === c.host && a.port === c.port))
  // candidates in preference order: mapped before reflexive, both before a second LAN address
  const addresses: RecordAddress[] = [...interfaces.slice(0, 1), ...extra.map(c => ({ host: c.host, port: c.port, kind: c.kind })), ...interfaces.slice(1)]
  return fitRecord({ addresses, natKind: t.natKind, rendezvous: t.rendezvous.slice(0, RECORD_MAX_RENDEZVOUS) })
}

/** Equal for two contents exactly when records sealed from them say the same (tags compared as bytes). */
function contentKey (c: RecordContent): string {
  return JSON.stringify([c.addresses.map(a => [a.host, a.port, a.kind]), c.natKind ?? null, (c.rendezvous ?? []).map(r => [r.host, r.port, Buffer.from(r.tag).toString('hex')])])
}

/**
 * The private networks this node is on, for deciding which private record addresses it may dial
 * (dht.md §5.3): the private block (RFC 1918, RFC 6598, RFC 4193) of each of its own addresses —
 * every interface's when bound to the wildcard, else the bound one's. A private network may span
 * many routed subnets (an office, a lab), so the block, not the on-link prefix, is what a private
 * address can be reached within; a node with only public addresses dials no private ones.
 */
export function localNetworks (bound: { host: string }): Prefix[] {
  const wildcard = bound.host === '0.0.0.0' || bound.host === '::'
  const own = wildcard
    ? Object.values(networkInterfaces()).flatMap(list => (list ?? []).filter(i => !i.internal).map(i => i.address))
    : [bound.host]
  const out: Prefix[] = []
  for (const host of own) {
    const block = privateBlock(host)
    if (block !== null && !out.some(p => p.bits === block.bits && p.ip.every((b, i) => b === block.ip[i]))) out.push(block)
  }
  return out
}

/** The Endpoint's 'dht' hook as the DHT's datagram socket (detached by close()). */
export function endpointDhtTransport (ep: Endpoint): DatagramTransport {
  const t: DatagramTransport = {
    local: ep.address,
    onDatagram: null,
    send: (to, bytes) => { ep.sendDatagram(to, bytes) },
    get sendErrors () { return ep.stats().sendErrors },
    close: async () => { ep.setHandler('dht', null) }
  }
  ep.setHandler('dht', (datagram, from) => { t.onDatagram?.(datagram, from) })
  return t
}

export class DhtComponent implements Component {
  readonly name = 'dht'
  node: DhtNode | null = null
  #renew: TimerHandle | null = null
  #transport: DatagramTransport | null = null
  #lastPublish: Promise<void> = Promise.resolve()
  /** DHT keys of the records we publish now (hex): an old period's is withdrawn when it drops out */
  #published = new Set<string>()
  #candidates = new BootstrapCandidates()
  /** Addresses we know as a contact's (or an inviter's) node: never passed on in our invites. */
  readonly #personal = new Set<string>()
  #remember: TimerHandle | null = null
  /** how the last join went: through the configured list, or through remembered nodes */
  joinedVia: 'configured' | 'remembered' | 'none' | null = null
  #republishQueued = false
  /** wall time of the last announce (0: none yet): a republish waits for the next seq */
  #lastAnnounceAt = 0
  /** what the last announce's records said (contentKey), or null before the first */
  #lastContent: string | null = null

  constructor (readonly opts: DhtComponentOptions) {}

  get tableSize (): number { return this.node?.table.size ?? 0 }

  async start (): Promise<void> {
    const ep = this.opts.endpoint()
    const { scheduler, random } = this.opts.world
    this.#transport = endpointDhtTransport(ep)
    // the DHT key is only hashed into the node id (dht.md §1): it is not the user's identity
    this.node = new DhtNode({ publicKey: random.bytes(32), scheduler, random, ...this.opts.node, transport: this.#transport })
    this.node.start()
    // joining and announcing take round trips: done in the background so the node starts at once
    this.#lastPublish = this.#joinAndAnnounce(ep)
  }

  /** Resolves once the first join and announce finished (tests, status). */
  async ready (): Promise<void> { await this.#lastPublish }

  async #joinAndAnnounce (ep: Endpoint): Promise<void> {
    const node = this.node
    if (node === null) return
    const saved = await this.opts.memory?.load()
    if (saved !== undefined) for (const c of saved.snapshot()) this.#note(c.addr, c.source, c.at)
    const configured = this.opts.bootstrap
    let r = await node.bootstrap(configured)
    this.joinedVia = r.reached > 0 ? 'configured' : 'none'
    // dht.md §6.4: the configured list is empty or silent — join through the nodes met before,
    // most recently useful first
    const remembered = this.#candidates.best(BOOTSTRAP_CANDIDATES_TRIED, configured)
    if (r.reached === 0 && remembered.length > 0 && node.running) {
      r = await node.bootstrap(remembered)
      if (r.reached > 0) this.joinedVia = 'remembered'
    }
    this.opts.log.info({ reached: r.reached, of: configured.length, remembered: remembered.length, via: this.joinedVia, contacts: r.contacts }, 'dht joined')
    if (!node.running) return
    void this.rememberNow() // not awaited: the announce does not wait for a file write
    this.#scheduleRemember()
    await this.#announce(ep)
  }

  /** An address worth trying at a later start (a contact's, or one an invite named). */
  noteCandidate (addr: string, source: CandidateSource): void {
    this.#note(addr, source, this.opts.world.scheduler.wallNow())
  }

  #note (addr: string, source: CandidateSource, at: number): void {
    const canonical = canonicalAddress(addr)
    if (canonical !== null && (source === 'contact' || source === 'invite')) this.#personal.add(canonical)
    this.#candidates.note(addr, source, at)
  }

  /**
   * A node that found no one to join through at start (empty or silent lists) joins through `addrs` now —
   * what an invite's addresses give a new user — and then announces. True if it started one.
   */
  joinIfAlone (addrs: readonly string[]): boolean {
    const node = this.node
    // not joined: nobody answered at start (others that pinged us since may be in the table, but
    // we have not looked ourselves up nor announced through them)
    if (node === null || !node.running || this.joinedVia !== 'none' || addrs.length === 0) return false
    this.joinedVia = null
    const ep = this.opts.endpoint()
    this.#lastPublish = this.#lastPublish.then(async () => {
      const r = await node.bootstrap(addrs)
      this.joinedVia = r.reached > 0 ? 'remembered' : 'none'
      this.opts.log.info({ reached: r.reached, of: addrs.length, contacts: r.contacts }, 'dht joined through an invite')
      if (r.reached > 0 && node.running) {
        void this.rememberNow()
        await this.#announce(ep)
      }
    })
    return true
  }

  /**
   * What an invite made now should carry (identity.md §7.1): where we are, and DHT nodes we met —
   * never one we know as a contact's or an inviter's node: an invite must not tell its readers
   * who our contacts are.
   */
  inviteAddresses (): InviteAddresses {
    const bound = this.opts.endpoint().address
    return pickInviteAddresses({
      observed: this.node?.observedAddress() ?? null,
      announced: announcedAddresses(bound).map(a => formatHostPort(a)),
      candidates: this.candidates().filter(a => !this.#personal.has(a))
    })
  }

  /** The remembered candidates, most recently useful first (status, invites). */
  candidates (n?: number): string[] {
    return this.#candidates.best(n)
  }

  /**
   * Notes every routing-table contact (each answered us from its own address) and writes the list,
   * merged with what others (a CLI adding a contact) wrote to the file meanwhile.
   */
  async rememberNow (): Promise<void> {
    const node = this.node
    const memory = this.opts.memory
    if (node === null || memory === undefined) return
    for (const c of node.table.all()) this.#candidates.note(c.addr, 'dht', c.lastSeen)
    const onDisk = await memory.load().catch(() => null)
    for (const c of onDisk?.snapshot() ?? []) this.#note(c.addr, c.source, c.at)
    await memory.save(this.#candidates).catch(err => this.opts.log.warn({ err: (err as Error).message }, 'dht peers not saved'))
  }

  #scheduleRemember (): void {
    if (this.opts.memory === undefined) return
    this.#remember = this.opts.world.scheduler.setTimer(REMEMBER_EVERY_MS, () => {
      this.#remember = null
      void this.rememberNow().then(() => { if (this.node?.running === true) this.#scheduleRemember() })
    })
  }

  async #announce (ep: Endpoint): Promise<void> {
    const node = this.node
    if (node === null || !node.running) return
    const { scheduler, random } = this.opts.world
    const ttl = this.opts.ttlMs ?? PRESENCE_TTL_MS
    const now = scheduler.wallNow()
    this.#lastAnnounceAt = now
    const content = this.#content(ep)
    this.#lastContent = contentKey(content)
    const addresses = content.addresses
    const sealed = presencePlan(now, ttl).map(plan => sealPresenceRecord({ publicIdentity: this.opts.identity, ...content, ...plan }, this.opts.identity, random.bytes(XCHACHA_NONCE_BYTES)))
    const keys = new Set(sealed.map(r => idToHex(r.key)))
    for (const old of this.#published) if (!keys.has(old)) node.unpublish(Uint8Array.from(Buffer.from(old, 'hex')))
    this.#published = keys
    await Promise.all(sealed.map(async ({ key, bytes }) => {
      try {
        const r = await node.publish(bytes, key)
        this.opts.log.info({ stored: r.stored, held: r.alreadyHeld, failed: r.failed, addresses: addresses.length }, 'dht presence announced')
      } catch (err) {
        this.opts.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'dht announce abandoned')
      }
    }))
    if (!node.running) return
    if (this.#renew !== null) scheduler.clearTimer(this.#renew) // a join through an invite announced again
    this.#renew = scheduler.setTimer(Math.max(1000, ttl - RENEW_BEFORE_MS), () => { this.#lastPublish = this.#announce(ep) })
  }

  /**
   * Seal and publish our records again now (what they say changed: a new reflexive address, a
   * rendezvous registration). Calls close together share one announce.
   */
  republish (): void {
    const node = this.node
    if (node === null || !node.running || this.#republishQueued) return
    this.#republishQueued = true
    const ep = this.opts.endpoint()
    // after the announce in flight, whether it ended well or not
    this.#lastPublish = this.#lastPublish.catch(() => {}).then(async () => {
      // A record's seq is whole seconds (presence-plan.ts): one re-sealed within the second of the
      // last announce has the same seq, and storers keep the one they hold (NOT_NEWER, dht.md
      // §5.4) — the change (a rendezvous registration) would not reach readers until the renewal.
      // So the new one waits for the next second.
      const { scheduler } = this.opts.world
      const nextSecond = Math.floor(this.#lastAnnounceAt / 1000) * 1000 + 1000
      const wait = this.#lastAnnounceAt === 0 ? 0 : nextSecond - scheduler.wallNow()
      if (wait > 0) await new Promise<void>(resolve => { scheduler.setTimer(wait, resolve) })
      this.#republishQueued = false
      // A change undone before this ran (or one the last announce already carried, as when a
      // rendezvous registration lands while the first announce is being sealed) leaves the
      // records saying what the storers hold: sealing them again would cost a lookup and k
      // STOREs for nothing. The renewal stays armed.
      if (this.#renew !== null && contentKey(this.#content(ep)) === this.#lastContent) {
        this.opts.log.debug({}, 'dht presence not republished: the record says what the last one said')
        return
      }
      if (this.#renew !== null) this.opts.world.scheduler.clearTimer(this.#renew)
      this.#renew = null
      this.opts.log.debug({}, 'dht presence republished: its traversal fields changed')
      await this.#announce(ep)
    })
  }

  /** What our records say now: our addresses and the traversal fields. */
  #content (ep: Endpoint): RecordContent {
    return recordContent(announcedAddresses(ep.address), this.opts.traversal?.() ?? null)
  }

  /** The presence of `fingerprint` as the network has it (opened and certified), or null. */
  async lookup (fingerprint: string, signal?: AbortSignal): Promise<FoundRecord | null> {
    if (this.node === null || !this.node.running) return null
    const debug = this.opts.log.isLevelEnabled('debug')
    const onLookup = (r: LookupResult, period: number): void => {
      this.opts.log.debug({ peer: fingerprint, period, found: r.record !== null, queried: r.queried, responded: r.responded, failed: r.failed, hops: r.hops, sent: r.sent, ms: Math.round(r.durationMs), aborted: r.aborted }, 'dht presence lookup')
    }
    const found = await this.node.findPresence(fingerprint, { signal, ...(debug ? { onLookup } : {}) })
    if (found === null) return null
    const bound = this.opts.endpoint().address
    return { ...found, scope: { loopback: isLoopbackHost(bound.host), localNetworks: localNetworks(bound) } }
  }

  async stop (): Promise<void> {
    if (this.#renew !== null) this.opts.world.scheduler.clearTimer(this.#renew)
    this.#renew = null
    if (this.#remember !== null) this.opts.world.scheduler.clearTimer(this.#remember)
    this.#remember = null
    if (this.node?.running === true) await this.rememberNow()
    await this.opts.memory?.close()
    this.node?.stop()
    await this.#transport?.close()
  }
}
