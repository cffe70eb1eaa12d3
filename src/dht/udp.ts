// The DHT on real sockets (dht.md §2): adapters from the pure DhtNode's string-addressed
// transport to (a) the node's shared Endpoint, whose wire layer hands DHT packet types
// (wire.md §4.7, 0x20–0x3f) to the 'dht' hook, and (b) a socket of its own, for a bootstrap node
// that has no user identity and so no Endpoint. Wall-clock time (records carry epoch expiries)
// and OS randomness are injected here, the only place the DHT touches the platform.
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { randomBytes } from '../crypto/primitives.js'
import { DhtNode, type DhtNodeOptions, type DhtTransport } from './node.js'
import type { Scheduler } from './rpc.js'
import { addressOf, parseAddress, formatIp } from './address.js'
import type { Endpoint } from '../transport/endpoint.js'

/** Real timers; `now` is epoch ms because record expiry is (dht.md §5). Timers never hold the process open. */
export const wallScheduler: Scheduler = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return () => { clearTimeout(t) }
  }
}

const POOL_BYTES = 4096

/**
 * OS randomness drawn 4 KiB at a time: a node asks for 4 bytes per request (the txid, dht.md §7.1),
 * and one getrandom call per datagram showed up as 4% of a loopback lookup. Each slice handed
 * out is a copy and is zeroed in the pool at once, so no drawn byte stays behind to be handed out
 * again or read later.
 */
export function pooledRandom (): (n: number) => Uint8Array {
  let pool: Uint8Array = new Uint8Array(0)
  let off = 0
  return (n) => {
    if (n > POOL_BYTES / 16) return randomBytes(n)
    if (off + n > pool.length) { pool = randomBytes(POOL_BYTES); off = 0 }
    const out = pool.slice(off, off + n)
    pool.fill(0, off, off + n)
    off += n
    return out
  }
}

export interface HostPortAddress { host: string, port: number }

/** "1.2.3.4:5" → { host, port }, or null when it is not a canonical DHT address. */
export function splitAddress (addr: string): HostPortAddress | null {
  const p = parseAddress(addr)
  return p ? { host: formatIp(p.ip), port: p.port } : null
}

/** Counts what the adapters could not pass on (bad source address); never thrown (STYLE §6). */
export interface AdapterCounters { badSource: number, badDestination: number }

/** The DHT over the Endpoint's socket: the node's id and port are the messenger's. */
export function endpointDhtTransport (ep: Endpoint, counters: AdapterCounters = { badSource: 0, badDestination: 0 }): DhtTransport & { detach: () => void } {
  const t: DhtTransport & { detach: () => void } = {
    onMessage: null,
    send: (to, bytes) => {
      const a = splitAddress(to)
      if (a === null) { counters.badDestination++; return }
      ep.sendDatagram(a, bytes)
    },
    detach: () => { ep.setHandler('dht', null) }
  }
  ep.setHandler('dht', (datagram, from) => {
    const addr = addressOf(from.host, from.port)
    if (addr === null) { counters.badSource++; return }
    t.onMessage?.(datagram, addr)
  })
  return t
}

/** A DHT node on a UDP socket of its own (bootstrap nodes, the testnet). */
export class StandaloneDht {
  readonly node: DhtNode
  readonly address: string
  readonly counters: AdapterCounters = { badSource: 0, badDestination: 0 }
  readonly #socket: Socket
  #closed = false

  private constructor (socket: Socket, opts: Partial<DhtNodeOptions>) {
    this.#socket = socket
    const a = socket.address()
    this.address = addressOf(a.address, a.port) ?? `${a.address}:${a.port}`
    const transport: DhtTransport = {
      onMessage: null,
      send: (to, bytes) => { this.#send(to, bytes) }
    }
    socket.on('message', (msg, rinfo) => {
      const from = addressOf(rinfo.address, rinfo.port)
      if (from === null) { this.counters.badSource++; return }
      transport.onMessage?.(msg, from)
    })
    socket.on('error', () => { this.counters.badDestination++ }) // an unhandled 'error' would crash
    this.node = new DhtNode({
      publicKey: randomBytes(32),
      scheduler: wallScheduler,
      random: pooledRandom(),
      ...opts,
      transport
    })
  }

  /** Binds (default 127.0.0.1, any port) and starts the node. */
  static async listen (o: { host?: string, port?: number, node?: Partial<DhtNodeOptions> } = {}): Promise<StandaloneDht> {
    const host = o.host ?? '127.0.0.1'
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(o.port ?? 0, host, () => { socket.off('error', reject); resolve() })
    })
    const s = new StandaloneDht(socket, o.node ?? {})
    s.node.start()
    return s
  }

  #send (to: string, bytes: Uint8Array): void {
    const a = splitAddress(to)
    if (this.#closed || a === null) { this.counters.badDestination++; return }
    try {
      this.#socket.send(bytes, a.port, a.host, (err) => { if (err) this.counters.badDestination++ })
    } catch {
      this.counters.badDestination++ // e.g. an IPv6 destination on an IPv4 socket
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.node.stop()
    await new Promise<void>(resolve => { this.#socket.close(() => { resolve() }) })
  }
}
