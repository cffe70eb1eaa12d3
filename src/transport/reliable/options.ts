// Options of the reliable channel, their defaults and validation (local misuse throws).

import { errors } from '../../errors.js'
import {
  DEFAULT_MTU, MIN_MTU, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SEND_BUFFER_BYTES, DEFAULT_RECV_WINDOW_BYTES,
  INITIAL_RTO_MS, DEFAULT_MIN_RTO_MS, DEFAULT_MAX_RTO_MS, DEFAULT_MAX_ACK_DELAY_MS, DEFAULT_ACK_EVERY_PACKETS,
  DEFAULT_MAX_CWND_BYTES, MESSAGE_HEADER_BYTES, MAX_U32, INITIAL_PEER_WINDOW_BYTES
} from './constants.js'

export interface ReliableChannelOptions {
  /** Current time in ms (any monotonic clock; the channel never reads one itself). */
  now: number
  /** Largest plaintext datagram to produce until a larger one is confirmed (default 1200). */
  mtu?: number
  /**
   * Largest datagram path MTU discovery may probe (reliable.md §15; default `mtu`: no
   * probing). The peer must accept datagrams of this size; a lost probe just stops the search.
   */
  maxMtu?: number
  /** Largest message accepted from either side (default 4 MiB). */
  maxMessageBytes?: number
  /**
   * Local only: largest message accepted from the peer (default maxMessageBytes, at most that).
   * A message's body is allocated when its length arrives and credit is released while it is
   * assembled (recv-stream.ts), so this, not the window, bounds what one channel can make us hold.
   */
  recvMaxMessageBytes?: number
  /** Bytes `send` may queue before it returns false (default 8 MiB; at least a max message). */
  sendBufferBytes?: number
  /** Flow-control window advertised to the peer (default 1 MiB, at least 64 KiB). */
  recvWindowBytes?: number
  initialRtoMs?: number
  minRtoMs?: number
  maxRtoMs?: number
  /** Longest the receiver holds an ACK (default 10 ms); also caps the peer's reported delay. */
  maxAckDelayMs?: number
  /** Acknowledge at least every N ack-eliciting packets (default 2). */
  ackEveryPackets?: number
  maxCwndBytes?: number
  /** Send a PING after this long without sending anything ack-eliciting (default off). */
  keepaliveMs?: number | null
}

export type ResolvedOptions = Required<Omit<ReliableChannelOptions, 'keepaliveMs'>> & { keepaliveMs: number | null }

export function resolveOptions (o: ReliableChannelOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    now: o.now,
    mtu: o.mtu ?? DEFAULT_MTU,
    maxMtu: o.maxMtu ?? o.mtu ?? DEFAULT_MTU,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    recvMaxMessageBytes: o.recvMaxMessageBytes ?? o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    sendBufferBytes: o.sendBufferBytes ?? Math.max(DEFAULT_SEND_BUFFER_BYTES, (o.maxMessageBytes ?? 0) + MESSAGE_HEADER_BYTES),
    recvWindowBytes: o.recvWindowBytes ?? DEFAULT_RECV_WINDOW_BYTES,
    initialRtoMs: o.initialRtoMs ?? INITIAL_RTO_MS,
    minRtoMs: o.minRtoMs ?? DEFAULT_MIN_RTO_MS,
    maxRtoMs: o.maxRtoMs ?? DEFAULT_MAX_RTO_MS,
    maxAckDelayMs: o.maxAckDelayMs ?? DEFAULT_MAX_ACK_DELAY_MS,
    ackEveryPackets: o.ackEveryPackets ?? DEFAULT_ACK_EVERY_PACKETS,
    maxCwndBytes: o.maxCwndBytes ?? DEFAULT_MAX_CWND_BYTES,
    keepaliveMs: o.keepaliveMs ?? null
  }
  check(Number.isFinite(r.now), `now must be a finite number, got ${r.now}`)
  check(Number.isInteger(r.mtu) && r.mtu >= MIN_MTU && r.mtu <= 65_507, `mtu must be an integer in ${MIN_MTU}..65507, got ${r.mtu}`)
  check(Number.isInteger(r.maxMtu) && r.maxMtu >= r.mtu && r.maxMtu <= 65_507, `maxMtu must be an integer in mtu..65507, got ${r.maxMtu}`)
  check(Number.isInteger(r.maxMessageBytes) && r.maxMessageBytes >= 0 && r.maxMessageBytes <= MAX_U32, `maxMessageBytes must be 0..2^32-1, got ${r.maxMessageBytes}`)
  check(Number.isInteger(r.recvMaxMessageBytes) && r.recvMaxMessageBytes >= 0 && r.recvMaxMessageBytes <= r.maxMessageBytes, `recvMaxMessageBytes must be 0..maxMessageBytes, got ${r.recvMaxMessageBytes}`)
  check(r.sendBufferBytes >= r.maxMessageBytes + MESSAGE_HEADER_BYTES, `sendBufferBytes (${r.sendBufferBytes}) must hold one max-size message (${r.maxMessageBytes} + ${MESSAGE_HEADER_BYTES})`)
  check(r.recvWindowBytes >= INITIAL_PEER_WINDOW_BYTES, `recvWindowBytes must be at least ${INITIAL_PEER_WINDOW_BYTES}, got ${r.recvWindowBytes}`)
  check(r.minRtoMs > 0 && r.minRtoMs <= r.initialRtoMs && r.initialRtoMs <= r.maxRtoMs, `need 0 < minRtoMs <= initialRtoMs <= maxRtoMs, got ${r.minRtoMs}, ${r.initialRtoMs}, ${r.maxRtoMs}`)
  check(r.maxAckDelayMs >= 0 && r.maxAckDelayMs < r.minRtoMs, `maxAckDelayMs must be in [0, minRtoMs), got ${r.maxAckDelayMs}`)
  check(Number.isInteger(r.ackEveryPackets) && r.ackEveryPackets >= 1, `ackEveryPackets must be a positive integer, got ${r.ackEveryPackets}`)
  check(r.maxCwndBytes >= 2 * r.mtu, `maxCwndBytes must be at least 2 * mtu, got ${r.maxCwndBytes}`)
  check(r.keepaliveMs === null || r.keepaliveMs > 0, `keepaliveMs must be positive or null, got ${r.keepaliveMs}`)
  return r
}

function check (ok: boolean, message: string): void {
  if (!ok) throw errors.BAD_ARGUMENT(message)
}
