// A STUN server for NAT behaviour discovery (RFC 5780 §4.4, §5): four sockets on two IPs × two
// ports, one StunServer core behind them. A request that came in on one socket is answered from the
// socket its CHANGE-REQUEST names (the other IP, the other port, or both), always back to the
// source, and every success names OTHER-ADDRESS: the socket with the other IP and the other port.
// Needs a host with two public addresses (a lab namespace, the simulator); a node's one-socket
// server (service.ts) stays as it is. proto-spec/stun.md §3.4.
import type { DatagramTransport } from '../io/datagram.js'
import type { PeerAddress } from '../io/address.js'
import type { Scheduler } from '../io/scheduler.js'
import { decodeStun } from './codec.js'
import { StunServer, type StunServerOptions } from './server.js'

/** Sockets by [ip index][port index]: [0][0] is the primary address (RFC 5780 §5: A1:P1). */
export type BehaviourSockets = readonly [readonly [DatagramTransport, DatagramTransport], readonly [DatagramTransport, DatagramTransport]]

export class StunBehaviourServer {
  readonly server: StunServer
  dropped = 0

  constructor (readonly sockets: BehaviourSockets, readonly scheduler: Scheduler, opts: StunServerOptions = {}) {
    this.server = new StunServer(opts, scheduler.now())
    for (const ip of [0, 1] as const) {
      for (const port of [0, 1] as const) {
        sockets[ip][port].onDatagram = (bytes, from) => { this.#receive(ip, port, bytes, from) }
      }
    }
  }

  /** The primary address (A1:P1), where clients send their first Binding request. */
  get primary (): PeerAddress { return this.sockets[0][0].local }

  #receive (ip: 0 | 1, port: 0 | 1, bytes: Uint8Array, from: PeerAddress): void {
    const r = decodeStun(bytes)
    if (!r.ok || r.message.cls !== 'request') { this.dropped++; return }
    const other = this.sockets[1 - ip as 0 | 1][1 - port as 0 | 1].local
    const out = this.server.answerFrom(r.message, from, this.scheduler.now(), other)
    if (out === null) return
    const sendIp = out.changeIp ? 1 - ip : ip
    const sendPort = out.changePort ? 1 - port : port
    this.sockets[sendIp as 0 | 1][sendPort as 0 | 1].send(from, out.bytes)
  }

  async close (): Promise<void> {
    await Promise.all(this.sockets.flat().map(async s => { await s.close() }))
  }
}
