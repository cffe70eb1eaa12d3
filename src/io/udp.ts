// The one UDP adapter: a node's socket (proto-spec/wire.md §1) as a DatagramTransport: node:dgram, IPv4 or IPv6
// by the bind address. Errors are counted, never thrown at the caller: a send to an unreachable
// address or on a closing socket is just a lost datagram, as UDP promises. It also opens the
// multicast socket LAN discovery runs on (src/discovery/mdns-socket.ts).
import { createSocket, type Socket } from 'node:dgram'
import { isIP } from 'node:net'
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns'
import type { BindOptions, DatagramSockets, DatagramTransport, MulticastOptions, MulticastSocket } from './datagram.js'
import type { PeerAddress } from './address.js'

/** How long close() waits for sends still in the kernel queue (a CLOSE packet, say). */
const CLOSE_FLUSH_MS = 200
/**
 * Socket buffers. With Linux's default 208 KiB receive buffer a bulk transfer overflowed it
 * (≈1% of packets dropped in the kernel, read by congestion control as loss). The kernel caps
 * the request at net.core.rmem_max/wmem_max, so this is best effort.
 */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024
const SEND_BUFFER_BYTES = 1024 * 1024

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void

/**
 * node:dgram resolves every destination through dns.lookup, which answers an IP literal on the
 * next tick: one deferred call per datagram. Our destinations are addresses, so answer those at
 * once (the send then happens inside send()); anything else still goes to dns.lookup.
 */
function lookupAddress (host: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(host)
  if (family !== 0) return callback(null, host, family)
  dnsLookup(host, options as LookupOneOptions, callback)
}


export class UdpTransport implements DatagramTransport {
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null = null
  sendErrors = 0
  socketErrors = 0
  readonly local: PeerAddress
  readonly #socket: Socket
  #pending = 0
  #closed = false
  #drained: (() => void) | null = null
  // one callback for every send (no closure per datagram)
  readonly #afterSend = (err: Error | null | undefined): void => {
    if (err != null) this.sendErrors++
    this.#sent()
  }

  private constructor (socket: Socket) {
    this.#socket = socket
    const a = socket.address()
    this.local = { host: a.address, port: a.port }
    socket.on('message', (msg, rinfo) => {
      this.onDatagram?.(msg, { host: rinfo.address, port: rinfo.port })
    })
    // an 'error' event without a listener would crash the process
    socket.on('error', () => { this.socketErrors++ })
  }

  static async bind (opts: BindOptions = {}): Promise<UdpTransport> {
    const host = opts.host ?? '0.0.0.0'
    // isIP tries IPv4 first: an IPv4 host never compiles node:net's IPv6 pattern (~100 KB of heap)
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: RECV_BUFFER_BYTES, sendBufferSize: SEND_BUFFER_BYTES, lookup: lookupAddress })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(opts.port ?? 0, host, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    return new UdpTransport(socket)
  }

  send (to: PeerAddress, bytes: Uint8Array): void {
    if (this.#closed) {
      this.sendErrors++
      return
    }
    this.#pending++
    try {
      this.#socket.send(bytes, to.port, to.host, this.#afterSend)
    } catch {
      this.sendErrors++ // e.g. an IPv6 destination on an IPv4 socket
      this.#sent()
    }
  }

  #sent (): void {
    this.#pending--
    if (this.#pending === 0) this.#drained?.()
  }

  /** Close after the datagrams already handed to the kernel are out (bounded wait). */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#pending > 0) {
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, CLOSE_FLUSH_MS)
        this.#drained = () => { clearTimeout(timer); resolve() }
      })
    }
    this.onDatagram = null
    await new Promise<void>(resolve => { this.#socket.close(() => { resolve() }) })
  }
}

/** An unbound IPv4 socket for a multicast group (mDNS): node:dgram's Socket is a MulticastSocket. */
function openMulticast (opts: MulticastOptions): MulticastSocket {
  return createSocket({ type: 'udp4', reuseAddr: opts.reuseAddr })
}

/** Real sockets. */
export const udpSockets: DatagramSockets = {
  bind: async (opts) => await UdpTransport.bind(opts),
  openMulticast
}
