// What a user does through the daemon (proto-spec/messaging.md §9): send, mark read, signal
// typing and presence, list peers and requests, accept or decline a request, block and unblock.
// The IPC methods (src/daemon/rpc-messaging.ts) validate parameters and call these.
import { errors } from '../errors.js'
import { resolveContact, resolveContactIn, MIN_PREFIX_CHARS } from '../app/contacts.js'
import { isFingerprint, parseFingerprint } from '../crypto/identity.js'
import { contactJson, type ContactJson } from '../app/contact-json.js'
import { PayloadType, TEXT_MAX_BYTES, RECEIPT_MAX_IDS } from '../wire/constants.js'
import type { Contact, MessageStatus } from '../store/index.js'
import { DEFAULT_WAIT_MS } from './constants.js'
import { messageJson, requestJson, type PeerJson, type RequestJson } from './json.js'
import { unhex } from './context.js'
import { reached, type WaitTarget } from './waiters.js'
import type { MessagingService } from './service.js'
import { stamp, traceOn } from '../runtime/latency-trace.js'
import { SendCoalescer } from './send-coalescer.js'

export type RequestCounts = ReturnType<MessagingService['requestCounts']>

export interface SendResult { id: string, status: MessageStatus, timestamp: number }

export class MessagingActions {
  /** Sends of one turn, one peer's stored and queued as one list (src/messaging/send-coalescer.ts). */
  readonly #sends = new SendCoalescer<SendResult>(async (peer, texts, ids) => await this.#store(peer, texts, ids))

  constructor (private readonly svc: MessagingService) {}

  private get ctx (): MessagingService['ctx'] { return this.svc.ctx }

  /** Stores the message (status 'sending'), queues it, and optionally waits for a status. */
  async send (query: string, text: string, wait?: WaitTarget, timeoutMs = DEFAULT_WAIT_MS): Promise<SendResult> {
    const c = await this.#contact(query)
    checkText(text)
    const id = this.svc.outbound.newId()
    if (traceOn) stamp('a.send', id)
    this.ctx.log.debug({ peer: c.fingerprint, id }, 'send requested')
    // registered before anything is sent, so no status change can be missed
    const waiting = wait === undefined ? undefined : this.svc.waiters.wait(id, wait, timeoutMs)
    const [result] = await this.#sends.send(c.fingerprint, [text], [id])
    if (waiting !== undefined && wait !== undefined) {
      const status = await waiting
      if (traceOn) stamp('a.waited', id)
      if (status === null) {
        const now = this.#status(id)
        if (!reached(now, wait)) throw errors.WAIT_TIMEOUT(`message ${id} was not ${wait} within ${timeoutMs / 1000} s (it is ${now}; it stays in the outbox and is retried)`)
      }
      return { ...(result as SendResult), status: this.#status(id) }
    }
    return result as SendResult
  }

  /**
   * Several messages to one contact in one call (ipc.md `messages.sendMany`): stored in one
   * batch with their outbox entries, sent in order (joined with the other sends of this turn:
   * src/messaging/send-coalescer.ts). Every text is checked first: one that is empty or too long
   * refuses the whole call, and nothing is stored.
   */
  async sendMany (query: string, texts: readonly string[]): Promise<SendResult[]> {
    const c = await this.#contact(query)
    for (const t of texts) checkText(t)
    return await this.#sends.send(c.fingerprint, texts, texts.map(() => this.svc.outbound.newId()))
  }

  /** A contact to write to: from the daemon's contact cache (the store only when it misses), not blocked. */
  async #contact (query: string): Promise<Contact> {
    let c: Contact
    try {
      c = resolveContactIn(fp => this.ctx.contacts.get(fp), () => this.ctx.contacts.all(), query)
    } catch (err) {
      if ((err as { code?: string }).code !== 'CONTACT_NOT_FOUND') throw err
      c = await resolveContact(this.ctx.store(), query) // added a moment ago: the cache catches up on the event
    }
    if (this.svc.inbound.gate.isBlocked(c.fingerprint)) throw errors.BAD_ARGUMENT(`${c.name ?? c.fingerprint} is blocked; unblock them to write`)
    return c
  }

  async #store (peer: string, texts: readonly string[], ids: readonly string[]): Promise<SendResult[]> {
    // Both writes are issued in this turn, in call order: the store puts them in one batch (group
    // commit), so seq order = outbox order = the order the peer receives (messaging.md §4.3).
    const timestamp = this.ctx.now()
    const stored = this.ctx.store().addMessages(texts.map((text, i) => ({
      id: ids[i] as string, peer, direction: 'out' as const, text, timestamp, receivedAt: timestamp, status: 'sending' as const, read: true
    })), undefined, { freshIds: true }) // ids from newId: 16 random bytes each
    // each entry is kept with its message (ofMessage: storage.md §Outbox), not as a record of its own
    const queued = this.svc.outbound.enqueueMany(peer, texts.map((text, i) => ({ type: PayloadType.TEXT, payload: { text }, id: ids[i] as string, timestamp, ack: 'receipt' as const, ofMessage: true })))
    queued.catch(() => {}) // awaited below; a failure must not count as unhandled meanwhile
    queued.then(() => { this.svc.network.renew(peer) }, () => {}) // the user wants them now (messaging.md §5.2)
    const added = await stored
    if (traceOn) stamp('a.stored', ids)
    for (const a of added) this.ctx.events.emit({ type: 'message', peer, message: messageJson(a.message) })
    await queued
    return ids.map(id => ({ id, status: this.#status(id), timestamp }))
  }

  /** A message's status now (a synchronous read: LevelDB's cache, no thread-pool round trip). */
  #status (id: string): MessageStatus {
    return this.ctx.store().getMessageSync(id)?.status ?? 'sending'
  }

  /** Marks a conversation read and queues READ_RECEIPTs (kept in the outbox until the peer's channel has them). */
  async markRead (query: string): Promise<{ contact: ContactJson, marked: number }> {
    const c = await resolveContact(this.ctx.store(), query)
    const ids = await this.ctx.store().markRead(c.fingerprint)
    for (let i = 0; i < ids.length; i += RECEIPT_MAX_IDS) {
      const batch = ids.slice(i, i + RECEIPT_MAX_IDS).map(unhex)
      await this.svc.outbound.enqueue(c.fingerprint, PayloadType.READ_RECEIPT, { ids: batch }, { timestamp: this.ctx.now(), ack: 'transport' })
    }
    if (ids.length > 0) this.ctx.events.emit({ type: 'receipt', peer: c.fingerprint, direction: 'in', status: 'read', ids })
    return { contact: contactJson(c), marked: ids.length }
  }

  /** TYPING to a contact over a live link (nothing is queued: a stale indicator is worse than none). */
  async typing (query: string, typing: boolean): Promise<{ sent: boolean }> {
    const c = await resolveContact(this.ctx.store(), query)
    return { sent: await this.svc.outbound.sendNow(c.fingerprint, PayloadType.TYPING, { typing }) }
  }

  /** Our presence, told to every contact with a link now and to each one as it connects. */
  async setPresence (state: 'online' | 'away'): Promise<{ state: 'online' | 'away', told: number }> {
    this.svc.presence = state
    let told = 0
    for (const fp of this.svc.network.links.keys()) {
      if (this.ctx.contacts.has(fp) && await this.svc.sendPresence(fp)) told++
    }
    return { state, told }
  }

  peers (): PeerJson[] {
    return this.svc.network.peers()
  }

  requests (): RequestJson[] {
    return this.svc.requests.list().map(requestJson)
  }

  /** How full the request book is, and what it dropped, evicted or let expire (messaging.md §3.2). */
  requestCounts (): RequestCounts {
    return this.svc.requestCounts()
  }

  async accept (query: string): Promise<{ contact: ContactJson, messages: number }> {
    const fp = this.#pendingFingerprint(query)
    const r = await this.svc.admitRequest(fp)
    if (r === undefined) throw errors.REQUEST_NOT_FOUND(`no pending contact request from ${fp}`)
    return { contact: contactJson(r.contact), messages: r.messages }
  }

  async decline (query: string): Promise<{ fingerprint: string, messages: number }> {
    const fp = this.#pendingFingerprint(query)
    const r = this.svc.requests.decline(fp, this.ctx.now())
    if (r === undefined) throw errors.REQUEST_NOT_FOUND(`no pending contact request from ${fp}`)
    await this.svc.persistRequest(fp)
    await this.svc.persist()
    this.ctx.events.emit({ type: 'request', action: 'declined', request: requestJson(r) })
    return { fingerprint: fp, messages: r.held.length }
  }

  /**
   * `contacts.add` of `who` is about to write the contact: when `who` is a bare fingerprint of
   * someone not yet a contact (nor blocked, nor us), the lookup of it starts now (messaging.md
   * §5.2), the write and the event that makes it a contact following while the DHT answers; the
   * lookup needs the fingerprint only. Returns what to call if the add then fails: the demand
   * goes, unless the fingerprint became a contact meanwhile.
   */
  contactComing (who: string): () => void {
    const q = who.trim()
    if (!isFingerprint(q)) return () => {}
    const fp = parseFingerprint(q)
    if (fp === this.ctx.identity.fingerprint || this.ctx.contacts.has(fp) || this.svc.inbound.gate.isBlocked(fp)) return () => {}
    this.svc.network.demand(fp, true)
    return () => { if (!this.ctx.contacts.has(fp)) this.svc.network.demand(fp, false) }
  }

  /** Blocks a contact, a requester or any fingerprint: its sessions are refused, its frames dropped unread. */
  async block (query: string): Promise<{ fingerprint: string, changed: boolean }> {
    const fp = await this.#anyFingerprint(query)
    if (fp === this.ctx.identity.fingerprint) throw errors.BAD_ARGUMENT('that is your own fingerprint')
    const changed = await this.ctx.store().block(fp, this.ctx.now())
    this.svc.inbound.gate.block(fp)
    this.svc.inbound.purge(fp)
    if (this.svc.requests.drop(fp) !== undefined) await this.svc.persistRequest(fp)
    this.svc.network.demand(fp, false)
    this.svc.network.closeLink(fp)
    this.#emitBlock(fp, 'blocked')
    return { fingerprint: fp, changed }
  }

  async unblock (query: string): Promise<{ fingerprint: string, changed: boolean }> {
    const blocked = (await this.ctx.store().listBlocked()).map(b => b.fingerprint)
    const fp = matchOne(blocked, query) ?? await this.#anyFingerprint(query)
    const changed = await this.ctx.store().unblock(fp)
    this.svc.inbound.gate.unblock(fp)
    if (this.ctx.contacts.has(fp)) this.svc.network.demand(fp, true)
    // what our outbox kept for it while blocked goes now if its link is up (else when one comes)
    if (this.svc.network.link(fp) !== undefined) this.svc.outbound.peerUp(fp)
    this.#emitBlock(fp, 'unblocked')
    this.svc.rearm()
    return { fingerprint: fp, changed }
  }

  async blocked (): Promise<Array<{ fingerprint: string, blockedAt: string, name: string | null }>> {
    return (await this.ctx.store().listBlocked()).map(b => ({
      fingerprint: b.fingerprint, blockedAt: new Date(b.blockedAt).toISOString(), name: this.ctx.contacts.get(b.fingerprint)?.name ?? null
    }))
  }

  stats (peer?: string): Record<string, unknown> {
    const s = this.svc
    return {
      ...s.ctx.counters,
      gate: { ...s.inbound.gate.totals },
      queued: s.inbound.queue.size,
      outbox: s.outbound.scheduler.size,
      links: s.network.links.size,
      pendingRequests: s.requests.size,
      requestBook: s.requestCounts(),
      store: s.ctx.store().writeCounts,
      ...(peer === undefined ? {} : { peer: { fingerprint: peer, ...s.inbound.gate.counts(peer), queued: s.inbound.queue.sizeOf(peer) } })
    }
  }

  #emitBlock (fp: string, action: 'blocked' | 'unblocked'): void {
    const c = this.ctx.contacts.get(fp)
    this.ctx.events.emit({ type: 'contact', action, fingerprint: fp, contact: c === undefined ? null : contactJson(c) })
  }

  /** A pending request named by fingerprint or a unique prefix of one. */
  #pendingFingerprint (query: string): string {
    const fps = this.svc.requests.list().map(r => r.fingerprint)
    const fp = matchOne(fps, query)
    if (fp !== undefined) return fp
    if (isFingerprint(query.trim())) throw errors.REQUEST_NOT_FOUND(`no pending contact request from ${parseFingerprint(query.trim())}`)
    throw errors.REQUEST_NOT_FOUND(`no pending contact request matches "${query}" (see \`dmess requests\`)`)
  }

  /**
   * A contact (fingerprint, prefix or name), a pending requester (fingerprint prefix, or the name
   * it gave in its request), or a full fingerprint. A name that fits more than one of them (two
   * requesters, or a requester that gave a contact's name) is refused with the candidates listed:
   * a stranger must not be able to make `block <name>` hit someone else.
   */
  async #anyFingerprint (query: string): Promise<string> {
    const q = query.trim()
    if (isFingerprint(q)) return parseFingerprint(q)
    const pending = this.svc.requests.list()
    const requester = matchOne(pending.map(r => r.fingerprint), q)
    if (requester !== undefined) return requester
    const named = pending.filter(r => r.name !== undefined && r.name.toLowerCase() === q.toLowerCase())
    let contact: Contact | undefined
    try {
      contact = await resolveContact(this.ctx.store(), q)
    } catch (err) {
      if ((err as { code?: string }).code !== 'CONTACT_NOT_FOUND') throw err
      if (named.length === 0) throw errors.CONTACT_NOT_FOUND(`no contact or contact request matches "${q}" (see \`dmess contacts list\` and \`dmess requests\`)`)
    }
    const candidates = [
      ...(contact === undefined ? [] : [`${contact.fingerprint} (contact)`]),
      ...named.map(r => `${r.fingerprint} (request)`)
    ]
    if (candidates.length > 1) {
      const shown = candidates.slice(0, 5).join(', ') + (candidates.length > 5 ? `, and ${candidates.length - 5} more` : '')
      throw errors.CONTACT_AMBIGUOUS(`"${q}" names ${candidates.length}: ${shown}; name one by fingerprint`)
    }
    return contact?.fingerprint ?? (named[0] as { fingerprint: string }).fingerprint
  }
}

/**
 * A TEXT the user may send: not empty nor only white space (what `dmess chat` would not send
 * either), within the payload limit (envelope.md §3). Every client sends through here, so they
 * all refuse the same messages with the same words.
 */
function checkText (text: string): void {
  if (text.trim().length === 0) throw errors.BAD_ARGUMENT('the message is empty')
  const bytes = Buffer.byteLength(text)
  if (bytes > TEXT_MAX_BYTES) throw errors.BAD_ARGUMENT(`the message is ${bytes} bytes; the limit is ${TEXT_MAX_BYTES}`)
}

/** The one fingerprint in `fps` equal to `query` or starting with it (≥ MIN_PREFIX_CHARS); throws if ambiguous. */
function matchOne (fps: readonly string[], query: string): string | undefined {
  const q = query.trim().toLowerCase().replace(/[\s-]+/g, '')
  if (q.length < MIN_PREFIX_CHARS) return undefined
  const exact = fps.find(f => f === q)
  if (exact !== undefined) return exact
  const hits = fps.filter(f => f.startsWith(q))
  if (hits.length > 1) throw errors.CONTACT_AMBIGUOUS(`"${query}" matches ${hits.length} fingerprints; type more of it`)
  return hits[0]
}
