// A node's internal event bus. Components emit (a message arrived, a receipt, a contact
// changed); IPC subscribers receive the events they asked for (proto-spec/ipc.md §Events).
// Events may carry message bodies for the local user: the bus never logs their content.

export const EVENT_TYPES = ['message', 'receipt', 'typing', 'presence', 'request', 'contact', 'file'] as const
export type EventType = typeof EVENT_TYPES[number]

export interface DaemonEvent {
  type: EventType
  [field: string]: unknown
}

export type EventListener = (event: DaemonEvent) => void

export function isEventType (v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v)
}

export class EventBus {
  private readonly listeners = new Set<EventListener>()
  /** listener exceptions, counted (a faulty subscriber must not stop the emitter) */
  listenerErrors = 0

  /** Returns the function that removes the listener. */
  on (listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  emit (event: DaemonEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event)
      } catch {
        this.listenerErrors++
      }
    }
  }

  get listenerCount (): number {
    return this.listeners.size
  }
}
