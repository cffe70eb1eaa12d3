// The one platform piece of discovery: a multicast-dns instance on a UDP socket we own, so we
// can pick the interface each multicast leaves from (RFC 6762 §6.2; also needed on a LAN with no
// route to 224.0.0.0/4, where the kernel cannot choose one). Sends are serialized because the
// outgoing interface is a socket option, not a per-datagram argument.
import multicastDns from 'multicast-dns'
import type { Packet } from 'dns-packet'
import { errors } from '../errors.js'
import type { DatagramSockets, MulticastSocket } from '../io/datagram.js'
import type { Source } from './mdns-parse.js'

export type MulticastDns = multicastDns.MulticastDNS
export type MulticastDnsOptions = multicastDns.Options
/** Builds the multicast-dns instance; default `multicastDns`. Receives our socket in `socket`. */
export type MdnsFactory = (opts: MulticastDnsOptions) => MulticastDns

export interface MdnsSocketOptions {
  /** the seam's sockets (src/io/datagram.ts); without openMulticast, ready() rejects */
  sockets: DatagramSockets
  interface?: string
  bind?: string | false
  factory?: MdnsFactory
}

export interface MdnsSocketHandlers {
  packet: (packet: Packet, rinfo: Source) => void
  warning: (err: Error) => void
}

export class MdnsSocket {
  private readonly socket: MulticastSocket
  private readonly mdns: MulticastDns
  private queue: Promise<void> = Promise.resolve()
  private closed = false

  /** Throws MDNS_UNAVAILABLE when the sockets have no multicast (the simulator, offline). */
  constructor (opts: MdnsSocketOptions, handlers: MdnsSocketHandlers) {
    if (opts.sockets.openMulticast === undefined) throw errors.MDNS_UNAVAILABLE('cannot open the mDNS socket: these sockets have no multicast')
    this.socket = opts.sockets.openMulticast({ reuseAddr: true })
    const factory = opts.factory ?? multicastDns
    // multicast-dns types its socket as node:dgram's Socket; it calls only what MulticastSocket has
    const mdnsOpts: MulticastDnsOptions = { socket: this.socket as unknown as MulticastDnsOptions['socket'], interface: opts.interface }
    if (opts.bind !== undefined) mdnsOpts.bind = opts.bind
    this.mdns = factory(mdnsOpts)
    this.mdns.on('packet', handlers.packet)
    this.mdns.on('warning', handlers.warning)
    this.mdns.on('error', handlers.warning) // after start an 'error' must not throw from the emitter
  }

  /** Resolves once the socket is bound and in the group; rejects with MDNS_UNAVAILABLE. */
  ready (): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.mdns.off('ready', onReady)
        reject(errors.MDNS_UNAVAILABLE(`cannot open the mDNS socket: ${err.message}`))
      }
      const onReady = (): void => {
        this.mdns.off('error', onError)
        resolve()
      }
      this.mdns.once('ready', onReady)
      this.mdns.once('error', onError)
    })
  }

  /** Sends `packet` to the mDNS group out of the interface holding `via` (an IPv4 address). */
  multicast (packet: Packet, via: string): Promise<void> {
    return this.enqueue(() => {
      this.socket.setMulticastInterface(via)
      return this.sendRaw(packet)
    })
  }

  /** Sends `packet` to one host (QU and legacy answers, RFC 6762 §5.4, §6.7). */
  unicast (packet: Packet, to: { address: string, port: number }): Promise<void> {
    return this.enqueue(() => this.sendRaw(packet, { address: to.address, port: to.port }))
  }

  /** Joins the group on interfaces that appeared since the last call. */
  updateMemberships (): void {
    (this.mdns as { update?: () => void }).update?.()
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    await new Promise<void>(resolve => this.mdns.destroy(() => resolve()))
  }

  private enqueue (send: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => { if (!this.closed) await send() })
    this.queue = run.catch(() => {}) // one failed send must not block the ones after it
    return run
  }

  private sendRaw (packet: Packet, rinfo?: { address: string, port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | null): void => { if (err) reject(err); else resolve() }
      if (packet.type === 'query') this.mdns.query(packet as multicastDns.QueryOutgoingPacket, rinfo, done)
      else this.mdns.respond(packet as multicastDns.ResponseOutgoingPacket, rinfo, done)
    })
  }
}
