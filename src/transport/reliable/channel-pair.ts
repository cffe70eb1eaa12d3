// Two ReliableChannels connected through a SimNetwork, each with an application-side backlog:
// messages queued with `enqueue` are fed to the channel as its send buffer frees up (honouring
// backpressure), and delivered messages go to `onMessage` (or are collected in `received`).
// Setting `reading = false` makes the application stop taking messages (flow-control tests).
// For tests and benchmarks: reliable/index.ts does not export it, so the simulator stays out of
// the daemon's bundle.

import { ReliableChannel, type PollResult } from './channel.js'
import type { ReliableChannelOptions } from './options.js'
import { driveCore, type DrivenCore } from '../../sim/drive.js'
import type { SimNetwork } from '../../sim/network.js'

export interface ChannelEnd {
  readonly address: string
  readonly channel: ReliableChannel
  /** Delivered messages, when no `onMessage` was given. */
  readonly received: Uint8Array[]
  /** Whether the application takes delivered messages (false: they wait, holding the window). */
  reading: boolean
  /** Messages waiting for room in the channel's send buffer. */
  readonly backlog: number
  /** Queue a message for sending (kept in order behind earlier ones). */
  enqueue (message: Uint8Array): void
  /** Poll the channel now (e.g. after turning `reading` back on). */
  kick (): void
}

export interface ChannelPairOptions {
  a?: string
  b?: string
  /** Channel options for both ends (`now` is filled in from the network clock). */
  options?: Omit<ReliableChannelOptions, 'now'>
  optionsA?: Omit<ReliableChannelOptions, 'now'>
  optionsB?: Omit<ReliableChannelOptions, 'now'>
  onMessage?: (message: Uint8Array, at: ChannelEnd) => void
}

export function connectChannels (net: SimNetwork, opts: ChannelPairOptions = {}): { a: ChannelEnd, b: ChannelEnd } {
  const addrA = opts.a ?? 'a'
  const addrB = opts.b ?? 'b'
  const a = makeEnd(net, addrA, addrB, { ...opts.options, ...opts.optionsA, now: net.now }, opts.onMessage)
  const b = makeEnd(net, addrB, addrA, { ...opts.options, ...opts.optionsB, now: net.now }, opts.onMessage)
  return { a, b }
}

function makeEnd (net: SimNetwork, address: string, peer: string, options: ReliableChannelOptions,
  onMessage?: (m: Uint8Array, at: ChannelEnd) => void): ChannelEnd {
  const channel = new ReliableChannel(options)
  const queue: Uint8Array[] = []
  let head = 0
  let wakeScheduled = false
  let driven: DrivenCore | null = null

  // Move backlog into the channel while it accepts; true if anything moved.
  const feed = (): boolean => {
    let moved = false
    while (head < queue.length && channel.send(queue[head]!)) {
      queue[head++] = undefined as unknown as Uint8Array
      moved = true
    }
    if (head > 1024 && head * 2 > queue.length) { queue.splice(0, head); head = 0 }
    return moved
  }

  const end: ChannelEnd = {
    address,
    channel,
    received: [],
    reading: true,
    get backlog () { return queue.length - head },
    enqueue (message) {
      queue.push(message)
      if (feed()) end.kick()
    },
    kick () { driven?.kick() }
  }

  const afterPoll = (r: PollResult): void => {
    for (const m of r.delivered) {
      if (onMessage) onMessage(m, end)
      else end.received.push(m)
    }
    // acks may have freed send buffer: feed more and poll again, once, at the same instant
    if (!wakeScheduled && feed()) {
      wakeScheduled = true
      net.clock.after(0, () => { wakeScheduled = false; end.kick() })
    }
  }

  driven = driveCore(net, {
    address,
    peer,
    core: {
      receive: (d, now) => channel.receive(d, now),
      poll: (now) => channel.poll(now, end.reading ? Infinity : 0)
    },
    onPoll: afterPoll
  })
  return end
}
