// holdRawMode (src/chat/tty.ts): the terminal stays raw while held whatever ink asks, and gets
// back the mode it had, with the stream's own setRawMode.
import t from 'tap'
import { holdRawMode, type RawModeInput } from '../../src/chat/tty.js'

class TtyLike implements RawModeInput {
  isRaw = false
  readonly modes: boolean[] = []
  setRawMode (mode: boolean): this { this.isRaw = mode; this.modes.push(mode); return this }
}

t.test('raw at once; ink turning it off and on again changes nothing; cooked again on release', async t => {
  const tty = new TtyLike()
  const release = holdRawMode(tty)
  t.equal(tty.isRaw, true, 'raw as soon as held')
  tty.setRawMode(false) // ink, as an app unmounts
  t.equal(tty.isRaw, true, 'still raw')
  tty.setRawMode(true)
  release()
  t.equal(tty.isRaw, false, 'the mode it had')
  t.same(tty.modes, [true, false], 'the terminal saw one switch each way')
  t.notOk(Object.hasOwn(tty, 'setRawMode'), 'the prototype method is back')
  tty.setRawMode(true)
  t.equal(tty.isRaw, true, 'and works again')
  release()
  t.equal(tty.isRaw, true, 'a second release does nothing')
})

t.test('a terminal that was already raw stays raw; an own setRawMode is put back', async t => {
  const modes: boolean[] = []
  const own = (mode: boolean): unknown => { modes.push(mode); stream.isRaw = mode; return stream }
  const stream: RawModeInput = { isRaw: true, setRawMode: own }
  const release = holdRawMode(stream)
  release()
  t.equal(stream.isRaw, true)
  t.equal(stream.setRawMode, own)
  t.same(modes, [true, true])
})
