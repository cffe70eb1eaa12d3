// Sends asked for in one turn of the event loop, stored and queued together (messaging.md §4.3,
// ipc.md `messages.send`): the IPC requests that arrive in one poll phase (several clients, or
// one client's pipelined requests) each call `messages.send`, and each would otherwise be its own
// outbox step and, to a peer that opens BATCH (envelope.md §3.7), its own ratchet message. Held
// until the turn ends (setImmediate: after every I/O callback of this poll phase), one peer's
// texts are handed on as one list, in call order, exactly as one `messages.sendMany` of them
// would be: one store step, BATCHes of up to BATCH_MAX_MESSAGES texts. A lone send waits one
// turn (microseconds), not a timer.

/**
 * Texts handed on in one list at most: the most one `messages.sendMany` may carry (ipc.md), so
 * a joined list is never a larger store step than one call could ask for. A longer run of sends
 * goes as several lists, still issued in the same turn and in order.
 */
export const MAX_JOINED_TEXTS = 1000

/** Stores and queues texts to one peer in order (MessagingActions' path for `sendMany`); one result per text. */
export type StoreTexts<R> = (peer: string, texts: readonly string[], ids: readonly string[]) => Promise<R[]>

interface Waiting<R> {
  peer: string
  texts: readonly string[]
  ids: readonly string[]
  resolve: (results: R[]) => void
  reject: (err: unknown) => void
}

export class SendCoalescer<R> {
  #waiting: Array<Waiting<R>> = []
  #scheduled = false

  constructor (private readonly store: StoreTexts<R>) {}

  /** Stores and queues `texts` (ids drawn by the caller) with every other send of this turn; resolves to their results in order. */
  async send (peer: string, texts: readonly string[], ids: readonly string[]): Promise<R[]> {
    return await new Promise<R[]>((resolve, reject) => {
      this.#waiting.push({ peer, texts, ids, resolve, reject })
      if (this.#scheduled) return
      this.#scheduled = true
      setImmediate(() => { this.#flush() })
    })
  }

  #flush (): void {
    this.#scheduled = false
    const byPeer = new Map<string, Array<Waiting<R>>>()
    for (const w of this.#waiting.splice(0)) {
      const list = byPeer.get(w.peer)
      if (list === undefined) byPeer.set(w.peer, [w])
      else list.push(w)
    }
    // every store call is issued in this turn, in order: the store writes them in one batch as far
    // as its bound allows (storage.md §Atomicity, src/store/group.ts)
    for (const [peer, list] of byPeer) {
      let run: Array<Waiting<R>> = []
      let n = 0
      for (const w of list) {
        if (run.length > 0 && n + w.texts.length > MAX_JOINED_TEXTS) { this.#hand(peer, run); run = []; n = 0 }
        run.push(w)
        n += w.texts.length
      }
      this.#hand(peer, run)
    }
  }

  /** One store call for `run`'s texts; each caller gets its own slice of the results. */
  #hand (peer: string, run: ReadonlyArray<Waiting<R>>): void {
    const texts = run.length === 1 ? (run[0] as Waiting<R>).texts : run.flatMap(w => w.texts)
    const ids = run.length === 1 ? (run[0] as Waiting<R>).ids : run.flatMap(w => w.ids)
    this.store(peer, texts, ids).then(results => {
      let at = 0
      for (const w of run) {
        w.resolve(results.slice(at, at + w.texts.length))
        at += w.texts.length
      }
    }, err => { for (const w of run) w.reject(err) })
  }
}
