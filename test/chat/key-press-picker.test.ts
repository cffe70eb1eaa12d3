// Keys as ink reports them, mapped to the chat's key presses; and the conversation picker.
import t from 'tap'
import { fromInk, type InkKey } from '../../src/chat/key-press.js'
import { initialPicker, reducePicker, type PickerState } from '../../src/chat/picker.js'
import type { KeyPress } from '../../src/chat/key-press.js'
import type { ConversationSummary } from '../../src/chat/types.js'
import { msg } from './helpers.js'

const NONE: InkKey = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false }
const k = (over: Partial<InkKey>): InkKey => ({ ...NONE, ...over })

t.test('single keys', async t => {
  t.same(fromInk('a', NONE), [{ name: 'text', text: 'a' }])
  t.same(fromInk('', k({ return: true })), [{ name: 'enter' }])
  t.same(fromInk('', k({ delete: true })), [{ name: 'backspace' }], 'DEL (what Backspace sends) erases backwards')
  t.same(fromInk('', k({ backspace: true })), [{ name: 'backspace' }])
  t.same(fromInk('c', k({ ctrl: true })), [{ name: 'interrupt' }])
  t.same(fromInk('u', k({ ctrl: true })), [{ name: 'killToStart' }])
  t.same(fromInk('w', k({ ctrl: true })), [{ name: 'killWord' }])
  t.same(fromInk('a', k({ ctrl: true })), [{ name: 'home' }])
  t.same(fromInk('e', k({ ctrl: true })), [{ name: 'end' }])
  t.same(fromInk('', k({ leftArrow: true })), [{ name: 'left' }])
  t.same(fromInk('', k({ leftArrow: true, ctrl: true })), [{ name: 'wordLeft' }])
  t.same(fromInk('b', k({ meta: true })), [{ name: 'wordLeft' }])
  t.same(fromInk('', k({ pageUp: true })), [{ name: 'pageUp' }])
  t.same(fromInk('', k({ home: true })), [{ name: 'home' }])
  t.same(fromInk('', k({ escape: true, meta: true })), [{ name: 'escape' }])
  t.same(fromInk('', k({ tab: true })), [], 'Tab does nothing')
  t.same(fromInk('z', k({ ctrl: true })), [], 'nor an unused Ctrl key')
})

t.test('keys that arrive in one read are split: text runs, Enter, Backspace, Ctrl keys', async t => {
  t.same(fromInk('hi\r', NONE), [{ name: 'text', text: 'hi' }, { name: 'enter' }])
  t.same(fromInk('\u0015/quit\r', NONE), [{ name: 'killToStart' }, { name: 'text', text: '/quit' }, { name: 'enter' }])
  t.same(fromInk('ab\u007fc', NONE), [{ name: 'text', text: 'ab' }, { name: 'backspace' }, { name: 'text', text: 'c' }])
  t.same(fromInk('one\rtwo\r', NONE), [{ name: 'text', text: 'one' }, { name: 'enter' }, { name: 'text', text: 'two' }, { name: 'enter' }], 'a pasted two-line text is two messages')
  t.same(fromInk('日本😀', NONE), [{ name: 'text', text: '日本😀' }])
})

const items: ConversationSummary[] = [
  { peer: { fingerprint: 'a'.repeat(48), name: 'alice' }, unread: 2, last: msg({ seq: 1 }) },
  { peer: { fingerprint: 'b'.repeat(48), name: 'bob' }, unread: 0, last: msg({ seq: 2 }) },
  { peer: { fingerprint: 'c'.repeat(48), name: null }, unread: 0 }
]

function press (s: PickerState, keys: KeyPress[]): ReturnType<typeof reducePicker> {
  let step: ReturnType<typeof reducePicker> = { state: s, outcome: null }
  for (const key of keys) {
    step = reducePicker(step.state, key)
    if (step.outcome !== null) break
  }
  return step
}

t.test('the picker: arrows and Enter', async t => {
  const s = initialPicker(items)
  t.same(press(s, [{ name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'a'.repeat(48) }, 'Enter takes the first (most recent)')
  t.same(press(s, [{ name: 'down' }, { name: 'down' }, { name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'c'.repeat(48) })
  t.same(press(s, [{ name: 'up' }, { name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'c'.repeat(48) }, 'Up from the top wraps to the end')
  t.same(press(s, [{ name: 'text', text: 'j' }, { name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'b'.repeat(48) }, 'j/k work too')
})

t.test('the picker: typing a number', async t => {
  const s = initialPicker(items)
  const two = press(s, [{ name: 'text', text: '2' }])
  t.equal(two.state.selected, 1, 'the typed row is highlighted')
  t.same(press(two.state, [{ name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'b'.repeat(48) })
  const nine = press(s, [{ name: 'text', text: '9' }, { name: 'enter' }])
  t.equal(nine.outcome, null)
  t.match(nine.state.error, /no conversation 9/)
  t.same(press(nine.state, [{ name: 'backspace' }, { name: 'text', text: '3' }, { name: 'enter' }]).outcome, { type: 'pick', fingerprint: 'c'.repeat(48) })
  t.match(press(s, [{ name: 'text', text: 'x' }]).state.error, /type a number/)
})

t.test('the picker: q, Esc and Ctrl-C leave', async t => {
  const s = initialPicker(items)
  for (const key of [{ name: 'text', text: 'q' }, { name: 'escape' }, { name: 'interrupt' }] as KeyPress[]) {
    t.same(reducePicker(s, key).outcome, { type: 'cancel' })
  }
})
