// Key presses as the chat understands them, from what ink's useInput reports. Kept apart from
// ink's `Key` so the state model is driven by plain values in tests.
//
// Terminals send DEL (0x7f) for the Backspace key and ink reports it as `delete`, the same as the
// Delete key (ESC [3~): both erase backwards here, and Ctrl-D erases forwards (as in readline).
// Enter is CR (0x0d) on a terminal in raw mode; Ctrl-J is LF (0x0a) and Alt-Enter is ESC CR:
// those two insert a newline into the message instead of sending it.

export type KeyName =
  | 'enter' | 'backspace' | 'deleteForward' | 'left' | 'right' | 'home' | 'end' | 'up' | 'down'
  | 'pageUp' | 'pageDown' | 'killToStart' | 'killToEnd' | 'killWord' | 'wordLeft' | 'wordRight'
  | 'interrupt' | 'escape' | 'newline'

export type KeyPress = { name: 'text', text: string } | { name: KeyName }

/** The subset of ink's `Key` we read (so tests need not build a whole one). */
export interface InkKey {
  upArrow: boolean
  downArrow: boolean
  leftArrow: boolean
  rightArrow: boolean
  pageDown: boolean
  pageUp: boolean
  home: boolean
  end: boolean
  return: boolean
  escape: boolean
  ctrl: boolean
  shift: boolean
  tab: boolean
  backspace: boolean
  delete: boolean
  meta: boolean
}

const CTRL: Record<string, KeyName> = {
  c: 'interrupt', a: 'home', e: 'end', b: 'left', f: 'right', d: 'deleteForward',
  u: 'killToStart', k: 'killToEnd', w: 'killWord', p: 'up', n: 'down'
}

function arrow (key: InkKey): KeyName | null {
  if (key.leftArrow) return key.ctrl || key.meta ? 'wordLeft' : 'left'
  if (key.rightArrow) return key.ctrl || key.meta ? 'wordRight' : 'right'
  if (key.upArrow) return 'up'
  if (key.downArrow) return 'down'
  if (key.pageUp) return 'pageUp'
  if (key.pageDown) return 'pageDown'
  if (key.home) return 'home'
  if (key.end) return 'end'
  return null
}

/**
 * Maps one useInput call to key presses (none for keys the chat ignores: Tab, unknown Ctrl
 * combinations). ink splits its input at escape sequences only, so keys that reach it in one
 * read (fast typing over a slow link, a paste, tmux send-keys) arrive as one string such as
 * "hi\r" or "\x15/quit\r": the control characters in it are split out into their own keys.
 */
export function fromInk (input: string, key: InkKey): KeyPress[] {
  const nav = arrow(key)
  if (nav !== null) return [{ name: nav }]
  if (key.return) return [{ name: key.meta ? 'newline' : 'enter' }]
  if (key.backspace || key.delete) return [{ name: 'backspace' }]
  if (key.ctrl) {
    const name = CTRL[input]
    return name === undefined ? [] : [{ name }]
  }
  if (key.meta && input === 'b') return [{ name: 'wordLeft' }]
  if (key.meta && input === 'f') return [{ name: 'wordRight' }]
  if (key.escape) return [{ name: 'escape' }]
  if (key.tab || key.meta || input.length === 0) return []
  return splitControls(input)
}

/** Printable runs as text, and each control character as the key a terminal sends it for. */
function splitControls (input: string): KeyPress[] {
  const out: KeyPress[] = []
  // eslint-disable-next-line no-control-regex
  for (const part of input.split(/([\u0000-\u001f\u007f])/)) {
    if (part.length === 0) continue
    const code = part.length === 1 ? part.charCodeAt(0) : -1
    if (code === -1 || (code > 0x1f && code !== 0x7f)) { out.push({ name: 'text', text: part }); continue }
    const k = controlKey(code)
    if (k !== null) out.push({ name: k })
  }
  return out
}

function controlKey (code: number): KeyName | null {
  if (code === 0x0d) return 'enter'
  if (code === 0x0a) return 'newline'
  if (code === 0x7f || code === 0x08) return 'backspace'
  if (code >= 0x01 && code <= 0x1a) return CTRL[String.fromCharCode(code + 0x60)] ?? null
  return null
}
