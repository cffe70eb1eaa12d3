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
  /**
   * A multicast socket for LAN discovery (mDNS). Absent where there is no multicast: the
   * simulator, and the offline sockets of the unlock agent; discovery then reports itself
   * unavailable (MDNS_UNAVAILABLE) and the node runs without it.
   */
  openMulticast?: (opts: MulticastOptions) => MulticastSocket
}

/** How a multicast socket is opened: IPv4 only (mDNS's 224.0.0.251, proto-spec/discovery.md). */
export interface MulticastOptions {
  /** SO_REUSEADDR: share the port (5353) with the system's own responder and other nodes on the host */
  reuseAddr: boolean
}

/**
 * A socket in a multicast group: an unbound IPv4 socket its user binds, joins to the group on each
 * interface (IP_ADD_MEMBERSHIP), and sends from with a chosen outgoing interface, TTL and
 * loopback (IP_MULTICAST_IF, _TTL, _LOOP; RFC 1112 §7.1, RFC 6762 §11). Its shape is node:dgram's
 * Socket's, the part that the multicast-dns package drives (src/discovery/mdns-socket.ts hands it
 * one). Errors after bind() arrive as 'error' events.
 */
export interface MulticastSocket {
  bind: (port: number, address?: string, callback?: () => void) => unknown
  address: () => { address: string, port: number }
  addMembership: (group: string, iface?: string) => void
  dropMembership: (group: string, iface?: string) => void
  setMulticastInterface: (iface: string) => void
  setMulticastTTL: (ttl: number) => void
  setMulticastLoopback: (on: boolean) => void
  send: (msg: Uint8Array, offset: number, length: number, port: number, address: string, callback?: (err: Error | null) => void) => void
  close: (callback?: () => void) => unknown
  on: (event: 'message' | 'error' | 'listening' | 'close', listener: (...args: unknown[]) => void) => unknown
  once: (event: 'message' | 'error' | 'listening' | 'close', listener: (...args: unknown[]) => void) => unknown
  removeListener: (event: 'message' | 'error' | 'listening' | 'close', listener: (...args: unknown[]) => void) => unknown
}
