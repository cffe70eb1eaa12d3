// The node's one UDP socket, bound on --host/--port. For now it only counts what arrives; the
// transport's Endpoint (src/transport/) replaces it and multiplexes DHT, STUN and sessions on it
// (MISSION §4). Whatever replaces it offers the same start/stop/address.
import dgram from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'

export interface BoundAddress { address: string, port: number, family: string }

/** What the daemon needs of its UDP component: the transport's Endpoint offers the same. */
export interface UdpComponent extends Component {
  address: () => BoundAddress
}

export class UdpSocket implements UdpComponent {
  readonly name = 'udp'
  /** datagrams received and dropped (no protocol is attached yet) */
  dropped = 0
  private socket: dgram.Socket | undefined

  constructor (private readonly opts: { host: string, port: number, log: Logger }) {}

  async start (): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.opts.host) ? 'udp6' : 'udp4' })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', err => {
        socket.close()
        const code = (err as NodeJS.ErrnoException).code
        reject(code === 'EADDRINUSE'
          ? errors.DAEMON_FAILED(`UDP port ${this.opts.port} on ${this.opts.host} is in use; choose another with --port`)
          : errors.DAEMON_FAILED(`cannot bind UDP ${this.opts.host}:${this.opts.port}: ${code ?? err.message}`))
      })
      socket.bind(this.opts.port, this.opts.host, () => resolve())
    })
    socket.removeAllListeners('error')
    socket.on('error', err => this.opts.log.warn({ err: err.message }, 'udp socket error'))
    socket.on('message', (_msg, rinfo) => {
      this.dropped++
      this.opts.log.trace({ from: `${rinfo.address}:${rinfo.port}`, bytes: rinfo.size }, 'udp datagram dropped (no transport attached)')
    })
    this.socket = socket
  }

  address (): BoundAddress {
    if (!this.socket) throw errors.DAEMON_FAILED('the UDP socket is not bound')
    const a = this.socket.address()
    return { address: a.address, port: a.port, family: a.family }
  }

  async stop (): Promise<void> {
    const s = this.socket
    this.socket = undefined
    if (s) await new Promise<void>(resolve => s.close(() => resolve()))
  }
}
