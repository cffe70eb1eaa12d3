// The shapes of the chat's state machine (state.ts) and of what goes in and out of it, apart
// from the reducer so that the slash commands (commands.ts) can be written against them.
import type * as ed from './line-editor.js'
import type { KeyPress } from './key-press.js'
import type { TypingOut } from './typing.js'
import type { ChatContact, ChatEvent, ChatMessage, ChatPeer, ChatRequest, Presence } from './types.js'

/** Rows around the message area: header, rule, status line, input line, and one spare row. */
export const CHROME_ROWS = 5
/** How long a notice (an error, a confirmation) stays on the status line. */
export const NOTICE_MS = 8000

export interface Notice { text: string, kind: 'info' | 'error', until: number }

/** Lines shown over the bottom of the conversation (/help, /requests, /search) until Esc. */
export interface Panel { title: string, lines: readonly string[] }

export interface ChatState {
  readonly peer: ChatContact
  /** ordered by seq (the conversation's local order) */
  readonly messages: readonly ChatMessage[]
  readonly hasOlder: boolean
  readonly loadingOlder: boolean
  readonly presence: Presence
  /** when `presence` last changed (a link that stays "connecting" is shown as offline after a while) */
  readonly presenceSince: number
  readonly peerTypingUntil: number | null
  readonly typingOut: TypingOut
  readonly input: ed.LineState
  /** sent lines for Up/Down, oldest first; `recall` indexes it while browsing */
  readonly sent: readonly string[]
  readonly recall: number | null
  readonly draft: string
  /** rows scrolled up from the bottom (0: the newest message is on screen) */
  readonly scroll: number
  /** messages that arrived below the view while scrolled up */
  readonly newBelow: number
  readonly cols: number
  readonly rows: number
  readonly notice: Notice | null
  readonly panel: Panel | null
  /** the quote line the next message starts with (/reply without text), else null */
  readonly replyTo: string | null
  /** unread messages in the other conversations, by fingerprint (only those with any) */
  readonly unread: Readonly<Record<string, number>>
  /** the names of other contacts, by fingerprint, for notices and the header */
  readonly names: Readonly<Record<string, string | null>>
  /** pending contact requests, oldest first: /accept 1 is the first */
  readonly requests: readonly ChatRequest[]
  /** the highest inbound seq a mark-read was asked for */
  readonly markedUpTo: number
  readonly quitting: boolean
}

/** A conversation as loaded by the driver, at start or on /c. */
export interface OpenedChat {
  peer: ChatPeer & Partial<Pick<ChatContact, 'verified' | 'lastSeen'>>
  messages: readonly ChatMessage[]
  presence: Presence
  hasOlder: boolean
}

export type ChatInput =
  | { type: 'event', event: ChatEvent, now: number }
  | { type: 'key', key: KeyPress, now: number }
  | { type: 'tick', now: number }
  | { type: 'resize', cols: number, rows: number }
  | { type: 'older', peer?: string, messages: readonly ChatMessage[], hasOlder: boolean }
  | { type: 'sendFailed', text: string, error: string, now: number }
  | { type: 'notice', text: string, kind: 'info' | 'error', now: number }
  | { type: 'opened', chat: OpenedChat, now: number }
  | { type: 'panel', panel: Panel }
  | { type: 'requests', requests: readonly ChatRequest[] }
  | { type: 'named', peer: string, name: string | null }

export type Effect =
  | { type: 'send', text: string }
  | { type: 'typing', typing: boolean }
  | { type: 'markRead' }
  | { type: 'loadOlder', before: number }
  | { type: 'quit' }
  /** open another conversation (a name, fingerprint or prefix) */
  | { type: 'open', query: string }
  /** ring the terminal's bell: something happened in another conversation */
  | { type: 'bell' }
  | { type: 'acceptRequest', fingerprint: string, label: string }
  | { type: 'declineRequest', fingerprint: string, label: string }
  | { type: 'search', query: string }
  | { type: 'sendFile', path: string }

export interface Step { state: ChatState, effects: Effect[] }

export interface InitialChat extends OpenedChat {
  cols: number
  rows: number
  /** the clock at opening (absent: 0, for tests that do not look at presence age) */
  now?: number
  unread?: Readonly<Record<string, number>>
  names?: Readonly<Record<string, string | null>>
  requests?: readonly ChatRequest[]
}

export function notice (text: string, kind: Notice['kind'], now: number): Notice {
  return { text, kind, until: now + NOTICE_MS }
}

export function contactOf (p: OpenedChat['peer']): ChatContact {
  return { fingerprint: p.fingerprint, name: p.name, verified: p.verified ?? false, lastSeen: p.lastSeen ?? null }
}
