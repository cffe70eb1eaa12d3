// Everything we receive (proto-spec/messaging.md §6): frames from links pass the InboundGate
// (blocklist on the session's proven fingerprint, then the peer's token bucket) before anything
// is decoded, wait in a FairQueue (round-robin over peers), and are opened and handled in
// batches. Within a batch each peer's items are started in arrival order, so the store assigns
// seqs in the order envelopes arrived (storage.md §Atomicity): that, not the sender's clock, is
// the conversation order.
import { ENVELOPE_V2, PayloadType, V2_FLAG_INITIAL } from '../wire/constants.js'
import { openEnvelope, type OpenResult } from '../wire/seal.js'
import type { Envelope } from '../wire/envelope.js'
import type { SessionWrite } from '../store/index.js'
import type { Response } from '../pqxdh/index.js'
import type { RatchetSessions } from './ratchet-sessions.js'
import type { ContactRequestPayload, PresencePayload } from '../wire/payloads.js'
import { fingerprintOf, verifyPublicIdentity, type PublicIdentity } from '../crypto/identity.js'
import { networkKeyOf } from '../io/address.js'
import { decodeFrame, FrameType, type Frame } from './frames.js'
import { FairQueue } from './fair-queue.js'
import { InboundGate } from './inbound-gate.js'
import { INBOUND_BATCH, MAX_QUEUED_PER_PEER, MAX_QUEUED_TOTAL, STRANGER_COOL_OFF_MS } from './constants.js'
import { hex, type MessagingContext } from './context.js'
import type { PeerLink } from './link.js'
import type { Outbound } from './outbound.js'
import { heldLeast, type RequestBook, type RequestOutcome, type HeldMessage } from './requests.js'
import { messageJson, requestJson } from './json.js'
import type { TypingTracker } from './signals.js'
import type { StatusWaiters } from './waiters.js'
import { stamp, traceNow, traceOn } from '../runtime/latency-trace.js'

/** A contact's link is paused (flow control reaches the sender) above this many queued envelopes, resumed below the second. */
const PAUSE_AT = MAX_QUEUED_PER_PEER / 2
const RESUME_AT = MAX_QUEUED_PER_PEER / 8

/** The request book counts quotas per source network (messaging.md §3.2): the link's /24 or /64. */
const sourceNetwork = (link: PeerLink): string => networkKeyOf(link.address.host) ?? link.address.host

/** `claim`: what a stranger's envelope holds at least, reserved against the request budgets while it waits. */
interface Item { link: PeerLink, envelope: Uint8Array, at: number, claim: number, t?: number }
/** An opened envelope; from v2 also the ratchet step to store with it and a session start to remember (envelope.md §8.5). */
type Opened = Extract<OpenResult, { ok: true }> & { session?: SessionWrite, started?: Response | null }

export interface InboundHooks {
  requests: RequestBook
  typing: TypingTracker
  /**
   * After the request book saw an envelope from `fp`: writes its request's file when it changed
   * (resolves once durable: nothing held is acknowledged before; for a duplicate, once the write
   * that holds it is), removes the files of requests the book evicted or expired, and notes what
   * it turned away.
   */
  requestSettled: (fp: string, outcome: RequestOutcome) => Promise<void>
  /** the book refused an envelope before it was opened (its counts changed) */
  refusedEarly: () => void
  /**
   * a contact's PRESENCE, as a frame of the link (messaging.md §7) or as an envelope: its caps
   * are taken, and a contact whose link-up PRESENCE came as an envelope (a node from before the
   * frame) is sent ours as one
   */
  presenceOn: (link: PeerLink, payload: PresencePayload, asFrame: boolean) => void
  /** a contact sent us a CONTACT_REQUEST: we are mutual contacts; learn what it tells */
  mutualRequest: (fp: string, req: ContactRequestPayload) => Promise<void>
  /** a PQXDH prekey request or bundle (prekey-exchange.ts) */
  prekeyFrame: (link: PeerLink, frame: Exclude<Frame, { type: typeof FrameType.ENVELOPE | typeof FrameType.FILE | typeof FrameType.PRESENCE }>) => void
  /** a file-transfer message (proto-spec/files.md §3): handed over as it came, not queued */
  fileFrame: (link: PeerLink, body: Uint8Array) => void
  /** envelope v2 sessions (envelope.md §8) */
  sessions: RatchetSessions
  /** a contact writes v2 on a session we do not hold: we lost our state (§8.6) */
  sessionLost: (link: PeerLink) => void
  /** a contact we had a session with started a new one: it lost its state (§8.6); the user is told */
  sessionReset: (fp: string) => void
}

export class Inbound {
  readonly gate = new InboundGate()
  readonly queue = new FairQueue<Item>({ perKey: MAX_QUEUED_PER_PEER, total: MAX_QUEUED_TOTAL })
  readonly #paused = new Map<string, PeerLink>()
  /** bytes claimed by strangers' queued envelopes, per stranger and in all */
  readonly #claims = new Map<string, number>()
  #claimed = 0
  #running: Promise<void> | null = null
  #stopped = false
  /** the last round of the inbound queue found it empty once its writes were done */
  #quiet = true

  constructor (
    private readonly ctx: MessagingContext,
    private readonly out: Outbound,
    private readonly hooks: InboundHooks,
    private readonly waiters: StatusWaiters
  ) {}

  /** One frame from a link. Never throws (network input). */
  onFrame (link: PeerLink, bytes: Uint8Array): void {
    const c = this.ctx.counters
    const fp = link.fingerprint
    c.framesIn++
    const isContact = this.ctx.contacts.has(fp)
    const verdict = this.gate.admit(fp, isContact, this.ctx.now())
    if (verdict === 'rate-limited') { c.rateLimited++; return }
    // blocked: queued like any envelope, then only acknowledged and dropped (#discard)
    const blocked = verdict === 'blocked'
    if (blocked) c.blocked++
    const frame = decodeFrame(bytes)
    if (frame === null) { c.malformed++; return }
    if (frame.type === FrameType.FILE) { if (!blocked) this.hooks.fileFrame(link, frame.body); return }
    // handled as it comes, as the prekey frames are: it is sent before our bundle (envelope.md §8.3)
    if (frame.type === FrameType.PRESENCE) {
      if (blocked || !isContact) { c.ignored++; return } // a stranger's signal, as its envelope would be
      this.hooks.presenceOn(link, frame.presence, true)
      return
    }
    if (frame.type !== FrameType.ENVELOPE) { if (!blocked) this.hooks.prekeyFrame(link, frame); return }
    // a stranger whose request cannot hold this much more: dropped before any copy or decryption (§3.2)
    if (!isContact && !blocked && this.hooks.requests.refuseEarly(fp, frame.envelope.length, { mine: this.#claims.get(fp) ?? 0, all: this.#claimed })) {
      c.requestsDropped++
      this.hooks.refusedEarly()
      this.gate.coolOff(fp, this.ctx.now() + STRANGER_COOL_OFF_MS)
      link.close() // it keeps sending what we would drop: stop receiving it (its sessions are refused for a while)
      return
    }
    // copy: the channel may reuse the buffer it delivered
    const claim = isContact || blocked ? 0 : heldLeast(frame.envelope.length)
    if (!this.queue.push(fp, { link, envelope: frame.envelope.slice(), at: this.ctx.now(), claim, ...(traceOn ? { t: traceNow() } : {}) })) { c.queueFull++; return }
    this.#claim(fp, claim)
    if (isContact && this.queue.sizeOf(fp) >= PAUSE_AT && !this.#paused.has(fp)) {
      link.pause()
      this.#paused.set(fp, link)
    }
    this.#pump()
  }

  /** Envelopes are queued or being handled (their receipts go out when the queue drains). */
  get busy (): boolean { return this.#running !== null }

  /**
   * Forget what is queued from `fp` (it was just blocked): not acknowledged, so its sender sends
   * it again, and it is acknowledged and dropped then (#discard).
   */
  purge (fp: string): void {
    this.ctx.counters.blocked += this.queue.clear(fp)
    this.#paused.delete(fp)
    this.#claim(fp, -(this.#claims.get(fp) ?? 0))
  }

  /** Waits for the batch in progress (its store writes) to finish. */
  async stop (): Promise<void> {
    this.#stopped = true
    await this.#running
  }

  #claim (fp: string, bytes: number): void {
    if (bytes === 0) return
    const n = (this.#claims.get(fp) ?? 0) + bytes
    if (n <= 0) this.#claims.delete(fp)
    else this.#claims.set(fp, n)
    this.#claimed += bytes
  }

  #pump (): void {
    if (this.#running !== null || this.#stopped) return
    this.#running = this.#drain().catch(err => {
      this.ctx.log.error({ err: (err as Error).message }, 'inbound processing failed')
    }).finally(() => {
      this.#running = null
      if (this.#stopped) return
      if (this.queue.size > 0) this.#pump()
      else this.out.inboundIdle()
    })
  }

  async #drain (): Promise<void> {
    while (this.queue.size > 0 && !this.#stopped) {
      const work: Array<Promise<void>> = []
      /** ids of the texts from each contact this round is writing */
      const texts = new Map<string, string[]>()
      for (let i = 0; i < INBOUND_BATCH; i++) {
        const next = this.queue.shift()
        if (next === undefined) break
        const p = this.#process(next.item, texts)
        this.#claim(next.item.link.fingerprint, -next.item.claim) // now counted by the book itself
        if (p !== null) work.push(p)
      }
      // the queue drained, and did after the last round's writes too (else envelopes are coming
      // faster than they are written, and receipts are gathered, §4.4): the receipts are sealed
      // now, their ratchet steps written with the texts
      if (this.queue.size === 0 && this.#quiet) for (const [fp, ids] of texts) this.out.receiptAhead(fp, ids)
      await Promise.all(work)
      this.out.settleAhead()
      this.#quiet = this.queue.size === 0
      this.#resumeDrained()
      // the queue drained: what this burst stored is acknowledged now, in one envelope per 256 ids (§4.4)
      if (this.queue.size === 0) this.out.flushReceipts()
      await new Promise(resolve => setImmediate(resolve)) // let the socket and IPC breathe
    }
  }

  #resumeDrained (): void {
    for (const [fp, link] of this.#paused) {
      if (this.queue.sizeOf(fp) > RESUME_AT) continue
      this.#paused.delete(fp)
      if (!link.closed) link.resume()
    }
  }

  /**
   * Opens one envelope (synchronously) and starts handling it; null when nothing async remains.
   * The ids of a contact's texts go in `texts` under its fingerprint.
   */
  #process (item: Item, texts: Map<string, string[]>): Promise<void> | null {
    const fp = item.link.fingerprint
    const r = this.#open(item)
    if (r !== null && this.gate.isBlocked(fp)) return this.#discard(fp, r)
    if (r === null) return null
    if (traceOn) this.#stampOpened(item, r)
    if ((r.type === PayloadType.TEXT || r.type === PayloadType.BATCH) && this.ctx.contacts.has(fp)) {
      const ids = texts.get(fp) ?? []
      texts.set(fp, ids)
      if (r.type === PayloadType.TEXT) ids.push(hex(r.envelope.id))
      else for (const m of r.payload.messages) ids.push(hex(m.id))
    }
    if (this.ctx.log.isLevelEnabled('debug')) this.ctx.log.debug({ peer: fp, type: r.type, queuedMs: this.ctx.now() - item.at }, 'envelope opened')
    const handled = this.#handle(fp, item, r)
    // the prekey ring remembers a session start (pqxdh.md §6) once the session is stored: until then the stored session answers a replay of it
    const started = r.started ?? null
    return (started === null ? handled : handled.then(async () => { await this.hooks.sessions.commitStart(started) })).catch(err => {
      this.ctx.log.warn({ peer: fp, type: r.type, err: (err as Error).message }, 'inbound envelope failed')
    })
  }

  #stampOpened (item: Item, r: Opened): void {
    const ids = r.type === PayloadType.TEXT ? [hex(r.envelope.id)] : r.type === PayloadType.BATCH ? r.payload.messages.map(m => hex(m.id)) : r.type === PayloadType.DELIVERY_RECEIPT ? r.payload.ids.map(hex) : []
    const side = r.type === PayloadType.DELIVERY_RECEIPT ? 'a.receipt' : 'b'
    stamp(`${side}.frame`, ids, item.t)
    stamp(`${side}.opened`, ids)
  }

  #open (item: Item): Opened | null {
    if (item.envelope[0] === ENVELOPE_V2) return this.#openV2(item)
    const fp = item.link.fingerprint
    const id = this.ctx.identity
    const peerKey = item.link.identity.signPublic
    const r = openEnvelope(item.envelope, {
      recipientDhSecret: id.dhSecret,
      recipientDhPublic: id.dhPublic,
      recipientFingerprint: id.fingerprint,
      // the link's peer is the only sender we accept on it (its key proven by the handshake)
      lookupSender: s => s === fp ? peerKey : undefined,
      fingerprintOf: (p: PublicIdentity) => verifyPublicIdentity(p) ? fingerprintOf(p) : undefined,
      now: this.ctx.now()
    })
    if (!r.ok || r.envelope.sender !== fp) {
      const reason = r.ok ? 'sender-not-peer' : r.reason
      this.ctx.counters.malformed++
      this.ctx.counters.rejected[reason] = (this.ctx.counters.rejected[reason] ?? 0) + 1
      return null
    }
    return r
  }

  /**
   * A blocked peer's envelope (messaging.md §6.1): a TEXT or CONTACT_REQUEST is acknowledged
   * with a DELIVERY_RECEIPT, so the sender's outbox stops resending it, and dropped unread:
   * nothing is stored or held, so nothing it sent while blocked can surface after `unblock`.
   * Anything else (receipts, typing, presence) is dropped.
   */
  #discard (fp: string, r: Opened): Promise<void> | null {
    this.ctx.counters.discarded++
    if (r.type === PayloadType.TEXT || r.type === PayloadType.CONTACT_REQUEST) this.out.receipt(fp, 'delivered', [hex(r.envelope.id)])
    if (r.type === PayloadType.BATCH) this.out.receipt(fp, 'delivered', r.payload.messages.map(m => hex(m.id)))
    // a v2 envelope moved its ratchet session on: that is stored (the next one opens, a replay does not), the message is not
    if (r.session === undefined) return null
    const started = r.started ?? null
    return this.ctx.store().putSession(r.session).then(async () => { if (started !== null) await this.hooks.sessions.commitStart(started) }).catch(err => {
      this.ctx.log.warn({ peer: fp, err: (err as Error).message }, 'storing a blocked peer\'s session failed')
    })
  }

  /**
   * envelope.md §8.5: from contacts, and from a peer we still hold a session with (a contact the
   * user removed: its messages are held as a request, as its v1 ones would be). A stranger has no
   * bundle of ours to start one with.
   */
  #openV2 (item: Item): Opened | null {
    const fp = item.link.fingerprint
    const c = this.ctx.counters
    const reject = (reason: string): null => {
      c.malformed++
      c.rejected[reason] = (c.rejected[reason] ?? 0) + 1
      return null
    }
    if (!this.ctx.contacts.has(fp) && !this.hooks.sessions.holds(fp)) {
      // a contact the user removed, writing on a session deleted with it (storage.md §Contacts):
      // a new session from its bundle (§8.6) lets what it re-sends be held as a request, as v1's
      // is. Only for a peer we have a conversation with: a stranger gets no session, no record.
      // no initial message (flags bit 0, §8.1): read from the flags byte, not a decode of the whole envelope
      if (item.envelope.length > 1 && ((item.envelope[1] as number) & V2_FLAG_INITIAL) === 0) {
        const link = item.link
        this.ctx.store().lastSeq(fp).then(seq => { if (seq > 0 && !link.closed) this.hooks.sessionLost(link) }, () => {})
      }
      return reject('v2-from-stranger')
    }
    const r = this.hooks.sessions.open(fp, item.envelope)
    if (r.ok) {
      c.ratchetIn++
      if (r.type === PayloadType.BATCH) c.batchesIn++
      if (r.reset) {
        c.sessionResets++
        this.ctx.log.info({ peer: fp }, 'contact started a new session: it lost its previous one')
        this.hooks.sessionReset(fp)
      }
      const envelope = { id: r.id, timestamp: r.timestamp, sender: fp } as unknown as Envelope
      return { ok: true, type: r.type, payload: r.payload, envelope, senderSignPublic: item.link.identity.signPublic, session: r.write, started: r.started } as Opened
    }
    if (r.reason === 'no-session') this.hooks.sessionLost(item.link)
    if (r.id !== null) {
      // a resend of a message we stored (our receipt was lost) is receipted again, whatever it
      // opens to now: its key is spent (old-message), or our ratchet stepped past its chain, or
      // dropped the session, so no header key of ours opens it (§8.4). The id is not authenticated
      // here, but the link proves the peer: it learns only that we hold a message it sent us.
      const id = hex(r.id)
      const m = this.ctx.store().getMessageSync(id)
      if (m !== undefined && m.peer === fp && m.direction === 'in') {
        c.duplicates++
        this.out.receipt(fp, m.read ? 'read' : 'delivered', [id])
        return null
      }
    }
    return reject(`v2-${r.reason}`)
  }

  async #handle (fp: string, item: Item, r: Opened): Promise<void> {
    const contact = this.ctx.contacts.has(fp)
    // the ratchet step is stored with the texts it carried (#batch) or the statuses a contact's
    // receipt moves (#receipt), else on its own, before anything is acted on
    const withIt = contact && (r.type === PayloadType.TEXT || r.type === PayloadType.BATCH || r.type === PayloadType.DELIVERY_RECEIPT || r.type === PayloadType.READ_RECEIPT)
    const stored = r.session === undefined || withIt ? null : this.ctx.store().putSession(r.session)
    if (stored !== null) await stored
    switch (r.type) {
      case PayloadType.TEXT:
        return contact ? await this.#text(fp, item, r, r.payload.text) : await this.#hold(fp, item, r, r.payload.text)
      case PayloadType.BATCH:
        if (contact) return await this.#batch(fp, item, r, r.payload.messages)
        // a peer we still hold a session with, no longer a contact: each text is held as its TEXT would be
        for (const m of r.payload.messages) await this.#hold(fp, item, { ...r, envelope: { ...r.envelope, id: m.id, timestamp: m.timestamp } }, m.text)
        return
      case PayloadType.CONTACT_REQUEST:
        return contact ? await this.#mutual(fp, r, r.payload) : await this.#request(fp, item, r, r.payload)
      case PayloadType.DELIVERY_RECEIPT:
      case PayloadType.READ_RECEIPT:
        if (contact) return await this.#receipt(fp, r.type === PayloadType.READ_RECEIPT ? 'read' : 'delivered', r.payload.ids.map(hex), r.session)
        break
      case PayloadType.TYPING:
        if (contact) return this.#typing(fp, r.payload.typing)
        break
      case PayloadType.PRESENCE:
        if (!contact) break
        return this.hooks.presenceOn(item.link, r.payload, false)
    }
    this.ctx.counters.ignored++ // FILE (not yet), or a signal from a stranger
  }

  async #text (fp: string, item: Item, r: Opened, text: string): Promise<void> {
    await this.#batch(fp, item, r, [{ id: r.envelope.id, timestamp: r.envelope.timestamp, text }])
  }

  /**
   * A BATCH (envelope.md §3.7), or a TEXT as a BATCH of one: its texts stored in order, in one
   * batch with the ratchet step; one `message` event each, and one receipt for all of them.
   */
  async #batch (fp: string, item: Item, r: Opened, messages: ReadonlyArray<{ id: Uint8Array, timestamp: number, text: string }>): Promise<void> {
    const ids = messages.map(m => hex(m.id))
    const results = await this.ctx.store().addMessages(messages.map((m, i) => ({
      id: ids[i] as string, peer: fp, direction: 'in' as const, text: m.text, timestamp: m.timestamp, receivedAt: item.at, status: 'received' as const, read: false
    })), r.session)
    if (traceOn) stamp('b.stored', ids)
    const read: string[] = []
    let added = false
    for (const res of results) {
      if (res.duplicate) {
        // the sender did not get our receipt: say it again (and that it was read, if it was)
        this.ctx.counters.duplicates++
        if (res.message.direction === 'in' && res.message.read) read.push(res.message.id)
        continue
      }
      this.ctx.counters.textIn++
      if (!added && this.hooks.typing.set(fp, false, this.ctx.now())) this.ctx.events.emit({ type: 'typing', peer: fp, typing: false })
      added = true
      this.ctx.events.emit({ type: 'message', peer: fp, message: messageJson(res.message) })
    }
    if (read.length > 0) this.out.receipt(fp, 'read', read)
    this.out.receipt(fp, 'delivered', ids)
  }

  /** A stranger's message: held with its request, acknowledged once the request book is on disk. */
  async #hold (fp: string, item: Item, r: Opened, text: string): Promise<void> {
    const msg: HeldMessage = { id: hex(r.envelope.id), text, timestamp: r.envelope.timestamp, receivedAt: item.at }
    const outcome = this.hooks.requests.hold(fp, item.link.identity, msg, this.ctx.now(), sourceNetwork(item.link))
    if (outcome === 'new' || outcome === 'updated') this.ctx.counters.held++
    await this.#settleRequest(fp, outcome, msg.id)
  }

  async #request (fp: string, item: Item, r: Opened, req: ContactRequestPayload): Promise<void> {
    const intro = { id: hex(r.envelope.id), identity: { signPublic: req.signPublic, dhPublic: req.dhPublic, dhSignature: req.dhSignature }, name: req.name, greeting: req.greeting, timestamp: r.envelope.timestamp }
    await this.#settleRequest(fp, this.hooks.requests.introduce(fp, intro, this.ctx.now(), sourceNetwork(item.link)), intro.id)
  }

  async #settleRequest (fp: string, outcome: RequestOutcome, id: string): Promise<void> {
    await this.hooks.requestSettled(fp, outcome)
    if (outcome === 'declined' || outcome === 'full') { this.ctx.counters.requestsDropped++; return }
    if (outcome !== 'duplicate') {
      const r = this.hooks.requests.get(fp)
      if (r !== undefined) this.ctx.events.emit({ type: 'request', action: outcome === 'new' ? 'received' : 'updated', request: requestJson(r) })
    }
    this.out.receipt(fp, 'delivered', [id])
  }

  /**
   * A contact's CONTACT_REQUEST. Not receipted when ours to it is on its way (messaging.md §3.1,
   * crossed requests): ours tells it we have it, and settles its request there as this one
   * settles ours (mutualRequest). Were ours lost with the link, its request is sent again and
   * receipted then.
   */
  async #mutual (fp: string, r: Opened, req: ContactRequestPayload): Promise<void> {
    const crossed = this.out.requestUnderway(fp)
    await this.hooks.mutualRequest(fp, req)
    if (!crossed) this.out.receipt(fp, 'delivered', [hex(r.envelope.id)])
  }

  /**
   * Receipts move our messages forward (never back: storage.md §Status) and settle outbox
   * entries; `session`, the receipt's ratchet step, is written in the batch of those statuses
   * (one write, not two in a row: the step is on disk before anything is acted on, envelope.md §8.4).
   */
  async #receipt (fp: string, status: 'delivered' | 'read', ids: string[], session?: SessionWrite): Promise<void> {
    this.ctx.counters.receiptsIn++
    const store = this.ctx.store()
    // an outbox entry for this peer proves the id is our message to them; else look it up (a
    // synchronous read: LevelDB's cache, no thread-pool round trip)
    const ours = ids.filter(id => {
      if (this.out.scheduler.peerOf(id) === fp) return true
      const m = store.getMessageSync(id)
      return m !== undefined && m.peer === fp && m.direction === 'out'
    })
    // the receipt's ratchet step with the statuses it moves (envelope.md §8.4), and the removals
    // it settles asked for in this same turn: one batch with the statuses (storage.md
    // §Atomicity), never an entry gone while its message is not yet `delivered`
    const changing: Promise<boolean[]> = ours.length > 0
      ? store.setStatuses(ours, status, session)
      : session !== undefined ? store.putSession(session).then(() => []) : Promise.resolve([])
    this.out.acknowledged(fp, ids)
    const changed = await changing
    const moved = ours.filter((_, i) => changed[i] === true)
    if (traceOn) stamp('a.receipt.status', ids)
    for (const id of moved) this.waiters.changed(id, status)
    if (moved.length > 0) this.ctx.events.emit({ type: 'receipt', peer: fp, direction: 'out', status, ids: moved })
  }

  #typing (fp: string, typing: boolean): void {
    if (this.hooks.typing.set(fp, typing, this.ctx.now())) this.ctx.events.emit({ type: 'typing', peer: fp, typing })
  }
}
