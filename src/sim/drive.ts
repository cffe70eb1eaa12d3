// Drives a pure protocol core (bytes and `now` in, datagrams and a next deadline out) over a
// SimNetwork: every arriving datagram is handed to `core.receive`, then `core.poll` runs and its
// datagrams are sent to the peer; one clock event is kept at the core's next deadline.
// Works for any core with this shape (the reliable channel today, sessions later).

import type { SimNetwork, SimEndpoint } from './network.js'
import type { SimTimer } from './clock.js'
import { errors } from '../errors.js'

export interface PollingCore<R extends PollOutput> {
  receive (datagram: Uint8Array, now: number): unknown
  poll (now: number): R
}

export interface PollOutput {
  datagrams: Uint8Array[]
  nextTimeoutAt: number | null
}

export interface DriveOptions<R extends PollOutput> {
  address: string
  peer: string
  core: PollingCore<R>
  /** Called with every poll result (e.g. to collect delivered messages). */
  onPoll?: (result: R) => void
}

export interface DrivenCore {
  readonly endpoint: SimEndpoint
  /** Poll now (call after giving the core work, e.g. after `send`). */
  kick (): void
  /** Stop driving: cancels the timer and unbinds the address. */
  detach (): void
}

// A core whose deadline is already due right after it polled would spin the simulation in zero
// time; after this many timer wake-ups at one instant the driver reports the core's bug.
const MAX_WAKEUPS_AT_ONE_INSTANT = 1000

export function driveCore<R extends PollOutput> (net: SimNetwork, opts: DriveOptions<R>): DrivenCore {
  const { address, peer, core, onPoll } = opts
  let timer: SimTimer | null = null
  let timerAt = Infinity
  let detached = false
  let spinAt = -Infinity
  let spins = 0

  const onTimer = (): void => {
    timer = null
    timerAt = Infinity
    spins = net.now === spinAt ? spins + 1 : 0
    spinAt = net.now
    if (spins > MAX_WAKEUPS_AT_ONE_INSTANT) throw errors.BAD_ARGUMENT(`core at ${address} keeps asking to be polled again at ${net.now} without time passing`)
    kick()
  }

  const kick = (): void => {
    if (detached) return
    const now = net.now
    const out = core.poll(now)
    for (const d of out.datagrams) endpoint.send(peer, d)
    onPoll?.(out)
    arm(out.nextTimeoutAt)
  }

  // Keep exactly one pending wake-up, at the core's earliest deadline.
  const arm = (at: number | null): void => {
    const want = at === null ? Infinity : Math.max(at, net.now)
    if (want === timerAt && timer && !timer.cancelled) return
    net.clock.cancel(timer)
    timer = null
    timerAt = want
    if (want === Infinity) return
    timer = net.clock.schedule(want, onTimer)
  }

  const endpoint = net.bind(address, (data, from) => {
    if (from !== peer || detached) return
    core.receive(data, net.now)
    kick()
  })

  return {
    endpoint,
    kick,
    detach: () => {
      detached = true
      net.clock.cancel(timer)
      endpoint.close()
    }
  }
}
