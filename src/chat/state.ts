// The chat screen as a pure state machine: history, live messages, receipts, typing both ways,
// presence, the input line and scrolling. Inputs (daemon events, key presses, clock ticks, the
// terminal's size) go in with `now`; the new state and effects for the driver come out. No I/O:
// the driver (app.tsx) carries out the effects through a ChatBackend.
import * as ed from './line-editor.js'
import { TEXT_MAX_BYTES } from '../wire/constants.js'
import type { KeyPress } from './key-press.js'
import { conversationRows } from './layout.js'
import { PEER_TYPING_SHOW_MS, TYPING_IDLE, typingEdited, typingLeave, typingSent, typingTick, type TypingOut, type TypingSignal } from './typing.js'
import type { ChatEvent, ChatMessage, ChatPeer, MessageStatus, Presence } from './types.js'

/** Rows around the message area: header, rule, status line, input line, and one spare row. */
export const CHROME_ROWS = 5
/** How long a notice (an error, the /help text) stays on the status line. */
export const NOTICE_MS = 8000
/** Sent lines remembered for Up/Down. */
export const RECALL_MAX = 100

export interface Notice { text: string, kind: 'info' | 'error', until: number }

export interface ChatState {
  readonly peer: ChatPeer
  /** ordered by seq (the conversation's local order) */
  readonly messages: readonly ChatMessage[]
  readonly hasOlder: boolean
  readonly loadingOlder: boolean
  readonly presence: Presence
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
  /** the highest inbound seq a mark-read was asked for */
  readonly markedUpTo: number
  readonly quitting: boolean
}

export type ChatInput =
  | { type: 'event', event: ChatEvent, now: number }
  | { type: 'key', key: KeyPress, now: number }
  | { type: 'tick', now: number }
  | { type: 'resize', cols: number, rows: number }
  | { type: 'older', messages: readonly ChatMessage[], hasOlder: boolean }
  | { type: 'sendFailed', text: string, error: string, now: number }
  | { type: 'notice', text: string, kind: 'info' | 'error', now: number }

export type Effect =
  | { type: 'send', text: string }
  | { type: 'typing', typing: boolean }
  | { type: 'markRead' }
  | { type: 'loadOlder', before: number }
  | { type: 'quit' }

export interface Step { state: ChatState, effects: Effect[] }

export interface InitialChat {
  peer: ChatPeer
  messages: readonly ChatMessage[]
  presence: Presence
  hasOlder: boolean
  cols: number
  rows: number
}

/** The first state, and its effects (the unread messages it shows are to be marked read). */
export function initialStep (init: InitialChat): Step {
  return finish({
    peer: init.peer,
    messages: sortBySeq(init.messages),
    hasOlder: init.hasOlder,
    loadingOlder: false,
    presence: init.presence,
    peerTypingUntil: null,
    typingOut: TYPING_IDLE,
    input: ed.EMPTY_LINE,
    sent: [],
    recall: null,
    draft: '',
    scroll: 0,
    newBelow: 0,
    cols: init.cols,
    rows: init.rows,
    notice: null,
    markedUpTo: 0,
    quitting: false
  }, [])
}

/** The one entry point: state + input → state + effects. */
export function reduce (s: ChatState, input: ChatInput): Step {
  if (s.quitting) return { state: s, effects: [] }
  const effects: Effect[] = []
  let next: ChatState
  switch (input.type) {
    case 'event': next = onEvent(s, input.event, input.now); break
    case 'key': next = onKey(s, input.key, input.now, effects); break
    case 'tick': next = onTick(s, input.now, effects); break
    case 'resize': next = clampScroll({ ...s, cols: Math.max(10, input.cols), rows: Math.max(CHROME_ROWS + 1, input.rows) }); break
    case 'older': next = onOlder(s, input.messages, input.hasOlder); break
    case 'sendFailed':
      next = { ...s, notice: notice(`not sent: ${input.error}`, 'error', input.now), input: s.input.text === '' ? ed.lineOf(input.text) : s.input }
      break
    case 'notice': next = { ...s, notice: notice(input.text, input.kind, input.now) }; break
  }
  return finish(next, effects)
}

function notice (text: string, kind: Notice['kind'], now: number): Notice {
  return { text, kind, until: now + NOTICE_MS }
}

/** Rules that hold after every step: messages shown at the bottom are marked read. */
function finish (s: ChatState, effects: Effect[]): Step {
  if (s.quitting || s.scroll > 0) return { state: s, effects }
  let top = 0
  for (const m of s.messages) if (m.direction === 'in' && m.status === 'received' && m.seq > top) top = m.seq
  if (top <= s.markedUpTo) return { state: s, effects }
  effects.push({ type: 'markRead' })
  return { state: { ...s, markedUpTo: top }, effects }
}

// ---- geometry ----

export function messageAreaRows (s: Pick<ChatState, 'rows'>): number {
  return Math.max(1, s.rows - CHROME_ROWS)
}

export function totalRows (s: Pick<ChatState, 'messages' | 'peer' | 'cols'>): number {
  return conversationRows(s.messages, s.peer, s.cols).length
}

function maxScroll (s: ChatState): number {
  return Math.max(0, totalRows(s) - messageAreaRows(s))
}

function clampScroll (s: ChatState): ChatState {
  const scroll = Math.min(Math.max(0, s.scroll), maxScroll(s))
  return { ...s, scroll, newBelow: scroll === 0 ? 0 : s.newBelow }
}

// ---- daemon events ----

function sortBySeq (list: readonly ChatMessage[]): ChatMessage[] {
  return [...list].sort((a, b) => a.seq - b.seq)
}

/** Adds or replaces by id (an event may repeat what the history already had). */
function upsert (list: readonly ChatMessage[], m: ChatMessage): ChatMessage[] {
  const i = list.findIndex(x => x.id === m.id)
  if (i < 0) return sortBySeq([...list, m])
  const out = [...list]
  out[i] = { ...m, status: laterStatus(list[i]?.status ?? m.status, m.status) }
  return out
}

const RANK: Record<MessageStatus, number> = { sending: 1, sent: 2, delivered: 3, read: 4, received: 1 }

/** Statuses only move forward (a late 'sent' never undoes 'delivered'). */
function laterStatus (had: MessageStatus, got: MessageStatus): MessageStatus {
  return RANK[got] >= RANK[had] ? got : had
}

function onEvent (s: ChatState, ev: ChatEvent, now: number): ChatState {
  if (ev.peer !== s.peer.fingerprint) return s
  switch (ev.type) {
    case 'message': return onMessage(s, ev.message)
    case 'receipt': {
      const ids = new Set(ev.ids)
      const want: MessageStatus = ev.direction === 'in' ? 'read' : ev.status
      const messages = s.messages.map(m => ids.has(m.id) && m.direction === ev.direction ? { ...m, status: laterStatus(m.status, want) } : m)
      return clampScroll({ ...s, messages })
    }
    case 'typing': return { ...s, peerTypingUntil: ev.typing ? now + PEER_TYPING_SHOW_MS : null }
    case 'presence': return { ...s, presence: ev.state }
  }
}

function onMessage (s: ChatState, m: ChatMessage): ChatState {
  const known = s.messages.some(x => x.id === m.id)
  const before = s.scroll > 0 && !known ? totalRows(s) : 0
  let next: ChatState = { ...s, messages: upsert(s.messages, m) }
  // their message ends their typing indicator
  if (m.direction === 'in') next = { ...next, peerTypingUntil: null }
  if (s.scroll > 0 && !known) {
    // keep the rows the user is reading where they are
    next = { ...next, scroll: s.scroll + totalRows(next) - before, newBelow: s.newBelow + 1 }
  }
  return clampScroll(next)
}

function onOlder (s: ChatState, older: readonly ChatMessage[], hasOlder: boolean): ChatState {
  let messages = s.messages
  for (const m of older) if (!messages.some(x => x.id === m.id)) messages = [...messages, m]
  return clampScroll({ ...s, messages: sortBySeq(messages), hasOlder, loadingOlder: false })
}

// ---- time ----

function onTick (s: ChatState, now: number, effects: Effect[]): ChatState {
  let next = s
  if (s.peerTypingUntil !== null && now >= s.peerTypingUntil) next = { ...next, peerTypingUntil: null }
  if (s.notice !== null && now >= s.notice.until) next = { ...next, notice: null }
  const t = typingTick(s.typingOut, now)
  pushTyping(effects, t.signal)
  return t.state === s.typingOut ? next : { ...next, typingOut: t.state }
}

function pushTyping (effects: Effect[], signal: TypingSignal): void {
  if (signal !== null) effects.push({ type: 'typing', typing: signal })
}

// ---- keys ----

const EDITS: Partial<Record<KeyPress['name'], (l: ed.LineState) => ed.LineState>> = {
  backspace: ed.backspace,
  deleteForward: ed.deleteForward,
  left: ed.left,
  right: ed.right,
  home: ed.home,
  end: ed.end,
  killToStart: ed.killToStart,
  killToEnd: ed.killToEnd,
  killWord: ed.killWord,
  wordLeft: ed.wordLeft,
  wordRight: ed.wordRight
}

function onKey (s: ChatState, key: KeyPress, now: number, effects: Effect[]): ChatState {
  if (key.name === 'text') {
    const r = ed.insertWithin(s.input, key.text, TEXT_MAX_BYTES)
    const next = edited(s, r.line, now, effects)
    return r.cut ? { ...next, notice: notice(PASTE_CUT, 'error', now) } : next
  }
  const edit = EDITS[key.name]
  if (edit !== undefined) return edited(s, edit(s.input), now, effects)
  switch (key.name) {
    case 'enter': return submit(s, now, effects)
    case 'interrupt': return quit(s, effects)
    case 'escape': return { ...s, scroll: 0, newBelow: 0, notice: null }
    case 'up': return recallUp(s)
    case 'down': return recallDown(s)
    case 'pageUp': return page(s, 1, effects)
    case 'pageDown': return page(s, -1, effects)
    default: return s
  }
}

function edited (s: ChatState, input: ed.LineState, now: number, effects: Effect[]): ChatState {
  if (input === s.input) return s
  if (input.text === s.input.text) return { ...s, input } // the cursor moved: nothing to tell the peer
  const t = typingEdited(s.typingOut, input.text.length === 0, now)
  pushTyping(effects, t.signal)
  return { ...s, input, typingOut: t.state }
}

function quit (s: ChatState, effects: Effect[]): ChatState {
  const t = typingLeave(s.typingOut)
  pushTyping(effects, t.signal)
  effects.push({ type: 'quit' })
  return { ...s, typingOut: t.state, quitting: true }
}

/** A line stops at what one message may carry (wire/constants.ts; the daemon refuses more). */
const PASTE_CUT = `the line is at the ${TEXT_MAX_BYTES / 1024} KiB limit of one message: the rest was left out`

const HELP = 'Enter sends · /quit or Ctrl-C leaves · PgUp/PgDn scroll, Esc jumps to the end · Up/Down recall · Ctrl-U/Ctrl-W/Ctrl-K erase · //text sends "/text"'

function submit (s: ChatState, now: number, effects: Effect[]): ChatState {
  const text = s.input.text
  if (text.trim().length === 0) return s
  const cleared: ChatState = { ...s, input: ed.EMPTY_LINE, recall: null, draft: '' }
  if (text.startsWith('/') && !text.startsWith('//')) {
    const cmd = text.trim().split(/\s+/)[0]?.toLowerCase()
    if (cmd === '/quit' || cmd === '/exit' || cmd === '/q') return quit(cleared, effects)
    if (cmd === '/help') return { ...cleared, notice: notice(HELP, 'info', now) }
    return { ...s, notice: notice(`unknown command ${cmd ?? text} (try /help; //text sends a line starting with /)`, 'error', now) }
  }
  const body = text.startsWith('//') ? text.slice(1) : text
  effects.push({ type: 'send', text: body })
  const sent = [...s.sent, text].slice(-RECALL_MAX)
  return { ...cleared, sent, typingOut: typingSent(s.typingOut), scroll: 0, newBelow: 0 }
}

function recallUp (s: ChatState): ChatState {
  if (s.sent.length === 0) return s
  const recall = s.recall === null ? s.sent.length - 1 : Math.max(0, s.recall - 1)
  const draft = s.recall === null ? s.input.text : s.draft
  return { ...s, recall, draft, input: ed.lineOf(s.sent[recall] as string) }
}

function recallDown (s: ChatState): ChatState {
  if (s.recall === null) return s
  const recall = s.recall + 1
  if (recall >= s.sent.length) return { ...s, recall: null, input: ed.lineOf(s.draft), draft: '' }
  return { ...s, recall, input: ed.lineOf(s.sent[recall] as string) }
}

/** PgUp (dir 1) / PgDn (dir -1) by a screen less one row; reaching the top asks for older history. */
function page (s: ChatState, dir: 1 | -1, effects: Effect[]): ChatState {
  const step = Math.max(1, messageAreaRows(s) - 1)
  const next = clampScroll({ ...s, scroll: s.scroll + dir * step })
  if (dir === 1 && next.scroll === maxScroll(next) && next.hasOlder && !next.loadingOlder) {
    const first = next.messages[0]
    if (first !== undefined) {
      effects.push({ type: 'loadOlder', before: first.seq })
      return { ...next, loadingOlder: true }
    }
  }
  return next
}
