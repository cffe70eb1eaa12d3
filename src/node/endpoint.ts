// The node's one UDP socket as a component: the transport's Endpoint (Noise sessions, with the
// DHT's and STUN's hooks on the same socket, proto-spec/wire.md §1), bound on --host/--port.
// `status` reads its address (proto-spec/ipc.md §4).
import { isIPv6 } from 'node:net'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'
import type { Identity } from '../crypto/identity.js'
import type { World } from '../io/world.js'
import type { PeerAddress } from '../io/address.js'
import { Endpoint } from '../transport/endpoint.js'

export interface BoundAddress { address: string, port: number, family: string }

export interface EndpointComponentOptions {
  host: string
  port: number
  identity: Identity
  log: Logger
  world: World
  /** is this fingerprint a contact? Strangers' sessions are capped (proto-spec/session.md §3.7) */
  isContact?: (fingerprint: string) => boolean
  /** a session's address is a relay path of ours (src/node/auto-relay.ts) */
  relayed?: (fingerprint: string, address: PeerAddress) => boolean
}

export class EndpointComponent implements Component {
  readonly name = 'udp'
  #endpoint: Endpoint | undefined

  constructor (private readonly opts: EndpointComponentOptions) {}

  get endpoint (): Endpoint {
    if (this.#endpoint === undefined) throw errors.DAEMON_FAILED('the UDP endpoint is not bound')
    return this.#endpoint
  }

  async start (): Promise<void> {
    const { host, port, world } = this.opts
    try {
      // no `random` for the Endpoint: its handshake ephemerals come from OpenSSL and stay there
      // (src/crypto/primitives.ts), never from the world's non-key randomness; session indices,
      // ids and cookie secrets do come from the world, so a simulated node replays with its seed
      this.#endpoint = await Endpoint.listen({ host, port, identity: this.opts.identity, scheduler: world.scheduler, sockets: world.sockets, isContact: this.opts.isContact, relayed: this.opts.relayed, nonKeyRandom: n => world.random.bytes(n) })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw code === 'EADDRINUSE'
        ? errors.DAEMON_FAILED(`UDP port ${port} on ${host} is in use; choose another with --port`)
        : errors.DAEMON_FAILED(`cannot bind UDP ${host}:${port}: ${code ?? (err as Error).message}`)
    }
    this.#endpoint.on('error', err => this.opts.log.error({ err: (err as Error).message }, 'endpoint listener failed'))
  }

  /** Between start and stop. */
  get bound (): boolean { return this.#endpoint !== undefined }

  /** Datagrams the Endpoint received and dropped, every reason summed. */
  get dropped (): number {
    const d = this.#endpoint?.stats().dropped
    return d === undefined ? 0 : Object.values(d).reduce((a, b) => a + b, 0)
  }

  address (): BoundAddress {
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
