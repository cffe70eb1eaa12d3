// Replies as a convention inside the message text, so no wire field is needed and any client
// shows something sensible: the reply starts with one line "> " + the start of the quoted
// message (the quote mark of e-mail, RFC 3676 §4.5), then a newline, then the answer. A client
// that knows the convention draws lines starting with "> " as a quote; one that does not shows
// them as they are. The quote is cut to QUOTE_CELLS so a reply stays short.
import type { ChatMessage } from './types.js'
import { truncateCells } from './width.js'

export const QUOTE_PREFIX = '> '
/** Cells of the quoted message kept in the reply. */
export const QUOTE_CELLS = 60

/** The quote line for `m`: its text on one line, cut with "…". */
export function quoteLine (m: Pick<ChatMessage, 'text'>): string {
  // lines it quoted itself are left out: a quote of a quote says nothing new
  const own = m.text.split('\n').filter(l => !isQuoteLine(l)).join(' ').replace(/\s+/g, ' ').trim()
  const cut = truncateCells(own, QUOTE_CELLS)
  return QUOTE_PREFIX + (cut.length < own.length ? cut + '…' : cut)
}

export function withQuote (quote: string, text: string): string {
  return `${quote}\n${text}`
}

export function isQuoteLine (line: string): boolean {
  return line.startsWith(QUOTE_PREFIX)
}

/**
 * The message `n` back from the newest (1 = the newest, as /reply counts), or why not.
 * Counting back from the bottom of the screen needs no numbers on every message.
 */
export function messageBack (messages: readonly ChatMessage[], arg: string): ChatMessage | string {
  if (!/^[0-9]+$/.test(arg) || Number(arg) < 1) return 'usage: /reply <n> [text] — n counts back from the newest message (1 = the newest)'
  const m = messages[messages.length - Number(arg)]
  return m ?? `no message ${arg} back (${messages.length} loaded; PgUp loads older ones)`
}
