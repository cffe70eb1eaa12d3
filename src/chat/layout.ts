// How a conversation looks as rows of terminal cells: pure, so the wrapping, the marks and the
// day separators are tested without a terminal. The ink components only paint these rows.
import type { ChatMessage, ChatPeer, MessageStatus, Presence } from './types.js'
import { cellWidth, truncateCells, wrap } from './width.js'
import { terminalSafe } from '../platform/terminal-text.js'
import { isQuoteLine } from './quote.js'

export type Style = 'plain' | 'dim' | 'me' | 'them' | 'mark' | 'read' | 'notice' | 'error' | 'online' | 'away' | 'connecting' | 'offline' | 'title' | 'cursor'
export interface Segment { text: string, style: Style }
export type Row = Segment[]

/** Longest name shown before a message (cells). */
export const NAME_MAX_CELLS = 16
/** Fingerprint characters shown in the header and for unnamed peers. */
export const FINGERPRINT_PREFIX = 12

/** Delivery marks on our own messages (✓ sent, ✓✓ delivered, ✓✓ read); the word keeps "read" legible without colour. */
export function statusMark (status: MessageStatus): Segment | null {
  switch (status) {
    case 'sending': return { text: '…', style: 'dim' }
    case 'sent': return { text: '✓', style: 'mark' }
    case 'delivered': return { text: '✓✓', style: 'mark' }
    case 'read': return { text: '✓✓ read', style: 'read' }
    default: return null
  }
}

export function peerLabel (peer: ChatPeer): string {
  const name = peer.name === null ? null : terminalSafe(peer.name)
  return truncateCells(name ?? peer.fingerprint.slice(0, FINGERPRINT_PREFIX), NAME_MAX_CELLS)
}

const pad2 = (n: number): string => String(n).padStart(2, '0')

/** Local wall-clock time of a message. */
export function formatTime (ts: number): string {
  const d = new Date(ts)
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export function formatDay (ts: number): string {
  const d = new Date(ts)
  return `${DAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`
}

function dayKey (ts: number): string {
  const d = new Date(ts)
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`
}

function separator (text: string, width: number): Row {
  const label = ` ${text} `
  const side = Math.max(0, Math.floor((width - cellWidth(label)) / 2))
  return [{ text: truncateCells('─'.repeat(side) + label + '─'.repeat(side), width), style: 'dim' }]
}

/** The rows of one message: "HH:MM name: text", continuation rows indented under the text, mark at the end. */
export function messageRows (m: ChatMessage, peer: ChatPeer, width: number): Row[] {
  const time = formatTime(m.timestamp) + ' '
  const who = (m.direction === 'out' ? 'you' : peerLabel(peer)) + ': '
  const indent = cellWidth(time) + cellWidth(who)
  const textWidth = Math.max(8, width - indent)
  // a line starting with "> " quotes another message (quote.ts): drawn dim
  const lines = terminalSafe(m.text, { multiline: true }).split('\n')
    .flatMap(para => wrap(para, textWidth).map(text => ({ text, style: (isQuoteLine(para) ? 'dim' : 'plain') as Style })))
  const rows: Row[] = lines.map((line, i) => i === 0
    ? [{ text: time, style: 'dim' }, { text: who, style: m.direction === 'out' ? 'me' : 'them' }, line]
    : [{ text: ' '.repeat(indent), style: 'plain' }, line])
  const mark = m.direction === 'out' ? statusMark(m.status) : null
  if (mark !== null) {
    const last = rows[rows.length - 1] as Row
    const lastWidth = last.reduce((n, s) => n + cellWidth(s.text), 0)
    if (lastWidth + 1 + cellWidth(mark.text) <= width) last.push({ text: ' ', style: 'plain' }, mark)
    else rows.push([{ text: ' '.repeat(indent), style: 'plain' }, mark])
  }
  return rows
}

// Messages are immutable values (a status change makes a new object), so each one's rows can be
// kept until the width or the peer's label changes: a long conversation is not re-wrapped on
// every key press and every receipt.
const rowCache = new WeakMap<ChatMessage, { key: string, rows: Row[] }>()

function cachedRows (m: ChatMessage, peer: ChatPeer, width: number): Row[] {
  const key = `${width}\u0000${peer.fingerprint}\u0000${peer.name ?? ''}`
  const hit = rowCache.get(m)
  if (hit !== undefined && hit.key === key) return hit.rows
  const rows = messageRows(m, peer, width)
  rowCache.set(m, { key, rows })
  return rows
}

/** Every row of the conversation, oldest first, with a separator where the sender's day changes. */
export function conversationRows (messages: readonly ChatMessage[], peer: ChatPeer, width: number): Row[] {
  const rows: Row[] = []
  let day: string | null = null
  for (const m of messages) {
    const k = dayKey(m.timestamp)
    if (k !== day) { rows.push(separator(formatDay(m.timestamp), width)); day = k }
    rows.push(...cachedRows(m, peer, width))
  }
  return rows
}

const PRESENCE_DOT: Record<Presence, string> = { online: '●', away: '◐', connecting: '◌', offline: '○' }

export interface HeaderExtras {
  /** shown instead of the bare presence word ("offline · last seen 5 min ago") */
  presenceText?: string
  verified?: boolean
  /** unread messages in other conversations ("carol 2, dave 1") */
  unread?: { total: number, text: string } | null
  requests?: number
}

/** "dmess · bob (a1b2c3d4e5f6…) · ● online · ✓ verified · 3 unread: carol 3 · 1 request" */
export function headerRow (peer: ChatPeer | null, presence: Presence, width: number, more: HeaderExtras = {}): Row {
  if (peer === null) return [{ text: truncateCells('dmess chat · loading…', width), style: 'title' }]
  const who = peer.name === null ? peer.fingerprint.slice(0, FINGERPRINT_PREFIX) + '…' : `${peerLabel(peer)} (${peer.fingerprint.slice(0, FINGERPRINT_PREFIX)}…)`
  const sep: Segment = { text: ' · ', style: 'dim' }
  const row: Row = [
    { text: 'dmess · ', style: 'dim' },
    { text: who, style: 'title' },
    sep,
    { text: `${PRESENCE_DOT[presence]} ${more.presenceText ?? presence}`, style: presence }
  ]
  if (more.verified !== undefined) row.push(sep, more.verified ? { text: '✓ verified', style: 'online' } : { text: 'unverified', style: 'dim' })
  if (more.unread != null) row.push(sep, { text: `${more.unread.total} unread: ${more.unread.text}`, style: 'notice' })
  if (more.requests !== undefined && more.requests > 0) row.push(sep, { text: `${more.requests} request${more.requests === 1 ? '' : 's'}`, style: 'notice' })
  return clipRow(row, width)
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", else the day. */
export function ago (then: number, now: number): string {
  const s = Math.max(0, Math.floor((now - then) / 1000))
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  if (s < 7 * 86_400) { const d = Math.floor(s / 86_400); return `${d} day${d === 1 ? '' : 's'} ago` }
  return 'on ' + formatDay(then)
}

/** Cuts a row to `width` cells. */
export function clipRow (row: Row, width: number): Row {
  const out: Row = []
  let left = width
  for (const s of row) {
    if (left <= 0) break
    const text = truncateCells(s.text, left)
    out.push({ ...s, text })
    left -= cellWidth(text)
  }
  return out
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/** UTF-16 units of the input line measured per screen cell (inputRow). */
const WINDOW_UNITS_PER_CELL = 8

/** The tail of `text` that fits in `width` cells. */
function tailCells (text: string, width: number): string {
  const parts = [...graphemes.segment(text)].map(s => s.segment)
  let out = ''
  let w = 0
  for (let i = parts.length - 1; i >= 0; i--) {
    const g = parts[i] as string
    const gw = cellWidth(g)
    if (w + gw > width) break
    out = g + out
    w += gw
  }
  return out
}

/**
 * "› text" with the cursor cell in reverse video. A line longer than the screen scrolls
 * sideways so the cursor stays visible, with "…" where text is cut off on the left.
 */
export function inputRow (input: { text: string, cursor: number }, width: number, prompt = '› '): Row {
  // a line break in the message (Ctrl-J, Alt-Enter) shows as one visible cell; same UTF-16 length, so the cursor stays put
  const line = { text: input.text.replace(/\n/g, '↵'), cursor: input.cursor }
  const avail = Math.max(2, width - cellWidth(prompt))
  // Only the text around the cursor can be on screen: measure a window of it, never the whole
  // line, so a row costs the same for a 64 KiB paste as for a word (a cell needs at least one
  // UTF-16 unit; the margin leaves room for combining marks).
  const window = avail * WINDOW_UNITS_PER_CELL
  const before = line.text.slice(Math.max(0, line.cursor - window), line.cursor)
  const beforeCut = line.cursor > window
  const rest = line.text.slice(line.cursor, line.cursor + window)
  const atCursor = rest.length > 0 ? (graphemes.segment(rest)[Symbol.iterator]().next().value?.segment ?? ' ') : ' '
  const after = rest.slice(atCursor.length)
  const cursorWidth = Math.max(1, cellWidth(atCursor))
  let shown = before
  let cut = false
  if (beforeCut || cellWidth(before) + cursorWidth > avail) {
    shown = tailCells(before, avail - cursorWidth - 1)
    cut = true
  }
  const used = (cut ? 1 : 0) + cellWidth(shown) + cursorWidth
  const row: Row = [{ text: prompt, style: 'dim' }]
  if (cut) row.push({ text: '…', style: 'dim' })
  row.push({ text: shown, style: 'plain' }, { text: atCursor, style: 'cursor' }, { text: truncateCells(after, avail - used), style: 'plain' })
  return row
}
