// What the conversation looks like in cells: wrapping, marks, day separators, the header, the
// input line, and text from a peer that tries to escape the screen.
import t from 'tap'
import { cellWidth, wrap, sliceCells } from '../../src/chat/width.js'
import { terminalSafe } from '../../src/platform/terminal-text.js'
import { conversationRows, formatDay, headerRow, inputRow, messageRows, statusMark, type Row } from '../../src/chat/layout.js'
import { chatScreen, pickerScreen, rowWidth, statusRow } from '../../src/chat/screen.js'
import { initialPicker } from '../../src/chat/picker.js'
import { reduce } from '../../src/chat/state.js'
import { BOB, T0, msg, open, run, text } from './helpers.js'

const plain = (row: Row): string => row.map(s => s.text).join('')

t.test('cell widths: wide CJK and emoji take two cells, combining marks none', async t => {
  t.equal(cellWidth('abc'), 3)
  t.equal(cellWidth('日本'), 4)
  t.equal(cellWidth('😀'), 2)
  t.equal(cellWidth('e\u0301'), 1)
  t.equal(cellWidth('👨‍👩‍👧'), 2, 'a ZWJ family is one glyph')
})

t.test('wrap breaks at spaces, cuts words longer than a row, keeps newlines', async t => {
  t.same(wrap('the quick brown fox', 10), ['the quick', 'brown fox'])
  t.same(wrap('abcdefghijklmnop', 5), ['abcde', 'fghij', 'klmno', 'p'])
  t.same(wrap('one\ntwo', 20), ['one', 'two'])
  t.same(wrap('', 10), [''])
  for (const row of wrap('日本語のテキストを折り返す', 7)) t.ok(cellWidth(row) <= 7, `"${row}" fits in 7 cells`)
  t.same(sliceCells('😀😀😀', 3), ['😀', '😀', '😀'], 'a wide glyph is never split')
})

t.test('a peer cannot send escape sequences or bidi tricks to our terminal', async t => {
  const evil = 'hi\u001b[2J\u001b]0;pwned\u0007\r\u202eevil'
  const clean = terminalSafe(evil, { multiline: true })
  t.notOk(clean.includes('\u001b'), 'no ESC')
  t.notOk(clean.includes('\u0007') || clean.includes('\u202e'), 'no BEL, no right-to-left override')
  t.match(clean, /hi␛\[2J/, 'the ESC shows as its control picture')
  const rows = messageRows(msg({ seq: 1, text: evil }), BOB, 80)
  const shown = rows.map(plain).join('\n')
  t.notOk(shown.includes('\u001b'))
  t.match(shown, /␛\]0;pwned␇/, 'the chat screen shows it through the same sanitiser as the CLI')
  t.match(shown, /\\u\{202e\}evil/, 'the override shown as an escape, not obeyed')
  const named = messageRows(msg({ seq: 1 }), { ...BOB, name: 'b\u001b[31mob' }, 80)
  t.notOk(plain(named[0] as Row).includes('\u001b'), 'nor through their contact name')
})

t.test('a message row: time, who, text; continuation rows line up under the text', async t => {
  const when = new Date(2025, 2, 4, 9, 5).getTime()
  const rows = messageRows(msg({ seq: 1, timestamp: when, text: 'a long line that will certainly need to wrap around' }), BOB, 30)
  t.equal(plain(rows[0] as Row).slice(0, 11), '09:05 bob: ')
  t.ok(rows.length > 1)
  for (const r of rows.slice(1)) t.match(plain(r), /^ {11}\S/, 'indented to the text column')
  for (const r of rows) t.ok(rowWidth(r) <= 30)
})

t.test('our messages carry ✓ sent, ✓✓ delivered, ✓✓ read; theirs carry none', async t => {
  const mark = (status: 'sending' | 'sent' | 'delivered' | 'read'): string => plain(messageRows(msg({ seq: 1, direction: 'out', status, text: 'hi' }), BOB, 80)[0] as Row)
  t.match(mark('sent'), /you: hi ✓$/)
  t.match(mark('delivered'), /you: hi ✓✓$/)
  t.match(mark('read'), /you: hi ✓✓ read$/)
  t.match(mark('sending'), /you: hi …$/)
  t.equal(statusMark('received'), null)
  t.match(plain(messageRows(msg({ seq: 1, text: 'yo' }), BOB, 80)[0] as Row), /bob: yo$/)
  const full = messageRows(msg({ seq: 1, direction: 'out', status: 'read', text: 'x'.repeat(20) }), BOB, 34)
  t.equal(full.length, 2, 'a mark that does not fit goes on its own row')
  t.match(plain(full[1] as Row), /✓✓ read$/)
})

t.test('a separator marks each new day of the sender\'s clock', async t => {
  const day1 = new Date(2025, 2, 4, 23, 59).getTime()
  const day2 = new Date(2025, 2, 5, 0, 1).getTime()
  const rows = conversationRows([msg({ seq: 1, timestamp: day1 }), msg({ seq: 2, timestamp: day1 }), msg({ seq: 3, timestamp: day2 })], BOB, 60).map(plain)
  t.equal(rows.filter(r => r.includes('──')).length, 2)
  t.match(rows[0], formatDay(day1))
  t.match(rows[3], formatDay(day2))
  t.match(formatDay(day1), /^Tue 4 Mar 2025$/)
})

t.test('the header names the peer, a fingerprint prefix and the presence', async t => {
  t.equal(plain(headerRow(BOB, 'online', 80)), `dmess · bob (${'b'.repeat(12)}…) · ● online`)
  t.match(plain(headerRow({ fingerprint: BOB.fingerprint, name: null }, 'away', 80)), `dmess · ${'b'.repeat(12)}… · ◐ away`)
  t.ok(rowWidth(headerRow(BOB, 'connecting', 20)) <= 20)
})

t.test('the input line shows the cursor and scrolls sideways to keep it on screen', async t => {
  const row = inputRow({ text: 'hello', cursor: 2 }, 40)
  t.equal(plain(row), '› hello')
  t.same(row.find(s => s.style === 'cursor')?.text, 'l')
  t.same(inputRow({ text: 'hi', cursor: 2 }, 40).find(s => s.style === 'cursor')?.text, ' ', 'a block after the end')
  const long = 'x'.repeat(100) + 'END'
  const end = inputRow({ text: long, cursor: long.length }, 30)
  t.ok(rowWidth(end) <= 30)
  t.match(plain(end), /^› …x+END $/, 'the end of a long line, with … for what is cut off')
  const start = inputRow({ text: long, cursor: 0 }, 30)
  t.ok(rowWidth(start) <= 30)
  t.match(plain(start), /^› x+$/)
})

t.test('the screen fills the terminal less one row, every row within its width', async t => {
  const many = Array.from({ length: 50 }, (_, i) => msg({ seq: i + 1, direction: i % 2 === 0 ? 'in' : 'out', status: i % 2 === 0 ? 'read' : 'delivered', text: `line ${i} `.repeat(i % 7 + 1) }))
  for (const [cols, rows] of [[80, 24], [40, 10], [120, 40]] as const) {
    const { state } = open({ messages: many, cols, rows })
    const screen = chatScreen(state, T0)
    t.equal(screen.length, rows - 1, `${cols}x${rows}`)
    t.ok(screen.every(r => rowWidth(r) <= cols), 'no row overflows')
    t.match(plain(screen.at(-3) as Row), /line 49/, 'the newest message sits just above the status line')
  }
})

t.test('an empty conversation says how to start', async t => {
  const screen = chatScreen(open().state, T0).map(plain)
  t.match(screen.join('\n'), /No messages yet/)
})

t.test('the status line: typing, new messages below, notices', async t => {
  const { state } = open({ messages: Array.from({ length: 40 }, (_, i) => msg({ seq: i + 1, status: 'read' })), rows: 12 })
  let s = reduce(state, { type: 'event', event: { type: 'typing', peer: BOB.fingerprint, typing: true }, now: T0 }).state
  t.equal(plain(statusRow(s, T0)), 'bob is typing…')
  s = run(s, [{ type: 'key', key: { name: 'pageUp' }, now: T0 }, { type: 'event', event: { type: 'message', peer: BOB.fingerprint, message: msg({ seq: 41 }) }, now: T0 }]).state
  t.match(plain(statusRow(s, T0)), /↓ 1 new message/)
  s = run(s, [text('/nope'), { type: 'key', key: { name: 'enter' }, now: T0 }]).state
  t.match(plain(statusRow(s, T0)), /unknown command/)
})

t.test('the picker lists conversations with unread counts and keeps the selection in view', async t => {
  const items = Array.from({ length: 30 }, (_, i) => ({
    peer: { fingerprint: String(i).padStart(48, 'a'), name: i === 0 ? 'bob' : null },
    unread: i % 3,
    ...(i < 20 ? { last: msg({ seq: i + 1, text: `last ${i}` }) } : {})
  }))
  const s = { ...initialPicker(items), selected: 25 }
  const rows = pickerScreen(s, 80, 12).map(plain)
  t.equal(rows.length, 11)
  t.ok(rows.some(r => r.startsWith('› 26.')), 'the selected row is on screen')
  const first = pickerScreen(initialPicker(items), 80, 12).map(plain)
  t.match(first[2], /^› {2}1\. bob \(a{12}…\)/)
  t.match(first[3], /^ {3}2\. a{12}… {2}1 unread {2}10:02 last 1$/)
  t.match(pickerScreen({ ...initialPicker(items), selected: 22 }, 200, 40).map(plain).join('\n'), /23\. .*no messages yet/)
})

t.test('the input row of a 64 KiB line shows the text around the cursor, as for a short one', async t => {
  const long = 'word '.repeat(13_107) + 'end'
  const atEnd = inputRow({ text: long, cursor: long.length }, 40).map(s => s.text).join('')
  t.equal(atEnd.length, 40, 'fills the row exactly')
  t.match(atEnd, /^› ….*end $/, 'the end of the line, then the cursor')
  const nearStart = inputRow({ text: long, cursor: 20 }, 40).map(s => s.text).join('')
  t.match(nearStart, /^› word word word word word word/, 'near the start: no ellipsis')
  t.equal(nearStart.length, 40, 'the text after the cursor runs to the edge')
})
