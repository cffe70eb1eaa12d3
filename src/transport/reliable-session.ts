// ReliableSession — proto-spec/session.md, "Reliable delivery over a session". Binds one secure
// Session (unreliable, encrypted datagrams) to one ReliableChannel (reliable.md: a pure core) and
// drives it: every session datagram goes to `channel.receive`, one coalesced `channel.poll` per
// turn of the event loop sends what the channel produced and delivers messages in order, and one
// timer waits for the channel's next deadline. Messages come out as 'message' events or through
// the async iterator; `send` waits for room in the send buffer, `flushed` for the peer's ACKs.
//
// When the session closes (either side, idle timeout, endpoint closed, replaced by a newer
// session with the same peer) or the peer breaks the channel protocol, everything stops: messages
// the channel completed are still delivered, but bytes the peer has not acknowledged are lost,
// pending sends and flushes reject with SESSION_CLOSED, and 'close' reports how much was lost.
// Resending is the caller's job (the outbox); nothing is carried over to a new session.
import { EventEmitter } from 'node:events'
import { ReliableChannel, type ReliableStats } from './reliable/index.js'
import { errors, type DmessError } from '../errors.js'
import { realScheduler, type Scheduler } from '../io/scheduler.js'
import type { Session } from './session.js'
import type { CloseReason, PeerAddress } from './types.js'
import { onLinkUdpPayloadCeiling } from './path-mtu.js'
import { TRANSPORT_DATA_MIN_BYTES } from '../wire/constants.js'
import { Inbox } from './reliable-session-inbox.js'
import {
  RELIABLE_SESSION_MTU, RELIABLE_SESSION_MAX_MTU, RELIABLE_SESSION_MAX_MESSAGE_BYTES, RELIABLE_SESSION_KEEPALIVE_MS,
  RELIABLE_SESSION_SEND_BUFFER_BYTES, RELIABLE_SESSION_RECV_WINDOW_BYTES, RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES, RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES, RELIABLE_SESSION_HIGH_WATER_MESSAGES
} from './reliable-session-constants.js'

export interface ReliableSessionOptions {
  /** clock and timers (default: performance.now() and unref'd setTimeout) */
  scheduler?: Scheduler
  /**
   * Run `fn` soon, after the current batch of I/O (default: setImmediate with the real
   * scheduler, a 0 ms timer with any other). Polls are coalesced through it.
   */
  defer?: (fn: () => void) => void
  /** local only (the peer need not agree): send buffer, default 8 MiB */
  sendBufferBytes?: number
  /** local only: advertised receive window, default 1 MiB to a contact, 64 KiB to a stranger (session.md §3.7) */
  recvWindowBytes?: number
  /** local only: unread messages the async iterator holds before reading pauses, default 1024 */
  highWaterMessages?: number
  /**
   * The largest UDP payload worth probing towards an address (path MTU discovery,
   * reliable.md §15), or null to stay at the base size. Default with the real scheduler: the
   * MTU of the local link when the peer is on it (path-mtu.ts); with any other: null.
   */
  pathCeiling?: (address: PeerAddress) => number | null
}

export type ReliableCloseReason = CloseReason | 'channel-failed'

export interface ReliableCloseInfo {
  reason: ReliableCloseReason
  /** Stream bytes (messages + 4-byte length prefixes) queued or sent but never acknowledged. */
  unackedBytes: number
  /** Messages that were still waiting for send-buffer room, never handed to the channel. */
  unsentMessages: number
  /** CHANNEL_FAILED when the peer broke the channel protocol, else null. */
  error: DmessError | null
}

export interface ReliableSessionEvents {
  /** one message from the peer, in order, exactly once */
  message: [message: Uint8Array]
  /** the session ended; no more events follow */
  close: [info: ReliableCloseInfo]
  /** the peer acknowledged more of what was sent (`ackedOffset` grew); at most once per poll */
  acked: []
  /** a 'message' listener threw (the application's bug; the session carries on) */
  error: [err: unknown]
}

export interface ReliableSessionStats extends ReliableStats {
  /** channel datagrams the session refused (closed, or no usable keys during a rekey) */
  sessionSendFailures: number
  /** coalesced channel polls run */
  polls: number
}

interface PendingSend { message: Uint8Array, resolve: () => void, reject: (e: DmessError) => void }
interface Waiter { resolve: () => void, reject: (e: DmessError) => void }

const RESOLVED = Promise.resolve()
// Re-poll at once (not on the next turn) when message listeners queued replies while we were
// delivering, so a reply rides with the ACK it owes; bounded so a chatty listener cannot spin.
const MAX_POLLS_PER_TURN = 4

export class ReliableSession extends EventEmitter<ReliableSessionEvents> {
  readonly session: Session
  readonly #channel: ReliableChannel
  readonly #scheduler: Scheduler
  readonly #defer: (fn: () => void) => void
  readonly #runPoll = (): void => { this.#scheduled = false; this.#pollTurn() }
  readonly #runUrgentPoll = (): void => { this.#urgentScheduled = false; this.#pollTurn() }
  /** queueMicrotask with the real scheduler; null (always `#defer`) with a simulated one */
  readonly #urgentDefer: ((fn: () => void) => void) | null
  #urgentScheduled = false
  readonly #onTimer = (): void => { this.#timer = null; this.#timerAt = Infinity; this.#pollTurn() }
  readonly #onData = (d: Uint8Array): void => { this.#receive(d) }
  readonly #onClose = (reason: CloseReason): void => { this.#teardown(reason, null) }
  readonly #pathCeiling: (address: PeerAddress) => number | null
  // RFC 8899 §4.3: a new path starts again from the base size
  readonly #onRoam = (address: PeerAddress): void => { this.#startPath(address) }
  readonly #sendDatagram = (d: Uint8Array): void => {
    if (!this.session.send(d)) this.#sendFailures++ // lost like any datagram: retransmitted
  }
  readonly #pending: PendingSend[] = []
  #pendingHead = 0
  readonly #flushWaiters: Waiter[] = []
  #inbox: Inbox | null = null
  readonly #highWater: number
  #userPaused = false
  #heldBack = false // the last poll delivered fewer messages than the channel may have had
  #scheduled = false
  #inPoll = false
  #dirty = false
  #timer: unknown = null
  #timerAt = Infinity
  #closed: ReliableCloseInfo | null = null
  #sendFailures = 0
  #polls = 0
  /** made with a stranger's window and message limit, and the peer not a contact since */
  #strangerLimits: boolean
  #ackedSeen = 0 // ackedOffset when 'acked' was last emitted

  constructor (session: Session, opts: ReliableSessionOptions = {}) {
    super()
    this.session = session
    this.#scheduler = opts.scheduler ?? realScheduler
    this.#defer = opts.defer ?? (opts.scheduler === undefined ? setImmediateDefer : fn => { this.#scheduler.setTimer(0, fn) })
    this.#urgentDefer = opts.defer === undefined && opts.scheduler === undefined ? queueMicrotask : null
    this.#highWater = opts.highWaterMessages ?? RELIABLE_SESSION_HIGH_WATER_MESSAGES
    this.#pathCeiling = opts.pathCeiling ?? (opts.scheduler === undefined ? a => onLinkUdpPayloadCeiling(a.host) : () => null)
    // a stranger's limits until the peer is a contact (#contactLimits); a window given by the caller is kept
    this.#strangerLimits = !session.contact && opts.recvWindowBytes === undefined
    this.#channel = new ReliableChannel({
      now: this.#scheduler.now(),
      mtu: RELIABLE_SESSION_MTU,
      maxMtu: RELIABLE_SESSION_MAX_MTU,
      maxMessageBytes: RELIABLE_SESSION_MAX_MESSAGE_BYTES,
      recvMaxMessageBytes: session.contact ? RELIABLE_SESSION_MAX_MESSAGE_BYTES : RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES,
      keepaliveMs: RELIABLE_SESSION_KEEPALIVE_MS,
      sendBufferBytes: opts.sendBufferBytes ?? RELIABLE_SESSION_SEND_BUFFER_BYTES,
      recvWindowBytes: opts.recvWindowBytes ?? (session.contact ? RELIABLE_SESSION_RECV_WINDOW_BYTES : RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES)
    })
    if (session.closed !== null) {
      this.#closed = { reason: session.closed, unackedBytes: 0, unsentMessages: 0, error: null }
      return
    }
    session.on('data', this.#onData)
    session.once('close', this.#onClose)
    session.on('roam', this.#onRoam)
    this.#startPath(session.remoteAddress)
  }

  /** null while open, else how it ended. */
  get closed (): ReliableCloseInfo | null { return this.#closed }

  /** Largest message `send` takes (the same on both ends). */
  static get maxMessageBytes (): number { return RELIABLE_SESSION_MAX_MESSAGE_BYTES }

  /**
   * Queue `message` if the send buffer has room and nothing is waiting ahead of it; false
   * otherwise (nothing queued: await `send` instead). The bytes are copied. A `bulk` message
   * waits in the channel until a packet has room for it, and every message sent later without
   * `bulk` goes ahead of it (reliable.md §3.1). Throws MESSAGE_TOO_LARGE above maxMessageBytes,
   * SESSION_CLOSED after close.
   */
  trySend (message: Uint8Array, bulk = false): boolean {
    this.#checkSendable(message)
    const idle = this.#channel.idle
    if (this.#pendingHead < this.#pending.length || !this.#channel.send(message, bulk)) return false
    this.#schedulePoll(idle)
    return true
  }

  /**
   * Queue `message`; resolves once it is in the send buffer (at once unless the buffer is full:
   * backpressure). Order is kept across waiting sends. Do not change `message` until then.
   * Rejects with MESSAGE_TOO_LARGE, or SESSION_CLOSED if the session closes first.
   */
  async send (message: Uint8Array): Promise<void> {
    if (this.trySend(message)) return await RESOLVED
    return await new Promise<void>((resolve, reject) => { this.#pending.push({ message, resolve, reject }) })
  }

  /**
   * Resolves when every message sent so far has been acknowledged by the peer's channel (it
   * holds them; its application may not have read them yet). Rejects with SESSION_CLOSED if the
   * session closes before.
   */
  async flushed (): Promise<void> {
    if (this.#closed !== null) throw this.#closedError('flushed')
    if (this.#allAcked()) return
    await new Promise<void>((resolve, reject) => { this.#flushWaiters.push({ resolve, reject }) })
  }

  /** Messages as an async iterator (one reader); it ends when the session closes. */
  messages (): AsyncIterableIterator<Uint8Array> {
    if (this.#inbox === null) {
      this.#inbox = new Inbox(this.#highWater)
      this.#inbox.onDrained = () => {
        if (!this.#heldBack) return
        this.#heldBack = false
        this.#schedulePoll()
      }
      if (this.#closed !== null) this.#inbox.end()
    }
    const inbox = this.#inbox
    return {
      next: async () => await inbox.next(),
      [Symbol.asyncIterator] () { return this }
    }
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<Uint8Array> {
    return this.messages()
  }

  /** Stop taking messages from the channel: its window closes and the peer stops sending. */
  pause (): void { this.#userPaused = true }
  resume (): void {
    this.#userPaused = false
    this.#schedulePoll()
  }

  /** Close the session now (SESSION_CLOSE to the peer). For a graceful end, await flushed() first. */
  close (): void {
    if (this.#closed !== null) return
    this.session.close() // emits 'close' ('local') synchronously, which tears us down
    this.#teardown('local', null)
  }

  /** Bytes sent or queued in the channel and not yet acknowledged by the peer (stats.sendBufferedBytes). */
  get sendBufferedBytes (): number { return this.#channel.sendBufferedBytes }
  /** Stream bytes written to the channel and not yet sent. */
  get unsentBytes (): number { return this.#channel.unsentBytes }
  /** Bulk messages' bytes the channel holds back, not yet in the stream (trySend). */
  get heldBytes (): number { return this.#channel.heldBytes }
  /** Stream bytes acknowledged by the peer, all of them below this offset: grows with every acknowledgement. */
  get ackedOffset (): number { return this.#channel.ackedOffset }
  /** Messages in the channel without and with `bulk` (not those waiting for room in `send`), and how many of each the peer acknowledged whole, each kind in order. */
  get messagesWritten (): { readonly normal: number, readonly bulk: number } { return this.#channel.messagesWritten }
  get messagesAcked (): { readonly normal: number, readonly bulk: number } { return this.#channel.messagesAcked }

  get stats (): ReliableSessionStats {
    return { ...this.#channel.stats, sessionSendFailures: this.#sendFailures, polls: this.#polls }
  }

  // ---- driving the channel ----

  // Path MTU discovery towards `address`: the channel probes up to the link's ceiling; the first
  // probe leaves with the next poll, scheduled here so an idle new session probes too.
  #startPath (address: PeerAddress): void {
    const udp = this.#pathCeiling(address)
    this.#channel.resetPath(udp === null ? RELIABLE_SESSION_MTU : udp - TRANSPORT_DATA_MIN_BYTES)
    if (this.#channel.pmtuState === 'searching') this.#schedulePoll()
  }

  #receive (datagram: Uint8Array): void {
    if (this.#closed !== null) return
    const wasIdle = this.#channel.idle
    this.#channel.receive(datagram, this.#scheduler.now()) // malformed: counted by the channel
    // The datagram acknowledged all we had in flight and completed a message: an answer in a
    // request/response exchange. Hand it over at the end of this task, so a reply the listener
    // sends at once leaves in this task too, carrying the ACK (RFC 9000 §13.2.1), instead of a
    // turn of the loop later. A one-way stream's receiver (never anything in flight) keeps the
    // coalesced poll: one ACK per burst, not one per two datagrams.
    this.#schedulePoll(!wasIdle && this.#channel.idle && this.#channel.readable > 0)
  }

  // Coalesce: many datagrams or sends in one turn of the event loop cost one poll. A message
  // sent while nothing is in flight (`urgent`) is polled for at the end of the current task
  // instead, so it leaves without waiting a turn (ping-pong latency); while data is in flight,
  // sends wait for the turn's poll and fill whole packets together.
  #schedulePoll (urgent = false): void {
    if (this.#inPoll) {
      this.#dirty = true
      return
    }
    if (this.#closed !== null) return
    if (urgent && this.#urgentDefer !== null) {
      if (!this.#urgentScheduled) {
        this.#urgentScheduled = true
        this.#urgentDefer(this.#runUrgentPoll)
      }
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    this.#defer(this.#runPoll)
  }

  #pollTurn (): void {
    if (this.#closed !== null) return
    this.#inPoll = true
    try {
      for (let i = 0; i < MAX_POLLS_PER_TURN; i++) {
        this.#dirty = false
        this.#pollOnce()
        if (!this.#dirty || this.#closed !== null) break
      }
    } finally {
      this.#inPoll = false
    }
    if (this.#closed !== null) return
    if (this.#dirty) this.#schedulePoll()
    if (this.#channel.failure !== null) return this.#fail()
    this.#settleFlushes()
    const acked = this.#channel.ackedOffset
    if (acked > this.#ackedSeen) {
      this.#ackedSeen = acked
      this.emit('acked')
    }
  }

  #pollOnce (): void {
    this.#polls++
    if (this.#strangerLimits) this.#contactLimits()
    this.#admitPending()
    const max = this.#maxDeliver()
    // datagrams go out as the channel builds them (views it reuses: Session.send seals at once)
    const r = this.#channel.poll(this.#scheduler.now(), max, this.#sendDatagram)
    if (r.delivered.length === max) this.#heldBack = true
    for (let i = 0; i < r.delivered.length && this.#closed === null; i++) this.#deliver(r.delivered[i]!)
    this.#arm(r.nextTimeoutAt)
  }

  /**
   * A stranger's session whose peer has become a contact (the contact added while the session was
   * up: how most contacts are made) gets a contact's window and message limit from here on, not at
   * its next session (session.md §3.7). It kept a stranger's 64 KiB window for its whole life:
   * a file sent over it moved ~64 KiB per round trip, sending slivers of a few dozen bytes as the
   * window crept open (docs/performance.md §10.8).
   */
  #contactLimits (): void {
    if (!this.session.contact) return
    this.#strangerLimits = false
    this.#channel.raiseReceiveLimits(RELIABLE_SESSION_RECV_WINDOW_BYTES, RELIABLE_SESSION_MAX_MESSAGE_BYTES)
  }

  #maxDeliver (): number {
    if (this.#userPaused) return 0
    return this.#inbox === null ? Infinity : Math.max(0, this.#highWater - this.#inbox.size)
  }

  #deliver (m: Uint8Array): void {
    this.#inbox?.push(m)
    try {
      this.emit('message', m)
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err)
      else queueMicrotask(() => { throw err }) // as an EventEmitter without an 'error' listener
    }
  }

  // Move sends that waited for buffer room into the channel, in order, as room allows.
  #admitPending (): void {
    const q = this.#pending
    while (this.#pendingHead < q.length) {
      const p = q[this.#pendingHead]!
      if (!this.#channel.send(p.message)) break
      q[this.#pendingHead++] = undefined as unknown as PendingSend
      p.resolve()
    }
    if (this.#pendingHead === q.length && q.length > 0) {
      q.length = 0
      this.#pendingHead = 0
    }
  }

  // One timer at the channel's next deadline. A timer that is already due earlier is kept: it
  // fires, polls (cheap when nothing is due) and re-arms, so the hot path never clears timers.
  #arm (at: number | null): void {
    if (at === null || at >= this.#timerAt) return
    if (this.#timer !== null) this.#scheduler.clearTimer(this.#timer)
    this.#timerAt = at
    this.#timer = this.#scheduler.setTimer(Math.max(1, Math.ceil(at - this.#scheduler.now())), this.#onTimer)
  }

  #allAcked (): boolean {
    return this.#channel.flushed && this.#pendingHead === this.#pending.length
  }

  #settleFlushes (): void {
    if (this.#flushWaiters.length === 0 || !this.#allAcked()) return
    for (const w of this.#flushWaiters.splice(0)) w.resolve()
  }

  #checkSendable (message: Uint8Array): void {
    if (this.#closed !== null) throw this.#closedError('send')
    if (message.length > RELIABLE_SESSION_MAX_MESSAGE_BYTES) {
      throw errors.MESSAGE_TOO_LARGE(`message is ${message.length} bytes, limit is ${RELIABLE_SESSION_MAX_MESSAGE_BYTES}`)
    }
  }

  // ---- tear-down ----

  #fail (): void {
    const why = this.#channel.failure ?? 'unknown'
    this.#teardown('channel-failed', errors.CHANNEL_FAILED(`reliable session: the peer broke the channel protocol: ${why}`))
    this.session.close()
  }

  #teardown (reason: ReliableCloseReason, error: DmessError | null): void {
    if (this.#closed !== null) return
    // messages the channel completed (and acknowledged) are still the application's
    const rest = this.#channel.failure === null ? this.#channel.poll(this.#scheduler.now()).delivered : []
    const unsentMessages = this.#pending.length - this.#pendingHead
    this.#closed = { reason, unackedBytes: this.#channel.sendBufferedBytes, unsentMessages, error }
    this.session.off('data', this.#onData)
    this.session.off('close', this.#onClose)
    this.session.off('roam', this.#onRoam)
    if (this.#timer !== null) this.#scheduler.clearTimer(this.#timer)
    this.#timer = null
    for (const m of rest) this.#deliver(m)
    // errors only for callers still waiting: an Error captures a stack (tens of µs), and most
    // sessions close with nobody waiting
    if (this.#pendingHead < this.#pending.length) {
      const err = this.#closedError('send')
      for (let i = this.#pendingHead; i < this.#pending.length; i++) this.#pending[i]!.reject(err)
    }
    this.#pending.length = 0
    this.#pendingHead = 0
    if (this.#flushWaiters.length > 0) {
      const ferr = this.#closedError('flushed')
      for (const w of this.#flushWaiters.splice(0)) w.reject(ferr)
    }
    this.#inbox?.end()
    this.emit('close', this.#closed)
  }

  #closedError (what: string): DmessError {
    const c = this.#closed!
    return errors.SESSION_CLOSED(`${what}: the session closed (${c.reason}); ${c.unackedBytes} unacknowledged bytes and ${c.unsentMessages} waiting messages were not delivered`)
  }
}

function setImmediateDefer (fn: () => void): void {
  setImmediate(fn)
}
