// The node's DHT (proto-spec/dht.md §6): a DhtNode on the Endpoint's socket — the Endpoint's wire
// layer hands DHT packet types (wire.md §4.7, 0x20–0x3f) to its 'dht' hook, so DHT and sessions
// share the one UDP port. At start it joins through the bootstrap list and announces our presence
// record (our addresses, signed by the identity key); it signs a fresh record (seq = wall-clock ms,
// so it grows across restarts) before the old one expires. lookup() is what the connection
// manager and `dmess dht lookup` use.
import { networkInterfaces } from 'node:os'
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { Endpoint } from '../transport/endpoint.js'
import type { Identity } from '../crypto/identity.js'
import type { DatagramTransport } from '../io/datagram.js'
import type { TimerHandle } from '../io/scheduler.js'
import type { World } from '../io/world.js'
import { DhtNode, type DhtNodeOptions } from '../dht/node.js'
import { signPresenceRecord, presenceKey, type RecordAddress, type VerifiedRecord } from '../dht/records.js'
import { addressOf, parseIp } from '../io/address.js'
import { RECORD_MAX_ADDRESSES } from '../dht/constants.js'

/** Our record lives this long; a new one is signed RENEW_BEFORE_MS before that (dht.md §5). */
export const PRESENCE_TTL_MS = 60 * 60_000
export const RENEW_BEFORE_MS = 10 * 60_000

export interface DhtComponentOptions {
  endpoint: () => Endpoint
  identity: Identity
  /** "host:port" strings (IP literals), already resolved from flags, config or bootstrap/nodes.json */
  bootstrap: string[]
  log: Logger
  world: World
  node?: Partial<DhtNodeOptions>
  ttlMs?: number
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
    const r = await node.bootstrap(this.opts.bootstrap)
    this.opts.log.info({ reached: r.reached, of: this.opts.bootstrap.length, contacts: r.contacts }, 'dht joined')
    await this.#announce(ep)
  }

  async #announce (ep: Endpoint): Promise<void> {
    const node = this.node
    if (node === null || !node.running) return
    const { scheduler } = this.opts.world
    const ttl = this.opts.ttlMs ?? PRESENCE_TTL_MS
    const now = scheduler.wallNow()
    const addresses = announcedAddresses(ep.address)
    const bytes = signPresenceRecord({ publicIdentity: this.opts.identity, addresses, seq: now, expiresAt: now + ttl }, this.opts.identity.signSecret)
    try {
      const r = await node.publish(bytes, presenceKey(this.opts.identity.fingerprint))
      this.opts.log.info({ stored: r.stored, held: r.alreadyHeld, failed: r.failed, addresses: addresses.length }, 'dht presence announced')
    } catch (err) {
      this.opts.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'dht announce abandoned')
    }
    if (!node.running) return
    this.#renew = scheduler.setTimer(Math.max(1000, ttl - RENEW_BEFORE_MS), () => { this.#lastPublish = this.#announce(ep) })
  }

  /** The verified presence record of `fingerprint` as the network has it, or null. */
  async lookup (fingerprint: string, signal?: AbortSignal): Promise<VerifiedRecord | null> {
    if (this.node === null || !this.node.running) return null
    return await this.node.findPresence(fingerprint, { signal })
  }

  async stop (): Promise<void> {
    if (this.#renew !== null) this.opts.world.scheduler.clearTimer(this.#renew)
    this.#renew = null
    this.node?.stop()
    await this.#transport?.close()
  }
}
