// The routing table: k-buckets split on the local id's side (Kademlia §2.4), least recently seen
// contact first, a replacement cache per bucket (Kademlia §4.1), and a cap on contacts per /24
// (/48) subnet (dht.md §8.2). Only ids valid for their address enter (BEP 42 enforcement, dht.md
// §1.1). One address holds one node: a new id proven at a contact's address (it answered us from
// there) means the old node is gone — a daemon that restarts draws a new DHT key — and the old
// contact leaves at once instead of lingering until lookups time out on it (dht.md §7.3).
// Pure: the node decides whom to ping, the table only keeps score.
import { commonPrefixLength, compareDistance, idEquals, idValidFor, type NodeId } from './ids.js'
import { subnetOf } from '../io/address.js'
import { ID_BITS, K, MAX_PER_SUBNET, MAX_CONTACT_FAILURES } from './constants.js'

// Imported functions called in hot loops are copied to module constants once: some loaders (tsx)
// compile imported bindings to getters, which tripled the cost of a simulation.
const cmp = compareDistance
const cpl = commonPrefixLength
const same = idEquals

/** Keeps `out` the (at most n) closest seen so far, closest first (insertion into a short list). */
function insertClosest (out: Contact[], c: Contact, target: NodeId, n: number): void {
  if (out.length === n && cmp(c.id, out[n - 1]!.id, target) >= 0) return
  let i = out.length < n ? out.length : n - 1
  while (i > 0 && cmp(c.id, out[i - 1]!.id, target) < 0) { out[i] = out[i - 1]!; i-- }
  out[i] = c
}

export interface Contact {
  readonly id: NodeId
  addr: string
  subnet: string
  /** When the contact last answered us (ms). */
  lastSeen: number
  /** Consecutive unanswered requests. */
  failures: number
  /** When we last pinged it because it was quiet (ms), if ever. */
  checkedAt?: number
}

interface Bucket {
  /** Least recently seen first (Kademlia §2.2). */
  contacts: Contact[]
  /** Verified contacts that did not fit, most recent last. */
  replacements: Contact[]
  /** Last time a lookup targeted this bucket's range (Kademlia §2.3 refresh). */
  lastLookup: number
}

export type AddResult =
  | { status: 'added' | 'updated' | 'self' | 'subnet-full' | 'conflict' | 'invalid-id' }
  /** Bucket full: the newcomer waits in the replacement cache; `oldest` is worth a ping if stale. */
  | { status: 'full', oldest: Contact }

export interface RoutingTableOptions {
  k?: number
  maxPerSubnet?: number
  maxFailures?: number
}

export class RoutingTable {
  readonly selfId: NodeId
  readonly k: number
  readonly maxPerSubnet: number
  readonly maxFailures: number
  readonly #buckets: Bucket[]
  readonly #subnets = new Map<string, number>()
  /** The contact at each address (one node per address). */
  readonly #byAddr = new Map<string, Contact>()
  #size = 0

  constructor (selfId: NodeId, opts: RoutingTableOptions = {}, now = 0) {
    this.selfId = selfId
    this.k = opts.k ?? K
    this.maxPerSubnet = opts.maxPerSubnet ?? MAX_PER_SUBNET
    this.maxFailures = opts.maxFailures ?? MAX_CONTACT_FAILURES
    this.#buckets = [{ contacts: [], replacements: [], lastLookup: now }]
  }

  get size (): number { return this.#size }
  get bucketCount (): number { return this.#buckets.length }

  /** Index of the bucket that holds (or would hold) `id`. */
  bucketIndexOf (id: NodeId): number {
    return Math.min(cpl(this.selfId, id), this.#buckets.length - 1)
  }

  /** Contacts of bucket `i`, least recently seen first (a copy). */
  bucket (i: number): Contact[] {
    return [...(this.#buckets[i]?.contacts ?? [])]
  }

  replacements (i: number): Contact[] {
    return [...(this.#buckets[i]?.replacements ?? [])]
  }

  get (id: NodeId): Contact | undefined {
    return this.#buckets[this.bucketIndexOf(id)]!.contacts.find(c => same(c.id, id))
  }

  all (): Contact[] {
    return this.#buckets.flatMap(b => b.contacts)
  }

  /** The contact we hold at `addr`, if any. */
  at (addr: string): Contact | undefined {
    return this.#byAddr.get(addr)
  }

  /** True when add(id, addr) could take the contact now (room, or a split that may make room). */
  canAdd (id: NodeId, addr: string): boolean {
    if (same(id, this.selfId) || this.get(id) || !idValidFor(id, addr)) return false
    const prior = this.#byAddr.get(addr)
    if (prior !== undefined) return true // it would take the place of the node that was there
    if ((this.#subnets.get(subnetOf(addr)) ?? 0) >= this.maxPerSubnet) return false
    const index = this.bucketIndexOf(id)
    return this.#buckets[index]!.contacts.length < this.k ||
      (index === this.#buckets.length - 1 && this.#buckets.length < ID_BITS)
  }

  /** Adds a contact that has proven it answers at `addr` (a response we asked for). */
  add (id: NodeId, addr: string, now: number): AddResult {
    if (same(id, this.selfId)) return { status: 'self' }
    if (!idValidFor(id, addr)) return { status: 'invalid-id' }
    const prior = this.#byAddr.get(addr)
    if (prior !== undefined && !same(prior.id, id)) this.remove(prior.id)
    for (;;) {
      const index = this.bucketIndexOf(id)
      const bucket = this.#buckets[index]!
      const existing = bucket.contacts.find(c => same(c.id, id))
      if (existing) return this.#refresh(bucket, existing, addr, now)
      const subnet = subnetOf(addr)
      if ((this.#subnets.get(subnet) ?? 0) >= this.maxPerSubnet) return { status: 'subnet-full' }
      if (bucket.contacts.length < this.k) {
        this.#insert(bucket, { id, addr, subnet, lastSeen: now, failures: 0 })
        return { status: 'added' }
      }
      // Kademlia §2.4: only the bucket whose range holds our own id splits.
      if (index === this.#buckets.length - 1 && this.#buckets.length < ID_BITS) {
        this.#split()
        continue
      }
      this.#remember(bucket, { id, addr, subnet, lastSeen: now, failures: 0 })
      return { status: 'full', oldest: bucket.contacts[0]! }
    }
  }

  // Kademlia §2.2: a contact that answers moves to the tail. A different address for a known id
  // is not taken while the old one still answers (older contacts are preferred: they stay).
  #refresh (bucket: Bucket, c: Contact, addr: string, now: number): AddResult {
    if (c.addr !== addr) {
      if (c.failures === 0) return { status: 'conflict' }
      this.#uncount(c.subnet)
      this.#byAddr.delete(c.addr)
      c.addr = addr
      c.subnet = subnetOf(addr)
      this.#subnets.set(c.subnet, (this.#subnets.get(c.subnet) ?? 0) + 1)
      this.#byAddr.set(addr, c)
    }
    c.lastSeen = now
    c.failures = 0
    bucket.contacts.splice(bucket.contacts.indexOf(c), 1)
    bucket.contacts.push(c)
    return { status: 'updated' }
  }

  /** The contact answered: refresh it (no-op if unknown). */
  seen (id: NodeId, now: number): void {
    const bucket = this.#buckets[this.bucketIndexOf(id)]!
    const c = bucket.contacts.find(x => same(x.id, id))
    if (c) this.#refresh(bucket, c, c.addr, now)
  }

  /**
   * A request to the contact went unanswered. It is removed after maxFailures in a row, or at the
   * first failure if a verified replacement is waiting (Kademlia §4.1). Returns true if removed.
   */
  fail (id: NodeId): boolean {
    const bucket = this.#buckets[this.bucketIndexOf(id)]!
    const c = bucket.contacts.find(x => same(x.id, id))
    if (!c) return false
    c.failures++
    if (c.failures < this.maxFailures && bucket.replacements.length === 0) return false
    this.#delete(bucket, c)
    this.#promote(bucket)
    return true
  }

  remove (id: NodeId): boolean {
    const bucket = this.#buckets[this.bucketIndexOf(id)]!
    const c = bucket.contacts.find(x => same(x.id, id))
    if (!c) return false
    this.#delete(bucket, c)
    this.#promote(bucket)
    return true
  }

  /**
   * The n contacts closest to `target` by XOR distance, closest first. Buckets come in a known
   * distance order, so only whole groups of them are gathered and sorted: with j the target's
   * bucket, bucket j is closest, then buckets j+1..last together, then j-1, j-2, …, 0.
   * Contacts whose last request went unanswered are left out (BEP 5: only "good" nodes are handed
   * out): a dead node is not passed on to others, nor asked again by our own lookups, while it
   * waits for its eviction; `includeFailing` lists them too.
   */
  closest (target: NodeId, n: number = this.k, includeFailing = false): Contact[] {
    const last = this.#buckets.length - 1
    const j = this.bucketIndexOf(target)
    const out: Contact[] = []
    const take = (b: Bucket): void => { for (const c of b.contacts) if (includeFailing || c.failures === 0) insertClosest(out, c, target, n) }
    take(this.#buckets[j]!)
    if (out.length < n) for (let i = j + 1; i <= last; i++) take(this.#buckets[i]!)
    for (let i = j - 1; i >= 0 && out.length < n; i--) take(this.#buckets[i]!)
    return out
  }

  /** A lookup just targeted `target`'s bucket: postpone its refresh. */
  markLookup (target: NodeId, now: number): void {
    this.#buckets[this.bucketIndexOf(target)]!.lastLookup = now
  }

  /** Buckets nobody looked into for `refreshMs` (Kademlia §2.3), farthest first. */
  staleBuckets (now: number, refreshMs: number): number[] {
    const out: number[] = []
    this.#buckets.forEach((b, i) => { if (now - b.lastLookup >= refreshMs) out.push(i) })
    return out
  }

  #insert (bucket: Bucket, c: Contact): void {
    bucket.contacts.push(c)
    this.#subnets.set(c.subnet, (this.#subnets.get(c.subnet) ?? 0) + 1)
    this.#byAddr.set(c.addr, c)
    this.#size++
  }

  #delete (bucket: Bucket, c: Contact): void {
    bucket.contacts.splice(bucket.contacts.indexOf(c), 1)
    this.#uncount(c.subnet)
    if (this.#byAddr.get(c.addr) === c) this.#byAddr.delete(c.addr)
    this.#size--
  }

  #uncount (subnet: string): void {
    const n = (this.#subnets.get(subnet) ?? 1) - 1
    if (n === 0) this.#subnets.delete(subnet)
    else this.#subnets.set(subnet, n)
  }

  #remember (bucket: Bucket, c: Contact): void {
    const r = bucket.replacements
    const at = r.findIndex(x => same(x.id, c.id))
    if (at >= 0) r.splice(at, 1)
    r.push(c)
    if (r.length > this.k) r.shift()
  }

  // The most recently seen replacement takes the free slot, if its subnet still has room.
  #promote (bucket: Bucket): void {
    while (bucket.replacements.length > 0 && bucket.contacts.length < this.k) {
      const c = bucket.replacements.pop()!
      if ((this.#subnets.get(c.subnet) ?? 0) >= this.maxPerSubnet || this.#byAddr.has(c.addr)) continue
      c.failures = 0
      this.#insert(bucket, c)
      bucket.contacts.sort((a, b) => a.lastSeen - b.lastSeen)
      return
    }
  }

  // Kademlia §2.4: the last bucket covers every id sharing ≥ `last` bits with ours; split it into
  // exactly `last` shared bits (stays) and more (moves to the new last bucket).
  #split (): void {
    const last = this.#buckets.length - 1
    const old = this.#buckets[last]!
    const near: Bucket = { contacts: [], replacements: [], lastLookup: old.lastLookup }
    const deeper = (c: Contact): boolean => cpl(this.selfId, c.id) > last
    near.contacts = old.contacts.filter(deeper)
    old.contacts = old.contacts.filter(c => !deeper(c))
    near.replacements = old.replacements.filter(deeper)
    old.replacements = old.replacements.filter(c => !deeper(c))
    this.#buckets.push(near)
  }
}
