// The chat beyond one conversation and one line, as a pure state model and through the
// controller: other conversations' messages, contact requests, /c, /reply, /search, line breaks,
// and the header's presence (verified mark, offline with last seen); /file offers a file and
// shows one notice line with its id, then its states as the daemon tells of them.
import t from 'tap'
import { reduce, type ChatInput } from '../../src/chat/state.js'
import { ChatController } from '../../src/chat/controller.js'
import { chatHeader, CONNECTING_SHOW_MS, panelRows, presenceShown, rowWidth } from '../../src/chat/screen.js'
import { fromInk, type InkKey } from '../../src/chat/key-press.js'
import { helpLines, MARKS_HELP, parseCommand } from '../../src/chat/commands.js'
import { statusMark } from '../../src/chat/layout.js'
import type { ChatEvent, ChatRequest } from '../../src/chat/types.js'
import { toChatEvent } from '../../src/chat/ipc-backend.js'
import type { ChatTransfer } from '../../src/chat/types.js'
import { FakeBackend } from './fakes.js'
import { BOB, T0, msg, named, open, run, text } from './helpers.js'

const ev = (event: ChatEvent, now = T0): ChatInput => ({ type: 'event', event, now })
const line = (s: string, now = T0): ChatInput[] => [text(s, now), named('enter', now)]
const CAROL = 'c'.repeat(48)
const DAVE = 'd'.repeat(48)
const request = (fp: string, over: Partial<ChatRequest> = {}): ChatRequest => ({ fingerprint: fp, timestamp: T0, ...over })
const rowText = (row: Array<{ text: string }>): string => row.map(s => s.text).join('')

t.test('a stranger\'s request: a notice and a bell, its first words too; listed, accepted or declined by number or name', async t => {
  const { state } = open()
  const bare = run(state, [ev({ type: 'request', action: 'received', request: request(CAROL, { name: 'carol' }) })])
  t.same(bare.effects, [{ type: 'bell' }])
  t.match(bare.state.notice?.text, /^contact request from "carol" \(cccccccccccc…\) {2}\(\/requests, \/accept 1, \/decline 1\)$/)
  const words = run(bare.state, [ev({ type: 'request', action: 'updated', request: request(CAROL, { name: 'carol', text: 'hi, it is carol' }) })])
  t.match(words.state.notice?.text, /: "hi, it is carol"/, 'the words that came after are news')
  t.same(words.effects, [{ type: 'bell' }])
  const same = run(words.state, [ev({ type: 'request', action: 'updated', request: request(CAROL, { name: 'carol', text: 'hi, it is carol' }) })])
  t.same(same.effects, [], 'a second held message behind the same words: no bell')

  let s = run(words.state, [ev({ type: 'request', action: 'received', request: request(DAVE) })]).state
  t.equal(s.requests.length, 2)
  s = run(s, line('/requests')).state
  t.match(s.panel, { title: 'contact requests', lines: [/^1\. "carol" \(c{12}…\): "hi, it is carol"$/, /^2\. d{12}…$/, /\/accept <n>/] })
  t.same(run(s, line('/accept 2')).effects, [{ type: 'acceptRequest', fingerprint: DAVE, label: `${'d'.repeat(12)}…` }])
  t.same(run(s, line('/decline carol')).effects.filter(e => e.type === 'declineRequest').map(e => 'fingerprint' in e && e.fingerprint), [CAROL])
  t.same(run(s, line('/accept dddd')).effects.filter(e => e.type === 'acceptRequest').length, 1, 'by fingerprint prefix')
  const wrong = run(s, line('/accept 7'))
  t.match(wrong.state.notice, { kind: 'error', text: /no request 7 \(1–2/ })
  t.equal(wrong.state.input.text, '/accept 7', 'a failed command stays on the line')
  t.same(run(s, [ev({ type: 'request', action: 'gone', request: request(CAROL) })]).state.requests.map(r => r.fingerprint), [DAVE], 'answered elsewhere: gone')
})

t.test('pending requests at start are mentioned, and counted in the header', async t => {
  const { state } = open({ requests: [request(CAROL)], now: T0 })
  t.match(state.notice?.text, /1 pending contact request: \/requests/)
  t.match(rowText(chatHeader(state, T0)), /· 1 request$/)
})

t.test('/c switches: the effect names the contact; the opened conversation replaces this one and is no longer unread', async t => {
  const { state } = open({ names: { [CAROL]: 'carol' }, cols: 120 })
  let r = run(state, [...line('typing'), named('backspace')])
  r = run(r.state, [ev({ type: 'message', peer: CAROL, message: msg({ seq: 1, text: 'psst' }) }), ev({ type: 'message', peer: DAVE, message: msg({ seq: 1 }) }), ev({ type: 'message', peer: DAVE, message: msg({ seq: 2 }) })])
  t.match(rowText(chatHeader(r.state, T0)), /· 3 unread: d{12}… 2, carol 1$/)
  t.same(run(r.state, line('/c carol')).effects.filter(e => e.type === 'open'), [{ type: 'open', query: 'carol' }])
  t.same(run(r.state, line('/switch carol')).effects.filter(e => e.type === 'open'), [{ type: 'open', query: 'carol' }])
  t.same(run(r.state, line('/c')).effects.filter(e => e.type === 'open'), [{ type: 'open', query: DAVE }], '/c alone: where most is unread')
  t.match(run(state, line('/c')).state.notice, { kind: 'error', text: /no other conversation has unread messages/ })

  const opened = reduce(r.state, { type: 'opened', chat: { peer: { fingerprint: DAVE, name: null }, messages: [msg({ seq: 1 }), msg({ seq: 2 })], presence: 'away', hasOlder: false }, now: T0 })
  t.equal(opened.state.peer.fingerprint, DAVE)
  t.equal(opened.state.messages.length, 2)
  t.same(opened.state.unread, { [CAROL]: 1 })
  t.same(opened.effects, [{ type: 'markRead' }], 'its messages are on screen: marked read')
  t.same(reduce(opened.state, { type: 'older', peer: BOB.fingerprint, messages: [msg({ seq: 0 })], hasOlder: false }).state.messages.length, 2, 'a late page of the old conversation is dropped')
  t.same(reduce(opened.state, { type: 'event', event: { type: 'message', peer: DAVE, message: msg({ seq: 3 }) }, now: T0 }).state.messages.length, 3)
})

t.test('/reply quotes a message counted back from the newest; Esc cancels; the body carries "> quote" then the answer', async t => {
  const { state } = open({ messages: [msg({ seq: 1, text: 'lunch at noon?\nor one?' }), msg({ seq: 2, text: 'ok' })] })
  const pending = run(state, line('/reply 2')).state
  t.equal(pending.replyTo, '> lunch at noon? or one?')
  t.same(run(pending, line('noon it is')).effects.filter(e => e.type === 'send'), [{ type: 'send', text: '> lunch at noon? or one?\nnoon it is' }])
  t.equal(run(pending, [named('escape')]).state.replyTo, null)
  t.same(run(state, line('/reply 1 fine')).effects.filter(e => e.type === 'send'), [{ type: 'send', text: '> ok\nfine' }])
  t.match(run(state, line('/reply 3')).state.notice, { kind: 'error', text: /no message 3 back/ })
  t.match(run(state, line('/reply x')).state.notice, { kind: 'error', text: /usage: \/reply/ })
  const long = open({ messages: [msg({ seq: 1, text: 'x'.repeat(200) })] }).state
  t.equal(run(long, line('/reply 1')).state.replyTo, '> ' + 'x'.repeat(60) + '…', 'the quote is cut short')
})

t.test('Ctrl-J and Alt-Enter break the line; Enter sends it whole', async t => {
  const k = (over: Partial<InkKey>): InkKey => ({ upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, ...over })
  t.same(fromInk('\n', k({})), [{ name: 'newline' }], 'Ctrl-J (LF)')
  t.same(fromInk('\r', k({ return: true, meta: true })), [{ name: 'newline' }], 'Alt-Enter (ESC CR)')
  t.same(fromInk('\r', k({ return: true })), [{ name: 'enter' }])
  t.same(fromInk('a\nb\r', k({})), [{ name: 'text', text: 'a' }, { name: 'newline' }, { name: 'text', text: 'b' }, { name: 'enter' }], 'a paste keeps its line breaks and Enter sends')
  const { state } = open()
  const r = run(state, [text('one'), named('newline'), text('two'), named('enter')])
  t.same(r.effects.filter(e => e.type === 'send'), [{ type: 'send', text: 'one\ntwo' }])
})

t.test('/search asks the daemon; an empty one is refused', async t => {
  const { state } = open()
  t.same(run(state, line('/search noon')).effects.filter(e => e.type === 'search'), [{ type: 'search', query: 'noon' }])
  t.match(run(state, line('/search')).state.notice, { kind: 'error', text: /usage: \/search/ })
  t.same(parseCommand('/SEARCH  two words '), { name: '/search', arg: 'two words' })
  t.equal(parseCommand('//not a command'), null)
})

t.test('the header: verified mark; connecting for a while, then offline with when they were last seen', async t => {
  const s = open({ peer: { ...BOB, verified: true, lastSeen: T0 - 5 * 60_000 }, presence: 'connecting', now: T0 }).state
  t.match(rowText(chatHeader(s, T0)), /^dmess · bob \(b{12}…\) · ◌ connecting… · ✓ verified$/)
  t.match(rowText(chatHeader(s, T0 + CONNECTING_SHOW_MS)), /· ○ offline · last seen 5 min ago · ✓ verified$/)
  t.same(presenceShown({ ...s, presence: 'offline', peer: { ...s.peer, lastSeen: null } }, T0), { presence: 'offline', text: 'offline · not seen yet' })
  const online = open({ presence: 'online' }).state
  t.match(rowText(chatHeader(online, T0)), /● online · unverified$/)
  const gone = run(online, [ev({ type: 'presence', peer: BOB.fingerprint, state: 'offline' }, T0 + 1000)]).state
  t.equal(gone.peer.lastSeen, T0 + 1000, 'seen until the link went')
  t.match(rowText(chatHeader(gone, T0 + 3 * 3600_000)), /○ offline · last seen 2 h ago/)
  const verified = run(online, [ev({ type: 'contact', peer: BOB.fingerprint, name: 'bobby', verified: true })]).state
  t.match(rowText(chatHeader(verified, T0)), /^dmess · bobby .* ✓ verified$/, 'a rename or verify elsewhere shows at once')
})

t.test('/help: a panel wrapped to the width, naming the marks the screen draws', async t => {
  for (const st of ['sending', 'sent', 'delivered', 'read'] as const) t.ok(MARKS_HELP.includes(statusMark(st)?.text ?? '?'), `${st} in the help`)
  const rows = panelRows({ title: 'help', lines: helpLines() }, 40, 100)
  t.ok(rows.every(r => rowWidth(r) <= 40), 'no row wider than the screen')
  const flat = rows.slice(1).map(rowText).map(l => l.trim()).join(' ')
  for (const l of helpLines()) t.ok(flat.includes(l), `whole: ${l.slice(0, 30)}…`)
  const short = panelRows({ title: 'help', lines: helpLines() }, 40, 5)
  t.equal(short.length, 5)
  t.match(rowText(short[4] ?? []), /… \d+ more lines/)
})

t.test('the controller: /c opens through the backend; accept, decline and search come back as notices and panels', async t => {
  const clock = { now: T0 }
  const backend = new FakeBackend(BOB, () => clock.now)
  backend.others = [{ fingerprint: CAROL, name: 'carol' }]
  backend.pending = [request(DAVE, { name: 'dave', text: 'hello?' })]
  backend.messages = [msg({ seq: 1, text: 'the noon train' }), msg({ seq: 2, text: 'later' })]
  const bells: number[] = []
  const c = new ChatController(backend, { peer: BOB, messages: backend.messages, presence: 'online', hasOlder: false, cols: 80, rows: 24, requests: backend.pending }, { now: () => clock.now, bell: () => bells.push(clock.now) })
  await backend.subscribe(e => c.dispatch({ type: 'event', event: e, now: c.now }))
  // Ctrl-U first: a command that failed stays on the line
  const say = (s: string): void => { for (const i of [named('killToStart'), ...line(s, clock.now)]) c.dispatch(i) }

  say('/search noon')
  await c.settle(1000)
  t.match(c.state.panel, { title: /^1 message with "noon"/, lines: [/bob: the noon train$/] })
  say('/search nothing-like-it')
  await c.settle(1000)
  t.match(c.state.notice?.text, /no message here contains "nothing-like-it"/)

  say('/accept dave')
  await c.settle(1000)
  t.same(backend.callsOf('acceptRequest'), [[DAVE]])
  t.match(c.state.notice?.text, /accepted "dave" \(d{12}…\): now a contact \(\/c dave to chat\)/)
  t.same(c.state.requests, [], 'the book\'s event took it off the list')
  say('/decline dave')
  t.match(c.state.notice, { kind: 'error', text: /no pending contact requests/ })

  c.dispatch({ type: 'event', event: { type: 'message', peer: CAROL, message: msg({ seq: 1, text: 'ping' }) }, now: c.now })
  t.same(bells, [T0], 'a message elsewhere rings the bell')
  say('/c carol')
  // her message arrives while her history is being read: it must not fall in between
  c.dispatch({ type: 'event', event: { type: 'message', peer: CAROL, message: msg({ seq: 9, text: 'meanwhile' }) }, now: c.now })
  await c.settle(1000)
  t.equal(c.state.peer.fingerprint, CAROL)
  t.same(c.state.unread, {})
  t.equal(c.state.messages.at(-1)?.text, 'meanwhile', 'replayed into her conversation once open')
  say('/c nobody')
  await c.settle(1000)
  t.match(c.state.notice, { kind: 'error', text: /could not open nobody: no contact matches "nobody"/ })
  t.equal(c.state.peer.fingerprint, CAROL, 'still with carol')
})

t.test('/file: the daemon is asked to offer it; one notice line with the id, then its states; a refusal is one error line', async t => {
  const { state } = open()
  t.same(run(state, line('/file ~/my report.pdf')).effects.filter(e => e.type === 'sendFile'), [{ type: 'sendFile', path: '~/my report.pdf' }], 'the path whole, spaces and all')
  t.match(run(state, line('/file x.bin')).state.notice, { kind: 'info', text: 'offering x.bin…' })
  const empty = run(state, line('/file'))
  t.match(empty.state.notice, { kind: 'error', text: 'usage: /file <path>' })
  t.same(empty.effects.filter(e => e.type === 'sendFile'), [], 'and nothing asked of the daemon')
  t.ok(helpLines().some(l => l.startsWith('/file <path> — ')), 'listed by /help')

  const tr = (over: Partial<ChatTransfer>): ChatTransfer => ({ id: 'a1b2c3d4'.repeat(4), direction: 'out', peer: BOB.fingerprint, name: 'x.bin', state: 'active', reason: null, ...over })
  const file = (over: Partial<ChatTransfer>): ChatInput => ev({ type: 'file', peer: over.peer ?? BOB.fingerprint, transfer: tr(over) })
  t.match(run(state, [file({ state: 'done' })]).state.notice, { kind: 'info', text: 'file x.bin (a1b2c3d4): done' })
  t.match(run(state, [file({ state: 'failed', reason: 'disk-full' })]).state.notice, { kind: 'error', text: 'file x.bin (a1b2c3d4): failed (disk-full)' })
  t.match(run(state, [file({ direction: 'in', state: 'offered' })]).state.notice?.text, 'file x.bin (a1b2c3d4): offered — dmess files accept a1b2c3d4', 'their offer says how to take it')
  t.equal(run(state, [file({ peer: CAROL, state: 'done' })]).state.notice, state.notice, 'another conversation\'s transfer: not here')
  t.same(toChatEvent({ type: 'file', transfer: { ...tr({}), size: 9, bytesDone: 0 } }), { type: 'file', peer: BOB.fingerprint, transfer: tr({}) }, 'the daemon\'s event, read')
  t.equal(toChatEvent({ type: 'file', transfer: { id: 'x' } }), null, 'a malformed one skipped')

  const clock = { now: T0 }
  const backend = new FakeBackend(BOB, () => clock.now)
  const c = new ChatController(backend, { peer: BOB, messages: [], presence: 'online', hasOlder: false, cols: 80, rows: 24 }, { now: () => clock.now })
  await backend.subscribe(e => c.dispatch({ type: 'event', event: e, now: c.now }))
  const say = (s: string): void => { for (const i of [named('killToStart'), ...line(s, clock.now)]) c.dispatch(i) }
  say('/file /tmp/a b.pdf')
  await c.settle(1000)
  t.same(backend.callsOf('sendFile'), [[BOB.fingerprint, '/tmp/a b.pdf']])
  t.match(c.state.notice, { kind: 'info', text: /^file a b\.pdf \(0{7}\d\): offered$/ })
  const id = c.state.notice?.text.match(/\((\w+)\)/)?.[1] as string
  backend.emit({ type: 'file', peer: BOB.fingerprint, transfer: { id: id.padEnd(32, '0'), direction: 'out', peer: BOB.fingerprint, name: 'a b.pdf', state: 'active', reason: null } })
  t.match(c.state.notice?.text, `file a b.pdf (${id}): active`, 'Bob accepted: the same line, its new state')
  say('/file /missing/x')
  await c.settle(1000)
  t.match(c.state.notice, { kind: 'error', text: 'could not send /missing/x: cannot read /missing/x: no such file' })
  t.equal(c.state.input.text, '', 'the command left the line (the daemon\'s refusal came later)')
})
