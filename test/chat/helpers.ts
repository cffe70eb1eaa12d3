// Small builders for the chat tests: messages, a peer, and a state opened on them.
import type { ChatMessage, ChatPeer } from '../../src/chat/types.js'
import type { KeyPress } from '../../src/chat/key-press.js'
import { initialStep, reduce, type ChatInput, type ChatState, type Effect, type InitialChat } from '../../src/chat/state.js'

export const BOB: ChatPeer = { fingerprint: 'b'.repeat(48), name: 'bob' }
/** 2025-03-04 10:00 local time */
export const T0 = new Date(2025, 2, 4, 10, 0, 0).getTime()

let n = 0
export function msg (over: Partial<ChatMessage> & { seq: number }): ChatMessage {
  n++
  return { id: `m${over.seq}-${n}`, direction: 'in', text: `message ${over.seq}`, timestamp: T0 + over.seq * 60_000, status: 'received', ...over }
}

export function open (over: Partial<InitialChat> = {}): { state: ChatState, effects: Effect[] } {
  return initialStep({ peer: BOB, messages: [], presence: 'online', hasOlder: false, cols: 80, rows: 24, ...over })
}

/** Feeds inputs in order; returns the final state and every effect, in order. */
export function run (s: ChatState, inputs: ChatInput[]): { state: ChatState, effects: Effect[] } {
  const effects: Effect[] = []
  let state = s
  for (const i of inputs) {
    const step = reduce(state, i)
    state = step.state
    effects.push(...step.effects)
  }
  return { state, effects }
}

export const key = (k: KeyPress, now = T0): ChatInput => ({ type: 'key', key: k, now })
export const text = (s: string, now = T0): ChatInput => key({ name: 'text', text: s }, now)
export const named = (name: Exclude<KeyPress, { name: 'text' }>['name'], now = T0): ChatInput => key({ name }, now)
