// Envelope v2 in the messaging service (proto-spec/envelope.md §8): which peers get v2, when a
// session starts, and the store writes that go with each ratchet step. A contact gets v2 once it
// has a session with us or has sent us its prekey bundle in answer to our PREKEY_REQUEST 2 (which
// only a node that opens v2 answers); until then it gets v1 (§8.7). The pure work is in
// src/session-crypto; this adds the store, the prekey exchange and the clock.
import { publicRandomBytes, randomBytes, sha256, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import { SessionBook, type OpenV2Result, type SealedV2 } from '../session-crypto/index.js'
import { BUNDLE_MAX_AGE_MS, decodeBundle, decodeInitialMessage, type PqxdhResult, type Response } from '../pqxdh/index.js'
import type { TypedPayload } from '../wire/payloads.js'
import type { MessagingContext } from './context.js'
import type { PrekeyExchange } from './prekey-exchange.js'
import type { PeerLink } from './link.js'
import { after } from '../io/scheduler.js'

/** How long a link-up waits for the contact's bundle before the outbox goes out as v1 (a peer that does not open v2 never answers). */
export const BUNDLE_GATE_MS = 3000
/** A peer that did not answer is asked again no sooner than this. */
export const BUNDLE_RETRY_MS = 60_000
/** A peer whose v2 envelopes we cannot open (we lost our state) gets a fresh session start at most this often. */
export const RECOVER_EVERY_MS = 30_000
/**
 * At a link-up with no session, how long the larger fingerprint's outbox waits for the smaller's
 * start (envelope.md §8.3) before starting one itself: the smaller sends it as soon as our bundle,
 * pushed in our first flight, reaches it, so it is due a round trip after the link came up; this
 * bounds what a slow peer costs.
 */
export const START_WAIT_MS = 2000

/** Our prekey ring, as the node's PrekeyService offers it (pqxdh.md §5). */
export interface PrekeyResponder {
  respond: (initialMessage: Uint8Array) => PqxdhResult<Response>
  commitStart: (r: Response) => Promise<boolean>
}

export class RatchetSessions {
  readonly book: SessionBook | null
  readonly #asked = new Map<string, number>()
  readonly #recovered = new Map<string, number>()
  /** bundle questions in flight, per peer, and the link each went on */
  readonly #pending = new Map<string, { link: PeerLink, done: Promise<void> }>()
  /** peers whose start our outbox waits for (envelope.md §8.3), and what ends the wait */
  readonly #awaiting = new Map<string, () => void>()
  /** a turn is booked to make key pairs for coming DH steps */
  #preparing: NodeJS.Immediate | null = null
  #stopped = false

  constructor (
    private readonly ctx: MessagingContext,
    private readonly exchange: PrekeyExchange,
    private readonly prekeys: PrekeyResponder | undefined,
    /**
     * envelope.md §8.3: who starts the session at this link-up when there is none, from both
     * link-up PRESENCE frames: 'us' (even with nothing to send), 'peer' (we wait for its start),
     * or null (a peer that does not follow the rule: whoever has something to send starts)
     */
    private readonly starter: (link: PeerLink) => 'us' | 'peer' | null,
    /** test capture (envelope.md §8.4): one line per v2 envelope sealed or received and per session read back at start, public values only */
    private readonly trace?: (line: string) => void
  ) {
    this.book = prekeys === undefined ? null : new SessionBook({ identity: ctx.identity, random: ratchetRandom, respond: im => prekeys.respond(im) })
  }

  /** Reads every stored session and contact's bundle (at start); a record that does not decode is dropped and counted. */
  async load (): Promise<void> {
    if (this.book === null) return
    await this.exchange.load()
    for (const { peer, value } of await this.ctx.store().listSessions()) {
      if (!this.book.load(peer, value)) { this.ctx.counters.malformed++; continue }
      // where each session sends next, as read back: past every key whose ciphertext left (§8.4)
      for (const k of this.book.sendingKeys(peer)) this.trace?.(`loaded ${k.base}:${hexOf(k.dh)}:${k.ns}`)
    }
    this.prepareAhead()
  }

  /**
   * Key pairs for the next DH steps (ratchet.md §7, keys made ahead), one set a turn, each in a
   * turn of its own. Called once a ratchet message is handed to a link (outbound.ts): its send
   * turn was booked first, so the sets are made after it, while we wait for the answer. Between
   * two DH steps of a session we have always sent (the peer's next ratchet key answers a message
   * of ours), so a set is made again before each step needs one. Also at start.
   */
  prepareAhead (): void {
    if (this.#preparing !== null || this.#stopped || this.book === null || !this.book.keysWanted) return
    this.#preparing = setImmediate(() => {
      this.#preparing = null
      this.book?.prepareKeys()
      this.prepareAhead()
    })
  }

  /** The service stops: nothing more is booked, and the sets not taken are wiped. */
  stop (): void {
    this.#stopped = true
    this.#endWaits()
    if (this.#preparing !== null) clearImmediate(this.#preparing)
    this.#preparing = null
    this.book?.clearKeys()
  }

  /**
   * A new link to a contact with no session and no bundle: asks for the bundle and resolves once
   * it came or BUNDLE_GATE_MS passed; the outbox waits for that. Null: nothing to wait for (a
   * session or bundle is at hand, or the peer did not answer lately: v1). A question pending on a
   * link that was replaced is asked again on the new one.
   */
  gate (link: PeerLink): Promise<void> | null {
    const fp = link.fingerprint
    this.#dropStaleStart(fp)
    // a cached bundle a week old is asked for again (pqxdh.md §8); meanwhile it still starts a session
    if (this.book === null || this.book.activeBase(fp) !== null || this.exchange.fresh(fp) || !this.ctx.contacts.has(fp)) return null
    const pending = this.#pending.get(fp)
    if (pending !== undefined && pending.link === link) return pending.done
    if (pending === undefined && this.ctx.now() - (this.#asked.get(fp) ?? -Infinity) < BUNDLE_RETRY_MS) return null
    this.#asked.set(fp, this.ctx.now())
    const done = this.exchange.fetch(link, BUNDLE_GATE_MS).then(() => {}, () => {
      // no answer: v1 for now; a link that closed meanwhile said nothing about the peer: ask again on the next one
      if (link.closed) this.#asked.delete(fp)
    }).then(async () => { await this.#awaitStart(link) })
      .finally(() => { if (this.#pending.get(fp)?.link === link) this.#pending.delete(fp) })
    this.#pending.set(fp, { link, done })
    return done
  }

  /**
   * envelope.md §8.3, at link-up: with no session between us, the peer's bundle in hand and its
   * link-up PRESENCE frame (sent before its bundle, so here by now) saying it starts (it has
   * messages waiting and we have none, or we both have or both have not and its fingerprint is
   * the smaller), we wait for its start: until one opens, the link closes, or START_WAIT_MS.
   * Meanwhile nothing starts a session of ours (canSeal, seal).
   */
  async #awaitStart (link: PeerLink): Promise<void> {
    const fp = link.fingerprint
    if (this.book === null || this.book.has(fp) || link.closed || this.#awaiting.has(fp)) return
    if (this.exchange.cached(fp) === undefined || this.starter(link) !== 'peer') return
    this.ctx.counters.startWaits++
    await new Promise<void>(resolve => {
      const finish = (): void => {
        cancel()
        link.off('close', finish)
        if (this.#awaiting.get(fp) === finish) this.#awaiting.delete(fp)
        resolve()
      }
      const cancel = after(this.ctx.scheduler, START_WAIT_MS, () => { this.ctx.counters.startWaitsExpired++; finish() })
      link.once('close', finish)
      this.#awaiting.set(fp, finish)
    })
  }

  /**
   * envelope.md §8.3, at link-up: the end the rule names starts the session when there is none,
   * even with nothing to send (the caller then sends a PRESENCE on it), so the other one, which
   * waits for it, need not start one of its own.
   */
  startsFirst (link: PeerLink): boolean {
    const fp = link.fingerprint
    return this.book !== null && this.starter(link) === 'us' && !this.book.has(fp) && this.canSeal(fp)
  }

  /**
   * envelope.md §8.3: a start of ours the peer has not answered is sent only while the bundle it
   * came from would still be accepted (BUNDLE_MAX_AGE_MS, pqxdh.md §3.4), so the peer still holds
   * its prekey (kept PREKEY_ROTATE_MS + PREKEY_GRACE_MS from its making, §5.1). Past that, or when
   * we no longer hold that bundle, the start is dropped (and the bundle); the outbox entries sealed
   * on it are sealed again on a session started from the peer's current bundle.
   */
  #dropStaleStart (fp: string): void {
    const initial = this.book?.pendingInitial(fp) ?? null
    if (initial === null) return
    const im = decodeInitialMessage(initial)
    const cached = this.exchange.cached(fp)
    const b = cached === undefined ? null : decodeBundle(cached.bundle)
    const bundle = b?.ok === true ? b.value : null
    if (im.ok && bundle !== null && bundle.prekeyId === im.value.prekeyId && this.ctx.now() - bundle.createdS * 1000 <= BUNDLE_MAX_AGE_MS) return
    const write = this.book!.dropPendingStart(fp)
    this.exchange.forget(fp)
    this.ctx.counters.staleStarts++
    this.ctx.log.info({ peer: fp }, 'our unanswered session start is older than the peer keeps its prekeys: starting again from its current bundle')
    if (write !== null) {
      this.ctx.store().putSession(write).catch((err: unknown) => {
        this.ctx.log.warn({ peer: fp, err: (err as Error).message }, 'session record not stored') // the start is dropped again at the next link-up
      })
    }
  }

  /**
   * The contact was removed (the store deleted its sessions and bundle with it, storage.md
   * §Contacts): forget them in memory too, so that added again it starts a new session.
   */
  forget (fp: string): void {
    if (this.book === null) return
    this.book.forget(fp)
    this.exchange.drop(fp)
    this.#asked.delete(fp)
    this.#recovered.delete(fp)
    // a ratchet step of the peer's that was in flight during the removal may have landed after it
    this.ctx.store().removeSession(fp).catch((err: unknown) => {
      this.ctx.log.warn({ peer: fp, err: (err as Error).message }, 'removed contact\'s session record not deleted')
    })
  }

  /** We hold a session with `fp` (it may write v2 to us). */
  holds (fp: string): boolean { return this.book?.has(fp) ?? false }

  /** The session we send on (hex base), if any. */
  activeBase (fp: string): string | null { return this.book?.activeBase(fp) ?? null }

  /**
   * A new entry can be sealed now: there is a session to send on, or a bundle of the peer's recent
   * enough to start one from without asking for a newer one (BUNDLE_REFRESH_MS; an older one is
   * used only once the link-up's question for a fresh one was answered or timed out, pqxdh.md §8.2).
   */
  canSeal (fp: string): boolean {
    return this.book !== null && (this.book.activeBase(fp) !== null || (this.exchange.fresh(fp) && !this.#awaiting.has(fp)))
  }

  /** Seals as v2, starting a session from the peer's bundle when there is none; null: send v1. */
  seal (fp: string, payload: TypedPayload, id: Uint8Array, timestamp: number, body?: Uint8Array): SealedV2 | null {
    if (this.book === null) return null
    if (this.book.activeBase(fp) === null) {
      const cached = this.exchange.cached(fp)
      // waiting for the peer's start (§8.3): a signal meanwhile goes as v1
      if (cached === undefined || this.#awaiting.has(fp)) return null
      const started = this.book.start(fp, cached.bundle, this.ctx.now())
      if (!started.ok) {
        this.exchange.forget(fp) // stale or refused: asked again at the next link-up
        this.ctx.log.debug({ peer: fp, code: started.error.code }, 'session start failed')
        return null
      }
      this.ctx.counters.sessionsStarted++
    }
    const sealed = this.book.seal(fp, payload, id, timestamp, body)
    if (sealed !== null && this.trace !== undefined) this.trace(`sealed ${digest(sealed.bytes)} ${sealed.base}:${hexOf(sealed.dh)}:${sealed.n}`)
    return sealed
  }

  open (fp: string, bytes: Uint8Array): OpenV2Result {
    if (this.book === null) return { ok: false, reason: 'no-session', id: null }
    this.trace?.(`received ${digest(bytes)}`)
    const r = this.book.open(fp, bytes, this.ctx.now())
    if (r.ok && r.started !== null) this.ctx.counters.sessionsAnswered++
    // the peer's start we waited for (§8.3): the outbox goes on, on it
    if (r.ok && this.book.activeBase(fp) !== null) this.#awaiting.get(fp)?.()
    return r
  }

  /** Ends every wait for a peer's start (the service stops). */
  #endWaits (): void {
    for (const finish of [...this.#awaiting.values()]) finish()
  }

  /** Remembers an accepted start in the prekey ring (pqxdh.md §6), after its session record is stored. */
  async commitStart (r: Response): Promise<void> {
    await this.prekeys?.commitStart(r)
  }

  /**
   * The peer writes on a session we do not hold (we lost our state, §8.6): start a fresh one
   * from its bundle; `announce` sends something on it (the initial message travels with it).
   */
  recover (link: PeerLink, announce: () => void): void {
    const fp = link.fingerprint
    const now = this.ctx.now()
    if (this.book === null || now - (this.#recovered.get(fp) ?? -Infinity) < RECOVER_EVERY_MS) return
    this.#recovered.set(fp, now)
    // a start of ours is pending already (from the bundle we kept): announce that one
    if (this.book.startPending(fp)) { announce(); return }
    this.exchange.forget(fp)
    this.exchange.fetch(link, BUNDLE_GATE_MS).then(bundle => {
      const started = this.book?.start(fp, bundle, this.ctx.now())
      if (started?.ok === true) { this.ctx.counters.sessionsStarted++; announce() }
    }, () => {})
  }
}

/**
 * The ratchet's randomness: of its draws (proto-spec/ratchet.md §5) only the 24-byte header nonce
 * of each message is public, and it comes from the pool; DH secrets, KEM seeds and encapsulation
 * messages (32 and 64 bytes) straight from the OS.
 */
const ratchetRandom = (n: number): Uint8Array => n === XCHACHA_NONCE_BYTES ? publicRandomBytes(n) : randomBytes(n)

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
/** A v2 envelope named by its SHA-256 (the trace never holds the ciphertext). */
const digest = (b: Uint8Array): string => hexOf(sha256(b))
