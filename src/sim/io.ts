// The I/O seam (src/io/) on the simulator: a SimNetwork address as a DatagramTransport, the
// SimClock as a Scheduler, the seeded Rng as a Random. A node built on these runs in simulated
// time and replays exactly for the same seed. Addresses are "host:port" strings in the
// simulation (src/io/address.ts formatHostPort), as they are for node:dgram's IPv4 sockets.
import type { SimClock, SimTimer } from './clock.js'
import type { Rng } from './rng.js'
import type { SimEndpoint, DatagramHandler } from './network.js'
import type { Scheduler } from '../io/scheduler.js'
import type { Random } from '../io/random.js'
import type { BindOptions, DatagramSockets, DatagramTransport } from '../io/datagram.js'
import { formatHostPort, splitHostPort, type PeerAddress } from '../io/address.js'
import { errors } from '../errors.js'

/** Anything that attaches endpoints at string addresses: SimNetwork, DhtSimNetwork, a NAT's realm. */
export type SimBind = (address: string, onDatagram: DatagramHandler | null) => SimEndpoint

export class SimTransport implements DatagramTransport {
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null = null
  sendErrors = 0
  readonly local: PeerAddress
  readonly #ep: SimEndpoint

  constructor (bind: SimBind | { bind: SimBind }, local: PeerAddress) {
    this.local = { ...local }
    const fn = typeof bind === 'function' ? bind : bind.bind.bind(bind)
    this.#ep = fn(formatHostPort(local), (data, from) => {
      const a = splitHostPort(from)
      if (a !== null) this.onDatagram?.(data, a) // a bare name (no port) is no socket address
    })
  }

  send (to: PeerAddress, bytes: Uint8Array): void {
    this.#ep.send(formatHostPort(to), bytes)
  }

  async close (): Promise<void> {
    this.#ep.close()
    this.onDatagram = null
  }
}

/** The SimClock as a Scheduler; the wall clock is `wallBaseMs` plus simulated time. */
export function simScheduler (clock: SimClock, wallBaseMs = 0): Scheduler {
  return {
    now: () => clock.now,
    wallNow: () => wallBaseMs + clock.now,
    setTimer: (delayMs, fn) => clock.after(Math.max(0, delayMs), fn),
    clearTimer: handle => { clock.cancel(handle as SimTimer) }
  }
}

/** The seeded Rng as a Random (not for keys: those never come from the seam). */
export function simRandom (rng: Rng): Random {
  return { bytes: n => rng.bytes(n), float: () => rng.float() }
}

/**
 * Sockets on one simulated host: bind({ port: 0 }) takes the next free port from 49152 up (the
 * IANA dynamic range, RFC 6335 §6), a fixed port fails with EADDRINUSE when taken, as node:dgram does.
 */
export function simSockets (bind: SimBind | { bind: SimBind }, host: string): DatagramSockets {
  const taken = new Set<number>()
  let next = 49152
  return {
    bind: async (opts: BindOptions) => {
      let port = opts.port ?? 0
      if (port === 0) {
        while (taken.has(next)) next++
        port = next++
      } else if (taken.has(port)) {
        throw Object.assign(errors.BAD_ARGUMENT(`sim ${host}:${port} is in use`), { code: 'EADDRINUSE' })
      }
      taken.add(port)
      const t = new SimTransport(bind, { host: opts.host === undefined || opts.host === '0.0.0.0' ? host : opts.host, port })
      const close = t.close.bind(t)
      t.close = async () => { taken.delete(port); await close() }
      return t
    }
  }
}
