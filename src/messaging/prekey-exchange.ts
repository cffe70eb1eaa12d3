// PQXDH bundles over the session (proto-spec/pqxdh.md §8, messaging.md §2): a peer that asks with
// PREKEY_REQUEST gets our current bundle as PREKEY_BUNDLE; a bundle a peer sends is opened
// against the fingerprint its session proved (pqxdh.md §3.4) and kept as that peer's latest, and
// whoever waits for it is answered. A bundle that does not open is dropped and counted.
import { errors } from '../errors.js'
import { openBundle } from '../pqxdh/index.js'
import { after } from '../io/scheduler.js'
import { FrameType, encodePrekeyBundleFrame, encodePrekeyRequestFrame, type Frame } from './frames.js'
import type { MessagingContext } from './context.js'
import type { PeerLink } from './link.js'

/** How long fetch waits for a peer's bundle. */
export const PREKEY_FETCH_TIMEOUT_MS = 30_000

type Waiter = (bundle: Uint8Array) => void

export class PrekeyExchange {
  readonly #cache = new Map<string, { bundle: Uint8Array, receivedAt: number }>()
  readonly #waiters = new Map<string, Waiter[]>()

  constructor (
    private readonly ctx: MessagingContext,
    /** our current bundle; undefined when this node keeps no prekeys */
    private readonly ours: (() => Uint8Array) | undefined
  ) {}

  /** A prekey frame from a link (after the inbound gate). Never throws. */
  onFrame (link: PeerLink, frame: Extract<Frame, { type: typeof FrameType.PREKEY_REQUEST | typeof FrameType.PREKEY_BUNDLE }>): void {
    if (frame.type === FrameType.PREKEY_REQUEST) {
      // contacts only: a stranger writes v1, held with its request (messaging.md §3), until accepted
      if (this.ours === undefined || !this.ctx.contacts.has(link.fingerprint)) return
      link.send(encodePrekeyBundleFrame(this.ours())).catch(() => {}) // the link closed: the asker asks again
      return
    }
    const opened = openBundle(frame.bundle, link.fingerprint, this.ctx.now())
    if (!opened.ok) {
      this.ctx.counters.malformed++
      this.ctx.log.debug({ peer: link.fingerprint, code: opened.error.code }, 'prekey bundle refused')
      return
    }
    const bundle = frame.bundle.slice()
    this.#cache.set(link.fingerprint, { bundle, receivedAt: this.ctx.now() })
    const waiting = this.#waiters.get(link.fingerprint) ?? []
    this.#waiters.delete(link.fingerprint)
    for (const w of waiting) w(bundle)
  }

  /** The last bundle a peer sent that opened, and when it came. */
  cached (fp: string): { bundle: Uint8Array, receivedAt: number } | undefined {
    return this.#cache.get(fp)
  }

  /** Drops a peer's bundle (it did not start a session: ask again). */
  forget (fp: string): void {
    this.#cache.delete(fp)
  }

  /** Asks the peer on `link` for its bundle; resolves with it (opened), or WAIT_TIMEOUT. */
  async fetch (link: PeerLink, timeoutMs = PREKEY_FETCH_TIMEOUT_MS): Promise<Uint8Array> {
    const fp = link.fingerprint
    return await new Promise<Uint8Array>((resolve, reject) => {
      const waiter: Waiter = bundle => { cancel(); resolve(bundle) }
      const cancel = after(this.ctx.scheduler, timeoutMs, () => {
        this.#waiters.set(fp, (this.#waiters.get(fp) ?? []).filter(w => w !== waiter))
        reject(errors.WAIT_TIMEOUT(`no prekey bundle from ${fp} within ${timeoutMs / 1000} s`))
      })
      this.#waiters.set(fp, [...(this.#waiters.get(fp) ?? []), waiter])
      link.send(encodePrekeyRequestFrame()).catch(() => {}) // a closed link: the timeout answers
    })
  }
}
