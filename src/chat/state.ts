// The chat screen as a pure state machine: history, live messages, receipts, typing both ways,
// presence, the input line and scrolling; slash commands (commands.ts) and what happens in other
// conversations and the request book (elsewhere.ts) are handed on. Inputs (daemon events, key
// presses, clock ticks, the terminal's size) go in with `now`; the new state and effects for the
// driver come out. No I/O: the driver (app.tsx) carries out the effects through a ChatBackend.
import * as ed from './line-editor.js'
import { TEXT_MAX_BYTES } from '../wire/constants.js'
import { pushTyping, quit, sendLine } from './actions.js'
import { runCommand, parseCommand } from './commands.js'
import { onElsewhere, without } from './elsewhere.js'
import type { KeyPress } from './key-press.js'
import { conversationRows, peerLabel } from './layout.js'
import { CHROME_ROWS, contactOf, notice, type ChatInput, type ChatState, type Effect, type InitialChat, type OpenedChat, type Step } from './model.js'
import { withQuote } from './quote.js'
import { transferNotice } from './file-notice.js'
import { PEER_TYPING_SHOW_MS, TYPING_IDLE, typingEdited, typingTick } from './typing.js'
import type { ChatEvent, ChatMessage, MessageStatus } from './types.js'

export { CHROME_ROWS, NOTICE_MS, type ChatInput, type ChatState, type Effect, type InitialChat, type Notice, type Panel, type Step } from './model.js'
export { RECALL_MAX } from './actions.js'

/** The first state, and its effects (the unread messages it shows are to be marked read). */
export function initialStep (init: InitialChat): Step {
  const now = init.now ?? 0
  return finish({
    ...conversation(init, now),
    loadingOlder: false,
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
    notice: pendingNotice(init.requests?.length ?? 0, now),
    panel: null,
    replyTo: null,
    unread: without(init.unread ?? {}, init.peer.fingerprint),
    names: { ...init.names, [init.peer.fingerprint]: init.peer.name },
    requests: init.requests ?? [],
    markedUpTo: 0,
    quitting: false
  }, [])
}

function pendingNotice (n: number, now: number): ChatState['notice'] {
  return n === 0 ? null : notice(`${n} pending contact request${n === 1 ? '' : 's'}: /requests lists them`, 'info', now)
}

/** The fields that belong to one conversation. */
function conversation (c: OpenedChat, now: number): Pick<ChatState, 'peer' | 'messages' | 'hasOlder' | 'presence' | 'presenceSince'> {
  return { peer: contactOf(c.peer), messages: sortBySeq(c.messages), hasOlder: c.hasOlder, presence: c.presence, presenceSince: now }
}

/** Another conversation replaces the open one (/c); the input line and the recall list stay. */
function onOpened (s: ChatState, c: OpenedChat, now: number): ChatState {
  const fp = c.peer.fingerprint
  return {
    ...s,
    ...conversation(c, now),
    loadingOlder: false,
    peerTypingUntil: null,
    scroll: 0,
    newBelow: 0,
    panel: null,
    replyTo: null,
    markedUpTo: 0,
    unread: without(s.unread, fp),
    names: { ...s.names, [fp]: c.peer.name },
    notice: notice(`now chatting with ${peerLabel(c.peer)}; /c alone goes where others write`, 'info', now)
  }
}

/** The one entry point: state + input → state + effects. */
export function reduce (s: ChatState, input: ChatInput): Step {
  if (s.quitting) return { state: s, effects: [] }
  const effects: Effect[] = []
  let next: ChatState
  switch (input.type) {
    case 'event': next = onEvent(s, input.event, input.now, effects); break
    case 'key': next = onKey(s, input.key, input.now, effects); break
    case 'tick': next = onTick(s, input.now, effects); break
    case 'resize': next = clampScroll({ ...s, cols: Math.max(10, input.cols), rows: Math.max(CHROME_ROWS + 1, input.rows) }); break
    case 'older': next = input.peer !== undefined && input.peer !== s.peer.fingerprint ? s : onOlder(s, input.messages, input.hasOlder); break
    case 'sendFailed':
      next = { ...s, notice: notice(`not sent: ${input.error}`, 'error', input.now), input: s.input.text === '' ? ed.lineOf(input.text) : s.input }
      break
    case 'notice': next = { ...s, notice: notice(input.text, input.kind, input.now) }; break
    case 'opened': next = onOpened(s, input.chat, input.now); break
    case 'panel': next = { ...s, panel: input.panel, notice: null }; break
    case 'requests': next = { ...s, requests: input.requests }; break
    case 'named': next = { ...s, names: { ...s.names, [input.peer]: input.name } }; break
  }
  return finish(next, effects)
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

function onEvent (s: ChatState, ev: ChatEvent, now: number, effects: Effect[]): ChatState {
  if (ev.type === 'request' || ev.peer !== s.peer.fingerprint) return onElsewhere(s, ev, now, effects)
  switch (ev.type) {
    case 'message': return onMessage(s, ev.message)
    case 'receipt': {
      const ids = new Set(ev.ids)
      const want: MessageStatus = ev.direction === 'in' ? 'read' : ev.status
      const messages = s.messages.map(m => ids.has(m.id) && m.direction === ev.direction ? { ...m, status: laterStatus(m.status, want) } : m)
      return clampScroll({ ...s, messages })
    }
    case 'typing': return { ...s, peerTypingUntil: ev.typing ? now + PEER_TYPING_SHOW_MS : null }
    case 'presence': return onPresence(s, ev.state, now)
    case 'contact': {
      const next = { ...s, peer: { ...s.peer, name: ev.name, verified: ev.verified }, names: { ...s.names, [ev.peer]: ev.name } }
      // envelope.md §8.6: same identity, but one side lost its session state; what was in flight is sent again
      return ev.reset === true ? { ...next, notice: notice(`new encrypted session with ${peerLabel(next.peer)}: one side lost its session state; messages in flight are sent again`, 'info', now) } : next
    }
    case 'file': return { ...s, notice: notice(transferNotice(ev.transfer), ev.transfer.state === 'failed' ? 'error' : 'info', now) }
  }
}

function onPresence (s: ChatState, state: ChatState['presence'], now: number): ChatState {
  if (state === s.presence) return s
  // leaving online or away: that was the last time we saw them
  const wasThere = s.presence === 'online' || s.presence === 'away'
  const peer = wasThere && state !== 'away' && state !== 'online' ? { ...s.peer, lastSeen: now } : s.peer
  return { ...s, presence: state, presenceSince: now, peer }
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
    case 'newline': return edited(s, ed.insertNewline(s.input, TEXT_MAX_BYTES), now, effects)
    case 'interrupt': return quit(s, effects)
    case 'escape': return { ...s, scroll: 0, newBelow: 0, notice: null, panel: null, replyTo: null }
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

/** A line stops at what one message may carry (wire/constants.ts; the daemon refuses more). */
const PASTE_CUT = `the line is at the ${TEXT_MAX_BYTES / 1024} KiB limit of one message: the rest was left out`

function submit (s: ChatState, now: number, effects: Effect[]): ChatState {
  const text = s.input.text
  if (text.trim().length === 0) return s
  if (parseCommand(text) !== null) return runCommand(s, text, now, effects)
  const body = text.startsWith('//') ? text.slice(1) : text
  return sendLine(s, s.replyTo === null ? body : withQuote(s.replyTo, body), text, effects)
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
