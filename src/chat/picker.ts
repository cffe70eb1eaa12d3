// `dmess chat` without a contact: a list of conversations with unread counts to pick from, with
// the arrow keys and Enter or by typing the row's number. A pure state machine like state.ts.
import type { KeyPress } from './key-press.js'
import type { ConversationSummary } from './types.js'

export interface PickerState {
  readonly items: readonly ConversationSummary[]
  readonly selected: number
  /** digits typed so far */
  readonly typed: string
  readonly error: string | null
}

export type PickerOutcome = { type: 'pick', fingerprint: string } | { type: 'cancel' } | null

export interface PickerStep { state: PickerState, outcome: PickerOutcome }

export function initialPicker (items: readonly ConversationSummary[]): PickerState {
  return { items, selected: 0, typed: '', error: null }
}

export function reducePicker (s: PickerState, key: KeyPress): PickerStep {
  const stay = (state: PickerState): PickerStep => ({ state, outcome: null })
  const n = s.items.length
  switch (key.name) {
    case 'up': return stay({ ...s, selected: (s.selected - 1 + n) % Math.max(1, n), typed: '', error: null })
    case 'down': return stay({ ...s, selected: (s.selected + 1) % Math.max(1, n), typed: '', error: null })
    case 'home': return stay({ ...s, selected: 0, typed: '' })
    case 'end': return stay({ ...s, selected: Math.max(0, n - 1), typed: '' })
    case 'backspace': return stay(selectTyped(s, s.typed.slice(0, -1)))
    case 'interrupt':
    case 'escape': return { state: s, outcome: { type: 'cancel' } }
    case 'enter': return choose(s)
    case 'text': return onText(s, key.text)
    default: return stay(s)
  }
}

function onText (s: PickerState, text: string): PickerStep {
  if (text === 'q') return { state: s, outcome: { type: 'cancel' } }
  if (text === 'k') return reducePicker(s, { name: 'up' })
  if (text === 'j') return reducePicker(s, { name: 'down' })
  if (!/^[0-9]+$/.test(text)) return { state: { ...s, error: 'type a number, or use ↑/↓ and Enter' }, outcome: null }
  return { state: selectTyped(s, (s.typed + text).slice(0, 6)), outcome: null }
}

/** Typing "12" selects row 12 when there is one. */
function selectTyped (s: PickerState, typed: string): PickerState {
  const i = Number(typed) - 1
  if (typed === '' || i < 0 || i >= s.items.length) return { ...s, typed, error: typed === '' ? null : `no conversation ${typed}` }
  return { ...s, typed, selected: i, error: null }
}

function choose (s: PickerState): PickerStep {
  if (s.typed !== '') {
    const i = Number(s.typed) - 1
    const item = s.items[i]
    if (item === undefined) return { state: { ...s, error: `no conversation ${s.typed} (1–${s.items.length})` }, outcome: null }
    return { state: s, outcome: { type: 'pick', fingerprint: item.peer.fingerprint } }
  }
  const item = s.items[s.selected]
  return item === undefined ? { state: s, outcome: null } : { state: s, outcome: { type: 'pick', fingerprint: item.peer.fingerprint } }
}
