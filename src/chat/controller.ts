// Runs the chat's state machine against a ChatBackend: holds the state, feeds inputs to
// `reduce`, and carries out its effects (send, typing, mark read, older history, quit). No
// React here: the ink component subscribes to it (useSyncExternalStore), and tests drive it with
// a fake backend and a fake clock.
import { reduce, initialStep, type ChatInput, type ChatState, type Effect, type InitialChat } from './state.js'
import type { ChatBackend } from './types.js'

/** How many messages the chat loads at open and per PgUp past the top. */
export const HISTORY_PAGE = 200

export interface ControllerOptions {
  now: () => number
  historyPage?: number
}

function oneLine (err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error'
}

export class ChatController {
  #state: ChatState
  readonly #listeners = new Set<() => void>()
  readonly #pending = new Set<Promise<void>>()
  readonly #initialEffects: Effect[]
  #quitRequested = false
  #onQuit: (() => void) | null = null
  /** why the chat ended abnormally (the daemon went away), else null */
  failure: Error | null = null

  constructor (private readonly backend: ChatBackend, init: InitialChat, private readonly opts: ControllerOptions) {
    const step = initialStep(init)
    this.#state = step.state
    this.#initialEffects = step.effects
  }

  get state (): ChatState { return this.#state }

  get now (): number { return this.opts.now() }

  /** For useSyncExternalStore: called after every change of state. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  readonly getState = (): ChatState => this.#state

  /** Sets what leaving does (the ink app's exit); runs it at once if a quit already happened. */
  onQuit (fn: () => void): void {
    this.#onQuit = fn
    if (this.#quitRequested) fn()
  }

  /** Carries out the effects of the first state (marking shown messages read). */
  start (): void {
    for (const e of this.#initialEffects.splice(0)) this.#run(e)
  }

  dispatch (input: ChatInput): void {
    const step = reduce(this.#state, input)
    if (step.state !== this.#state) {
      this.#state = step.state
      for (const l of this.#listeners) l()
    }
    for (const e of step.effects) this.#run(e)
  }

  /** The daemon connection ended: leave with an error. */
  fail (err: Error): void {
    if (this.failure !== null || this.#state.quitting) return
    this.failure = err
    this.dispatch({ type: 'key', key: { name: 'interrupt' }, now: this.now })
  }

  /** Waits (bounded) for calls in flight, so a last message or TYPING(false) is not cut off by closing the socket. */
  async settle (timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
    await Promise.race([Promise.allSettled([...this.#pending]).then(() => undefined), timeout])
    clearTimeout(timer)
  }

  #track (p: Promise<void>): void {
    const tracked = p.finally(() => { this.#pending.delete(tracked) })
    this.#pending.add(tracked)
  }

  #run (e: Effect): void {
    const peer = this.#state.peer.fingerprint
    switch (e.type) {
      case 'send':
        this.#track(this.backend.send(peer, e.text).then(() => undefined, err => {
          this.dispatch({ type: 'sendFailed', text: e.text, error: oneLine(err), now: this.now })
        }))
        break
      case 'typing':
        // an indicator that does not arrive is harmless: never bother the user with it
        this.#track(this.backend.typing(peer, e.typing).catch(() => undefined))
        break
      case 'markRead':
        this.#track(this.backend.markRead(peer).catch(err => {
          this.dispatch({ type: 'notice', text: `could not mark as read: ${oneLine(err)}`, kind: 'error', now: this.now })
        }))
        break
      case 'loadOlder': this.#loadOlder(peer, e.before); break
      case 'quit':
        this.#quitRequested = true
        this.#onQuit?.()
        break
    }
  }

  #loadOlder (peer: string, before: number): void {
    const limit = this.opts.historyPage ?? HISTORY_PAGE
    this.#track(this.backend.history(peer, { limit, before }).then(messages => {
      this.dispatch({ type: 'older', messages, hasOlder: messages.length === limit })
    }, err => {
      this.dispatch({ type: 'older', messages: [], hasOlder: false })
      this.dispatch({ type: 'notice', text: `could not load older messages: ${oneLine(err)}`, kind: 'error', now: this.now })
    }))
  }
}
