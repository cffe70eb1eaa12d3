// One peer link (proto-spec/messaging.md §2): a secure Session with a ReliableSession on it,
// carrying frames. Adds what messaging needs on top of the reliable session:
//  - `send(frame)` resolves when *that* frame is acknowledged by the peer's channel (the
//    channel's cumulative acknowledgement has passed its last byte), so an entry can turn 'sent';
//  - a stall watchdog: frames outstanding with no acknowledgement progress for LINK_STALL_MS
//    close the link. This is how a peer that restarted is noticed: its new handshake rekeys our
//    old session (one session per fingerprint), but its fresh channel cannot continue our
//    stream, so nothing we send is acknowledged (messaging.md §5.3). Closing lets both ends start
//    a fresh session; the outbox resends what was not receipted.
import { EventEmitter } from 'node:events'
import { realScheduler, type Scheduler, type TimerHandle } from '../io/scheduler.js'
import { ReliableSession, type ReliableCloseInfo } from '../transport/reliable-session.js'
import type { Session } from '../transport/session.js'
import type { PeerAddress } from '../transport/types.js'
import type { PublicIdentity } from '../crypto/identity.js'

/** No acknowledgement progress for this long while frames are outstanding: the link is dead. */
export const LINK_STALL_MS = 5000
/** How often the watchdog and the per-frame acknowledgement check run while frames are outstanding. */
export const LINK_CHECK_MS = 50
/** A frame in the channel: acknowledged once the channel has acknowledged `n` frames of its kind. */
interface Outstanding { n: number, resolve: () => void, reject: (e: Error) => void }

export interface LinkEvents {
  frame: [bytes: Uint8Array]
  close: [info: ReliableCloseInfo]
  rekey: []
  roam: [address: PeerAddress]
}

export class PeerLink extends EventEmitter<LinkEvents> {
  readonly rs: ReliableSession
  readonly fingerprint: string
  /** the peer's public identity, proven by the handshake */
  readonly identity: PublicIdentity
  readonly openedAt: number
  #acked = 0 // the channel's acknowledged stream offset when last looked at
  #outstanding: Outstanding[] = []
  #outstandingBulk: Outstanding[] = []
  #lastProgressAt: number
  #timer: TimerHandle | null = null
  #closed = false
  stalls = 0

  constructor (readonly session: Session, private readonly now: () => number, private readonly scheduler: Scheduler = realScheduler, sendBufferBytes?: number) {
    super()
    this.fingerprint = session.remoteFingerprint
    this.identity = session.remoteIdentity
    this.openedAt = now()
    this.#lastProgressAt = this.openedAt
    // the channel's timers on the node's clock, so a simulated node's ACKs and retransmissions
    // run in simulated time (else the stall check below, on that clock, closes healthy links);
    // the real clock keeps the session's own defaults (setImmediate polls, path MTU discovery)
    this.rs = new ReliableSession(session, { ...(scheduler === realScheduler ? {} : { scheduler }), ...(sendBufferBytes === undefined ? {} : { sendBufferBytes }) })
    this.rs.on('message', m => this.emit('frame', m))
    this.rs.on('error', () => {}) // a throwing 'frame' listener is counted by the service
    this.rs.once('close', info => this.#onClose(info))
    // frames settle as the peer acknowledges them, not only when everything sent is acknowledged
    // (flushed) or at the next LINK_CHECK_MS: while other frames keep the channel busy (a file
    // transfer's REQUESTs or DATA), flushed() hardly ever holds, and a receipt waiting for the
    // previous one's ACK (messaging.md §4.4) or a pump waiting for room waited up to 50 ms
    this.rs.on('acked', () => { if (this.#outstanding.length + this.#outstandingBulk.length > 0) this.#check() })
    session.on('rekey', () => this.emit('rekey'))
    session.on('roam', a => this.emit('roam', a))
  }

  get closed (): boolean { return this.#closed || this.rs.closed !== null }
  get address (): PeerAddress { return this.session.remoteAddress }

  /**
   * Everything sent on the link is acknowledged by the peer's channel (as `send`'s promises will
   * say a few microtasks later, once the channel's poll has settled them).
   */
  get acknowledged (): boolean { return this.rs.sendBufferedBytes === 0 }

  /** Smoothed RTT of the channel in ms, or null before the first sample. */
  get rttMs (): number | null { return this.rs.stats.srttMs }

  /** Resolves when the peer's channel acknowledged this frame; rejects if the link closes first. */
  async send (frame: Uint8Array): Promise<void> {
    await this.rs.send(frame) // throws SESSION_CLOSED / MESSAGE_TOO_LARGE
    await this.#sent(false)
  }

  /**
   * `send` only if the channel takes the frame at once (it copies it: the caller may reuse the
   * buffer as soon as this returns); null when it cannot, and then nothing was sent. A `bulk`
   * frame (file data) waits in the channel until a packet has room for it, and every frame sent
   * later without `bulk` (chat) goes ahead of it (reliable.md §3.1). Throws as `send` rejects.
   */
  trySend (frame: Uint8Array, bulk = false): Promise<void> | null {
    if (!this.rs.trySend(frame, bulk)) return null
    return this.#sent(bulk)
  }

  /** A frame is in the channel: resolves when the peer's channel acknowledged it. */
  async #sent (bulk: boolean): Promise<void> {
    // the frames of each kind the channel holds so far, this one included (a frame sent after it
    // and before this runs only makes this one resolve later, never early)
    const n = bulk ? this.rs.messagesWritten.bulk : this.rs.messagesWritten.normal
    const list = bulk ? this.#outstandingBulk : this.#outstanding
    const acked = new Promise<void>((resolve, reject) => { list.push({ n, resolve, reject }) })
    if (this.#outstanding.length + this.#outstandingBulk.length === 1) this.#lastProgressAt = this.now()
    this.#arm()
    this.rs.flushed().then(() => this.#check(), () => {})
    await acked
  }

  pause (): void { this.rs.pause() }
  resume (): void { this.rs.resume() }

  close (): void {
    this.rs.close()
  }

  #arm (): void {
    if (this.#timer !== null || this.#closed) return
    this.#timer = this.scheduler.setTimer(LINK_CHECK_MS, () => { this.#timer = null; this.#check() })
  }

  #check (): void {
    if (this.#closed) return
    const now = this.now()
    this.#settleAcked(now)
    if (this.#outstanding.length === 0 && this.#outstandingBulk.length === 0) return
    if (now - this.#lastProgressAt >= LINK_STALL_MS) {
      this.stalls++
      this.close()
      return
    }
    this.#arm()
  }

  /** Resolves the frames the channel's cumulative acknowledgement has passed. */
  #settleAcked (now: number): void {
    const acked = this.rs.ackedOffset
    if (acked > this.#acked) {
      this.#acked = acked
      this.#lastProgressAt = now
    }
    const done = this.rs.messagesAcked
    this.#outstanding = settle(this.#outstanding, done.normal)
    this.#outstandingBulk = settle(this.#outstandingBulk, done.bulk)
  }

  #onClose (info: ReliableCloseInfo): void {
    this.#settleAcked(this.now())
    this.#closed = true
    if (this.#timer !== null) this.scheduler.clearTimer(this.#timer)
    this.#timer = null
    const err = new Error(`link to ${this.fingerprint} closed (${info.reason})`)
    for (const o of this.#outstanding) o.reject(err)
    for (const o of this.#outstandingBulk) o.reject(err)
    this.#outstanding = []
    this.#outstandingBulk = []
    this.emit('close', info)
  }
}

/** Resolves the frames among `list` (in the order sent) whose kind has `acked` frames acknowledged; returns the rest. */
function settle (list: Outstanding[], acked: number): Outstanding[] {
  let i = 0
  while (i < list.length && (list[i] as Outstanding).n <= acked) (list[i++] as Outstanding).resolve()
  return i > 0 ? list.slice(i) : list
}
