// The discovery cache (proto-spec/discovery.md §4, §5): dmess records heard on the link, with
// TTLs (RFC 6762 §10), goodbyes (§10.1), cache flushes (§10.2) and refresh queries (§5.2), and
// the peers they add up to. Pure: observations and `now` in, peer changes and questions out.
import type { Answer, Question } from 'dns-packet'
import {
  SERVICE_TYPE, GOODBYE_DELAY_MS, CACHE_FLUSH_GRACE_MS, REFRESH_FRACTIONS, REFRESH_JITTER_FRACTION,
  KNOWN_ANSWER_MIN_FRACTION, MAX_INSTANCES, MAX_ADDRESSES_PER_HOST, MAX_ADDRESSES_PER_PEER,
  RESOLVE_FIRST_DELAY_MS, RESOLVE_FIRST_RETRY_MS, RESOLVE_MAX_ATTEMPTS
} from './constants.js'
import type { DropReason, Observation, AddressObservation } from './mdns-parse.js'

/** A dmess node seen on the LAN. Every field is a hint until a handshake authenticates it. */
export interface DiscoveredPeer {
  fingerprint: string
  addresses: Array<{ host: string, port: number }>
  protocolVersion: number
  /** `now()` of the last record heard from it (ms). */
  lastSeen: number
}

export interface LostPeer {
  fingerprint: string
  /**
   * 'goodbye': it said so (RFC 6762 §10.1); 'expired': its records' TTLs ran out; 'forgotten':
   * we no longer know its fingerprint (no longer a contact), so its token is a stranger's.
   */
  reason: 'goodbye' | 'expired' | 'forgotten'
  lastSeen: number
}

export type PeerChange = { type: 'peer', peer: DiscoveredPeer } | { type: 'peer-lost', lost: LostPeer }

interface Entry {
  receivedAt: number
  ttlMs: number
  expiresAt: number
  goodbye: boolean
  /** Index into REFRESH_FRACTIONS of the next refresh query, and when it is due. */
  refreshStep: number
  refreshAt: number | null
}

interface Instance {
  name: string
  ptr?: Entry
  srv?: Entry & { port: number, target: string }
  /** fingerprint null: a token we did not recognise (a stranger's), never a peer; the token is kept to recognise it later (reidentify) */
  txt?: Entry & { token: string, fingerprint: string | null, protocolVersion: number }
  lastSeen: number
  resolveAttempts: number
  resolveAt: number | null
}

interface AddressEntry extends Entry { family: 4 | 6, address: string }

export interface PeerCacheOptions {
  /** Our fingerprint (a TXT whose token is ours, under another name, is another node with our identity), instance name and host name (records about them are ours, looped back). */
  ownFingerprint: string
  ownInstance: string
  ownHost: string
  /** [0, 1): jitter of refresh queries (RFC 6762 §5.2). */
  random: () => number
  maxInstances?: number
}

export class PeerCache {
  private readonly opts: PeerCacheOptions
  private readonly instances = new Map<string, Instance>()
  private readonly hosts = new Map<string, Map<string, AddressEntry>>()
  private emitted = new Map<string, DiscoveredPeer>()
  /** This window's names and the last one's (whose goodbye may still loop back to us). */
  private ownInstances: string[] = []
  private ownHosts: string[] = []

  constructor (opts: PeerCacheOptions) {
    this.opts = opts
    this.ownNames(opts.ownInstance, opts.ownHost)
  }

  /** Our names changed (a new token window, discovery.md §2.4): records about these are ours too. */
  ownNames (instance: string, host: string): void {
    this.ownInstances = [instance.toLowerCase(), ...this.ownInstances].slice(0, 2)
    this.ownHosts = [host.toLowerCase(), ...this.ownHosts].slice(0, 2)
  }

  /** Host names some SRV record points at: only their A/AAAA records are kept. */
  knowsHost (host: string): boolean {
    for (const i of this.instances.values()) if (i.srv?.target === host) return true
    return false
  }

  /** Applies observations; returns what they dropped and the peer changes they cause. */
  ingest (observations: readonly Observation[], now: number): { drops: DropReason[], changes: PeerChange[] } {
    const drops: DropReason[] = []
    for (const o of observations) {
      const drop = this.apply(o, now)
      if (drop !== null) drops.push(drop)
    }
    return { drops, changes: this.diff(() => 'expired') }
  }

  private apply (o: Observation, now: number): DropReason | null {
    if (o.kind === 'addr') return this.applyAddress(o, now)
    if (this.ownInstances.includes(o.instance)) return 'own'
    if (o.kind === 'txt' && o.fingerprint === this.opts.ownFingerprint) return 'same-identity'
    const inst = this.instance(o.instance, o.ttl, now)
    if (inst === null) return o.ttl === 0 ? null : 'cache-full'
    if (o.ttl === 0 && inst[o.kind] === undefined) return null // goodbye for a record we never had
    inst.lastSeen = now
    if (o.kind === 'ptr') inst.ptr = this.entry(inst.ptr, o.ttl, now)
    else if (o.kind === 'srv') inst.srv = { ...this.entry(inst.srv, o.ttl, now), port: o.port, target: o.target }
    else inst.txt = { ...this.entry(inst.txt, o.ttl, now), token: o.token, fingerprint: o.fingerprint, protocolVersion: o.protocolVersion }
    return null
  }

  /** The instance to update, created if new (a goodbye for an unknown one creates nothing). */
  private instance (name: string, ttl: number, now: number): Instance | null {
    const known = this.instances.get(name)
    if (known !== undefined) return known
    if (ttl === 0 || this.instances.size >= (this.opts.maxInstances ?? MAX_INSTANCES)) return null
    const inst: Instance = { name, lastSeen: now, resolveAttempts: 0, resolveAt: now + RESOLVE_FIRST_DELAY_MS }
    this.instances.set(name, inst)
    return inst
  }

  /** A fresh entry; TTL 0 only shortens an existing one to GOODBYE_DELAY_MS (RFC 6762 §10.1). */
  private entry<T extends Entry> (old: T | undefined, ttl: number, now: number): Entry {
    if (ttl === 0) {
      const base = old ?? { receivedAt: now, ttlMs: 0, expiresAt: now, goodbye: true, refreshStep: 0, refreshAt: null }
      return { ...base, expiresAt: Math.min(base.expiresAt, now + GOODBYE_DELAY_MS), goodbye: true, refreshAt: null }
    }
    const ttlMs = ttl * 1000
    return { receivedAt: now, ttlMs, expiresAt: now + ttlMs, goodbye: false, refreshStep: 0, refreshAt: this.refreshTime(now, ttlMs, 0) }
  }

  private refreshTime (receivedAt: number, ttlMs: number, step: number): number | null {
    const fraction = REFRESH_FRACTIONS[step]
    if (fraction === undefined) return null
    return receivedAt + ttlMs * (fraction + this.opts.random() * REFRESH_JITTER_FRACTION)
  }

  private applyAddress (o: AddressObservation, now: number): DropReason | null {
    if (this.ownHosts.includes(o.host)) return 'own'
    if (!this.knowsHost(o.host)) return null
    const set = this.hosts.get(o.host) ?? new Map<string, AddressEntry>()
    this.hosts.set(o.host, set)
    if (o.flush) {
      // RFC 6762 §10.2: other addresses of this name and type heard over a second ago go soon
      for (const e of set.values()) {
        if (e.family === o.family && e.address !== o.address && e.receivedAt < now - CACHE_FLUSH_GRACE_MS) {
          e.expiresAt = Math.min(e.expiresAt, now + CACHE_FLUSH_GRACE_MS)
          e.refreshAt = null
        }
      }
    }
    const old = set.get(o.address)
    if (old === undefined && (o.ttl === 0 || set.size >= MAX_ADDRESSES_PER_HOST)) return null
    set.set(o.address, { ...this.entry(old, o.ttl, now), family: o.family, address: o.address })
    return null
  }

  /**
   * The fingerprints we know changed (a contact added or removed, discovery.md §2.4): resolves
   * every cached token again, as of when it was heard, so a contact's node already in the cache
   * becomes a peer at once and a former contact's stops being one. Returns the peer changes.
   */
  reidentify (recognise: (token: string, heardAt: number) => string | null): PeerChange[] {
    for (const inst of this.instances.values()) {
      const txt = inst.txt
      if (txt === undefined || txt.goodbye) continue
      const fp = recognise(txt.token, txt.receivedAt)
      txt.fingerprint = fp === this.opts.ownFingerprint ? null : fp
    }
    return this.diff(() => 'forgotten')
  }

  /** Removes what has expired by `now`; returns the peers lost (or changed) because of it. */
  expire (now: number): PeerChange[] {
    const saidGoodbye = new Set<string>() // fingerprints whose records went because of a goodbye
    const gone = (e: Entry | undefined, fps: () => Array<string | undefined>): boolean => {
      if (e === undefined || e.expiresAt > now) return false
      if (e.goodbye) for (const fp of fps()) if (fp !== undefined) saidGoodbye.add(fp)
      return true
    }
    for (const [name, inst] of this.instances) {
      const fp = (): Array<string | undefined> => [inst.txt?.fingerprint ?? undefined]
      if (gone(inst.ptr, fp)) delete inst.ptr
      if (gone(inst.srv, fp)) delete inst.srv
      if (gone(inst.txt, fp)) delete inst.txt
      if (inst.ptr === undefined && inst.srv === undefined && inst.txt === undefined) this.instances.delete(name)
    }
    for (const [host, set] of this.hosts) {
      const fps = (): Array<string | undefined> =>
        [...this.instances.values()].filter(i => i.srv?.target === host).map(i => i.txt?.fingerprint ?? undefined)
      for (const [a, e] of set) if (gone(e, fps)) set.delete(a)
      if (set.size === 0 || !this.knowsHost(host)) this.hosts.delete(host)
    }
    return this.diff(fp => (saidGoodbye.has(fp) ? 'goodbye' : 'expired'))
  }

  /** Recomputes the peers and reports the differences from what was last reported. */
  private diff (lostReason: (fingerprint: string) => LostPeer['reason']): PeerChange[] {
    const current = this.computePeers()
    const changes: PeerChange[] = []
    for (const [fp, peer] of current) {
      const before = this.emitted.get(fp)
      if (before === undefined || !samePeer(before, peer)) changes.push({ type: 'peer', peer })
    }
    for (const [fp, before] of this.emitted) {
      if (!current.has(fp)) changes.push({ type: 'peer-lost', lost: { fingerprint: fp, reason: lostReason(fp), lastSeen: before.lastSeen } })
    }
    this.emitted = current
    return changes
  }

  /** A peer per fingerprint: the union of its complete instances (PTR, SRV, TXT, ≥ 1 address). */
  private computePeers (): Map<string, DiscoveredPeer> {
    const peers = new Map<string, DiscoveredPeer>()
    for (const inst of this.instances.values()) {
      const { ptr, srv, txt } = inst
      if (ptr === undefined || srv === undefined || txt === undefined || txt.fingerprint === null) continue
      const addrs = [...(this.hosts.get(srv.target)?.values() ?? [])]
      if (addrs.length === 0) continue
      const fingerprint = txt.fingerprint
      const peer = peers.get(fingerprint) ?? { fingerprint, addresses: [], protocolVersion: 0, lastSeen: 0 }
      peer.protocolVersion = Math.max(peer.protocolVersion, txt.protocolVersion)
      peer.lastSeen = Math.max(peer.lastSeen, inst.lastSeen)
      for (const a of addrs.sort(byFamilyThenAddress)) {
        if (peer.addresses.length >= MAX_ADDRESSES_PER_PEER) break
        if (!peer.addresses.some(x => x.host === a.address && x.port === srv.port)) peer.addresses.push({ host: a.address, port: srv.port })
      }
      peers.set(fingerprint, peer)
    }
    return peers
  }

  peers (): DiscoveredPeer[] {
    return [...this.emitted.values()].map(p => ({ ...p, addresses: p.addresses.map(a => ({ ...a })) }))
  }

  /**
   * Questions due by `now`: refreshes at 80–95 % of a record's TTL (RFC 6762 §5.2) and lookups of
   * the parts an instance still lacks (RFC 6763 §12 lists them as additionals, but may not).
   */
  dueQuestions (now: number): Question[] {
    const out = new Map<string, Question>()
    const ask = (name: string, type: Question['type']): void => { out.set(`${name}|${type}`, { name, type, class: 'IN' }) }
    const due = (e: Entry | undefined): boolean => {
      if (e === undefined || e.refreshAt === null || e.refreshAt > now) return false
      e.refreshStep++
      e.refreshAt = this.refreshTime(e.receivedAt, e.ttlMs, e.refreshStep)
      return true
    }
    for (const inst of this.instances.values()) {
      if (due(inst.ptr)) ask(SERVICE_TYPE, 'PTR')
      if (due(inst.srv)) ask(inst.name, 'SRV')
      if (due(inst.txt)) ask(inst.name, 'TXT')
      this.resolveQuestions(inst, now, ask)
    }
    for (const [host, set] of this.hosts) {
      for (const e of set.values()) if (due(e)) ask(host, e.family === 4 ? 'A' : 'AAAA')
    }
    return [...out.values()]
  }

  private resolveQuestions (inst: Instance, now: number, ask: (name: string, type: Question['type']) => void): void {
    const hasAddress = inst.srv !== undefined && (this.hosts.get(inst.srv.target)?.size ?? 0) > 0
    const complete = inst.srv !== undefined && inst.txt !== undefined && hasAddress
    if (complete || inst.ptr === undefined) {
      inst.resolveAttempts = 0
      inst.resolveAt = now + RESOLVE_FIRST_DELAY_MS
      return
    }
    if (inst.resolveAt === null || inst.resolveAt > now) return
    if (inst.srv === undefined) ask(inst.name, 'SRV')
    if (inst.txt === undefined) ask(inst.name, 'TXT')
    if (inst.srv !== undefined && !hasAddress) { ask(inst.srv.target, 'A'); ask(inst.srv.target, 'AAAA') }
    inst.resolveAttempts++
    inst.resolveAt = inst.resolveAttempts >= RESOLVE_MAX_ATTEMPTS ? null : now + RESOLVE_FIRST_RETRY_MS * 2 ** (inst.resolveAttempts - 1)
  }

  /** RFC 6762 §7.1: PTR answers we hold with more than half their TTL left, for our queries. */
  knownAnswers (now: number): Answer[] {
    const out: Answer[] = []
    for (const inst of this.instances.values()) {
      const p = inst.ptr
      if (p === undefined || p.goodbye) continue
      const left = p.expiresAt - now
      if (left > p.ttlMs * KNOWN_ANSWER_MIN_FRACTION) out.push({ name: SERVICE_TYPE, type: 'PTR', ttl: Math.floor(left / 1000), data: inst.name })
    }
    return out
  }

  /** When expire() or dueQuestions() next has something to do, or null. */
  nextDeadline (): number | null {
    let next = Infinity
    const consider = (e: Entry | undefined): void => {
      if (e === undefined) return
      next = Math.min(next, e.expiresAt, e.refreshAt ?? Infinity)
    }
    for (const inst of this.instances.values()) {
      consider(inst.ptr); consider(inst.srv); consider(inst.txt)
      if (inst.resolveAt !== null && inst.ptr !== undefined && !this.isComplete(inst)) next = Math.min(next, inst.resolveAt)
    }
    for (const set of this.hosts.values()) for (const e of set.values()) consider(e)
    return next === Infinity ? null : next
  }

  private isComplete (inst: Instance): boolean {
    return inst.srv !== undefined && inst.txt !== undefined && (this.hosts.get(inst.srv.target)?.size ?? 0) > 0
  }

  /** Number of instances held (for stats and tests of the bounds). */
  get size (): number {
    return this.instances.size
  }
}

function byFamilyThenAddress (a: AddressEntry, b: AddressEntry): number {
  return a.family - b.family || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)
}

function samePeer (a: DiscoveredPeer, b: DiscoveredPeer): boolean {
  return a.protocolVersion === b.protocolVersion && a.addresses.length === b.addresses.length &&
    a.addresses.every((x, i) => x.host === b.addresses[i]?.host && x.port === b.addresses[i]?.port)
}
