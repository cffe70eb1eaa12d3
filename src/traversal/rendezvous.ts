// The rendezvous role (proto-spec/traversal.md §3): a node that others can reach keeps a bounded
// table of registrations — a random tag and the address it came from — and passes end-to-end
// sealed punch messages between a contact and a registered node. It never learns who is
// registered (tags are random, rotated, and only the sealed presence record names them) and
// cannot read or forge what it passes (Noise X, punch-seal.ts). It is built so that it cannot
// be turned against anyone:
//  - it sends only to registered addresses (a forward) or to the address a request came from
//    (REGISTERED, PUNCH_UNKNOWN, the one answer to a request);
//  - nothing it sends is larger than the datagram that caused it (no amplification);
//  - registrations are capped in total, per source network and per address, and expire;
//  - requests are rate-limited per source network and per tag, answers are accepted once, from
//    the address the request was forwarded to, within PENDING_TTL_MS.
// Pure: datagrams and `now` in, datagrams out.
import { KeyedRateLimiter } from '../transport/rate-limit.js'
import { networkKeyOf } from '../io/address.js'
import { encodeTraversal, type TraversalMessage } from './messages.js'
import { TraversalType, REGISTRATION_TTL_MS, PENDING_TTL_MS, HANDLE_BYTES } from './constants.js'
import { RegisterStatus } from './messages.js'

export interface RendezvousOptions {
  random: (n: number) => Uint8Array
  maxRegistrations?: number
  /** per source network (IPv4 /24, IPv6 /64): a home or a hosting customer */
  maxPerNetwork?: number
  /** tags one address may hold (a node re-registering after a tag rotation holds two for a while) */
  maxPerAddress?: number
  maxPending?: number
}

export interface RendezvousStats {
  registered: number
  refused: number
  forwarded: number
  answered: number
  unknownTag: number
  rateLimited: number
  /** answers from the wrong address, for no request, or late */
  badAnswers: number
}

export interface Outgoing { to: string, bytes: Uint8Array }

interface Registration { tag: string, address: string, network: string, expiresAt: number }
interface Pending { requester: string, target: string, expiresAt: number }

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export class RendezvousServer {
  readonly #regs = new Map<string, Registration>()
  readonly #pending = new Map<string, Pending>()
  readonly #requests = new KeyedRateLimiter({ ratePerS: 10, burst: 20, maxKeys: 4096 })
  readonly #perTag = new KeyedRateLimiter({ ratePerS: 2, burst: 6, maxKeys: 4096 })
  readonly #max: Required<Omit<RendezvousOptions, 'random'>>
  readonly stats: RendezvousStats = { registered: 0, refused: 0, forwarded: 0, answered: 0, unknownTag: 0, rateLimited: 0, badAnswers: 0 }

  constructor (private readonly opts: RendezvousOptions) {
    this.#max = {
      maxRegistrations: opts.maxRegistrations ?? 4096,
      maxPerNetwork: opts.maxPerNetwork ?? 64,
      maxPerAddress: opts.maxPerAddress ?? 4,
      maxPending: opts.maxPending ?? 1024
    }
  }

  get size (): number { return this.#regs.size }

  /** One traversal message from `from` (a canonical address). */
  receive (m: TraversalMessage, from: string, now: number): Outgoing[] {
    this.#expire(now)
    switch (m.type) {
      case TraversalType.REGISTER: return this.#register(m.txid, m.tag, from, now)
      case TraversalType.PUNCH_REQUEST: return this.#request(m.tag, m.sealed, from, now)
      case TraversalType.PUNCH_REPLY: return this.#reply(m.handle, m.sealed, from)
      default: return []
    }
  }

  #register (txid: number, tagBytes: Uint8Array, from: string, now: number): Outgoing[] {
    const tag = hex(tagBytes)
    const network = networkKeyOf(from) ?? from
    const held = this.#regs.get(tag)
    // the same tag from a new address is the owner after its NAT changed the mapping (traversal.md §3.2)
    if (held === undefined && !this.#room(network, from)) {
      this.stats.refused++
      return [this.#registered(txid, RegisterStatus.FULL, 0, from)]
    }
    if (held !== undefined) this.#regs.delete(tag) // re-inserted last: the map stays in expiry order
    this.#regs.set(tag, { tag, address: from, network, expiresAt: now + REGISTRATION_TTL_MS })
    if (held === undefined) this.stats.registered++
    return [this.#registered(txid, RegisterStatus.OK, REGISTRATION_TTL_MS / 1000, from)]
  }

  #room (network: string, address: string): boolean {
    if (this.#regs.size >= this.#max.maxRegistrations) return false
    let inNetwork = 0
    let atAddress = 0
    for (const r of this.#regs.values()) {
      if (r.network === network) inNetwork++
      if (r.address === address) atAddress++
    }
    return inNetwork < this.#max.maxPerNetwork && atAddress < this.#max.maxPerAddress
  }

  #registered (txid: number, status: number, lifetimeS: number, to: string): Outgoing {
    // at most 28 bytes (an IPv6 address): smaller than the REGISTER_BYTES it answers
    return { to, bytes: encodeTraversal({ type: TraversalType.REGISTERED, txid, status, lifetimeS, observed: to }) }
  }

  #request (tagBytes: Uint8Array, sealed: Uint8Array, from: string, now: number): Outgoing[] {
    const tag = hex(tagBytes)
    if (!this.#requests.take(networkKeyOf(from) ?? from, now) || !this.#perTag.take(tag, now)) {
      this.stats.rateLimited++
      return []
    }
    const reg = this.#regs.get(tag)
    if (reg === undefined) {
      this.stats.unknownTag++
      return [{ to: from, bytes: encodeTraversal({ type: TraversalType.PUNCH_UNKNOWN, tag: tagBytes }) }]
    }
    if (this.#pending.size >= this.#max.maxPending) {
      this.stats.rateLimited++
      return []
    }
    const handle = this.opts.random(HANDLE_BYTES)
    this.#pending.set(hex(handle), { requester: from, target: reg.address, expiresAt: now + PENDING_TTL_MS })
    this.stats.forwarded++
    // same size as the request: the tag's 16 bytes become the handle's
    return [{ to: reg.address, bytes: encodeTraversal({ type: TraversalType.PUNCH_FORWARD, handle, sealed }) }]
  }

  #reply (handle: Uint8Array, sealed: Uint8Array, from: string): Outgoing[] {
    const key = hex(handle)
    const p = this.#pending.get(key)
    if (p === undefined || p.target !== from) {
      this.stats.badAnswers++
      return []
    }
    this.#pending.delete(key) // one answer per request
    this.stats.answered++
    return [{ to: p.requester, bytes: encodeTraversal({ type: TraversalType.PUNCH_ANSWER, handle, sealed }) }]
  }

  #expire (now: number): void {
    for (const [k, r] of this.#regs) {
      if (r.expiresAt > now) break // insertion order is expiry order (every refresh re-inserts)
      this.#regs.delete(k)
    }
    for (const [k, p] of this.#pending) {
      if (p.expiresAt > now) break
      this.#pending.delete(k)
    }
    this.#requests.prune(now)
    this.#perTag.prune(now)
  }
}
