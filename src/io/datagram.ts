// Datagram sockets, as every part of a node takes them: the transport's Endpoint, the DHT (on the
// Endpoint's socket or one of its own) and, later, STUN and relays. src/io/udp.ts is the real
// one (node:dgram); src/sim/io.ts puts one on the simulated network. A node may bind more than
// one (NAT traversal probes from a second port), so what it is given is a way to bind.
import type { PeerAddress } from './address.js'

export interface DatagramTransport {
  /** the address we are bound to */
  readonly local: PeerAddress
  /** set by the user of the socket; called once per received datagram */
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null
  /** fire and forget; failures are counted, never thrown */
  send: (to: PeerAddress, bytes: Uint8Array) => void
  /** send errors so far (unreachable host, socket closed, …) */
  readonly sendErrors: number
  close: () => Promise<void>
}

export interface BindOptions {
  /** default 0.0.0.0 (or :: for an IPv6 address) */
  host?: string
  /** default 0: any free port */
  port?: number
}

/** How a node gets its sockets. bind() rejects like node:dgram (err.code EADDRINUSE, …). */
export interface DatagramSockets {
  bind: (opts: BindOptions) => Promise<DatagramTransport>
}
