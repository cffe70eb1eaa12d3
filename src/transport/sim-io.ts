// The Endpoint over src/sim: a SimNetwork address as its transport and the SimClock as its
// scheduler, so whole-endpoint behaviour (retransmission, rekey, keepalive, roaming) runs in
// simulated time with a seeded RNG. Addresses are "host:port" strings in the simulation.
import type { SimNetwork, SimEndpoint, SimClock, SimTimer } from '../sim/index.js'
import type { DatagramTransport, Scheduler } from './io.js'
import type { PeerAddress } from './types.js'

export function simAddress (a: PeerAddress): string {
  return `${a.host}:${a.port}`
}

export function parseSimAddress (s: string): PeerAddress {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
}

export class SimTransport implements DatagramTransport {
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null = null
  sendErrors = 0
  readonly local: PeerAddress
  readonly #ep: SimEndpoint

  constructor (net: SimNetwork, local: PeerAddress) {
    this.local = { ...local }
    this.#ep = net.bind(simAddress(local), (data, from) => this.onDatagram?.(data, parseSimAddress(from)))
  }

  send (to: PeerAddress, bytes: Uint8Array): void {
    this.#ep.send(simAddress(to), bytes)
  }

  async close (): Promise<void> {
    this.#ep.close()
    this.onDatagram = null
  }
}

export function simScheduler (clock: SimClock): Scheduler {
  return {
    now: () => clock.now,
    setTimer: (delayMs, fn) => clock.after(delayMs, fn),
    clearTimer: handle => { clock.cancel(handle as SimTimer) }
  }
}
