// A home router's PCP server on the simulated network (RFC 6887; portmap.md §4): bound at the
// router's inside address, port 5351, it answers a node's port-mapping client (src/portmap) with
// forwards on its SimNat, as miniupnpd does on the lab's router (test/lab/portmap.test.ts). Its
// `answering` switch is a router whose PCP service is off (it drops the requests) and comes on
// later: a mapping that appears while a node is already talking (traversal.md §7.3).
import type { SimClock, SimEndpoint, SimNat } from '../sim/index.js'
import type { Gateway } from '../portmap/gateway.js'
import { answerPcpRequest } from '../portmap/server.js'
import { PCP_SERVER_PORT } from '../portmap/pcp.js'
import { hostOf } from '../io/address.js'

/** Lifetime the simulated router grants at most (miniupnpd's default cap is 86400 s; 2 h is what clients ask). */
const MAX_LIFETIME_S = 7200

export class SimPcpGateway {
  /** false: requests are dropped unanswered */
  answering: boolean
  /** requests answered */
  answered = 0
  readonly #socket: SimEndpoint
  readonly #startedAt: number

  /** `address`: the router's inside IP (the nodes behind it send to address:5351) */
  constructor (private readonly nat: SimNat, readonly address: string, private readonly clock: SimClock, opts: { answering?: boolean } = {}) {
    this.answering = opts.answering ?? true
    this.#startedAt = clock.now
    this.#socket = nat.bind(`${address}:${PCP_SERVER_PORT}`, (bytes, from) => { this.#onRequest(bytes, from) })
  }

  /** What a node behind this router passes as its port mapper's findGateway (its own `local` address). */
  gatewayFor (local: string): Gateway {
    return { gateway: this.address, local, interface: 'sim' }
  }

  close (): void {
    this.#socket.close()
  }

  #onRequest (bytes: Uint8Array, from: string): void {
    if (!this.answering) return
    const externalIp = this.nat.externalIps[0]!
    const answer = answerPcpRequest(bytes, hostOf(from), {
      epochS: Math.floor((this.clock.now - this.#startedAt) / 1000),
      externalIp,
      maxLifetimeS: MAX_LIFETIME_S,
      map: (internal, port) => {
        const ext = this.nat.forward(internal, port)
        return ext === null ? null : Number(ext.slice(ext.lastIndexOf(':') + 1))
      },
      unmap: internal => { this.nat.unforward(internal) }
    })
    if (answer === null) return
    this.answered++
    this.#socket.send(from, answer)
  }
}
