// Extra UDP sockets of an Endpoint (proto-spec/traversal.md §6.4): birthday punching through a
// symmetric NAT opens a few hundred of them for a moment, one of which may come out holding the
// only NAT mapping the peer can reach. That one must then carry the session, so a side socket
// can be told to `carry(peer)`: from then on everything the Endpoint sends to that address leaves
// through it, and what the peer sends to it goes through the Endpoint's one demultiplexer like
// anything arriving on the main socket (wire.md §1). Until it carries a peer, a side socket lets
// only traversal datagrams in (the probes it exists for), and a carried socket only those and the
// carried peer's. The Endpoint closes a carrying socket once no session with its peer is left
// (checked every SIDE_SWEEP_MS, after SIDE_GRACE_MS for the handshake to happen); sockets that
// never carry anything are the opener's to close. Sockets come from the world (src/io), never
// from node:dgram here.
import { errors } from '../errors.js'
import type { Scheduler } from '../io/scheduler.js'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import { addressKey, type PeerAddress } from '../io/address.js'
import { isTraversalDatagram } from '../wire/packet.js'

/** One extra socket, as its opener (NAT traversal) uses it. */
export interface SideSocket {
  readonly local: PeerAddress
  send: (to: PeerAddress, bytes: Uint8Array) => void
  /** Send everything for `peer` through this socket from now on (the Endpoint closes it when no session with `peer` is left). */
  carry: (peer: PeerAddress) => void
  /** Close it (whatever it carried goes back to the main socket). */
  close: () => Promise<void>
}

export interface SideSocketsOptions {
  sockets: DatagramSockets
  scheduler: Scheduler
  /** the main socket's bind address: side sockets bind there, any port */
  host: () => string
  /** a datagram that passed the filter, with the socket it came on */
  deliver: (bytes: Uint8Array, from: PeerAddress, via: SideSocket) => void
  /** is a session with `peer` (at that address) open? */
  hasSession: (peer: PeerAddress) => boolean
}

/** Open side sockets at most (one birthday attempt's 256, plus the few carrying sessions). */
export const SIDE_SOCKETS_MAX = 320
/** A carried peer with no session after this long is let go (a handshake retries for less). */
export const SIDE_GRACE_MS = 20_000
export const SIDE_SWEEP_MS = 5_000

class Side implements SideSocket {
  readonly carried = new Map<string, { peer: PeerAddress, since: number }>()
  closed = false

  constructor (readonly transport: DatagramTransport, private readonly owner: SideSockets) {}

  get local (): PeerAddress { return this.transport.local }

  send (to: PeerAddress, bytes: Uint8Array): void {
    if (!this.closed) this.transport.send(to, bytes)
  }

  carry (peer: PeerAddress): void { this.owner.carry(this, peer) }

  async close (): Promise<void> { await this.owner.close(this) }
}

export class SideSockets {
  readonly #open = new Set<Side>()
  readonly #routes = new Map<string, Side>()
  #timer: unknown = null
  /** datagrams a side socket refused (not traversal, not from a carried peer) */
  dropped = 0
  opened = 0
  /** most open at once */
  peak = 0

  constructor (private readonly o: SideSocketsOptions) {}

  get size (): number { return this.#open.size }
  get carrying (): number { return this.#routes.size }

  async open (): Promise<SideSocket> {
    if (this.#open.size >= SIDE_SOCKETS_MAX) throw errors.BAD_ARGUMENT(`at most ${SIDE_SOCKETS_MAX} side sockets are open at once`)
    const transport = await this.o.sockets.bind({ host: this.o.host(), port: 0 })
    const side = new Side(transport, this)
    this.#open.add(side)
    this.opened++
    this.peak = Math.max(this.peak, this.#open.size)
    transport.onDatagram = (bytes, from) => {
      // protect the session layer: only probes, and the carried peer's traffic
      if (!isTraversalDatagram(bytes) && !side.carried.has(addressKey(from))) {
        this.dropped++
        return
      }
      this.o.deliver(bytes, from, side)
    }
    return side
  }

  /** The side socket that carries `to`, or null (the main socket). Per datagram: cheap when nothing is carried. */
  route (to: PeerAddress): DatagramTransport | null {
    if (this.#routes.size === 0) return null
    return this.#routes.get(addressKey(to))?.transport ?? null
  }

  carry (side: Side, peer: PeerAddress): void {
    if (side.closed) return
    const key = addressKey(peer)
    const before = this.#routes.get(key)
    if (before !== undefined && before !== side) this.#release(before, key)
    this.#routes.set(key, side)
    side.carried.set(key, { peer: { ...peer }, since: this.o.scheduler.now() })
    this.#arm()
  }

  async close (side: Side): Promise<void> {
    if (side.closed) return
    side.closed = true
    this.#open.delete(side)
    for (const key of side.carried.keys()) if (this.#routes.get(key) === side) this.#routes.delete(key)
    side.carried.clear()
    side.transport.onDatagram = null
    await side.transport.close()
  }

  async closeAll (): Promise<void> {
    if (this.#timer !== null) this.o.scheduler.clearTimer(this.#timer)
    this.#timer = null
    await Promise.all([...this.#open].map(async s => { await this.close(s) }))
  }

  /** Let go of peers with no session (past the grace period); a socket left carrying nobody closes. */
  sweep (): void {
    const now = this.o.scheduler.now()
    for (const side of [...this.#open]) {
      for (const [key, c] of side.carried) {
        if (now - c.since >= SIDE_GRACE_MS && !this.o.hasSession(c.peer)) this.#release(side, key)
      }
    }
  }

  #release (side: Side, key: string): void {
    side.carried.delete(key)
    if (this.#routes.get(key) === side) this.#routes.delete(key)
    if (side.carried.size === 0) void this.close(side)
  }

  #arm (): void {
    if (this.#timer !== null) return
    this.#timer = this.o.scheduler.setTimer(SIDE_SWEEP_MS, () => {
      this.#timer = null
      this.sweep()
      if (this.#routes.size > 0) this.#arm()
    })
  }
}
