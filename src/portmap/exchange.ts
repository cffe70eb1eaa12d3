// One request/response exchange with the gateway over a datagram socket, with the retransmission
// both RFCs prescribe: send, wait, resend with the wait doubled, give up after a bounded number
// of tries (RFC 6886 §3.1: 250 ms doubling; RFC 6887 §8.1.1: doubling with ±10% jitter). Only
// datagrams from the gateway's server port are considered; everything else is dropped and counted.
import type { PeerAddress } from '../io/address.js'
import type { DatagramTransport } from '../io/datagram.js'
import type { Random } from '../io/random.js'
import type { Scheduler } from '../io/scheduler.js'

export interface RetransmitPolicy {
  /** first wait; RFC 6886 §3.1 says 250 ms */
  initialMs: number
  /** sends in all, the first included (bounded: a silent gateway must not hold us for a minute) */
  attempts: number
}

export interface ExchangeCounters {
  /** datagrams that were not an acceptable answer (foreign source, malformed, wrong nonce, …) */
  dropped: number
  /** requests sent, retransmissions included */
  sent: number
}

/**
 * Sends `request` to `server` until `accept` returns a value for a datagram from it, or the tries
 * run out (null), or `signal` aborts (null). The socket's onDatagram is ours for the duration.
 */
export async function exchange<T> (
  socket: DatagramTransport, server: PeerAddress, request: Uint8Array,
  accept: (bytes: Uint8Array) => T | null,
  io: { scheduler: Scheduler, random: Random, policy: RetransmitPolicy, counters: ExchangeCounters, signal?: AbortSignal }
): Promise<T | null> {
  const { scheduler, random, policy, counters, signal } = io
  if (signal?.aborted === true) return null
  return await new Promise<T | null>(resolve => {
    let timer: unknown
    let tries = 0
    let waitMs = policy.initialMs
    const finish = (value: T | null): void => {
      scheduler.clearTimer(timer)
      socket.onDatagram = null
      signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = (): void => { finish(null) }
    const send = (): void => {
      if (tries >= policy.attempts) { finish(null); return }
      tries++
      counters.sent++
      socket.send(server, request)
      // RFC 6887 §8.1.1: RAND in [-0.1, +0.1] keeps many clients from retrying in step
      const jittered = waitMs * (0.9 + 0.2 * random.float())
      waitMs *= 2
      timer = scheduler.setTimer(jittered, send)
    }
    socket.onDatagram = (bytes, from) => {
      if (from.port !== server.port || !sameHost(from.host, server.host)) { counters.dropped++; return }
      const value = accept(bytes)
      if (value === null) { counters.dropped++; return }
      finish(value)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    send()
  })
}

/** node:dgram reports an IPv4 source on a dual-stack socket as ::ffff:a.b.c.d. */
export function sameHost (a: string, b: string): boolean {
  return a === b || a === `::ffff:${b}` || b === `::ffff:${a}`
}
