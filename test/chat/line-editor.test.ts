// The input line's edits, as a user at a shell prompt expects them (readline's emacs keys).
import t from 'tap'
import * as ed from '../../src/chat/line-editor.js'

const at = (text: string, cursor: number): ed.LineState => ({ text, cursor })

t.test('typing inserts at the cursor, not only at the end', async t => {
  let s = ed.insert(ed.EMPTY_LINE, 'helo')
  t.same(s, at('helo', 4))
  s = ed.insert(ed.left(ed.left(s)), 'l')
  t.same(s, at('hello', 3))
  t.same(ed.insert(s, ''), s, 'an empty insert changes nothing')
})

t.test('a paste loses control characters and turns line breaks into spaces', async t => {
  t.same(ed.insert(ed.EMPTY_LINE, 'one\r\ntwo\nthree\tfour'), at('one two three four', 18))
  t.same(ed.insert(ed.EMPTY_LINE, 'a\u001b[31mb\u0007'), at('a[31mb', 6), 'ESC and BEL are dropped: nothing reaches the terminal or the peer')
})

t.test('backspace and delete remove one character on either side', async t => {
  t.same(ed.backspace(at('abc', 3)), at('ab', 2))
  t.same(ed.backspace(at('abc', 1)), at('bc', 0))
  t.same(ed.backspace(at('abc', 0)), at('abc', 0), 'nothing before the start')
  t.same(ed.deleteForward(at('abc', 1)), at('ac', 1))
  t.same(ed.deleteForward(at('abc', 3)), at('abc', 3), 'nothing after the end')
})

t.test('an emoji or an accented letter is one step and one deletion', async t => {
  const family = '👨‍👩‍👧'
  const s = ed.lineOf(`a${family}e\u0301`) // e + combining acute
  t.same(ed.backspace(s), at(`a${family}`, 1 + family.length), 'e + accent go together')
  const beforeE = ed.left(s)
  t.equal(beforeE.cursor, 1 + family.length)
  const beforeFamily = ed.left(beforeE)
  t.equal(beforeFamily.cursor, 1, 'left jumps over the whole family')
  t.same(ed.deleteForward(beforeFamily), at('ae\u0301', 1))
  t.equal(ed.right(beforeFamily).cursor, 1 + family.length)
  t.same(ed.backspace(at('x😀', 3)), at('x', 1), 'a surrogate pair is never split')
})

t.test('left/right stop at the ends; home/end jump there', async t => {
  t.same(ed.left(at('ab', 0)), at('ab', 0))
  t.same(ed.right(at('ab', 2)), at('ab', 2))
  t.same(ed.home(at('abc', 2)), at('abc', 0))
  t.same(ed.end(at('abc', 0)), at('abc', 3))
})

t.test('Ctrl-U erases to the start, Ctrl-K to the end', async t => {
  t.same(ed.killToStart(at('hello world', 6)), at('world', 0))
  t.same(ed.killToStart(at('hello', 5)), at('', 0))
  t.same(ed.killToEnd(at('hello world', 5)), at('hello', 5))
})

t.test('Ctrl-W erases the word before the cursor and the spaces after it', async t => {
  t.same(ed.killWord(at('see you at noon', 15)), at('see you at ', 11))
  t.same(ed.killWord(at('see you   ', 10)), at('see ', 4), 'trailing spaces go with the word')
  t.same(ed.killWord(at('see you at noon', 7)), at('see  at noon', 4), 'from the middle of the line')
  t.same(ed.killWord(at('word', 0)), at('word', 0))
})

t.test('word moves skip to word boundaries', async t => {
  t.equal(ed.wordLeft(at('one two three', 13)).cursor, 8)
  t.equal(ed.wordLeft(at('one two three', 8)).cursor, 4)
  t.equal(ed.wordRight(at('one two three', 0)).cursor, 3)
  t.equal(ed.wordRight(at('one two three', 3)).cursor, 7)
})

t.test('insertWithin keeps the line within a byte budget, cutting between graphemes', async t => {
  const r = ed.insertWithin(ed.EMPTY_LINE, 'ab👍🏽cd', 6)
  t.same(r, { line: at('ab', 2), cut: true }, 'a 8-byte emoji with its skin tone does not fit in 4 bytes: left out whole')
  const fits = ed.insertWithin(at('ab', 2), '👍🏽', 10)
  t.same(fits, { line: at('ab👍🏽', 6), cut: false })
  t.same(ed.insertWithin(at('abc', 3), 'd', 3), { line: at('abc', 3), cut: true }, 'full: nothing more')
  t.same(ed.insertWithin(at('ac', 1), 'b', 3), { line: at('abc', 2), cut: false }, 'in the middle too')
})
