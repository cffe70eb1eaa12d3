// The connection manager as a pure state machine (proto-spec/messaging.md §5): which peers we
// know, how we found them, their state OFFLINE / CONNECTING / ONLINE / AWAY, and when to dial
// whom. Discovery, static --peer entries, inbound sessions and on-demand requests go in with
// `now`; dial actions, DHT lookups (§5.2) and state changes come out. The service carries out
// the dials (Noise XX, or IK when a presence record gave us the key) and lookups, and reports back.
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import {
  DHT_LOOKUP_INITIAL_MS, DHT_LOOKUP_JITTER, DHT_LOOKUP_MAX_MS, LOOKUP_AFTER_DIAL_FAILURES, MAX_CONCURRENT_DIALS,
  MAX_CONCURRENT_LOOKUPS, MAX_PEERS, RECONNECT_INITIAL_MS, RECONNECT_JITTER, RECONNECT_MAX_MS, STABLE_SESSION_MS
} from './constants.js'
import { PeerSeek, RecordAddresses } from './dht-seek.js'
import type { Candidate, CandidateKind, NatKind } from '../traversal/candidates.js'

export type PeerState = 'offline' | 'connecting' | 'online' | 'away'
export type PeerSource = 'mdns' | 'static' | 'inbound' | 'dht'

export interface Address { host: string, port: number }

export interface PeerView {
  /** null for a static peer whose handshake has not completed yet */
  fingerprint: string | null
  address: Address | null
  source: PeerSource
  state: PeerState
  since: number
  /** how a punch reached it (absent: dialled or found another way) */
  path?: PeerPath
}

/** A record's way in through NAT (proto-spec/traversal.md §5): its rendezvous nodes, candidates and NAT kind. */
export interface PunchInfo {
  rendezvous: Array<{ address: string, tag: Uint8Array }>
  candidates: Candidate[]
  natKind: NatKind
}

/** Which candidate of a punch carried the session, and the probe's round trip (`dmess peers --json`). */
export interface PeerPath { candidate: CandidateKind | 'peer-reflexive', rttMs: number | null }

/** What a verified presence record says (dht.md §5), already filtered to addresses we can reach. */
export interface FoundPresence {
  /** empty when the peer is reached by punching (`punch`) */
  addresses: Address[]
  punch?: PunchInfo
  expiresAt: number
  seq: number
  /** the peer's X25519 identity key: the dial can be a 1-RTT IK handshake */
  dhPublic: Uint8Array
}

export type ConnAction =
  /** remoteStatic: the peer's key from its presence record (IK), else null (XX) */
  | { type: 'dial', key: string, address: Address, expectFingerprint: string | null, remoteStatic: Uint8Array | null }
  /** ask the DHT for `fingerprint`'s presence record; report with lookupDone() */
  | { type: 'lookup', fingerprint: string }
  /** the lookup of `fingerprint` is no longer wanted (demand ended, or the peer reached us) */
  | { type: 'cancel-lookup', fingerprint: string }
  /** a known peer's state changed (presence event) */
  | { type: 'state', fingerprint: string, state: PeerState, address: Address | null }

/**
 * What users see of a peer's state (`dmess peers`, presence events). A peer is shown
 * "connecting" only on the first attempt since it was last reachable (or since we learned of it);
 * once an attempt failed, or its session ended, it is "offline" while the backoff redials it in
 * the background: a stopped node's redials (each a handshake given up after its retransmits)
 * would otherwise show "connecting" most of the time, for ever.
 */
function shownState (p: Peer): PeerState {
  return p.state === 'connecting' && p.unreached ? 'offline' : p.state
}

interface Peer {
  key: string
  fingerprint: string | null
  addresses: Address[]
  /** which address the next dial uses (rotates on failure) */
  next: number
  source: PeerSource
  state: PeerState
  /** a dial failed or a session ended since it was last reachable (a newer record resets `failures`, not this) */
  unreached: boolean
  /** the state last told in a 'state' action (shownState) */
  shown: PeerState
  since: number
  /** a --peer entry: always kept connected */
  pinned: boolean
  /** mDNS currently announces it */
  discovered: boolean
  /** a contact (or someone with outbox entries): worth reconnecting to */
  demanded: boolean
  dialing: boolean
  failures: number
  /** when the current session came up */
  upAt: number
  /** sessions in a row that ended before STABLE_SESSION_MS: the reconnect backoff's exponent */
  flaps: number
  nextDialAt: number
  /** DHT lookups of this peer (created on the first one) */
  seek: PeerSeek | null
  /** which of `addresses` came from a presence record, and until when */
  record: RecordAddresses
  /** X25519 key from the peer's presence record */
  remoteStatic: Uint8Array | null
  /** the punch that found its current address, if one did */
  path: PeerPath | null
  /** a punch found an address while a dial was running: that dial's end dials it at once */
  punched: boolean
}

export interface ConnectionManagerOptions {
  random: () => number
  reconnect?: BackoffPolicy
  maxDials?: number
  maxPeers?: number
  /** look wanted peers up in the DHT (the daemon has one); off: never a 'lookup' action */
  lookups?: boolean
  lookupBackoff?: BackoffPolicy
  maxLookups?: number
}

/** Addresses kept per peer. */
const MAX_ADDRESSES = 8

const staticKey = (a: Address): string => `static:${a.host}|${a.port}`

function sameAddress (a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port
}

export class ConnectionManager {
  readonly #peers = new Map<string, Peer>()
  readonly #policy: BackoffPolicy
  readonly #random: () => number
  readonly #maxDials: number
  readonly #maxPeers: number
  readonly #lookups: boolean
  readonly #lookupPolicy: BackoffPolicy
  readonly #maxLookups: number

  constructor (opts: ConnectionManagerOptions) {
    this.#random = opts.random
    this.#policy = opts.reconnect ?? { initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS, jitter: RECONNECT_JITTER }
    this.#maxDials = opts.maxDials ?? MAX_CONCURRENT_DIALS
    this.#maxPeers = opts.maxPeers ?? MAX_PEERS
    this.#lookups = opts.lookups ?? false
    this.#lookupPolicy = opts.lookupBackoff ?? { initialMs: DHT_LOOKUP_INITIAL_MS, maxMs: DHT_LOOKUP_MAX_MS, jitter: DHT_LOOKUP_JITTER }
    this.#maxLookups = opts.maxLookups ?? MAX_CONCURRENT_LOOKUPS
  }

  /**
   * A --peer host:port: dialled now and whenever the link drops. With the fingerprint of whoever
   * is there, the entry is that peer's from the start and its dials can be answered (a node
   * answers only a dial that names it, proto-spec/wire.md §4.1.1).
   */
  addStatic (address: Address, now: number, fingerprint?: string): void {
    if (fingerprint !== undefined) {
      const p = this.#peers.get(fingerprint) ?? this.#put(this.#blank(fingerprint, fingerprint, 'static', now))
      p.pinned = true
      p.source = 'static'
      this.#learn(p, [address], 'static', false)
      return
    }
    const key = staticKey(address)
    if (this.#peers.has(key)) return
    for (const p of this.#peers.values()) if (p.pinned && p.addresses.some(a => sameAddress(a, address))) return
    this.#put({ ...this.#blank(key, null, 'static', now), addresses: [{ ...address }], pinned: true })
  }

  /** mDNS found `fingerprint` at these addresses (a hint until a handshake proves it). */
  discovered (fingerprint: string, addresses: readonly Address[], now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint) ?? this.#put(this.#blank(fingerprint, fingerprint, 'mdns', now))
    p.discovered = true
    this.#learn(p, addresses, 'mdns', true)
    if (p.state === 'offline' && !p.dialing) p.nextDialAt = Math.min(p.nextDialAt, now)
    return []
  }

  /** mDNS says it left (goodbye or expiry). */
  lost (fingerprint: string): void {
    const p = this.#peers.get(fingerprint)
    if (p !== undefined) p.discovered = false
  }

  /** Remember where a peer was reachable (e.g. a contact's address from an earlier run). */
  remember (fingerprint: string, address: Address, source: PeerSource, now: number): void {
    const p = this.#peers.get(fingerprint) ?? this.#put(this.#blank(fingerprint, fingerprint, source, now))
    this.#learn(p, [address], source, false)
  }

  /**
   * We want a link to `fingerprint` (a contact; or the outbox has entries for it), or no longer.
   * With lookups on, an unknown peer is entered (no address yet: the DHT is asked); demand that
   * comes back resets the lookup backoff; demand that ends cancels a lookup in flight.
   */
  demand (fingerprint: string, wanted: boolean, now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint) ?? (wanted && this.#lookups ? this.#put(this.#blank(fingerprint, fingerprint, 'dht', now)) : undefined)
    if (p === undefined) return []
    if (wanted && !p.demanded) p.seek?.renew(now)
    p.demanded = wanted
    if (wanted && p.state === 'offline' && !p.dialing) p.nextDialAt = Math.min(p.nextDialAt, now)
    return wanted ? [] : this.#cancelSeek(p)
  }

  /** Dial `fingerprint` soon if we know where, else look it up (the outbox has work for it). */
  poke (fingerprint: string, now: number): void {
    const p = this.#peers.get(fingerprint) ?? (this.#lookups ? this.#put(this.#blank(fingerprint, fingerprint, 'dht', now)) : undefined)
    if (p !== undefined && p.state === 'offline' && !p.dialing && (p.addresses.length > 0 || this.#lookups)) {
      p.demanded = true
      p.nextDialAt = Math.min(p.nextDialAt, now)
    }
  }

  /** The user asked for this wanted, offline peer now (a message sent): its lookup backoff starts over. */
  renew (fingerprint: string, now: number): void {
    const p = this.#peers.get(fingerprint)
    if (p?.demanded === true && p.state === 'offline') p.seek?.renew(now)
  }

  /**
   * The lookup of `fingerprint` ended: the record (already verified against the fingerprint) or
   * null. A record newer than the last one we used resets the dial backoff and is dialled at once.
   */
  lookupDone (fingerprint: string, found: FoundPresence | null, now: number): void {
    const p = this.#peers.get(fingerprint)
    if (p?.seek?.inFlight !== true) return // cancelled meanwhile
    const current = found !== null && found.expiresAt > now ? found : null
    // a record that says to punch (no address to dial, traversal.md §5) is used too: by the punch
    const used = current !== null && (current.addresses.length > 0 || current.punch !== undefined)
    const news = p.seek.finished(used ? current.seq : null, now, this.#lookupPolicy, this.#random())
    const usable = current !== null && current.addresses.length > 0 ? current : null
    if (usable === null) return
    p.remoteStatic = usable.dhPublic
    if (!p.pinned && !p.discovered) p.source = 'dht'
    p.addresses = p.record.replace(p.addresses, usable.addresses, usable.expiresAt, MAX_ADDRESSES)
    if (!news) return
    p.failures = 0
    p.next = 0
    if (p.state === 'offline' && !p.dialing) p.nextDialAt = Math.min(p.nextDialAt, now)
  }

  /**
   * A hole punch found `address` for `fingerprint` (proto-spec/traversal.md §6): it goes first
   * and is dialled now with the record's key (IK), unless a session is up. True when a dial is
   * running (toward a record address, §5.3): the caller aborts it, and its failure dials `address`
   * at once, with no backoff.
   */
  punched (fingerprint: string, address: Address, remoteStatic: Uint8Array, path: PeerPath, now: number, dialingThere = false): boolean {
    const p = this.#peers.get(fingerprint)
    if (p === undefined) return false
    p.remoteStatic = remoteStatic
    p.path = path
    this.#learn(p, [address], 'dht', false, true)
    if (p.state === 'online' || p.state === 'away') return false
    p.failures = 0
    p.nextDialAt = now
    // the running dial goes to this very address (the answerer's early dial, traversal.md §5.3): it stays
    p.punched = p.dialing && !dialingThere
    return p.punched
  }

  /**
   * A contact's punch offer was answered (traversal.md §5.3, the answerer's early dial): dial
   * `address` with the offer's key now, unless a session is up or a dial runs. True: a dial is due.
   */
  offered (fingerprint: string, address: Address, remoteStatic: Uint8Array, now: number): boolean {
    const p = this.#peers.get(fingerprint)
    if (p === undefined || p.state === 'online' || p.state === 'away' || p.dialing) return false
    p.remoteStatic = remoteStatic
    this.#learn(p, [address], 'dht', false, true)
    p.failures = 0
    p.nextDialAt = now
    return true
  }

  /** How the next session with `fingerprint` came (a relay's, or a punch candidate moved to): shown by list(). */
  setPath (fingerprint: string, path: PeerPath | null): void {
    const p = this.#peers.get(fingerprint)
    if (p !== undefined) p.path = path
  }

  /** A dial of `key` produced a session with `fingerprint`. sessionUp() follows. */
  dialSucceeded (key: string, fingerprint: string): void {
    const p = this.#peers.get(key)
    if (p === undefined) return
    p.dialing = false
    p.punched = false
    p.failures = 0
    if (p.fingerprint === null) this.#adopt(p, fingerprint)
  }

  /** A dial of `key` gave up; retry with backoff if the peer is still wanted. */
  dialFailed (key: string, now: number): ConnAction[] {
    const p = this.#peers.get(key)
    if (p === undefined) return []
    p.dialing = false
    if (p.punched) {
      // superseded by a punch: its address is first in the list, dialled now (still 'connecting')
      p.punched = false
      p.next = 0
      p.dialing = true
      return [this.#dialAction(p, p.addresses[0] as Address)]
    }
    p.unreached = true
    p.next = (p.next + 1) % Math.max(1, p.addresses.length)
    p.nextDialAt = now + backoffDelay(p.failures++, this.#policy, this.#random())
    return p.state === 'connecting' ? this.#setState(p, 'offline', now) : []
  }

  /** A session with `fingerprint` is up (we dialled, or it dialled us from `address`). */
  sessionUp (fingerprint: string, address: Address, now: number): ConnAction[] {
    let p = this.#peers.get(fingerprint)
    if (p === undefined) {
      p = this.#put(this.#blank(fingerprint, fingerprint, 'inbound', now))
    }
    this.#learn(p, [address], 'inbound', false, true)
    p.failures = 0
    p.unreached = false
    if (p.state !== 'online' && p.state !== 'away') p.upAt = now
    p.seek?.renew(now) // reachable again: if it is lost later, ask the DHT at once
    const out = this.#cancelSeek(p)
    return p.state === 'online' || p.state === 'away' ? out : [...out, ...this.#setState(p, 'online', now)]
  }

  /** The peer's roaming address (an authenticated packet from a new address). */
  moved (fingerprint: string, address: Address): void {
    const p = this.#peers.get(fingerprint)
    if (p !== undefined) this.#learn(p, [address], p.source, false, true)
  }

  /**
   * The session with `fingerprint` ended; a wanted peer is redialled after a backoff that starts
   * short after a stable session and grows while sessions keep ending early (STABLE_SESSION_MS).
   */
  sessionDown (fingerprint: string, now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint)
    if (p === undefined || p.state === 'offline') return []
    if (now - p.upAt >= STABLE_SESSION_MS) p.flaps = 0
    p.path = null // a new session may take another path
    p.failures++
    p.unreached = true
    p.nextDialAt = now + backoffDelay(p.flaps++, this.#policy, this.#random())
    return this.#setState(p, 'offline', now)
  }

  /** A PRESENCE from the peer (only meaningful while its session is up). */
  presence (fingerprint: string, state: 'online' | 'away' | 'offline', now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint)
    if (p === undefined || p.state === 'offline' || p.state === 'connecting') return []
    return p.state === state ? [] : this.#setState(p, state, now)
  }

  /** The state as shown (list(), 'state' actions): see shownState. */
  state (fingerprint: string): PeerState {
    const p = this.#peers.get(fingerprint)
    return p === undefined ? 'offline' : shownState(p)
  }

  /** Dials due at `now`, oldest-due first, at most maxDials running at once; then lookups due. */
  tick (now: number): ConnAction[] {
    const out: ConnAction[] = []
    for (const p of this.#peers.values()) this.#expire(p, now)
    let running = [...this.#peers.values()].filter(p => p.dialing).length
    const due = [...this.#peers.values()].filter(p => this.#dueToDial(p, now)).sort((a, b) => a.nextDialAt - b.nextDialAt)
    for (const p of due) {
      if (running >= this.#maxDials) break
      const address = p.addresses[p.next % p.addresses.length] as Address
      p.dialing = true
      running++
      if (p.state === 'offline') out.push(...this.#setState(p, 'connecting', now))
      out.push(this.#dialAction(p, address))
    }
    return [...out, ...this.#lookupsDue(now)]
  }

  #dialAction (p: Peer, address: Address): ConnAction {
    const remoteStatic = p.fingerprint === null ? null : p.remoteStatic
    return { type: 'dial', key: p.key, address: { ...address }, expectFingerprint: p.fingerprint, remoteStatic }
  }

  /** When tick() next has a dial or lookup to start (Infinity: none). */
  get nextDeadline (): number {
    let at = Infinity
    for (const p of this.#peers.values()) if (this.#wanted(p) && p.state === 'offline' && !p.dialing && p.addresses.length > 0) at = Math.min(at, p.nextDialAt)
    if (this.#lookupsRunning() >= this.#maxLookups) return at // a lookup that ends rearms
    for (const p of this.#peers.values()) if (this.#needsLookup(p) && p.seek?.inFlight !== true) at = Math.min(at, p.seek?.nextAt ?? 0)
    return at
  }

  /** Peers with an address (one only sought in the DHT is not shown until it has one). */
  list (): PeerView[] {
    return [...this.#peers.values()].filter(p => p.addresses.length > 0).map(p => ({
      fingerprint: p.fingerprint,
      address: p.addresses.length > 0 ? { ...(p.addresses[p.next % p.addresses.length] as Address) } : null,
      source: p.source,
      state: shownState(p),
      since: p.since,
      ...(p.path === null ? {} : { path: { ...p.path } })
    }))
  }

  get onlineCount (): number {
    let n = 0
    for (const p of this.#peers.values()) if (p.state === 'online' || p.state === 'away') n++
    return n
  }

  // ---- inside ----

  #wanted (p: Peer): boolean {
    return p.pinned || p.discovered || p.demanded
  }

  #dueToDial (p: Peer, now: number): boolean {
    return this.#wanted(p) && p.state === 'offline' && !p.dialing && p.addresses.length > 0 && p.nextDialAt <= now
  }

  /** §5.2: a demanded peer, offline, with no address or whose addresses failed, not being dialled. */
  #needsLookup (p: Peer): boolean {
    return this.#lookups && p.demanded && p.fingerprint !== null && p.state === 'offline' && !p.dialing &&
      (p.addresses.length === 0 || p.failures >= LOOKUP_AFTER_DIAL_FAILURES)
  }

  #lookupsRunning (): number {
    let n = 0
    for (const p of this.#peers.values()) if (p.seek?.inFlight === true) n++
    return n
  }

  #lookupsDue (now: number): ConnAction[] {
    const out: ConnAction[] = []
    let running = this.#lookupsRunning()
    for (const p of this.#peers.values()) {
      if (running >= this.#maxLookups) break
      if (!this.#needsLookup(p)) continue
      const seek = p.seek ??= new PeerSeek(now)
      if (!seek.due(now)) continue
      seek.inFlight = true
      running++
      out.push({ type: 'lookup', fingerprint: p.key })
    }
    return out
  }

  #cancelSeek (p: Peer): ConnAction[] {
    if (p.seek?.inFlight !== true) return []
    p.seek.inFlight = false
    return [{ type: 'cancel-lookup', fingerprint: p.key }]
  }

  /** Record addresses live as long as their record (dht.md §5); expired ones are dropped. */
  #expire (p: Peer, now: number): void {
    const kept = p.record.dropExpired(p.addresses, now)
    if (kept === null) return
    p.addresses = kept
    p.next = 0
  }

  #blank (key: string, fingerprint: string | null, source: PeerSource, now: number): Peer {
    return {
      key, fingerprint, addresses: [], next: 0, source, state: 'offline', shown: 'offline', unreached: false, since: now, pinned: false,
      discovered: false, demanded: false, dialing: false, failures: 0, upAt: now, flaps: 0, nextDialAt: now,
      seek: null, record: new RecordAddresses(), remoteStatic: null, path: null, punched: false
    }
  }

  /**
   * Adds addresses; `replace` (mDNS) makes them the whole list, `current` puts the first one in
   * front. A peer known so far only by fingerprint takes `source` as how it was found. Another
   * source vouching for a record address keeps it past the record's expiry.
   */
  #learn (p: Peer, addresses: readonly Address[], source: PeerSource, replace: boolean, current = false): void {
    if (p.addresses.length === 0 && !p.pinned) p.source = source
    if (replace && !p.pinned) {
      p.addresses = addresses.map(a => ({ ...a }))
      p.next = 0
      p.record.clear()
      if (p.source === 'dht') p.source = source // the LAN now says where it is
      return
    }
    for (const a of addresses) {
      p.record.confirm(a)
      const i = p.addresses.findIndex(b => sameAddress(a, b))
      if (i >= 0 && current) p.addresses.splice(i, 1)
      if (i < 0 || current) p.addresses.unshift({ ...a })
    }
    if (current) p.next = 0
    if (p.addresses.length > MAX_ADDRESSES) p.addresses.length = MAX_ADDRESSES
  }

  /** A static entry learned whose address it is: merge it into that fingerprint's record. */
  #adopt (p: Peer, fingerprint: string): void {
    this.#peers.delete(p.key)
    const existing = this.#peers.get(fingerprint)
    if (existing === undefined) {
      p.key = fingerprint
      p.fingerprint = fingerprint
      this.#peers.set(fingerprint, p)
      return
    }
    existing.pinned = true
    existing.source = 'static'
    this.#learn(existing, p.addresses, 'static', false)
  }

  #setState (p: Peer, state: PeerState, now: number): ConnAction[] {
    p.state = state
    const shown = shownState(p)
    if (shown === p.shown) return []
    p.shown = shown // a redial of a peer already shown offline: nothing to tell
    p.since = now
    if (p.fingerprint === null) return []
    const address = p.addresses[p.next % Math.max(1, p.addresses.length)] ?? null
    return [{ type: 'state', fingerprint: p.fingerprint, state: shown, address: address === null ? null : { ...address } }]
  }

  #put (p: Peer): Peer {
    if (this.#peers.size >= this.#maxPeers) this.#evict()
    this.#peers.set(p.key, p)
    return p
  }

  /** Forget the longest-offline peer that nobody asked for (a flood of inbound strangers cannot grow the table). */
  #evict (): void {
    let victim: Peer | undefined
    for (const p of this.#peers.values()) {
      if (this.#wanted(p) || p.state !== 'offline' || p.dialing || p.seek?.inFlight === true) continue
      if (victim === undefined || p.since < victim.since) victim = p
    }
    if (victim !== undefined) this.#peers.delete(victim.key)
  }
}
