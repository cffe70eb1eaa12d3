// Steps shared by the keys (state.ts) and the slash commands (commands.ts): sending a line and
// leaving.
import * as ed from './line-editor.js'
import type { ChatState, Effect } from './model.js'
import { typingLeave, typingSent, type TypingSignal } from './typing.js'

/** Sent lines remembered for Up/Down. */
export const RECALL_MAX = 100

export function pushTyping (effects: Effect[], signal: TypingSignal): void {
  if (signal !== null) effects.push({ type: 'typing', typing: signal })
}

/** Tells the peer we stopped typing, if we had said we started (a command is not a message). */
export function stopTyping (s: ChatState, effects: Effect[]): ChatState {
  const t = typingLeave(s.typingOut)
  pushTyping(effects, t.signal)
  return t.state === s.typingOut ? s : { ...s, typingOut: t.state }
}

export function quit (s: ChatState, effects: Effect[]): ChatState {
  const next = stopTyping(s, effects)
  effects.push({ type: 'quit' })
  return { ...next, quitting: true }
}

/** Sends `body`; `line` (what the user typed) goes to the recall list. The input is cleared. */
export function sendLine (s: ChatState, body: string, line: string, effects: Effect[]): ChatState {
  effects.push({ type: 'send', text: body })
  const sent = [...s.sent, line].slice(-RECALL_MAX)
  return { ...s, input: ed.EMPTY_LINE, recall: null, draft: '', sent, typingOut: typingSent(s.typingOut), scroll: 0, newBelow: 0, replyTo: null }
}
