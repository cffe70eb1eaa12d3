// Small pure helpers for conversation signals (proto-spec/messaging.md §7): receipts gathered
// into envelopes of at most RECEIPT_MAX_IDS ids, and typing indicators that expire.
import { RECEIPT_MAX_IDS } from '../wire/constants.js'
import { TYPING_TIMEOUT_MS } from './constants.js'

export type ReceiptKind = 'delivered' | 'read'

export interface ReceiptBatch { peer: string, kind: ReceiptKind, ids: string[] }

/** Gathers receipt ids per peer and kind; `take` empties it into envelope-sized batches. */
export class ReceiptBatcher {
  readonly #pending = new Map<string, { peer: string, kind: ReceiptKind, ids: Set<string> }>()

  get empty (): boolean { return this.#pending.size === 0 }

  /** Whether ids of either kind are gathered for `peer`. */
  holds (peer: string): boolean { return this.#pending.has(`delivered:${peer}`) || this.#pending.has(`read:${peer}`) }

  /** Adds ids; returns how many this peer's batch of this kind now holds. */
  add (peer: string, kind: ReceiptKind, ids: Iterable<string>): number {
    const key = `${kind}:${peer}`
    let b = this.#pending.get(key)
    if (b === undefined) {
      b = { peer, kind, ids: new Set() }
      this.#pending.set(key, b)
    }
    for (const id of ids) b.ids.add(id)
    return b.ids.size
  }

  take (max = RECEIPT_MAX_IDS): ReceiptBatch[] {
    const out: ReceiptBatch[] = []
    for (const b of this.#pending.values()) {
      const ids = [...b.ids]
      for (let i = 0; i < ids.length; i += max) out.push({ peer: b.peer, kind: b.kind, ids: ids.slice(i, i + max) })
    }
    this.#pending.clear()
    return out
  }
}

/** Who is typing to us; an indicator lapses TYPING_TIMEOUT_MS after its last refresh. */
export class TypingTracker {
  readonly #until = new Map<string, number>()

  constructor (readonly timeoutMs = TYPING_TIMEOUT_MS) {}

  /** Returns true when what the user should see changed. */
  set (peer: string, typing: boolean, now: number): boolean {
    const was = this.#until.has(peer)
    if (typing) this.#until.set(peer, now + this.timeoutMs)
    else this.#until.delete(peer)
    return was !== typing
  }

  isTyping (peer: string): boolean { return this.#until.has(peer) }

  /** Peers whose indicator lapsed by `now` (they are forgotten). */
  expire (now: number): string[] {
    const out: string[] = []
    for (const [peer, until] of this.#until) if (until <= now) { this.#until.delete(peer); out.push(peer) }
    return out
  }

  get nextDeadline (): number {
    let at = Infinity
    for (const until of this.#until.values()) at = Math.min(at, until)
    return at
  }
}
