// `messages.send` with `wait`: callers waiting for a message to reach a status (messaging.md §9).
import type { MessageStatus } from '../store/index.js'
import { realScheduler, type Scheduler, type TimerHandle } from '../io/scheduler.js'

const RANK: Partial<Record<MessageStatus, number>> = { sending: 1, sent: 2, delivered: 3, read: 4 }

export type WaitTarget = 'sent' | 'delivered' | 'read'

export function reached (status: MessageStatus, target: WaitTarget): boolean {
  return (RANK[status] ?? 0) >= (RANK[target] ?? Infinity)
}

interface Waiter { target: WaitTarget, resolve: (status: MessageStatus | null) => void, timer: TimerHandle }

export class StatusWaiters {
  readonly #byId = new Map<string, Set<Waiter>>()

  constructor (private readonly scheduler: Scheduler = realScheduler) {}

  /** Resolves with the status once `target` is reached, or null after `timeoutMs`. */
  async wait (id: string, target: WaitTarget, timeoutMs: number): Promise<MessageStatus | null> {
    return await new Promise(resolve => {
      const set = this.#byId.get(id) ?? new Set<Waiter>()
      this.#byId.set(id, set)
      const w: Waiter = {
        target,
        resolve,
        timer: this.scheduler.setTimer(timeoutMs, () => { this.#forget(id, w); resolve(null) })
      }
      set.add(w)
    })
  }

  changed (id: string, status: MessageStatus): void {
    const set = this.#byId.get(id)
    if (set === undefined) return
    for (const w of [...set]) {
      if (!reached(status, w.target)) continue
      this.scheduler.clearTimer(w.timer)
      this.#forget(id, w)
      w.resolve(status)
    }
  }

  /** Ends every wait (the daemon stops): each resolves with null. */
  close (): void {
    for (const [id, set] of this.#byId) for (const w of set) { this.scheduler.clearTimer(w.timer); this.#forget(id, w); w.resolve(null) }
  }

  #forget (id: string, w: Waiter): void {
    const set = this.#byId.get(id)
    set?.delete(w)
    if (set?.size === 0) this.#byId.delete(id)
  }
}
