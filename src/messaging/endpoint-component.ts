// The node's one UDP socket as a daemon component: the transport's Endpoint (Noise sessions,
// with the DHT and STUN hooks for later) bound on --host/--port. It replaces the daemon's
// placeholder socket and offers the same `address()` for `status` (proto-spec/ipc.md §4).
import { isIPv6, type AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'
import type { Identity } from '../crypto/identity.js'
import { Endpoint } from '../transport/endpoint.js'

export interface EndpointComponentOptions { host: string, port: number, identity: Identity, log: Logger }

export class EndpointComponent implements Component {
  readonly name = 'udp'
  #endpoint: Endpoint | undefined

  constructor (private readonly opts: EndpointComponentOptions) {}

  get endpoint (): Endpoint {
    if (this.#endpoint === undefined) throw errors.DAEMON_FAILED('the UDP endpoint is not bound')
    return this.#endpoint
  }

  async start (): Promise<void> {
    const { host, port } = this.opts
    try {
      this.#endpoint = await Endpoint.listen({ host, port, identity: this.opts.identity })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw code === 'EADDRINUSE'
        ? errors.DAEMON_FAILED(`UDP port ${port} on ${host} is in use; choose another with --port`)
        : errors.DAEMON_FAILED(`cannot bind UDP ${host}:${port}: ${code ?? (err as Error).message}`)
    }
    this.#endpoint.on('error', err => this.opts.log.error({ err: (err as Error).message }, 'endpoint listener failed'))
  }

  /** Datagrams the Endpoint received and dropped, every reason summed (as the placeholder socket counted them). */
  get dropped (): number {
    const d = this.#endpoint?.stats().dropped
    return d === undefined ? 0 : Object.values(d).reduce((a, b) => a + b, 0)
  }

  address (): AddressInfo {
    const a = this.endpoint.address
    return { address: a.host, port: a.port, family: isIPv6(a.host) ? 'IPv6' : 'IPv4' }
  }

  /** Every peer gets a SESSION_CLOSE; then the socket closes. */
  async stop (): Promise<void> {
    const e = this.#endpoint
    this.#endpoint = undefined
    await e?.close()
  }
}
