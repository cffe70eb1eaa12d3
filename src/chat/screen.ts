// The whole screen as rows, from the state alone: header, the visible slice of the conversation
// (newest at the bottom), a status line (notice, "… is typing", new messages below) and the input.
import { unreadSummary } from './elsewhere.js'
import { ago, clipRow, conversationRows, FINGERPRINT_PREFIX, formatTime, headerRow, inputRow, peerLabel, type Row } from './layout.js'
import type { Panel } from './model.js'
import type { ChatState } from './state.js'
import { messageAreaRows } from './state.js'
import type { PickerState } from './picker.js'
import { cellWidth, truncateCells, wrap } from './width.js'
import type { Presence } from './types.js'
import { terminalSafe } from '../platform/terminal-text.js'

const rule = (width: number): Row => [{ text: '─'.repeat(width), style: 'dim' }]
const blank: Row = []

/**
 * A link that stays "connecting" this long is shown as offline: the node keeps trying in the
 * background, but to the user the contact is not there.
 */
export const CONNECTING_SHOW_MS = 15_000

/** The header's presence: online / away / connecting…, else offline with when they were last seen. */
export function presenceShown (s: Pick<ChatState, 'presence' | 'presenceSince' | 'peer'>, now: number): { presence: Presence, text: string } {
  if (s.presence === 'online' || s.presence === 'away') return { presence: s.presence, text: s.presence }
  if (s.presence === 'connecting' && now - s.presenceSince < CONNECTING_SHOW_MS) return { presence: 'connecting', text: 'connecting…' }
  const seen = s.peer.lastSeen === null ? 'not seen yet' : `last seen ${ago(s.peer.lastSeen, now)}`
  return { presence: 'offline', text: `offline · ${seen}` }
}

export function chatHeader (s: ChatState, now: number): Row {
  const shown = presenceShown(s, now)
  return headerRow(s.peer, shown.presence, s.cols, { presenceText: shown.text, verified: s.peer.verified, unread: unreadSummary(s), requests: s.requests.length })
}

/** The panel's rows: a title rule, then its lines wrapped to the width, cut to `height` rows. */
export function panelRows (p: Panel, width: number, height: number): Row[] {
  const title = ` ${p.title} · Esc closes `
  const side = Math.max(0, width - cellWidth(title) - 2)
  const rows: Row[] = [[{ text: truncateCells('──' + title + '─'.repeat(side), width), style: 'notice' }]]
  const body = p.lines.flatMap(l => wrap(terminalSafe(l), Math.max(1, width - 2)).map(t => '  ' + t))
  const room = Math.max(0, height - 1)
  const shown = body.length <= room ? body : [...body.slice(0, Math.max(0, room - 1)), `  … ${body.length - room + 1} more lines (widen the terminal)`]
  for (const line of shown) rows.push([{ text: truncateCells(line, width), style: 'plain' }])
  return rows.slice(0, Math.max(1, height))
}

/** The rows of the conversation that fit, padded above so the newest sits just over the status line. */
function visibleMessageRows (s: ChatState): Row[] {
  const area = messageAreaRows(s)
  const panel = s.panel === null ? [] : panelRows(s.panel, s.cols, area)
  return [...conversationArea(s, area - panel.length), ...panel]
}

function conversationArea (s: ChatState, height: number): Row[] {
  if (height <= 0) return []
  if (s.messages.length === 0) {
    const hint: Row = [{ text: truncateCells('No messages yet. Type below and press Enter; /help lists the keys.', s.cols), style: 'dim' }]
    return [...Array<Row>(height - 1).fill(blank), hint]
  }
  const all = conversationRows(s.messages, s.peer, s.cols)
  const end = all.length - s.scroll
  const start = Math.max(0, end - height)
  const shown = all.slice(start, end)
  if (start === 0 && s.hasOlder && shown.length > 0) {
    shown[0] = [{ text: truncateCells(s.loadingOlder ? 'loading older messages…' : '↑ PgUp for older messages', s.cols), style: 'dim' }]
  }
  return [...Array<Row>(height - shown.length).fill(blank), ...shown]
}

export function statusRow (s: ChatState, now: number): Row {
  if (s.notice !== null && now < s.notice.until) return clipRow([{ text: s.notice.text, style: s.notice.kind === 'error' ? 'error' : 'notice' }], s.cols)
  const parts: Row = []
  if (s.peerTypingUntil !== null && now < s.peerTypingUntil) parts.push({ text: `${peerLabel(s.peer)} is typing…`, style: 'them' })
  if (s.newBelow > 0) {
    if (parts.length > 0) parts.push({ text: '  ', style: 'plain' })
    parts.push({ text: `↓ ${s.newBelow} new message${s.newBelow === 1 ? '' : 's'} (PgDn or Esc)`, style: 'notice' })
  }
  if (s.replyTo !== null) {
    if (parts.length > 0) parts.push({ text: '  ', style: 'plain' })
    parts.push({ text: `↪ replying to ${terminalSafe(s.replyTo)} (Esc cancels)`, style: 'notice' })
  }
  return clipRow(parts, s.cols)
}

export function chatScreen (s: ChatState, now: number): Row[] {
  return [
    chatHeader(s, now),
    rule(s.cols),
    ...visibleMessageRows(s),
    statusRow(s, now),
    inputRow(s.input, s.cols)
  ]
}

// ---- the conversation picker ----

function pickerItemRow (s: PickerState, i: number, width: number): Row {
  const item = s.items[i]
  if (item === undefined) return blank
  const selected = i === s.selected
  const num = `${String(i + 1).padStart(String(s.items.length).length)}. `
  const fp = item.peer.fingerprint.slice(0, FINGERPRINT_PREFIX) + '…'
  const who = item.peer.name === null ? fp : `${peerLabel(item.peer)} (${fp})`
  const row: Row = [
    { text: selected ? '› ' : '  ', style: selected ? 'title' : 'plain' },
    { text: num, style: 'dim' },
    { text: who, style: selected ? 'title' : 'plain' }
  ]
  if (item.unread > 0) row.push({ text: `  ${item.unread} unread`, style: 'notice' })
  if (item.last !== undefined) {
    const text = terminalSafe(item.last.text.replace(/\r?\n/g, ' '))
    const prefix = item.last.direction === 'out' ? 'you: ' : ''
    row.push({ text: `  ${formatTime(item.last.timestamp)} ${prefix}`, style: 'dim' }, { text, style: 'dim' })
  } else {
    row.push({ text: '  no messages yet', style: 'dim' })
  }
  return clipRow(row, width)
}

/** Title, hint, and a window of the list that keeps the selected row in view. */
export function pickerScreen (s: PickerState, cols: number, rows: number): Row[] {
  const out: Row[] = [
    clipRow([{ text: 'dmess · conversations', style: 'title' }, { text: '   ↑/↓ and Enter, or type a number · q quits', style: 'dim' }], cols),
    rule(cols)
  ]
  const height = Math.max(1, rows - 4)
  const start = Math.min(Math.max(0, s.selected - height + 1), Math.max(0, s.items.length - height))
  for (let i = start; i < Math.min(s.items.length, start + height); i++) out.push(pickerItemRow(s, i, cols))
  while (out.length < height + 2) out.push(blank)
  const typed = s.typed === '' ? '' : `#${s.typed}`
  out.push(s.error === null ? clipRow([{ text: typed, style: 'notice' }], cols) : clipRow([{ text: s.error, style: 'error' }], cols))
  return out
}

/** Width check used by tests: no row is wider than the screen. */
export function rowWidth (row: Row): number {
  return row.reduce((n, seg) => n + cellWidth(seg.text), 0)
}
