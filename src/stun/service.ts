// STUN on one datagram socket: every STUN datagram the socket's demux hands over (src/wire/packet.ts
// classifyDatagram, proto-spec/wire.md §1) is decoded once, then requests go to the server (when
// this node serves) and responses to the client's open transactions. Bad datagrams are counted and
// dropped, never thrown. Used on the node's Endpoint (src/node/nat.ts), on `dmess bootstrap`'s
// DHT socket, and in tests on simulated and lab sockets. proto-spec/stun.md §1.
import type { PeerAddress } from '../io/address.js'
import type { Random } from '../io/random.js'
import type { Scheduler } from '../io/scheduler.js'
import { decodeStun, type StunDropReason } from './codec.js'
import { StunClient, type StunClientOptions } from './client.js'
import { StunServer, type StunServerOptions } from './server.js'

export interface StunServiceOptions {
  send: (to: PeerAddress, bytes: Uint8Array) => void
  scheduler: Scheduler
  random: Random
  /** answer Binding requests now? (a node serves when publicly reachable; a bootstrap node always) */
  serve: () => boolean
  server?: StunServerOptions
  client?: Pick<StunClientOptions, 'rtoMs' | 'maxRequests' | 'finalWaitRtos'>
}

export type StunServiceDrop = StunDropReason | 'not-serving' | 'unmatched' | 'indication'

export class StunService {
  readonly client: StunClient
  readonly server: StunServer
  readonly drops: Partial<Record<StunServiceDrop, number>> = {}

  constructor (readonly opts: StunServiceOptions) {
    this.client = new StunClient({ send: opts.send, scheduler: opts.scheduler, random: opts.random, ...opts.client })
    this.server = new StunServer(opts.server, opts.scheduler.now())
  }

  /** One datagram the demux classified as STUN. */
  receive (bytes: Uint8Array, from: PeerAddress): void {
    const r = decodeStun(bytes)
    if (!r.ok) return this.#drop(r.reason)
    const m = r.message
    if (m.cls === 'request') {
      if (!this.opts.serve()) return this.#drop('not-serving')
      const out = this.server.answer(m, from, this.opts.scheduler.now())
      if (out !== null) this.opts.send(from, out)
      return
    }
    // RFC 8489 §6.3.2: indications (keepalives) need nothing from us
    if (m.cls === 'indication') return this.#drop('indication')
    if (!this.client.receive(m, from)) this.#drop('unmatched')
  }

  close (): void {
    this.client.close()
  }

  #drop (reason: StunServiceDrop): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1
  }
}
