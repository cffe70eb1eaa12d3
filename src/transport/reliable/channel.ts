// ReliableChannel — proto-spec/reliable.md. Reliable, ordered, exactly-once delivery of messages
// inside an established encrypted session. A pure core: plaintext datagrams and `now` in,
// plaintext datagrams, delivered messages and the next deadline out. No sockets, no timers,
// no clock. The session encrypts each returned datagram into one UDP packet.

import { PacketDecoder, PacketWriter, type AckFrame, type Packet, type PnRange } from './codec.js'
import {
  FrameType, DATA_HEADER_BYTES, MAX_DATA_PAYLOAD_BYTES, ACK_FIXED_BYTES, ACK_RANGE_BYTES, MAX_ACK_RANGES,
  INITIAL_PEER_WINDOW_BYTES, MAX_PERSIST_INTERVAL_MS, PACKET_THRESHOLD, PMTU_BLACK_HOLE_RTOS
} from './constants.js'
import { RttEstimator } from './rtt.js'
import { NewReno } from './congestion.js'
import { SentPackets } from './sent-packets.js'
import { SendStream } from './send-stream.js'
import { RecvStream } from './recv-stream.js'
import { AckTracker } from './ack-tracker.js'
import { PmtuSearch, type PmtuState } from './pmtu.js'
import { resolveOptions, type ReliableChannelOptions, type ResolvedOptions } from './options.js'
import type { Range } from './ranges.js'
import { errors } from '../../errors.js'

export interface PollResult {
  /** Plaintext datagrams to encrypt and send, in order. */
  datagrams: Uint8Array[]
  /** Complete messages, in order, each exactly once. */
  delivered: Uint8Array[]
  /** When to call `poll` again if nothing arrives first (null: no timer needed). */
  nextTimeoutAt: number | null
}

export interface ReliableStats {
  srttMs: number | null
  rttVarMs: number
  minRttMs: number | null
  latestRttMs: number
  rtoMs: number
  cwndBytes: number
  ssthreshBytes: number
  bytesInFlight: number
  /** Flow-control limit the peer last advertised (stream offset). */
  peerLimit: number
  packetsSent: number
  /** Packets sent with an ACK and nothing the peer must acknowledge (pure acknowledgements). */
  ackOnlyPackets: number
  packetsReceived: number
  bytesSent: number
  /** Packets that carried at least one retransmitted byte, and those bytes. */
  retransmits: number
  retransmittedBytes: number
  lostPackets: number
  rtoCount: number
  congestionEvents: number
  /** Datagrams dropped because they did not parse or broke the protocol. */
  droppedMalformed: number
  duplicatePackets: number
  messagesSent: number
  messagesDelivered: number
  sendBufferedBytes: number
  recvBufferedBytes: number
  /** Largest packet confirmed on the path (reliable.md §15), the search state and its probes. */
  pmtu: number
  pmtuCeiling: number
  pmtuState: PmtuState
  pmtuProbes: number
  pmtuProbesLost: number
  pmtuBlackHoles: number
}

type Counters = Pick<ReliableStats, 'packetsSent' | 'ackOnlyPackets' | 'packetsReceived' | 'bytesSent' | 'retransmits' |
'retransmittedBytes' | 'lostPackets' | 'rtoCount' | 'congestionEvents' | 'droppedMalformed' | 'duplicatePackets'>

export class ReliableChannel {
  readonly #o: ResolvedOptions
  readonly #rtt: RttEstimator
  readonly #cc: NewReno
  readonly #sent = new SentPackets()
  readonly #tx: SendStream
  readonly #rx: RecvStream
  readonly #acks: AckTracker
  #writer: PacketWriter
  readonly #pmtu: PmtuSearch
  readonly #decoder = new PacketDecoder()
  #nextPn = 0
  #largestAcked = -1
  #peerLimit = INITIAL_PEER_WINDOW_BYTES
  #advertisedLimit = INITIAL_PEER_WINDOW_BYTES
  #rtoAt: number | null = null
  #lossAt: number | null = null
  #persistAt: number | null = null
  #persistBackoff = 0
  #blockedDue = false
  #pingDue = false
  #lastElicitingSentAt: number
  #failure: string | null = null
  readonly #c: Counters = {
    packetsSent: 0, ackOnlyPackets: 0, packetsReceived: 0, bytesSent: 0, retransmits: 0, retransmittedBytes: 0,
    lostPackets: 0, rtoCount: 0, congestionEvents: 0, droppedMalformed: 0, duplicatePackets: 0
  }

  constructor (opts: ReliableChannelOptions) {
    this.#o = resolveOptions(opts)
    const o = this.#o
    this.#rtt = new RttEstimator(o)
    this.#cc = new NewReno(o.mtu, o.maxCwndBytes)
    this.#tx = new SendStream(o.sendBufferBytes)
    this.#rx = new RecvStream(o.recvWindowBytes, o.recvMaxMessageBytes)
    this.#acks = new AckTracker(o.maxAckDelayMs, o.ackEveryPackets)
    this.#writer = new PacketWriter(o.mtu)
    this.#pmtu = new PmtuSearch(o.mtu, o.maxMtu)
    this.#lastElicitingSentAt = o.now
  }

  /**
   * Advertises a larger receive window and takes larger messages from now on (never smaller: a
   * sender may already use what it was told, reliable.md §9). The grown limit goes out with the
   * next poll's packets, at once when it grew by a quarter of the window (#maybeWindowUpdate).
   */
  raiseReceiveLimits (windowBytes: number, maxMessageBytes: number): void {
    this.#rx.raise(windowBytes, maxMessageBytes)
  }

  /** The receive window this channel advertises beyond what the application has read (reliable.md §9). */
  get recvWindowBytes (): number { return this.#rx.window }

  /** Why the channel stopped (the peer broke the protocol), or null while it works. */
  get failure (): string | null { return this.#failure }
  /** Bytes `send` can still queue. */
  get sendBufferAvailable (): number { return this.#tx.available }
  /** Nothing is in flight or waiting to be sent: a new message would go out alone, at once. */
  get idle (): boolean { return this.#sent.count === 0 && !this.#tx.hasUnsent && !this.#tx.hasLost }
  /** Largest packet this channel builds now: the base `mtu` until a larger one is confirmed (§15). */
  get mtu (): number { return this.#pmtu.mtu }

  /**
   * The path to the peer changed (it roamed) or its ceiling did: packets go back to the base
   * size and the search starts again towards `ceiling` (RFC 8899 §4.3). Clamped to the
   * channel's `maxMtu`.
   */
  resetPath (ceiling: number): void {
    this.#pmtu.resetPath(Math.min(ceiling, this.#o.maxMtu))
    this.#useMtu(this.#pmtu.mtu)
  }

  /** Complete messages waiting for the next `poll` to hand them over. */
  get readable (): number { return this.#rx.readable }
  /** Every message sent so far has been acknowledged. */
  get flushed (): boolean { return this.#tx.flushed }

  /**
   * Queues a message; false if the send buffer is full (backpressure: poll, then try again).
   * The bytes are copied. A `bulk` message is held back while the stream has bytes to send, and
   * every message sent later without `bulk` goes ahead of it (reliable.md §3.1); bulk messages
   * keep their order among themselves. Throws MESSAGE_TOO_LARGE over maxMessageBytes,
   * CHANNEL_FAILED after a failure.
   */
  send (message: Uint8Array, bulk = false): boolean {
    if (this.#failure) throw errors.CHANNEL_FAILED(`channel failed: ${this.#failure}`)
    if (message.length > this.#o.maxMessageBytes) throw errors.MESSAGE_TOO_LARGE(`message is ${message.length} bytes, limit is ${this.#o.maxMessageBytes}`)
    return this.#tx.write(message, bulk)
  }

  /** Consumes one decrypted datagram. Returns false if it was dropped as malformed. */
  receive (datagram: Uint8Array, now: number): boolean {
    if (this.#failure) return false
    const pkt = this.#decoder.decode(datagram) // reused objects: this packet is consumed here
    if (pkt === null || !this.#acceptable(pkt)) {
      this.#c.droppedMalformed++ // network input is dropped and counted, never thrown on (wire.md §5)
      return false
    }
    this.#c.packetsReceived++
    if (this.#acks.isDuplicate(pkt.pn)) {
      this.#c.duplicatePackets++
      return true
    }
    let eliciting = false
    let probe = false
    for (const f of pkt.frames) {
      if (f.type === FrameType.ACK) this.#onAck(f, now)
      else eliciting = true
      if (f.type === FrameType.DATA && this.#rx.onData(f.offset, f.payload) === 'failed') this.#failure = this.#rx.failure
      if (f.type === FrameType.BLOCKED) probe = true
    }
    this.#acks.onPacket(pkt.pn, eliciting, now)
    if (probe) this.#acks.requestImmediate() // RFC 9293 §3.8.6.1: answer a window probe at once
    return true
  }

  /**
   * Runs due timers, hands over up to `maxDeliver` messages (fewer means the application is
   * applying backpressure: unread messages hold the flow-control window shut), and returns
   * the datagrams to send now. With `sink`, each datagram goes to it instead, as it is built,
   * as a view that is valid only during the call (the caller encrypts it at once): no copy.
   */
  poll (now: number, maxDeliver = Infinity, sink?: (datagram: Uint8Array) => void): PollResult {
    if (this.#failure) return { datagrams: [], delivered: [], nextTimeoutAt: null }
    if (this.#lossAt !== null && now >= this.#lossAt) this.#detectLoss(now)
    if (this.#rtoAt !== null && now >= this.#rtoAt) this.#onRetransmissionTimeout(now)
    this.#checkProbeLost(now)
    const delivered: Uint8Array[] = []
    while (delivered.length < maxDeliver) {
      const m = this.#rx.read()
      if (m === null) break
      delivered.push(m)
    }
    this.#maybeWindowUpdate()
    this.#updatePersist(now)
    const keepalive = this.#o.keepaliveMs
    if (keepalive !== null && now >= this.#lastElicitingSentAt + keepalive) this.#pingDue = true
    const datagrams = this.#flush(now, sink)
    return { datagrams, delivered, nextTimeoutAt: this.#nextTimeout() }
  }

  /** Stream bytes written and not yet acknowledged (stats.sendBufferedBytes, without building stats). */
  get sendBufferedBytes (): number { return this.#tx.buffered }
  /** Stream bytes written and never yet sent: what a message written now waits behind besides the bytes in flight. */
  get unsentBytes (): number { return this.#tx.writeOffset - this.#tx.sentOffset }
  /** Bulk messages' bytes held back, not yet in the stream: what a message sent now without `bulk` goes ahead of. */
  get heldBytes (): number { return this.#tx.heldBytes }
  /** Stream bytes the peer has acknowledged, all of them below this offset. */
  get ackedOffset (): number { return this.#tx.ackedOffset }
  /**
   * Messages sent without and with `bulk`, and how many of each the peer has acknowledged
   * whole: each kind is acknowledged in the order it was sent. Read-only.
   */
  get messagesWritten (): { readonly normal: number, readonly bulk: number } { return this.#tx.written }
  get messagesAcked (): { readonly normal: number, readonly bulk: number } { return this.#tx.acked }
  get pmtuState (): ReliableStats['pmtuState'] { return this.#pmtu.state }

  get stats (): ReliableStats {
    const r = this.#rtt
    return {
      ...this.#c,
      srttMs: r.srtt,
      rttVarMs: r.rttvar,
      minRttMs: r.minRtt === Infinity ? null : r.minRtt,
      latestRttMs: r.latest,
      rtoMs: r.rto,
      cwndBytes: this.#cc.cwnd,
      ssthreshBytes: this.#cc.ssthresh,
      bytesInFlight: this.#sent.bytesInFlight,
      peerLimit: this.#peerLimit,
      messagesSent: this.#tx.messagesWritten,
      messagesDelivered: this.#rx.messagesDelivered,
      sendBufferedBytes: this.#tx.buffered,
      recvBufferedBytes: this.#rx.bufferedBytes,
      pmtu: this.#pmtu.mtu,
      pmtuCeiling: this.#pmtu.ceiling,
      pmtuState: this.#pmtu.state,
      pmtuProbes: this.#pmtu.probesSent,
      pmtuProbesLost: this.#pmtu.probesLost,
      pmtuBlackHoles: this.#pmtu.blackHoles
    }
  }

  // ---- receiving ----

  // Checks that need our state, before anything is applied: a peer may not ack packets we never
  // sent, claim bytes we never sent, or send beyond the window we advertised (RFC 9000 §4.1).
  // Such a packet is dropped whole and never acknowledged.
  #acceptable (pkt: Packet): boolean {
    if (pkt.frames.length === 0) return false
    for (const f of pkt.frames) {
      if (f.type === FrameType.DATA && f.offset + f.payload.length > this.#rx.limit) return false
      if (f.type === FrameType.ACK && (f.ranges[0]!.hi >= this.#nextPn || f.cumOffset > this.#tx.sentOffset)) return false
    }
    return true
  }

  #onAck (ack: AckFrame, now: number): void {
    if (ack.maxOffset > this.#peerLimit) {
      this.#peerLimit = ack.maxOffset
      this.#persistBackoff = 0
    }
    this.#tx.onCumulativeAck(ack.cumOffset)
    if (this.#pmtu.probePn >= 0 && rangesInclude(ack.ranges, this.#pmtu.probePn)) {
      this.#pmtu.onProbeAcked(now)
      this.#useMtu(this.#pmtu.mtu)
    }
    const acked = this.#sent.onAck(ack.ranges)
    if (acked.length === 0) return
    const largest = ack.ranges[0]!.hi
    if (largest > this.#largestAcked) this.#largestAcked = largest
    // RFC 9002 §5.1: sample only when the largest acknowledged packet is newly acknowledged
    const newest = acked[acked.length - 1]!
    if (newest.pn === largest) this.#rtt.update(now - newest.sentAt, ack.ackDelayUs / 1000)
    this.#rtt.resetBackoff()
    this.#detectLoss(now) // RFC 9002 §A.7: losses first, so recovery starts before growth
    this.#checkProbeLost(now)
    for (const p of acked) {
      for (const r of p.data) this.#tx.onAcked(r)
      this.#cc.onAck(p.size, p.sentAt, p.cwndLimited)
    }
    this.#rtoAt = this.#sent.count > 0 ? now + this.#rtt.rto : null // RFC 6298 §5.2, §5.3
  }

  // ---- loss recovery ----

  #detectLoss (now: number): void {
    this.#lossAt = null
    if (this.#largestAcked < 0) return
    const { lost, nextLossAt } = this.#sent.detectLost(this.#largestAcked, now, this.#rtt.lossDelay)
    this.#lossAt = nextLossAt
    if (lost.length === 0) return
    let newestSentAt = -Infinity
    for (const p of lost) {
      for (const r of p.data) this.#tx.onLost(r)
      newestSentAt = Math.max(newestSentAt, p.sentAt)
    }
    this.#c.lostPackets += lost.length
    if (this.#cc.onLoss(newestSentAt, now)) this.#c.congestionEvents++
    if (this.#sent.count === 0) this.#rtoAt = null // the retransmissions will restart it
  }

  // RFC 6298 §5.4–5.6 and RFC 5681 §3.1: everything outstanding is presumed lost, resent from
  // the lowest unacknowledged byte (skipping SACKed bytes), the timer backs off, and the
  // congestion window restarts from one packet.
  #onRetransmissionTimeout (now: number): void {
    this.#rtoAt = null
    if (this.#sent.count === 0) return
    this.#c.rtoCount++
    const flight = this.#sent.bytesInFlight
    this.#c.lostPackets += this.#sent.takeAll().length
    this.#tx.markAllLost()
    this.#cc.onTimeout(flight, this.#rtt.backoff === 0, now)
    this.#rtt.backOff()
    if (this.#rtt.backoff >= PMTU_BLACK_HOLE_RTOS && this.#pmtu.mtu > this.#pmtu.base) {
      this.#pmtu.onBlackHole() // RFC 8899 §4.3: the confirmed size stopped getting through
      this.#useMtu(this.#pmtu.mtu)
    }
    this.#lossAt = null
    if (!this.#tx.hasLost && this.#flowBlocked) this.#blockedDue = true // the lost packet was a window probe
  }

  // ---- path MTU (reliable.md §15) ----

  // A lost probe says nothing about congestion (RFC 8899 §3): no window change, nothing to resend.
  #checkProbeLost (now: number): void {
    if (this.#pmtu.probePn < 0) return
    if (this.#pmtu.checkLost(this.#largestAcked, PACKET_THRESHOLD, now, this.#rtt.rto)) this.#useMtu(this.#pmtu.mtu)
  }

  // RFC 8899 §3: a new PLPMTU must not grow the window in bytes; it only changes the MSS.
  #useMtu (mtu: number): void {
    if (mtu === this.#cc.mss) return
    this.#cc.setMss(mtu)
    this.#writer = new PacketWriter(mtu)
  }

  // PING + PADDING up to the probed size (RFC 8899 §4.1: a probe carries no application data,
  // so its loss needs no retransmission). Not congestion controlled, not in bytes in flight.
  #buildProbe (size: number, now: number): Uint8Array {
    const pn = this.#nextPn++
    const w = new PacketWriter(size).begin(pn)
    w.writePing()
    w.writePadding(w.remaining)
    const bytes = w.view() // the writer is this probe's alone: no copy (a probe can be 64 KiB on loopback)
    this.#pmtu.onProbeSent(pn, size, now)
    this.#c.packetsSent++
    this.#c.bytesSent += bytes.length
    return bytes
  }

  // ---- flow control ----

  get #flowBlocked (): boolean {
    return this.#tx.hasUnsent && this.#tx.sentOffset >= this.#peerLimit
  }

  // RFC 9293 §3.8.6.1 (zero-window probing), RFC 9000 §19.12 (DATA_BLOCKED): while the peer's
  // window is shut and nothing is in flight to bring an ACK back, probe with BLOCKED on a
  // backed-off timer, so a lost window update cannot stall the channel.
  #updatePersist (now: number): void {
    if (!this.#flowBlocked || this.#sent.count > 0) {
      this.#persistAt = null
      return
    }
    if (this.#persistAt === null) {
      this.#persistAt = now + Math.min(this.#rtt.rto * 2 ** this.#persistBackoff, MAX_PERSIST_INTERVAL_MS)
    } else if (now >= this.#persistAt) {
      this.#blockedDue = true
      this.#persistBackoff++
      this.#persistAt = null
    }
  }

  // Receiver side: once the window has opened by a quarter (or an MTU), tell the peer without
  // waiting for data to ack (RFC 1122 §4.2.3.3 receiver silly-window avoidance).
  #maybeWindowUpdate (): void {
    const grew = this.#rx.limit - this.#advertisedLimit
    if (grew >= Math.max(this.#pmtu.mtu, this.#rx.window / 4)) this.#acks.requestImmediate()
  }

  // ---- sending ----

  #flush (now: number, sink: ((datagram: Uint8Array) => void) | undefined): Uint8Array[] {
    const out: Uint8Array[] = []
    const probe = this.#pmtu.probeDue(now)
    if (probe > 0) {
      const pkt = this.#buildProbe(probe, now)
      if (sink !== undefined) sink(pkt)
      else out.push(pkt)
    }
    for (;;) {
      const hasData = this.#tx.hasLost || (this.#tx.hasUnsent && this.#tx.sentOffset < this.#peerLimit)
      const withData = hasData && this.#cc.canSend(this.#sent.bytesInFlight)
      if (!withData && !this.#acks.shouldSend(now) && !this.#blockedDue && !this.#pingDue) break
      const pkt = this.#buildPacket(now, withData, sink !== undefined)
      if (pkt === null) break
      // the packet's bookkeeping is complete here, so a sink may even poll again (re-entrant)
      if (sink !== undefined) sink(pkt)
      else out.push(pkt)
    }
    return out
  }

  #buildPacket (now: number, withData: boolean, asView: boolean): Uint8Array | null {
    const pn = this.#nextPn
    const w = this.#writer.begin(pn)
    const withAck = this.#acks.pending && this.#acks.hasReceived // piggyback whenever owed
    if (withAck) this.#writeAck(w, now)
    let eliciting = this.#blockedDue || this.#pingDue
    if (this.#blockedDue) w.writeBlocked(this.#peerLimit)
    if (this.#pingDue) w.writePing()
    this.#blockedDue = this.#pingDue = false
    const data = withData ? this.#writeData(w) : []
    if (data.length > 0) eliciting = true
    if (!eliciting && !withAck) return null
    const bytes = asView ? w.view() : w.finish()
    this.#nextPn++
    this.#c.packetsSent++
    this.#c.bytesSent += bytes.length
    if (withAck) this.#acks.onAckSent()
    if (!eliciting) this.#c.ackOnlyPackets++
    if (eliciting) {
      const cwndLimited = (this.#sent.bytesInFlight + bytes.length) * 2 >= this.#cc.cwnd
      this.#sent.add({ pn, sentAt: now, size: bytes.length, data, cwndLimited, live: true })
      this.#lastElicitingSentAt = now
      this.#rtoAt ??= now + this.#rtt.rto // RFC 6298 §5.1
    }
    return bytes
  }

  #writeAck (w: PacketWriter, now: number): void {
    const fit = Math.floor((w.remaining - ACK_FIXED_BYTES) / ACK_RANGE_BYTES) + 1
    const { ranges, ackDelayUs } = this.#acks.frame(now, Math.min(MAX_ACK_RANGES, fit))
    const maxOffset = this.#rx.limit
    w.writeAck({ ackDelayUs, cumOffset: this.#rx.recvOffset, maxOffset, ranges })
    this.#advertisedLimit = maxOffset
  }

  // Fills the rest of the packet with stream bytes: lost bytes first, then new ones.
  #writeData (w: PacketWriter): Range[] {
    const data: Range[] = []
    let retransmitted = 0
    while (w.remaining > DATA_HEADER_BYTES) {
      const r = this.#tx.next(Math.min(w.remaining - DATA_HEADER_BYTES, MAX_DATA_PAYLOAD_BYTES), this.#peerLimit)
      if (r === null) break
      this.#tx.copyTo(r.start, w.writeData(r.start, r.end - r.start))
      data.push({ start: r.start, end: r.end })
      if (r.retransmit) retransmitted += r.end - r.start
    }
    if (retransmitted > 0) {
      this.#c.retransmits++
      this.#c.retransmittedBytes += retransmitted
    }
    return data
  }

  #nextTimeout (): number | null {
    let t = Infinity
    for (const x of [this.#acks.deadline, this.#lossAt, this.#rtoAt, this.#persistAt, this.#pmtu.probeDeadline(this.#rtt.rto)]) {
      if (x !== null && x < t) t = x
    }
    if (this.#o.keepaliveMs !== null) t = Math.min(t, this.#lastElicitingSentAt + this.#o.keepaliveMs)
    return t === Infinity ? null : t
  }
}

function rangesInclude (ranges: readonly PnRange[], pn: number): boolean {
  for (const r of ranges) if (r.lo <= pn && pn <= r.hi) return true
  return false
}
