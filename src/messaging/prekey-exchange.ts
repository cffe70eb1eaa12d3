// PQXDH bundles over the session (proto-spec/pqxdh.md §8, messaging.md §2): a peer that asks with
// PREKEY_REQUEST gets our current bundle as PREKEY_BUNDLE; a bundle a peer sends is opened
// against the fingerprint its session proved (pqxdh.md §3.4) and kept as that peer's latest (in
// memory and in the store, so a restart does not lose it: an offline contact can still be
// written to in v2), and whoever waits for it is answered. A bundle that does not open is dropped
// and counted.
import { errors } from '../errors.js'
import { openBundle, PREKEY_ROTATE_MS } from '../pqxdh/index.js'
import { after } from '../io/scheduler.js'
import { FrameType, PrekeyNone, encodePrekeyBundleFrame, encodePrekeyNoneFrame, encodePrekeyRequestFrame, type Frame } from './frames.js'
import type { MessagingContext } from './context.js'
import type { PeerLink } from './link.js'
import type { StoredBundle } from '../store/index.js'

/** How long fetch waits for a peer's bundle. */
export const PREKEY_FETCH_TIMEOUT_MS = 30_000
/** A cached bundle this old is asked for again when the peer is at hand: it has likely rotated since (pqxdh.md §8). */
export const BUNDLE_REFRESH_MS = PREKEY_ROTATE_MS
/** A bundle that comes again with the same bytes this soon after the last is not opened and stored again (a link-up brings the push and the answer). */
const SAME_BUNDLE_MS = 60_000

interface Waiter { resolve: (bundle: Uint8Array) => void, reject: (err: Error) => void }

export class PrekeyExchange {
  readonly #cache = new Map<string, { bundle: Uint8Array, receivedAt: number }>()
  readonly #waiters = new Map<string, Waiter[]>()
  /**
   * links our bundle was pushed on at link-up (offer), once each, and of those the ones a request
   * came on since: the first request on such a link is the peer's link-up ask, which the push,
   * sent before it could arrive, answers (pqxdh.md §8.2); a later one is answered (the peer may
   * ask again after losing its state, envelope.md §8.6)
   */
  readonly #offered = new WeakSet<PeerLink>()
  readonly #askedOnOffered = new WeakSet<PeerLink>()
  /** links a PREKEY_NONE went on, once each: a stranger asking again and again gets one answer */
  readonly #refused = new WeakSet<PeerLink>()

  constructor (
    private readonly ctx: MessagingContext,
    /** our current bundle; undefined when this node keeps no prekeys */
    private readonly ours: (() => Uint8Array) | undefined
  ) {}

  /**
   * Reads the bundles kept in the store (at start). One that no longer opens (too old by now,
   * pqxdh.md §3.4) is dropped from the store; records that do not open are counted and ignored.
   */
  async load (): Promise<void> {
    const store = this.ctx.store()
    let kept: StoredBundle[]
    try {
      kept = await store.listBundles()
    } catch (err) {
      // a cache, not a record of anything: a damaged one costs a round trip per contact, not the start
      this.ctx.counters.malformed++
      this.ctx.log.warn({ err: (err as Error).message }, 'stored prekey bundles unreadable; contacts are asked again')
      return
    }
    for (const { peer, bundle, receivedAt } of kept) {
      const opened = openBundle(bundle, peer, this.ctx.now())
      if (opened.ok) {
        if (!this.#cache.has(peer)) this.#cache.set(peer, { bundle, receivedAt })
      } else {
        this.ctx.log.debug({ peer, code: opened.error.code }, 'stored prekey bundle dropped')
        await store.removeBundle(peer)
      }
    }
  }

  /** A prekey frame from a link (after the inbound gate). Never throws. */
  onFrame (link: PeerLink, frame: Extract<Frame, { type: typeof FrameType.PREKEY_REQUEST | typeof FrameType.PREKEY_BUNDLE | typeof FrameType.PREKEY_NONE }>): void {
    if (frame.type === FrameType.PREKEY_REQUEST) {
      if (this.ours !== undefined && this.ctx.contacts.has(link.fingerprint)) {
        if (this.#offered.has(link) && !this.#askedOnOffered.has(link)) {
          this.#askedOnOffered.add(link)
          return
        }
        this.ctx.counters.prekeyFramesOut++
        link.send(encodePrekeyBundleFrame(this.ours())).catch(() => {}) // the link closed: the asker asks again
        return
      }
      // contacts only: a stranger writes v1, held with its request (messaging.md §3), until
      // accepted; told so at once, its outbox does not wait BUNDLE_GATE_MS for a bundle that never comes
      if (this.#refused.has(link)) return
      this.#refused.add(link)
      this.ctx.counters.prekeyFramesOut++
      link.send(encodePrekeyNoneFrame(this.ours === undefined ? PrekeyNone.NO_PREKEYS : PrekeyNone.NOT_A_CONTACT)).catch(() => {})
      return
    }
    if (frame.type === FrameType.PREKEY_NONE) {
      // only an asker waits: an answer nobody waits for changes nothing
      const waiting = this.#waiters.get(link.fingerprint) ?? []
      this.#waiters.delete(link.fingerprint)
      const why = frame.reason === PrekeyNone.NO_PREKEYS ? 'keeps no prekeys' : 'gives bundles to its contacts only'
      for (const w of waiting) w.reject(errors.NO_BUNDLE(`${link.fingerprint} ${why}`))
      return
    }
    // we ask contacts, and a contact the user removed that writes on a session deleted with it
    // (envelope.md §8.6): a bundle we did not ask for is taken from contacts only, and only a
    // contact's is stored (a stranger's would be a record per identity it cares to make)
    const contact = this.ctx.contacts.has(link.fingerprint)
    if (!contact && !this.#waiters.has(link.fingerprint)) return
    // the same bytes again within the minute: the push and the answer to our request of one
    // link-up (offer). Opened and stored already: not checked and written a second time.
    const had = this.#cache.get(link.fingerprint)
    if (had !== undefined && this.ctx.now() - had.receivedAt < SAME_BUNDLE_MS && Buffer.compare(had.bundle, frame.bundle) === 0) {
      this.#answer(link.fingerprint, had.bundle)
      return
    }
    const opened = openBundle(frame.bundle, link.fingerprint, this.ctx.now())
    if (!opened.ok) {
      this.ctx.counters.malformed++
      this.ctx.log.debug({ peer: link.fingerprint, code: opened.error.code }, 'prekey bundle refused')
      return
    }
    const bundle = frame.bundle.slice()
    const receivedAt = this.ctx.now()
    this.#cache.set(link.fingerprint, { bundle, receivedAt })
    if (contact) {
      this.ctx.store().putBundle({ peer: link.fingerprint, bundle, receivedAt }).catch((err: unknown) => {
        this.ctx.log.warn({ peer: link.fingerprint, err: (err as Error).message }, 'prekey bundle not stored') // kept in memory: only a restart loses it
      })
    }
    this.#answer(link.fingerprint, bundle)
  }

  /** Whoever waits for `fp`'s bundle gets it. */
  #answer (fp: string, bundle: Uint8Array): void {
    const waiting = this.#waiters.get(fp) ?? []
    this.#waiters.delete(fp)
    for (const w of waiting) w.resolve(bundle)
  }

  /**
   * Sends our bundle unasked to the contact on a new `link` (pqxdh.md §8.2): it would ask for it
   * at link-up, and pushed in our first flight it is there a round trip (and our turn answering)
   * sooner: the contact's outbox waits for it (envelope.md §8.7). Contacts only, as answers are.
   */
  offer (link: PeerLink): void {
    if (this.ours === undefined || !this.ctx.contacts.has(link.fingerprint) || this.#offered.has(link)) return
    this.#offered.add(link)
    this.ctx.counters.prekeyFramesOut++
    link.send(encodePrekeyBundleFrame(this.ours())).catch(() => {}) // the link closed: the contact asks on the next one
  }

  /** The last bundle a peer sent that opened, and when it came. */
  cached (fp: string): { bundle: Uint8Array, receivedAt: number } | undefined {
    return this.#cache.get(fp)
  }

  /** The cached bundle is recent enough not to ask for a new one (BUNDLE_REFRESH_MS). */
  fresh (fp: string): boolean {
    const c = this.#cache.get(fp)
    return c !== undefined && this.ctx.now() - c.receivedAt < BUNDLE_REFRESH_MS
  }

  /** Drops a peer's bundle from memory only (the contact was removed: the store deleted it with the contact). */
  drop (fp: string): void { this.#cache.delete(fp) }

  /** Drops a peer's bundle (it did not start a session: ask again). */
  forget (fp: string): void {
    if (!this.#cache.delete(fp)) return
    this.ctx.store().removeBundle(fp).catch((err: unknown) => {
      this.ctx.log.warn({ peer: fp, err: (err as Error).message }, 'prekey bundle not removed') // refused again at the next start
    })
  }

  /** Asks the peer on `link` for its bundle; resolves with it (opened), or rejects with NO_BUNDLE (it said it gives none) or WAIT_TIMEOUT. */
  async fetch (link: PeerLink, timeoutMs = PREKEY_FETCH_TIMEOUT_MS): Promise<Uint8Array> {
    const fp = link.fingerprint
    return await new Promise<Uint8Array>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: bundle => { cancel(); resolve(bundle) },
        reject: err => { cancel(); reject(err) }
      }
      const cancel = after(this.ctx.scheduler, timeoutMs, () => {
        this.#waiters.set(fp, (this.#waiters.get(fp) ?? []).filter(w => w !== waiter))
        reject(errors.WAIT_TIMEOUT(`no prekey bundle from ${fp} within ${timeoutMs / 1000} s`))
      })
      this.#waiters.set(fp, [...(this.#waiters.get(fp) ?? []), waiter])
      this.ctx.counters.prekeyFramesOut++
      link.send(encodePrekeyRequestFrame()).catch(() => {}) // a closed link: the timeout answers
    })
  }
}
