// Holds what the daemon sends between the subscription and the moment the screen is mounted,
// then hands it on: the subscription starts before the history is read, so no message can fall
// in the gap (the state model drops the ones the history already had, by id).
import type { ChatEvent } from './types.js'

export type FeedItem = { kind: 'event', event: ChatEvent } | { kind: 'closed', error: Error }

export class EventFeed {
  #buffer: FeedItem[] = []
  #listener: ((item: FeedItem) => void) | null = null
  /** Items kept while nobody listens; beyond it the oldest go (a chat that never mounts must not grow without bound). */
  static readonly MAX_BUFFERED = 10_000

  push (item: FeedItem): void {
    if (this.#listener !== null) { this.#listener(item); return }
    this.#buffer.push(item)
    if (this.#buffer.length > EventFeed.MAX_BUFFERED) this.#buffer.shift()
  }

  /** Sets the listener and delivers what was buffered, in order. Returns the function that removes it. */
  listen (listener: (item: FeedItem) => void): () => void {
    this.#listener = listener
    const pending = this.#buffer
    this.#buffer = []
    for (const item of pending) listener(item)
    return () => { if (this.#listener === listener) this.#listener = null }
  }
}
