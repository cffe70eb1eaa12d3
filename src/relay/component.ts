// The relay on a user's node, as a component started after the socket (src/node/node.ts): the
// client always (hole punching falls back to it, proto-spec/relay.md §2), the service when the
// node serves as a relay (publicly reachable: relay.md §1). Stopped before the socket closes.
import type { Component } from '../runtime/component.js'
import type { World } from '../io/world.js'
import type { Endpoint } from '../transport/endpoint.js'
import { RelayClient } from './client.js'
import { RelayService } from './service.js'
import { attachRelay } from './attach.js'
import type { RelayLimits } from './constants.js'

export interface RelayComponentOptions {
  endpoint: () => Endpoint
  world: World
  /** serve as a relay for others (false: only use relays) */
  serve: boolean
  limits?: Partial<RelayLimits>
}

export class RelayComponent implements Component {
  readonly name = 'relay'
  client: RelayClient | null = null
  service: RelayService | null = null

  constructor (private readonly opts: RelayComponentOptions) {}

  async start (): Promise<void> {
    const { world } = this.opts
    const ep = this.opts.endpoint()
    const send = (to: { host: string, port: number }, b: Uint8Array): void => { ep.sendDatagram(to, b) }
    const random = (n: number): Uint8Array => world.random.bytes(n)
    this.client = new RelayClient({ send, scheduler: world.scheduler, random })
    if (this.opts.serve) {
      // allocation ports on the address the node's socket is bound to
      this.service = new RelayService({ sockets: world.sockets, host: ep.address.host, scheduler: world.scheduler, random, send, limits: this.opts.limits })
    }
    attachRelay(ep, { client: this.client, service: this.service })
  }

  async stop (): Promise<void> {
    try {
      this.opts.endpoint().setHandler('relay', null)
    } catch {
      // the socket is already gone: nothing to detach
    }
    this.client?.close()
    await this.service?.close()
    this.client = null
    this.service = null
  }
}
