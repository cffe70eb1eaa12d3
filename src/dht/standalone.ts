// A DHT node with a socket of its own (dht.md §2): what a bootstrap node runs (it has no user
// identity, so no Endpoint), and what the DHT testnet is made of. A user's node runs its DhtNode
// on the Endpoint's socket instead (src/node/dht.ts). Time, randomness and the socket come through
// the I/O seam (src/io/), real by default.
import { DhtNode, type DhtNodeOptions } from './node.js'
import { addressOf } from '../io/address.js'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import { realScheduler, type Scheduler } from '../io/scheduler.js'
import { osRandom, type Random } from '../io/random.js'
import { udpSockets } from '../io/udp.js'
import type { PeerAddress } from '../io/address.js'
import { classifyDatagram } from '../wire/packet.js'

export interface StandaloneOptions {
  /** default 127.0.0.1 */
  host?: string
  /** default 0: any free port */
  port?: number
  node?: Partial<DhtNodeOptions>
  sockets?: DatagramSockets
  /** an already bound socket to use (a bootstrap node shares it with its rendezvous role) */
  transport?: DatagramTransport
  scheduler?: Scheduler
  random?: Random
  /** STUN datagrams on this socket (wire.md §1 demux) go here instead of to the DHT: `dmess
   *  bootstrap` answers Binding requests (proto-spec/stun.md §6) */
  onStun?: (bytes: Uint8Array, from: PeerAddress) => void
}

export class StandaloneDht {
  readonly node: DhtNode
  /** canonical "host:port" (dht.md §2) */
  readonly address: string
  readonly #socket: DatagramTransport
  #closed = false

  private constructor (socket: DatagramTransport, o: StandaloneOptions) {
    this.#socket = socket
    this.address = addressOf(socket.local.host, socket.local.port) ?? `${socket.local.host}:${socket.local.port}`
    const random = o.random ?? osRandom()
    this.node = new DhtNode({
      publicKey: random.bytes(32),
      scheduler: o.scheduler ?? realScheduler,
      random,
      ...o.node,
      transport: o.onStun === undefined ? socket : stunDemux(socket, o.onStun)
    })
  }

  /** A raw datagram from this node's socket (STUN answers). */
  sendDatagram (to: PeerAddress, bytes: Uint8Array): void {
    if (!this.#closed) this.#socket.send(to, bytes)
  }

  /** Binds (default 127.0.0.1, any port) and starts the node. */
  static async listen (o: StandaloneOptions = {}): Promise<StandaloneDht> {
    const socket = o.transport ?? await (o.sockets ?? udpSockets).bind({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 })
    const s = new StandaloneDht(socket, o)
    s.node.start()
    return s
  }

  /** Datagrams the socket could not send (unreachable, closed, wrong family). */
  get sendErrors (): number { return this.#socket.sendErrors }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.node.stop()
    await this.#socket.close()
  }
}

/** The socket as the DHT sees it, with STUN datagrams taken out first (wire.md §1). */
function stunDemux (socket: DatagramTransport, onStun: (bytes: Uint8Array, from: PeerAddress) => void): DatagramTransport {
  const dhtSide: DatagramTransport = {
    local: socket.local,
    onDatagram: null,
    send: (to, bytes) => { socket.send(to, bytes) },
    get sendErrors () { return socket.sendErrors },
    close: async () => { await socket.close() }
  }
  socket.onDatagram = (bytes, from) => {
    if (classifyDatagram(bytes) === 'stun') onStun(bytes, from)
    else dhtSide.onDatagram?.(bytes, from)
  }
  return dhtSide
}
