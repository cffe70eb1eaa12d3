// The chat's state model, driven the way the terminal and the daemon drive it: key presses,
// daemon events and clock ticks in; what the user would see, and what goes to the daemon, out.
import t from 'tap'
import { reduce, CHROME_ROWS, NOTICE_MS, totalRows, type ChatInput } from '../../src/chat/state.js'
import type { ChatEvent } from '../../src/chat/types.js'
import { PEER_TYPING_SHOW_MS, TYPING_IDLE_MS, TYPING_REFRESH_MS } from '../../src/chat/typing.js'
import { BOB, T0, key, msg, named, open, run, text } from './helpers.js'

const ev = (event: ChatEvent, now = T0): ChatInput => ({ type: 'event', event, now })

t.test('opening shows the history in seq order and marks the unread messages read, once', async t => {
  const m = [msg({ seq: 3 }), msg({ seq: 1, direction: 'out', status: 'read' }), msg({ seq: 2 })]
  const { state, effects } = open({ messages: m })
  t.same(state.messages.map(x => x.seq), [1, 2, 3])
  t.same(effects, [{ type: 'markRead' }])
  const again = reduce(state, { type: 'tick', now: T0 + 10 })
  t.same(again.effects, [], 'not asked twice for the same messages')
})

t.test('nothing to mark when every inbound message was read already', async t => {
  const { effects } = open({ messages: [msg({ seq: 1, status: 'read' })] })
  t.same(effects, [])
})

t.test('a live message appears at the bottom, is marked read, and ends the typing indicator', async t => {
  let { state } = open()
  state = run(state, [ev({ type: 'typing', peer: BOB.fingerprint, typing: true })]).state
  t.not(state.peerTypingUntil, null, 'bob is typing')
  const r = run(state, [ev({ type: 'message', peer: BOB.fingerprint, message: msg({ seq: 1, text: 'hi' }) })])
  t.equal(r.state.messages.at(-1)?.text, 'hi')
  t.equal(r.state.peerTypingUntil, null, 'his message ends his typing')
  t.same(r.effects, [{ type: 'markRead' }])
})

t.test('a session reset with the open conversation\'s contact is told in a notice line; a rename is not', async t => {
  const { state } = open()
  const renamed = run(state, [ev({ type: 'contact', peer: BOB.fingerprint, name: 'robert', verified: false })]).state
  t.equal(renamed.notice, null)
  const r = run(renamed, [ev({ type: 'contact', peer: BOB.fingerprint, name: 'robert', verified: false, reset: true })])
  t.match(r.state.notice, { kind: 'info', text: /^new encrypted session with robert: one side lost its session state/ })
  t.same(r.state.messages, [], 'nothing added to the conversation')
})

t.test('events about other conversations stay out of this one; their messages ring the bell and count as unread', async t => {
  const { state } = open({ names: { ['c'.repeat(48)]: 'carol' } })
  const other = 'c'.repeat(48)
  const r = run(state, [
    ev({ type: 'message', peer: other, message: msg({ seq: 1, text: 'psst' }) }),
    ev({ type: 'typing', peer: other, typing: true }),
    ev({ type: 'presence', peer: other, state: 'offline' })
  ])
  t.same(r.state.messages, [])
  t.equal(r.state.peerTypingUntil, null)
  t.equal(r.state.presence, 'online')
  t.same(r.effects, [{ type: 'bell' }], 'one bell, no mark-read of this conversation')
  t.same(r.state.unread, { [other]: 1 })
  t.match(r.state.notice?.text, /^carol: psst .*\/c carol/)
  const read = run(r.state, [ev({ type: 'receipt', peer: other, direction: 'in', status: 'read', ids: ['x'] })])
  t.same(read.state.unread, {}, 'read elsewhere: no longer unread')
})

t.test('a message already in the history is not shown twice (the subscription starts before the history is read)', async t => {
  const m = msg({ seq: 1, direction: 'out', status: 'sending' })
  const { state } = open({ messages: [m] })
  const r = run(state, [ev({ type: 'message', peer: BOB.fingerprint, message: { ...m, status: 'sent' } })])
  t.equal(r.state.messages.length, 1)
  t.equal(r.state.messages[0]?.status, 'sent')
})

t.test('receipts move our marks forward and never back', async t => {
  const a = msg({ seq: 1, direction: 'out', status: 'sending' })
  const b = msg({ seq: 2, direction: 'out', status: 'sending' })
  const { state } = open({ messages: [a, b] })
  const receipt = (status: 'sent' | 'delivered' | 'read', ids: string[]) => ev({ type: 'receipt', peer: BOB.fingerprint, direction: 'out', status, ids })
  let s = run(state, [receipt('sent', [a.id, b.id]), receipt('delivered', [a.id])]).state
  t.same(s.messages.map(m => m.status), ['delivered', 'sent'])
  s = run(s, [receipt('read', [a.id, b.id]), receipt('delivered', [a.id, b.id]), receipt('sent', [a.id])]).state
  t.same(s.messages.map(m => m.status), ['read', 'read'], 'late delivered/sent receipts do not undo read')
})

t.test('a read receipt for their messages (we read them, maybe elsewhere) marks them read here', async t => {
  const m = msg({ seq: 1 })
  const { state } = open({ messages: [m] })
  const s = run(state, [ev({ type: 'receipt', peer: BOB.fingerprint, direction: 'in', status: 'read', ids: [m.id] })]).state
  t.equal(s.messages[0]?.status, 'read')
})

t.test('presence changes show in the header state', async t => {
  const { state } = open({ presence: 'connecting' })
  t.equal(run(state, [ev({ type: 'presence', peer: BOB.fingerprint, state: 'away' })]).state.presence, 'away')
})

t.test('the peer typing indicator lapses without a refresh, or when they stop', async t => {
  const { state } = open()
  let s = run(state, [ev({ type: 'typing', peer: BOB.fingerprint, typing: true }, T0)]).state
  s = run(s, [{ type: 'tick', now: T0 + PEER_TYPING_SHOW_MS - 1 }]).state
  t.not(s.peerTypingUntil, null, 'still shown just before the timeout')
  s = run(s, [{ type: 'tick', now: T0 + PEER_TYPING_SHOW_MS }]).state
  t.equal(s.peerTypingUntil, null, 'gone at the timeout')
  s = run(s, [ev({ type: 'typing', peer: BOB.fingerprint, typing: true }), ev({ type: 'typing', peer: BOB.fingerprint, typing: false })]).state
  t.equal(s.peerTypingUntil, null, 'gone when they say stop')
})

t.test('our typing: told on the first key, refreshed at most every 3 s, stopped after idling', async t => {
  const { state } = open()
  const r1 = run(state, [text('h', T0), text('e', T0 + 500), text('l', T0 + TYPING_REFRESH_MS - 1)])
  t.same(r1.effects, [{ type: 'typing', typing: true }], 'one TYPING for a burst of keys')
  const r2 = run(r1.state, [text('l', T0 + TYPING_REFRESH_MS)])
  t.same(r2.effects, [{ type: 'typing', typing: true }], 'refreshed after 3 s of typing')
  const r3 = run(r2.state, [{ type: 'tick', now: T0 + TYPING_REFRESH_MS + TYPING_IDLE_MS - 1 }])
  t.same(r3.effects, [], 'not idle yet')
  const r4 = run(r3.state, [{ type: 'tick', now: T0 + TYPING_REFRESH_MS + TYPING_IDLE_MS }, { type: 'tick', now: T0 + 60_000 }])
  t.same(r4.effects, [{ type: 'typing', typing: false }], 'one stop after 5 s without an edit')
  t.same(run(r4.state, [text('o', T0 + 61_000)]).effects, [{ type: 'typing', typing: true }], 'typing again starts again')
})

t.test('moving the cursor is not typing; emptying the line says stop', async t => {
  const { state } = open()
  const r = run(state, [named('left'), named('home')])
  t.same(r.effects, [])
  const r2 = run(state, [text('hi', T0), named('killToStart', T0 + 100)])
  t.same(r2.effects, [{ type: 'typing', typing: true }, { type: 'typing', typing: false }])
})

t.test('Enter sends the line, clears it and jumps to the newest message', async t => {
  const { state } = open()
  const r = run(state, [text('see you at noon'), named('enter', T0 + 10)])
  t.same(r.effects, [{ type: 'typing', typing: true }, { type: 'send', text: 'see you at noon' }], 'no TYPING(false): the message ends the indicator')
  t.equal(r.state.input.text, '')
  t.equal(r.state.typingOut.active, false)
  const r2 = run(r.state, [text('x', T0 + 20)])
  t.same(r2.effects, [{ type: 'typing', typing: true }], 'the next message starts a new indicator')
})

t.test('an empty or blank line is not sent', async t => {
  const { state } = open()
  t.same(run(state, [named('enter')]).effects, [])
  t.same(run(state, [text('   '), named('enter')]).effects.filter(e => e.type === 'send'), [])
})

t.test('/quit and Ctrl-C leave, telling the peer we stopped typing', async t => {
  const { state } = open()
  const q = run(state, [text('/quit'), named('enter')])
  t.same(q.effects.slice(1), [{ type: 'typing', typing: false }, { type: 'quit' }])
  t.equal(q.state.quitting, true)
  const c = run(state, [named('interrupt')])
  t.same(c.effects, [{ type: 'quit' }], 'nothing to stop when we were not typing')
  t.same(run(c.state, [text('more'), named('enter')]).effects, [], 'nothing happens after quitting')
})

t.test('/help shows the keys; an unknown command is refused and kept for correction; // sends a leading slash', async t => {
  const { state } = open()
  const help = run(state, [text('/help'), named('enter')])
  t.match(help.state.panel?.lines.join('\n'), /\/quit/)
  t.equal(help.state.input.text, '')
  const bad = run(state, [text('/qiut'), named('enter')])
  t.match(bad.state.notice, { kind: 'error', text: /unknown command \/qiut/ })
  t.equal(bad.state.input.text, '/qiut', 'the typo stays on the line')
  t.notOk(bad.effects.some(e => e.type === 'send'))
  const slash = run(state, [text('//shrug'), named('enter')])
  t.same(slash.effects.filter(e => e.type === 'send'), [{ type: 'send', text: '/shrug' }])
  const gone = run(bad.state, [{ type: 'tick', now: T0 + NOTICE_MS }])
  t.equal(gone.state.notice, null, 'a notice goes away by itself')
  t.equal(run(help.state, [named('escape')]).state.panel, null, 'Esc closes the help')
})

t.test('a send the daemon refuses is reported, and the text comes back to the line', async t => {
  const { state } = open()
  const sent = run(state, [text('hello'), named('enter')]).state
  const r = run(sent, [{ type: 'sendFailed', text: 'hello', error: 'bob is blocked; unblock them to write', now: T0 }])
  t.match(r.state.notice, { kind: 'error', text: /not sent: bob is blocked/ })
  t.equal(r.state.input.text, 'hello')
  const typed = run(sent, [text('next'), { type: 'sendFailed', text: 'hello', error: 'x', now: T0 }])
  t.equal(typed.state.input.text, 'next', 'what the user typed since is not overwritten')
})

t.test('Up and Down recall sent lines and come back to the draft', async t => {
  const { state } = open()
  let s = run(state, [text('one'), named('enter'), text('two'), named('enter'), text('draft')]).state
  s = run(s, [named('up')]).state
  t.equal(s.input.text, 'two')
  s = run(s, [named('up'), named('up')]).state
  t.equal(s.input.text, 'one', 'stops at the oldest')
  s = run(s, [named('down')]).state
  t.equal(s.input.text, 'two')
  s = run(s, [named('down')]).state
  t.equal(s.input.text, 'draft')
  t.equal(run(s, [named('down')]).state.input.text, 'draft')
})

t.test('scrolling: PgUp/PgDn move by a screen, new messages keep the view still, and are marked read only when shown', async t => {
  const many = Array.from({ length: 60 }, (_, i) => msg({ seq: i + 1, status: 'read' }))
  const { state } = open({ messages: many, rows: 20 })
  const area = 20 - CHROME_ROWS
  let r = run(state, [named('pageUp')])
  t.equal(r.state.scroll, area - 1)
  r = run(r.state, [ev({ type: 'message', peer: BOB.fingerprint, message: msg({ seq: 61, text: 'new' }) })])
  t.equal(r.state.scroll, area - 1 + 1, 'the view stays on what the user reads')
  t.equal(r.state.newBelow, 1)
  t.same(r.effects, [], 'not shown, so not marked read')
  r = run(r.state, [named('pageDown'), named('pageDown')])
  t.equal(r.state.scroll, 0)
  t.equal(r.state.newBelow, 0)
  t.same(r.effects, [{ type: 'markRead' }], 'marked read once on screen')
  r = run(r.state, [named('pageUp'), named('escape')])
  t.equal(r.state.scroll, 0, 'Esc jumps back to the newest')
  const top = run(state, Array.from({ length: 20 }, () => named('pageUp')))
  t.equal(top.state.scroll, totalRows(top.state) - area, 'never past the oldest row')
})

t.test('PgUp at the top loads older history once, and it lands above without moving the view', async t => {
  const page = Array.from({ length: 30 }, (_, i) => msg({ seq: i + 101, status: 'read' }))
  const { state } = open({ messages: page, hasOlder: true, rows: 12 })
  const r = run(state, Array.from({ length: 10 }, () => named('pageUp')))
  t.same(r.effects, [{ type: 'loadOlder', before: 101 }], 'asked once, for what precedes the first message')
  t.equal(r.state.loadingOlder, true)
  const older = Array.from({ length: 5 }, (_, i) => msg({ seq: i + 96, status: 'read' }))
  const after = run(r.state, [{ type: 'older', messages: older, hasOlder: false }])
  t.same(after.state.messages.map(m => m.seq).slice(0, 6), [96, 97, 98, 99, 100, 101])
  t.equal(after.state.scroll, r.state.scroll, 'the rows on screen stay where they were')
  t.equal(after.state.hasOlder, false)
  t.same(run(after.state, [named('pageUp'), named('pageUp')]).effects, [], 'nothing more to load')
})

t.test('a smaller terminal clamps the scroll position', async t => {
  const many = Array.from({ length: 30 }, (_, i) => msg({ seq: i + 1, status: 'read' }))
  const { state } = open({ messages: many, rows: 10 })
  const up = run(state, Array.from({ length: 10 }, () => named('pageUp'))).state
  const big = run(up, [{ type: 'resize', cols: 80, rows: 200 }]).state
  t.equal(big.scroll, 0, 'everything fits: nothing to scroll')
  t.equal(big.rows, 200)
})

t.test('keys the chat does not use change nothing', async t => {
  const { state } = open()
  t.equal(reduce(state, key({ name: 'deleteForward' })).state, state)
})

t.test('a paste longer than one message stops at the limit, says so, and the line still sends', async t => {
  const { state } = open()
  const big = 'x'.repeat(70_000)
  const r = run(state, [text(big)])
  t.equal(Buffer.byteLength(r.state.input.text), 64 * 1024, 'the line holds exactly what one message may carry')
  t.match(r.state.notice, { kind: 'error', text: /limit of one message/ })
  const more = run(r.state, [text('y')])
  t.equal(more.state.input.text, r.state.input.text, 'typing past the limit adds nothing')
  t.match(more.state.notice, { kind: 'error', text: /limit of one message/ }, 'and says so again')
  const sent = run(r.state, [named('enter')])
  t.same(sent.effects.filter(e => e.type === 'send').map(e => (e as { text: string }).text.length), [64 * 1024], 'Enter sends the line')
})
