// Runs the chat's state machine against a ChatBackend: holds the state, feeds inputs to
// `reduce`, and carries out its effects (send, typing, mark read, older history, quit). No
// React here: the ink component subscribes to it (useSyncExternalStore), and tests drive it with
// a fake backend and a fake clock.
import { reduce, initialStep, type ChatInput, type ChatState, type Effect, type InitialChat } from './state.js'
import { preview } from './elsewhere.js'
import { transferNotice } from './file-notice.js'
import { formatDay, formatTime, peerLabel } from './layout.js'
import type { OpenedChat } from './model.js'
import { terminalSafe } from '../platform/terminal-text.js'
import type { ChatBackend, SearchMatch } from './types.js'

/** How many messages the chat loads at open and per PgUp past the top. */
export const HISTORY_PAGE = 200
/** Matches /search lists. */
export const SEARCH_LIMIT = 50

export interface ControllerOptions {
  now: () => number
  historyPage?: number
  /** rings the terminal's bell (BEL); absent: silent */
  bell?: () => void
}

/** A conversation as it opens: its contact, the last page of history, and the contact's presence. */
export async function openChat (backend: ChatBackend, query: string, limit: number): Promise<OpenedChat> {
  const peer = await backend.resolve(query)
  const [messages, presence] = await Promise.all([backend.history(peer.fingerprint, { limit }), backend.presence(peer.fingerprint)])
  return { peer, messages, presence, hasOlder: messages.length === limit }
}

function matchLine (m: SearchMatch): string {
  const who = m.direction === 'out' ? 'you' : peerLabel({ fingerprint: m.peer, name: m.name })
  return `${formatDay(m.timestamp)} ${formatTime(m.timestamp)} ${who}: ${preview(m.text, 200)}`
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
  /** /c loads in flight, and the events that arrived meanwhile (replayed into the conversation opened) */
  #opening = 0
  #seenWhileOpening: ChatInput[] = []
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
    if (input.type === 'event' && this.#opening > 0) this.#seenWhileOpening.push(input)
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
      case 'open': this.#open(e.query); break
      case 'bell': this.opts.bell?.(); break
      case 'acceptRequest':
        this.#track(this.backend.acceptRequest(e.fingerprint).then(contact => {
          this.dispatch({ type: 'named', peer: contact.fingerprint, name: contact.name })
          this.dispatch({ type: 'notice', text: `accepted ${e.label}: now a contact (/c ${contact.name === null ? contact.fingerprint.slice(0, 12) : terminalSafe(contact.name)} to chat)`, kind: 'info', now: this.now })
        }, err => { this.#error(`could not accept ${e.label}: ${oneLine(err)}`) }))
        break
      case 'declineRequest':
        this.#track(this.backend.declineRequest(e.fingerprint).then(() => {
          this.dispatch({ type: 'notice', text: `declined ${e.label}`, kind: 'info', now: this.now })
        }, err => { this.#error(`could not decline ${e.label}: ${oneLine(err)}`) }))
        break
      case 'search': this.#search(peer, e.query); break
      case 'sendFile':
        // the daemon's `file` events tell of its later states (state.ts)
        this.#track(this.backend.sendFile(peer, e.path).then(tr => {
          this.dispatch({ type: 'notice', text: transferNotice(tr), kind: 'info', now: this.now })
        }, err => { this.#error(`could not send ${terminalSafe(e.path)}: ${oneLine(err)}`) }))
        break
      case 'quit':
        this.#quitRequested = true
        this.#onQuit?.()
        break
    }
  }

  /**
   * Loads another conversation. Its events that arrive while the history is read would fall
   * between the history and the switch, so they are kept and replayed once it is on screen
   * (the state drops what the history already had, by id, and statuses only move forward).
   */
  #open (query: string): void {
    this.#opening++
    this.#track(openChat(this.backend, query, this.opts.historyPage ?? HISTORY_PAGE).then(chat => {
      this.dispatch({ type: 'opened', chat, now: this.now })
      const fp = chat.peer.fingerprint
      for (const ev of [...this.#seenWhileOpening]) if (ev.type === 'event' && ev.event.type !== 'request' && ev.event.peer === fp) this.dispatch(ev)
    }, err => { this.#error(`could not open ${query}: ${oneLine(err)}`) }).finally(() => {
      if (--this.#opening === 0) this.#seenWhileOpening = []
    }))
  }

  #error (text: string): void {
    this.dispatch({ type: 'notice', text, kind: 'error', now: this.now })
  }

  #search (peer: string, query: string): void {
    this.#track(this.backend.search(peer, query, SEARCH_LIMIT).then(hits => {
      if (hits.length === 0) { this.dispatch({ type: 'notice', text: `no message here contains "${preview(query)}"`, kind: 'info', now: this.now }); return }
      const more = hits.length === SEARCH_LIMIT ? ` (the newest ${SEARCH_LIMIT})` : ''
      const title = `${hits.length} message${hits.length === 1 ? '' : 's'} with "${preview(query)}"${more}, newest first`
      this.dispatch({ type: 'panel', panel: { title, lines: hits.map(matchLine) } })
    }, err => { this.#error(`search failed: ${oneLine(err)}`) }))
  }

  #loadOlder (peer: string, before: number): void {
    const limit = this.opts.historyPage ?? HISTORY_PAGE
    this.#track(this.backend.history(peer, { limit, before }).then(messages => {
      this.dispatch({ type: 'older', peer, messages, hasOlder: messages.length === limit })
    }, err => {
      this.dispatch({ type: 'older', peer, messages: [], hasOlder: false })
      this.dispatch({ type: 'notice', text: `could not load older messages: ${oneLine(err)}`, kind: 'error', now: this.now })
    }))
  }
}
