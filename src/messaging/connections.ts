// The connection manager as a pure state machine (proto-spec/messaging.md §5): which peers we
// know, how we found them, their state OFFLINE / CONNECTING / ONLINE / AWAY, and when to dial
// whom. Discovery, static --peer entries, inbound sessions and on-demand requests go in with
// `now`; dial actions and state changes come out. The service carries out the dials (Noise XX
// through the Endpoint) and reports back.
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import { MAX_CONCURRENT_DIALS, MAX_PEERS, RECONNECT_INITIAL_MS, RECONNECT_JITTER, RECONNECT_MAX_MS } from './constants.js'

export type PeerState = 'offline' | 'connecting' | 'online' | 'away'
export type PeerSource = 'mdns' | 'static' | 'inbound'

export interface Address { host: string, port: number }

export interface PeerView {
  /** null for a static peer whose handshake has not completed yet */
  fingerprint: string | null
  address: Address | null
  source: PeerSource
  state: PeerState
  since: number
}

export type ConnAction =
  | { type: 'dial', key: string, address: Address, expectFingerprint: string | null }
  /** a known peer's state changed (presence event) */
  | { type: 'state', fingerprint: string, state: PeerState, address: Address | null }

interface Peer {
  key: string
  fingerprint: string | null
  addresses: Address[]
  /** which address the next dial uses (rotates on failure) */
  next: number
  source: PeerSource
  state: PeerState
  since: number
  /** a --peer entry: always kept connected */
  pinned: boolean
  /** mDNS currently announces it */
  discovered: boolean
  /** a contact (or someone with outbox entries): worth reconnecting to */
  demanded: boolean
  dialing: boolean
  failures: number
  nextDialAt: number
}

export interface ConnectionManagerOptions {
  random: () => number
  reconnect?: BackoffPolicy
  maxDials?: number
  maxPeers?: number
}

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

  constructor (opts: ConnectionManagerOptions) {
    this.#random = opts.random
    this.#policy = opts.reconnect ?? { initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS, jitter: RECONNECT_JITTER }
    this.#maxDials = opts.maxDials ?? MAX_CONCURRENT_DIALS
    this.#maxPeers = opts.maxPeers ?? MAX_PEERS
  }

  /** A --peer host:port: dialled now and whenever the link drops. */
  addStatic (address: Address, now: number): void {
    const key = staticKey(address)
    if (this.#peers.has(key)) return
    for (const p of this.#peers.values()) if (p.pinned && p.addresses.some(a => sameAddress(a, address))) return
    this.#put({ ...this.#blank(key, null, 'static', now), addresses: [{ ...address }], pinned: true })
  }

  /** mDNS found `fingerprint` at these addresses (a hint until a handshake proves it). */
  discovered (fingerprint: string, addresses: readonly Address[], now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint) ?? this.#put(this.#blank(fingerprint, fingerprint, 'mdns', now))
    p.discovered = true
    this.#learn(p, addresses, true)
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
    this.#learn(p, [address], false)
  }

  /** We want a link to `fingerprint` (a contact; or the outbox has entries for it). */
  demand (fingerprint: string, wanted: boolean, now: number): void {
    const p = this.#peers.get(fingerprint)
    if (p === undefined) return
    p.demanded = wanted
    if (wanted && p.state === 'offline' && !p.dialing) p.nextDialAt = Math.min(p.nextDialAt, now)
  }

  /** Dial `fingerprint` soon if we know where (the outbox has work for it). */
  poke (fingerprint: string, now: number): void {
    const p = this.#peers.get(fingerprint)
    if (p !== undefined && p.state === 'offline' && !p.dialing && p.addresses.length > 0) {
      p.demanded = true
      p.nextDialAt = Math.min(p.nextDialAt, now)
    }
  }

  /** A dial of `key` produced a session with `fingerprint`. sessionUp() follows. */
  dialSucceeded (key: string, fingerprint: string): void {
    const p = this.#peers.get(key)
    if (p === undefined) return
    p.dialing = false
    p.failures = 0
    if (p.fingerprint === null) this.#adopt(p, fingerprint)
  }

  /** A dial of `key` gave up; retry with backoff if the peer is still wanted. */
  dialFailed (key: string, now: number): ConnAction[] {
    const p = this.#peers.get(key)
    if (p === undefined) return []
    p.dialing = false
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
    this.#learn(p, [address], false, true)
    p.failures = 0
    return p.state === 'online' || p.state === 'away' ? [] : this.#setState(p, 'online', now)
  }

  /** The peer's roaming address (an authenticated packet from a new address). */
  moved (fingerprint: string, address: Address): void {
    const p = this.#peers.get(fingerprint)
    if (p !== undefined) this.#learn(p, [address], false, true)
  }

  /** The session with `fingerprint` ended; a wanted peer is redialled after a short backoff. */
  sessionDown (fingerprint: string, now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint)
    if (p === undefined || p.state === 'offline') return []
    p.nextDialAt = now + backoffDelay(p.failures++, this.#policy, this.#random())
    return this.#setState(p, 'offline', now)
  }

  /** A PRESENCE from the peer (only meaningful while its session is up). */
  presence (fingerprint: string, state: 'online' | 'away' | 'offline', now: number): ConnAction[] {
    const p = this.#peers.get(fingerprint)
    if (p === undefined || p.state === 'offline' || p.state === 'connecting') return []
    return p.state === state ? [] : this.#setState(p, state, now)
  }

  state (fingerprint: string): PeerState {
    return this.#peers.get(fingerprint)?.state ?? 'offline'
  }

  /** Dials due at `now`, oldest-due first, at most maxDials running at once. */
  tick (now: number): ConnAction[] {
    const out: ConnAction[] = []
    let running = [...this.#peers.values()].filter(p => p.dialing).length
    const due = [...this.#peers.values()].filter(p => this.#dueToDial(p, now)).sort((a, b) => a.nextDialAt - b.nextDialAt)
    for (const p of due) {
      if (running >= this.#maxDials) break
      const address = p.addresses[p.next % p.addresses.length] as Address
      p.dialing = true
      running++
      if (p.state === 'offline') out.push(...this.#setState(p, 'connecting', now))
      out.push({ type: 'dial', key: p.key, address: { ...address }, expectFingerprint: p.fingerprint })
    }
    return out
  }

  /** When tick() next has a dial to start (Infinity: none). */
  get nextDeadline (): number {
    let at = Infinity
    for (const p of this.#peers.values()) if (this.#wanted(p) && p.state === 'offline' && !p.dialing && p.addresses.length > 0) at = Math.min(at, p.nextDialAt)
    return at
  }

  list (): PeerView[] {
    return [...this.#peers.values()].map(p => ({
      fingerprint: p.fingerprint,
      address: p.addresses.length > 0 ? { ...(p.addresses[p.next % p.addresses.length] as Address) } : null,
      source: p.source,
      state: p.state,
      since: p.since
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

  #blank (key: string, fingerprint: string | null, source: PeerSource, now: number): Peer {
    return {
      key, fingerprint, addresses: [], next: 0, source, state: 'offline', since: now, pinned: false,
      discovered: false, demanded: false, dialing: false, failures: 0, nextDialAt: now
    }
  }

  /** Adds addresses; `replace` (mDNS) makes them the whole list, `current` puts the first one in front. */
  #learn (p: Peer, addresses: readonly Address[], replace: boolean, current = false): void {
    if (replace && !p.pinned) {
      p.addresses = addresses.map(a => ({ ...a }))
      p.next = 0
      return
    }
    for (const a of addresses) {
      const i = p.addresses.findIndex(b => sameAddress(a, b))
      if (i >= 0 && current) p.addresses.splice(i, 1)
      if (i < 0 || current) p.addresses.unshift({ ...a })
    }
    if (current) p.next = 0
    if (p.addresses.length > 8) p.addresses.length = 8
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
    this.#learn(existing, p.addresses, false)
  }

  #setState (p: Peer, state: PeerState, now: number): ConnAction[] {
    p.state = state
    p.since = now
    if (p.fingerprint === null) return []
    const address = p.addresses[p.next % Math.max(1, p.addresses.length)] ?? null
    return [{ type: 'state', fingerprint: p.fingerprint, state, address: address === null ? null : { ...address } }]
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
      if (this.#wanted(p) || p.state !== 'offline' || p.dialing) continue
      if (victim === undefined || p.since < victim.since) victim = p
    }
    if (victim !== undefined) this.#peers.delete(victim.key)
  }
}
