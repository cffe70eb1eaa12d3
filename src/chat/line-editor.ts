// The input line as a value: text and a cursor, and the edits a shell's line editor offers
// (readline/emacs keys). Pure functions over immutable values; the cursor is a UTF-16 index that
// always sits on a grapheme boundary, so an emoji or an accented letter moves and deletes as one.

export interface LineState {
  readonly text: string
  /** UTF-16 offset into `text`, on a grapheme boundary, 0 … text.length */
  readonly cursor: number
}

export const EMPTY_LINE: LineState = { text: '', cursor: 0 }

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/** Offsets of every grapheme boundary in `text`, 0 and text.length included. */
function boundaries (text: string): number[] {
  const out = [0]
  for (const s of graphemes.segment(text)) if (s.index > 0) out.push(s.index)
  if (text.length > 0) out.push(text.length)
  return out
}

function prevBoundary (text: string, at: number): number {
  let best = 0
  for (const b of boundaries(text)) if (b < at) best = b
  return best
}

function nextBoundary (text: string, at: number): number {
  for (const b of boundaries(text)) if (b > at) return b
  return text.length
}

export function lineOf (text: string): LineState {
  return { text, cursor: text.length }
}

/** Typed or pasted text at the cursor. Control characters are dropped (a paste's newlines become spaces). */
export function insert (s: LineState, typed: string): LineState {
  return insertWithin(s, typed, Infinity).line
}

/** Ctrl-J / Alt-Enter: a line break inside the message (typed text never carries one: see insertWithin). */
export function insertNewline (s: LineState, maxBytes: number): LineState {
  if (Buffer.byteLength(s.text) + 1 > maxBytes) return s
  return { text: s.text.slice(0, s.cursor) + '\n' + s.text.slice(s.cursor), cursor: s.cursor + 1 }
}

/**
 * `insert`, keeping the line within `maxBytes` of UTF-8: what does not fit is left out, cut at a
 * grapheme boundary, and `cut` says so (the chat tells the user: a paste longer than one message
 * must not vanish silently, nor grow a line the daemon will refuse to send).
 */
export function insertWithin (s: LineState, typed: string, maxBytes: number): { line: LineState, cut: boolean } {
  // eslint-disable-next-line no-control-regex
  let clean = typed.replace(/\r\n|[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
  let cut = false
  if (maxBytes !== Infinity) {
    const room = maxBytes - Buffer.byteLength(s.text)
    if (Buffer.byteLength(clean) > room) {
      clean = utf8Prefix(clean, Math.max(0, room))
      cut = true
    }
  }
  if (clean.length === 0) return { line: s, cut }
  return { line: { text: s.text.slice(0, s.cursor) + clean + s.text.slice(s.cursor), cursor: s.cursor + clean.length }, cut }
}

/** The longest run of whole graphemes at the start of `text` that fits in `bytes` of UTF-8. */
function utf8Prefix (text: string, bytes: number): string {
  let used = 0
  let end = 0
  for (const g of graphemes.segment(text)) {
    used += Buffer.byteLength(g.segment)
    if (used > bytes) break
    end = g.index + g.segment.length
  }
  return text.slice(0, end)
}

export function backspace (s: LineState): LineState {
  if (s.cursor === 0) return s
  const from = prevBoundary(s.text, s.cursor)
  return { text: s.text.slice(0, from) + s.text.slice(s.cursor), cursor: from }
}

export function deleteForward (s: LineState): LineState {
  if (s.cursor >= s.text.length) return s
  const to = nextBoundary(s.text, s.cursor)
  return { text: s.text.slice(0, s.cursor) + s.text.slice(to), cursor: s.cursor }
}

export function left (s: LineState): LineState {
  return s.cursor === 0 ? s : { ...s, cursor: prevBoundary(s.text, s.cursor) }
}

export function right (s: LineState): LineState {
  return s.cursor >= s.text.length ? s : { ...s, cursor: nextBoundary(s.text, s.cursor) }
}

export function home (s: LineState): LineState {
  return { ...s, cursor: 0 }
}

export function end (s: LineState): LineState {
  return { ...s, cursor: s.text.length }
}

/** Ctrl-U: delete from the start of the line to the cursor (readline's unix-line-discard). */
export function killToStart (s: LineState): LineState {
  return { text: s.text.slice(s.cursor), cursor: 0 }
}

/** Ctrl-K: delete from the cursor to the end of the line. */
export function killToEnd (s: LineState): LineState {
  return { text: s.text.slice(0, s.cursor), cursor: s.cursor }
}

/** Start of the word before the cursor: skip whitespace back, then non-whitespace (readline's unix-word-rubout). */
function wordStart (text: string, at: number): number {
  let i = at
  while (i > 0 && /\s/.test(text[i - 1] as string)) i--
  while (i > 0 && !/\s/.test(text[i - 1] as string)) i--
  return i
}

function wordEnd (text: string, at: number): number {
  let i = at
  while (i < text.length && /\s/.test(text[i] as string)) i++
  while (i < text.length && !/\s/.test(text[i] as string)) i++
  return i
}

/** Ctrl-W: delete the word before the cursor, and the spaces between it and the cursor. */
export function killWord (s: LineState): LineState {
  const from = wordStart(s.text, s.cursor)
  return { text: s.text.slice(0, from) + s.text.slice(s.cursor), cursor: from }
}

/** Alt-B / Ctrl-Left. */
export function wordLeft (s: LineState): LineState {
  return { ...s, cursor: wordStart(s.text, s.cursor) }
}

/** Alt-F / Ctrl-Right. */
export function wordRight (s: LineState): LineState {
  return { ...s, cursor: wordEnd(s.text, s.cursor) }
}
