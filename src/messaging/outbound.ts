// Everything we send (proto-spec/messaging.md §4, §7): outbox entries (persisted in the store,
// retried by the OutboxScheduler until acknowledged), receipts gathered into batches, and
// ephemeral signals (TYPING, PRESENCE) that only go out over a live link. Envelopes are sealed at
// send time to the identity the link's handshake proved (envelope.md §4), so an entry written
// before we knew the peer's keys goes out as soon as we reach them.
import { PayloadType, MESSAGE_ID_BYTES, RECEIPT_MAX_IDS, BATCH_MAX_MESSAGES, BATCH_MAX_TEXT_BYTES, CAP_BATCH } from '../wire/constants.js'
import { sealEnvelope } from '../wire/seal.js'
import { encodePayload, type PayloadOf, type TypedPayload } from '../wire/payloads.js'
import { encodeEnvelopeFrame } from './frames.js'
import { decodeOutboxPayload, encodeOutboxPayload, type OutboxPayload } from './outbox-codec.js'
import { OutboxScheduler, type AckKind, type OutboxAction, type OutboxItem } from './outbox-scheduler.js'
import { ReceiptBatcher, type ReceiptBatch, type ReceiptKind } from './signals.js'
import { countEnvelope, hex, unhex, type MessagingContext } from './context.js'
import type { PeerLink } from './link.js'
import type { OutboxEntry, SessionWrite } from '../store/index.js'
import type { StatusWaiters } from './waiters.js'
import type { RatchetSessions } from './ratchet-sessions.js'
import { stamp, traceOn } from '../runtime/latency-trace.js'

/** A text goes in a BATCH on at most this many attempts, then alone (envelope.md §8.4). */
const BATCH_MAX_ATTEMPTS = 2

/** `durable`: resolves once the sealed bytes (and the ratchet step that made them) are in the store. */
interface Sealed { bytes: Uint8Array, base: string, durable: Promise<void> }
/**
 * One BATCH envelope (envelope.md §3.7) for several TEXT entries, in memory only: it goes out on
 * the next attempt of its entries, once; `sent`, that send (every entry of the group waits for
 * it). The entries are stored plain: a later attempt seals them afresh (#regroup), and so does a
 * restart.
 */
interface Group { bytes: Uint8Array, base: string, durable: Promise<void>, sent?: Promise<void> }
/**
 * An entry in memory. Not its stored bytes: they hold the envelope a second time, for every entry
 * of a burst; a retry's rewrite encodes them again (rawOf). `group`: the BATCH it goes out in
 * first, dropped once used.
 */
interface Cached { decoded: OutboxPayload, createdAt: number, sealed?: Sealed, group?: Group, ofMessage?: true }

/**
 * A DELIVERY_RECEIPT sealed before the texts it acknowledges were written (Outbound.receiptAhead):
 * the ids it holds, those whose messages are written so far, its envelope, and its ratchet step's write.
 */
interface Ahead { ids: ReadonlySet<string>, stored: Set<string>, bytes: Uint8Array, durable: Promise<void> }

/**
 * One entry for enqueueMany: what to send, and how it is acknowledged. `ofMessage`: a TEXT whose
 * id, text and timestamp are those of an outbound message the caller stores in the same turn (or
 * stored before): while it is not sealed alone, its entry is kept in that message's record
 * (storage.md §Outbox), not written as a payload of its own.
 */
export interface NewEntry<T extends PayloadType> { type: T, payload: PayloadOf<T>, id?: string, timestamp: number, ack: AckKind, ofMessage?: boolean }

export interface OutboundHooks {
  link: (fp: string) => PeerLink | undefined
  /**
   * The link receipts go on; default `link`. A blocked peer has none for anything else (no
   * outbox entry, presence or typing goes to it) but is still sent DELIVERY_RECEIPTs for what it
   * sends, which is dropped unread (messaging.md §6.1).
   */
  receiptLink?: (fp: string) => PeerLink | undefined
  /** the outbox has work for a peer without a link */
  wantConnection: (fp: string) => void
  /** the outbox's next deadline may have changed (`at`: it, for the service to skip work when its timer is due sooner) */
  rearm: (at: number) => void
  /** the inbound queue has work (it flushes receipts when it drains) */
  inboundBusy: () => boolean
  /** envelope v2 sessions (envelope.md §8) */
  sessions: RatchetSessions
}

export class Outbound {
  readonly scheduler: OutboxScheduler
  readonly #cache = new Map<string, Cached>()
  readonly #receipts = new ReceiptBatcher()
  #receiptFlush: NodeJS.Immediate | null = null
  /** receipt envelopes sent to each peer and not yet acknowledged by its channel */
  readonly #receiptsInFlight = new Map<string, number>()
  /** receipts sealed ahead, per peer (receiptAhead) */
  readonly #ahead = new Map<string, Ahead>()
  /** TEXT ids the peer's channel took since the last status write, per peer (one write and one event per turn) */
  readonly #sent = new Map<string, string[]>()
  #sentFlush: NodeJS.Immediate | null = null
  #lastCreatedAt = 0
  #stopped = false
  /**
   * peers whose last PRESENCE said they open BATCH (envelope.md §3.6). Kept across their links (the
   * outbox resends at link-up, before the new link's PRESENCE), in memory only: a peer that came
   * back as a version without BATCH gets each text alone from its third attempt (§8.4).
   */
  readonly #batchPeers = new Set<string>()

  constructor (private readonly ctx: MessagingContext, private readonly hooks: OutboundHooks, private readonly waiters: StatusWaiters) {
    this.scheduler = new OutboxScheduler({ random: ctx.random })
  }

  /** Reads the outbox at start; entries that no longer decode are removed and counted. */
  async load (): Promise<void> {
    const entries = await this.ctx.store().listOutbox({ limit: 10_000 })
    const items: OutboxItem[] = []
    for (const e of entries) {
      const decoded = e.ofMessage === true ? await this.#ofMessage(e.id) : decodeOutboxPayload(e.payload)
      if (decoded === null) {
        this.ctx.counters.malformed++
        await this.ctx.store().removeOutbox(e.id)
        continue
      }
      const sealed = decoded.sealed === undefined ? {} : { sealed: { ...decoded.sealed, durable: Promise.resolve() } }
      this.#cache.set(e.id, { decoded, createdAt: e.createdAt, ...sealed, ...(e.ofMessage === true ? { ofMessage: true } : {}) })
      this.#lastCreatedAt = Math.max(this.#lastCreatedAt, e.createdAt)
      items.push({ id: e.id, peer: e.peer, attempts: e.attempts, nextAttemptAt: e.nextAttemptAt, createdAt: e.createdAt, ack: decoded.ack })
    }
    this.scheduler.load(items, this.ctx.now())
  }

  /** What an entry kept in its message sends: the stored outbound message as a TEXT (null when it is not one). */
  async #ofMessage (id: string): Promise<OutboxPayload | null> {
    const m = await this.ctx.store().getMessage(id)
    if (m === undefined || m.direction !== 'out') return null
    return { payload: { type: PayloadType.TEXT, payload: { text: m.text } }, timestamp: m.timestamp, ack: 'receipt' }
  }

  stop (): void {
    this.#stopped = true
    if (this.#receiptFlush !== null) clearImmediate(this.#receiptFlush)
    this.#receiptFlush = null
    if (this.#sentFlush !== null) clearImmediate(this.#sentFlush)
    this.#sentFlush = null
    this.#ahead.clear() // not sent: the peer sends those texts again, and they are receipted then (§4.4)
    this.#writeSent() // the store closes after this component: what the peer has is recorded as sent
  }

  /** A fresh 16-byte message id (envelope.md §2), hex. */
  newId (): string {
    return hex(this.ctx.randomBytes(MESSAGE_ID_BYTES))
  }

  /** Persists an outbox entry for `peer` and tries it at once. The caller stores any message first. */
  async enqueue<T extends PayloadType> (peer: string, type: T, payload: PayloadOf<T>, opts: { id?: string, timestamp: number, ack: AckKind }): Promise<string> {
    const [id] = await this.enqueueMany(peer, [{ type, payload, ...opts }])
    return id as string
  }

  /**
   * enqueue for many entries of one peer: one store write (the batch the caller's messages, issued
   * in the same turn, share: storage.md §Atomicity), then each is tried in order. While the peer
   * has an active v2 session, or we hold a recent bundle of its to start one from (the first seal starts it),
   * each entry is sealed now and written once, with its envelope and the ratchet step (envelope.md
   * §8.4), rather than written plain and again when first sent — and a run of texts goes as
   * BATCHes (§3.7), not one ratchet message each as entries sealed at send time do.
   */
  async enqueueMany (peer: string, list: ReadonlyArray<NewEntry<PayloadType>>): Promise<string[]> {
    const now = this.ctx.now()
    const seal = this.hooks.sessions.canSeal(peer)
    let step: SessionWrite | undefined
    const ids = list.map(e => e.id ?? this.newId())
    // runs of TEXTs go out as BATCHes to a peer that opens them (envelope.md §3.7); the rest one by one
    const groups = seal && this.#batchPeers.has(peer) ? this.#batches(peer, list, ids) : new Map<number, Group & { write: SessionWrite }>()
    for (const g of new Set(groups.values())) step = g.write
    const made = list.map((e, i) => {
      const id = ids[i] as string
      const group = groups.get(i)
      // once for the envelope and the entry; a text in a BATCH whose message holds its entry needs neither
      const body = group !== undefined && isOfMessage(e) ? undefined : encodePayload(e.type, e.payload)
      const v2 = seal && group === undefined ? this.#trySealV2(peer, { type: e.type, payload: e.payload } as TypedPayload, id, e.timestamp, body ?? encodePayload(e.type, e.payload)) : null
      if (v2 !== null) step = v2.write // each write holds all steps before it: the newest is the batch's
      // a text of a stored message not sealed alone: the message holds its entry (storage.md §Outbox)
      const ofMessage = v2 === null && isOfMessage(e)
      const raw = ofMessage ? NO_PAYLOAD : encodeOutboxPayload(e.type, e.payload, e.timestamp, e.ack, v2 === null ? undefined : { bytes: v2.bytes, base: v2.base }, body)
      // strictly increasing, so one peer's entries keep their order across restarts (§4.3)
      const createdAt = this.#lastCreatedAt = Math.max(now, this.#lastCreatedAt + 1)
      const entry: OutboxEntry = { id, peer, payload: raw, attempts: 0, nextAttemptAt: now, createdAt, ...(ofMessage ? { ofMessage } : {}) }
      return { e, entry, v2, group }
    })
    if (traceOn) stamp('a.sealed', ids)
    await this.ctx.store().putOutboxMany(made.map(m => m.entry), step)
    if (traceOn) stamp('a.queued', ids)
    const actions: OutboxAction[] = []
    for (const { e, entry, v2, group } of made) {
      const sealed = v2 === null ? {} : { sealed: { bytes: v2.bytes, base: v2.base, durable: Promise.resolve() } }
      const grouped = group === undefined ? {} : { group }
      this.#cache.set(entry.id, { decoded: { payload: { type: e.type, payload: e.payload } as TypedPayload, timestamp: e.timestamp, ack: e.ack }, createdAt: entry.createdAt, ...sealed, ...grouped, ...(entry.ofMessage === true ? { ofMessage: true } : {}) })
      actions.push(...this.scheduler.add({ id: entry.id, peer, attempts: 0, nextAttemptAt: now, createdAt: entry.createdAt, ack: e.ack }, now))
    }
    this.apply(actions)
    return made.map(m => m.entry.id)
  }

  /**
   * Seals each run of at least two TEXTs of `list` (bounded by BATCH_MAX_MESSAGES and
   * BATCH_MAX_TEXT_BYTES) as one BATCH: list index → its group. The envelope's id is its first
   * text's (envelope.md §3.7). A run that cannot be sealed is left to go one by one.
   */
  #batches (peer: string, list: ReadonlyArray<NewEntry<PayloadType>>, ids: readonly string[]): Map<number, Group & { write: SessionWrite }> {
    const out = new Map<number, Group & { write: SessionWrite }>()
    const flush = (run: number[], texts: Array<{ id: Uint8Array, timestamp: number, text: string }>): void => {
      if (run.length < 2) return
      let v2: ReturnType<RatchetSessions['seal']>
      try {
        v2 = this.hooks.sessions.seal(peer, { type: PayloadType.BATCH, payload: { messages: texts } }, texts[0]!.id, texts[0]!.timestamp)
      } catch {
        v2 = null // these texts go one by one, as before
      }
      if (v2 === null) return
      this.ctx.counters.batchesOut++
      const g = { bytes: v2.bytes, base: v2.base, durable: Promise.resolve(), write: v2.write }
      for (const i of run) out.set(i, g)
    }
    let run: number[] = []
    let texts: Array<{ id: Uint8Array, timestamp: number, text: string }> = []
    let bytes = 0
    list.forEach((e, i) => {
      if (e.type !== PayloadType.TEXT || e.ack !== 'receipt') { flush(run, texts); run = []; texts = []; bytes = 0; return }
      const text = (e.payload as PayloadOf<typeof PayloadType.TEXT>).text
      const n = Buffer.byteLength(text, 'utf8') // counted, not encoded: the BATCH's encoder does that once
      if (run.length === BATCH_MAX_MESSAGES || bytes + n > BATCH_MAX_TEXT_BYTES) { flush(run, texts); run = []; texts = []; bytes = 0 }
      run.push(i)
      texts.push({ id: unhex(ids[i] as string), timestamp: e.timestamp, text })
      bytes += n
    })
    flush(run, texts)
    return out
  }

  /**
   * Texts due together (a new link, a restart, receipts that did not come) and not already in a
   * BATCH: sealed now as fresh BATCHes on the active session, their ratchet step stored before
   * they leave (envelope.md §8.4), instead of one ratchet message each; only on a text's first
   * BATCH_MAX_ATTEMPTS attempts. An entry sealed alone earlier still sends its stored bytes.
   */
  #regroup (actions: readonly OutboxAction[]): void {
    if (this.#batchPeers.size === 0) return
    let peer: string | null = null
    let run: Array<{ id: string, c: Cached }> = []
    const flush = (): void => {
      if (peer === null || run.length < 2) return
      const list = run.map(({ c }) => ({ type: PayloadType.TEXT, payload: c.decoded.payload.payload, timestamp: c.decoded.timestamp, ack: c.decoded.ack }) as NewEntry<PayloadType>)
      const made = this.#batches(peer, list, run.map(r => r.id))
      const groups = [...new Set(made.values())]
      if (groups.length === 0) return
      const durable = this.ctx.store().putSession(groups[groups.length - 1]!.write) // the newest step holds those before it
      durable.catch(() => {}) // awaited by each send; its failure fails those sends (retried)
      for (const g of groups) g.durable = durable
      for (const [i, g] of made) run[i]!.c.group = g
    }
    for (const a of actions) {
      if (a.type !== 'send') continue
      const c = this.#cache.get(a.id)
      // from the third attempt on, alone: a peer whose caps were wrong still gets every text
      const fits = c !== undefined && a.attempt <= BATCH_MAX_ATTEMPTS && c.group === undefined && this.#batchPeers.has(a.peer) &&
        c.decoded.payload.type === PayloadType.TEXT && c.decoded.ack === 'receipt' && fresh(c, this.hooks.sessions.activeBase(a.peer))
      if (!fits || a.peer !== peer) { flush(); run = []; peer = a.peer }
      if (fits) run.push({ id: a.id, c })
    }
    flush()
  }

  /** What the peer's PRESENCE says it opens (envelope.md §3.6). */
  peerCaps (fp: string, caps: number): void {
    if ((caps & CAP_BATCH) !== 0) this.#batchPeers.add(fp)
    else this.#batchPeers.delete(fp)
  }

  /** Our CONTACT_REQUEST to `peer` is on its way over the current link, or the peer's channel took it. */
  requestUnderway (peer: string): boolean {
    return this.pendingOfType(peer, PayloadType.CONTACT_REQUEST).some(id => this.scheduler.underway(id))
  }

  /**
   * Messages wait in the outbox for `peer` that would go on a session (envelope.md §8.3's link-up
   * rule): an entry of any type but CONTACT_REQUEST, which is always v1 (§8.7).
   */
  waiting (peer: string): boolean {
    return this.scheduler.pendingFor(peer).some(i => { const type = this.#cache.get(i.id)?.decoded.payload.type; return type !== undefined && type !== PayloadType.CONTACT_REQUEST })
  }

  /** Outbox entries for `peer` whose payload is of this type (e.g. a pending CONTACT_REQUEST). */
  pendingOfType (peer: string, type: PayloadType): string[] {
    return this.scheduler.pendingFor(peer).filter(i => this.#cache.get(i.id)?.decoded.payload.type === type).map(i => i.id)
  }

  /** The link to `fp` is up and its outbox may go (after the bundle gate, envelope.md §8.7); not again what early() sent on it. */
  peerUp (fp: string, link: PeerLink | null = null): void { this.apply(this.scheduler.peerUp(fp, this.ctx.now(), link)) }

  /**
   * A link to `fp` is up but its outbox waits for the peer's bundle (envelope.md §8.7): the
   * CONTACT_REQUESTs at its head go now, on `link` (always v1 and signed, envelope.md §8.2: no
   * bundle changes how they are sealed), so the peer has them while the bundle is on its way
   * (messaging.md §4.2).
   */
  early (fp: string, link: PeerLink): void {
    this.apply(this.scheduler.early(fp, this.ctx.now(), link, id => this.#cache.get(id)?.decoded.payload.type === PayloadType.CONTACT_REQUEST))
  }
  peerDown (fp: string): void { this.scheduler.peerDown(fp, this.ctx.now()); this.hooks.rearm(this.scheduler.nextDeadline) }
  tick (now: number): void { this.apply(this.scheduler.tick(now)) }
  get nextDeadline (): number { return this.scheduler.nextDeadline }

  /** An end-to-end acknowledgement from `peer` for these ids: their entries leave the outbox. */
  acknowledged (peer: string, ids: readonly string[]): void {
    // only the peer an entry was for can acknowledge it
    const actions: OutboxAction[] = []
    for (const id of ids) if (this.scheduler.peerOf(id) === peer) actions.push(...this.scheduler.acknowledged(id))
    this.apply(actions)
  }

  apply (actions: readonly OutboxAction[]): void {
    this.#regroup(actions)
    let removed: string[] | undefined
    for (const a of actions) {
      switch (a.type) {
        case 'send': this.#sendEntry(a.id, a.peer, a.attempt); break
        case 'connect': this.hooks.wantConnection(a.peer); break
        case 'save': this.#save(a.item); break
        case 'remove': (removed ??= []).push(a.id); break
      }
    }
    if (removed !== undefined) this.#remove(removed)
    this.hooks.rearm(this.scheduler.nextDeadline)
  }

  /**
   * Queues a DELIVERY_RECEIPT (or a READ_RECEIPT for a re-sent message already read). Receipts
   * are gathered while the inbound queue has work and go out when it drains (Inbound calls
   * flushReceipts), or as soon as one peer's batch holds RECEIPT_MAX_IDS ids; and while a receipt
   * envelope to the peer is not yet acknowledged by its channel, the next waits for that ACK. So a
   * lone message is receipted at once, a burst or a fast trickle by a few envelopes of up to 256
   * ids, with no timer (§4.4).
   */
  receipt (peer: string, kind: ReceiptKind, ids: readonly string[]): void {
    if (this.#stopped) return
    if (traceOn) stamp('b.receipt.queued', ids)
    const ahead = kind === 'delivered' ? this.#ahead.get(peer) : undefined
    if (ahead !== undefined && ids.every(id => ahead.ids.has(id))) {
      for (const id of ids) ahead.stored.add(id) // it goes at the next flush once all its texts are written
      return
    }
    if (this.#receipts.add(peer, kind, ids) >= RECEIPT_MAX_IDS && !this.#receiptsInFlight.has(peer)) { this.flushReceipts(); return }
    // no inbound batch will flush these (they came from elsewhere): next turn
    if (this.#receiptFlush === null && !this.hooks.inboundBusy()) this.#receiptFlush = setImmediate(() => { this.#receiptFlush = null; if (!this.hooks.inboundBusy()) this.flushReceipts() })
  }

  /**
   * The inbound queue drained while texts from `peer` are being written (Inbound): their
   * DELIVERY_RECEIPT is sealed now, and its ratchet step issued in this turn joins the batch that
   * writes them (storage.md §Atomicity), so the receipt leaves once that one write lands instead
   * of after a second one of its own. It still leaves only once every text it names is written
   * (`receipt` is called for them) and its step with it (envelope.md §8.4); settleAhead drops it
   * when one was not. Only when it would go at once anyway: nothing gathered or in flight to the
   * peer (§4.4's coalescing is unchanged).
   */
  receiptAhead (peer: string, ids: readonly string[]): void {
    if (this.#stopped || ids.length === 0 || ids.length > RECEIPT_MAX_IDS || this.#ahead.has(peer) || this.#receipts.holds(peer)) return
    const link = this.#receiptLink(peer)
    if (link === undefined) return
    // the receipt in flight may be acknowledged already, by an ACK that came with these texts
    if (this.#receiptsInFlight.has(peer) && !link.acknowledged) return
    let v2: ReturnType<RatchetSessions['seal']>
    try {
      v2 = this.#sealV2(peer, { type: PayloadType.DELIVERY_RECEIPT, payload: { ids: ids.map(unhex) } }, this.newId(), this.ctx.now())
    } catch {
      return // the usual way, after the texts are written
    }
    if (v2 === null) return
    if (traceOn) stamp('b.receipt.sealed', ids)
    const durable = this.ctx.store().putSession(v2.write)
    durable.catch(() => {}) // awaited before it is sent; its failure fails that send (the peer resends)
    this.#ahead.set(peer, { ids: new Set(ids), stored: new Set(), bytes: v2.bytes, durable })
  }

  /**
   * The texts receipts were sealed ahead for are written, or failed: a receipt some of whose texts
   * were not written is dropped (the peer skips its message key) and those that were go the usual way.
   */
  settleAhead (): void {
    for (const [peer, a] of this.#ahead) {
      if (a.stored.size === a.ids.size) continue
      this.#ahead.delete(peer)
      if (a.stored.size > 0) this.#receipts.add(peer, 'delivered', a.stored)
    }
  }

  /**
   * The inbound queue went idle. Receipts gathered since its last round's flush go now: a receipt
   * in flight that settled, or one asked for, while that round was finishing (between its flush
   * and its end) left the flush to the busy queue, which had done it already; else they would
   * wait for the next envelope to arrive, and a sender waiting for them resends after
   * RECEIPT_WAIT_MS (§4.4).
   */
  inboundIdle (): void {
    if (!this.#stopped && (!this.#receipts.empty || this.#ahead.size > 0)) this.flushReceipts()
  }

  flushReceipts (): void {
    if (this.#receiptFlush !== null) clearImmediate(this.#receiptFlush)
    this.#receiptFlush = null
    const held: ReceiptBatch[] = []
    const sending = new Map<string, number>()
    for (const [peer, a] of this.#ahead) {
      if (a.stored.size < a.ids.size) continue // its texts are still being written
      this.#ahead.delete(peer)
      if (traceOn) stamp('b.receipt.flush', [...a.ids])
      sending.set(peer, (sending.get(peer) ?? 0) + 1)
      void this.#sendAhead(peer, a).finally(() => { this.#receiptSettled(peer) })
    }
    for (const b of this.#receipts.take()) {
      if (this.#receiptsInFlight.has(b.peer)) { held.push(b); continue }
      sending.set(b.peer, (sending.get(b.peer) ?? 0) + 1)
      const ids = b.ids.map(unhex)
      if (traceOn) stamp('b.receipt.flush', b.ids)
      const type = b.kind === 'delivered' ? PayloadType.DELIVERY_RECEIPT : PayloadType.READ_RECEIPT
      // not kept in the outbox: a lost DELIVERY_RECEIPT makes the sender resend, and the
      // duplicate is receipted again (§4.4)
      void this.#sendOn(this.#receiptLink(b.peer), type, { ids }).finally(() => { this.#receiptSettled(b.peer) })
    }
    for (const [peer, n] of sending) this.#receiptsInFlight.set(peer, n)
    for (const b of held) this.#receipts.add(b.peer, b.kind, b.ids)
  }

  /** The link receipts to `peer` go on (hooks.receiptLink, else the peer's link). */
  #receiptLink (peer: string): PeerLink | undefined {
    return (this.hooks.receiptLink ?? this.hooks.link)(peer)
  }

  /**
   * Hands `frame` to `link`. After a ratchet message the next key pairs are made (ratchet.md §7,
   * keys made ahead): asked for once the send's turn is booked, so they are made after it, while
   * we wait for the answer.
   */
  #sendFrame (link: PeerLink, frame: Uint8Array, ratchet: boolean): Promise<void> {
    const sent = link.send(frame)
    if (ratchet) this.hooks.sessions.prepareAhead()
    return sent
  }

  /** A receipt sealed ahead: sent once its ratchet step is written; resolves when the peer's channel has it. */
  async #sendAhead (peer: string, a: Ahead): Promise<void> {
    try {
      const link = this.#receiptLink(peer)
      if (link === undefined) throw new Error('no link')
      await a.durable // the ratchet step is stored before its ciphertext leaves
      if (traceOn) stamp('b.receipt.stepstored', [...a.ids])
      this.ctx.counters.ratchetOut++
      await this.#sendFrame(link, encodeEnvelopeFrame(a.bytes), true)
      countEnvelope(this.ctx.counters, PayloadType.DELIVERY_RECEIPT, true)
    } catch {
      this.ctx.counters.sendFailures++
    }
  }

  /** A receipt envelope to `peer` was acknowledged by its channel (or failed): the next may go. */
  #receiptSettled (peer: string): void {
    const n = (this.#receiptsInFlight.get(peer) ?? 1) - 1
    if (n > 0) { this.#receiptsInFlight.set(peer, n); return }
    this.#receiptsInFlight.delete(peer)
    if (!this.#stopped && !this.#receipts.empty && !this.hooks.inboundBusy()) this.flushReceipts()
  }

  /** Seals and sends without the outbox; false when there is no link. Resolves when the peer's channel has it. */
  async sendNow<T extends PayloadType> (peer: string, type: T, payload: PayloadOf<T>, id?: string, timestamp = this.ctx.now()): Promise<boolean> {
    return await this.#sendOn(this.hooks.link(peer), type, payload, id, timestamp)
  }

  async #sendOn<T extends PayloadType> (link: PeerLink | undefined, type: T, payload: PayloadOf<T>, id?: string, timestamp = this.ctx.now()): Promise<boolean> {
    if (link === undefined) return false
    try {
      const p = { type, payload } as TypedPayload
      const msgId = id ?? this.newId()
      const v2 = this.#sealV2(link.fingerprint, p, msgId, timestamp)
      let frame: Uint8Array
      if (v2 === null) frame = this.#seal(link, p, msgId, timestamp)
      else {
        const ids = traceOn && (type === PayloadType.DELIVERY_RECEIPT || type === PayloadType.READ_RECEIPT) ? (payload as PayloadOf<typeof PayloadType.DELIVERY_RECEIPT>).ids.map(hex) : []
        if (traceOn) stamp('b.receipt.sealed', ids)
        await this.ctx.store().putSession(v2.write) // the ratchet step is stored before its ciphertext leaves
        if (traceOn) stamp('b.receipt.stepstored', ids)
        frame = encodeEnvelopeFrame(v2.bytes)
        this.ctx.counters.ratchetOut++
      }
      await this.#sendFrame(link, frame, v2 !== null)
      countEnvelope(this.ctx.counters, type, v2 !== null)
      return true
    } catch {
      this.ctx.counters.sendFailures++
      return false
    }
  }

  // ---- inside ----

  /** v2 when the peer has (or can start) a session; CONTACT_REQUEST stays v1, signed (envelope.md §8.7). */
  #sealV2 (peer: string, p: TypedPayload, id: string, timestamp: number, body?: Uint8Array): ReturnType<RatchetSessions['seal']> {
    if (p.type === PayloadType.CONTACT_REQUEST) return null
    return this.hooks.sessions.seal(peer, p, unhex(id), timestamp, body)
  }

  /** #sealV2 for a new entry; null (sealed when first sent, as any entry) when sealing fails. */
  #trySealV2 (peer: string, p: TypedPayload, id: string, timestamp: number, body: Uint8Array): ReturnType<RatchetSessions['seal']> {
    try {
      return this.#sealV2(peer, p, id, timestamp, body)
    } catch {
      return null
    }
  }

  /**
   * The v2 envelope of an outbox entry: the one stored with it while its session is still the
   * active one; else sealed now, and written (entry and ratchet step in one batch) before it goes.
   */
  #sealedEntry (id: string, peer: string, cached: Cached): Sealed | null {
    const base = this.hooks.sessions.activeBase(peer)
    if (cached.sealed !== undefined && cached.sealed.base === base) return cached.sealed
    const d = cached.decoded
    const v2 = this.#sealV2(peer, d.payload, id, d.timestamp)
    if (v2 === null) return null
    const item = this.scheduler.item(id)
    const entry: OutboxEntry = { id, peer, payload: rawOf(d, v2), attempts: item?.attempts ?? 0, nextAttemptAt: item?.nextAttemptAt ?? this.ctx.now(), createdAt: cached.createdAt }
    // sealed alone, the entry keeps its envelope in the outbox sublevel (the message lets go of it in the same batch)
    delete cached.ofMessage
    cached.sealed = { bytes: v2.bytes, base: v2.base, durable: this.ctx.store().putOutboxMany([entry], v2.write) }
    return cached.sealed
  }

  #seal (link: PeerLink, payload: TypedPayload, id: string, timestamp: number): Uint8Array {
    const recipient = link.session.remoteIdentity
    const { bytes } = sealEnvelope({
      sender: { fingerprint: this.ctx.identity.fingerprint, signSecret: this.ctx.identity.signSecret },
      recipient: { fingerprint: link.fingerprint, dhPublic: recipient.dhPublic },
      type: payload.type,
      payload: payload.payload,
      id: unhex(id),
      timestamp
    } as Parameters<typeof sealEnvelope>[0])
    return encodeEnvelopeFrame(bytes)
  }

  #sendEntry (id: string, peer: string, attempt: number): void {
    const cached = this.#cache.get(id)
    const link = this.hooks.link(peer)
    if (cached === undefined || link === undefined) {
      this.apply(this.scheduler.sendFailed(id, attempt, this.ctx.now()))
      return
    }
    const group = cached.group
    cached.group = undefined // sent once: a later attempt is sealed afresh (#regroup), never these bytes again
    if (group !== undefined && group.base === this.hooks.sessions.activeBase(peer)) {
      if (group.sent === undefined) {
        this.ctx.counters.ratchetOut++
        countEnvelope(this.ctx.counters, PayloadType.BATCH, true)
        group.sent = group.durable.then(async () => { await link.send(encodeEnvelopeFrame(group.bytes)) })
      }
      group.sent.then(
        () => { this.#onSent(id, peer, attempt, cached) },
        () => {
          this.ctx.counters.sendFailures++
          this.apply(this.scheduler.sendFailed(id, attempt, this.ctx.now()))
        })
      return
    }
    let frame: Uint8Array | Promise<Uint8Array>
    let v2: Sealed | null
    try {
      v2 = this.#sealedEntry(id, peer, cached)
      frame = v2 === null ? this.#seal(link, cached.decoded.payload, id, cached.decoded.timestamp) : v2.durable.then(() => encodeEnvelopeFrame((v2 as Sealed).bytes))
      if (v2 !== null) this.ctx.counters.ratchetOut++
    } catch (err) {
      this.ctx.log.warn({ id, err: (err as Error).message }, 'outbox entry cannot be sealed; dropped')
      this.apply(this.scheduler.acknowledged(id))
      return
    }
    countEnvelope(this.ctx.counters, cached.decoded.payload.type, v2 !== null)
    Promise.resolve(frame).then(async f => {
      if (this.ctx.log.isLevelEnabled('debug')) this.ctx.log.debug({ peer, id, type: cached.decoded.payload.type, attempt }, 'outbox entry sent')
      if (traceOn) stamp('a.link.send', id)
      await this.#sendFrame(link, f, v2 !== null)
    }).then(
      () => {
        if (traceOn) stamp('a.link.acked', id)
        this.#onSent(id, peer, attempt, cached)
      },
      () => {
        this.ctx.counters.sendFailures++
        this.apply(this.scheduler.sendFailed(id, attempt, this.ctx.now()))
      })
  }

  #onSent (id: string, peer: string, attempt: number, cached: Cached): void {
    if (this.#stopped) return
    this.apply(this.scheduler.sent(id, attempt, this.ctx.now()))
    if (cached.decoded.payload.type === PayloadType.TEXT) this.#markSent(id, peer)
  }

  /** Gathers the TEXTs sent this turn: one status write and one event per peer for all of them. */
  #markSent (id: string, peer: string): void {
    const ids = this.#sent.get(peer)
    if (ids === undefined) this.#sent.set(peer, [id])
    else ids.push(id)
    this.#sentFlush ??= setImmediate(() => { this.#sentFlush = null; this.#writeSent() })
  }

  #writeSent (): void {
    for (const [peer, ids] of this.#sent) {
      this.ctx.store().setStatuses(ids, 'sent').then(changed => {
        const now = ids.filter((_, i) => changed[i] === true)
        if (traceOn) stamp('a.sent.stored', ids)
        if (now.length === 0) return
        this.ctx.events.emit({ type: 'receipt', peer, direction: 'out', status: 'sent', ids: now })
        for (const id of now) this.waiters.changed(id, 'sent')
      }).catch(err => this.ctx.log.warn({ messages: ids.length, err: (err as Error).message }, 'status update failed'))
    }
    this.#sent.clear()
  }

  #save (item: OutboxItem): void {
    const cached = this.#cache.get(item.id)
    if (cached === undefined) return
    const held = cached.ofMessage === true && cached.sealed === undefined
    const entry: OutboxEntry = { id: item.id, peer: item.peer, payload: held ? NO_PAYLOAD : rawOf(cached.decoded, cached.sealed), attempts: item.attempts, nextAttemptAt: item.nextAttemptAt, createdAt: cached.createdAt, ...(held ? { ofMessage: true } : {}) }
    this.ctx.store().putOutbox(entry).catch(err => this.ctx.log.warn({ id: item.id, err: (err as Error).message }, 'outbox update failed'))
  }

  /** The entries leave the outbox: one store step for all of them (a receipt settles up to 256). */
  #remove (ids: readonly string[]): void {
    for (const id of ids) this.#cache.delete(id)
    this.ctx.store().removeOutboxMany(ids).catch(err => this.ctx.log.warn({ entries: ids.length, err: (err as Error).message }, 'outbox remove failed'))
  }
}

const NO_PAYLOAD = new Uint8Array(0)

/** A new entry whose message the store holds and can send again from: a TEXT acknowledged by a receipt (NewEntry.ofMessage). */
const isOfMessage = (e: NewEntry<PayloadType>): boolean => e.ofMessage === true && e.type === PayloadType.TEXT && e.ack === 'receipt'

/** An active session, and the entry not already sealed alone on it (then its stored bytes go again). */
const fresh = (c: Cached, base: string | null): boolean => base !== null && c.sealed?.base !== base

/** An entry's stored payload (outbox-codec.ts): what to send and, once sealed as v2, the envelope and its session. */
function rawOf (d: OutboxPayload, sealed: { bytes: Uint8Array, base: string } | undefined): Uint8Array {
  return encodeOutboxPayload(d.payload.type, d.payload.payload as never, d.timestamp, d.ack, sealed === undefined ? undefined : { bytes: sealed.bytes, base: sealed.base })
}
