// holdRawMode (src/chat/tty.ts): the terminal stays raw while held whatever ink asks, and gets
// back the mode it had, with the stream's own setRawMode. takeTypeAhead: keys typed while the
// terminal was cooked, each LF back to the Enter it was, in front of what comes next.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { holdRawMode, takeTypeAhead, typedAheadAsKeys, type RawModeInput } from '../../src/chat/tty.js'

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

t.test('typed ahead: each LF back to Enter (CR), everything else as typed', async t => {
  t.same(typedAheadAsKeys(Buffer.from('hi\nthere\r\u001b[Aé\n')), Buffer.from('hi\rthere\r\u001b[Aé\r'))
  t.same(typedAheadAsKeys(Buffer.alloc(0)), Buffer.alloc(0))
})

t.test('takeTypeAhead puts what was waiting back in front, as keys, for the next reader', async t => {
  const stdin = new PassThrough()
  stdin.write('/help\n')
  stdin.write('x\n')
  await takeTypeAhead(stdin)
  t.equal(stdin.listenerCount('readable'), 0, 'its reader is gone')
  stdin.write('\n') // after: raw, Ctrl-J
  stdin.setEncoding('utf8')
  const read: string[] = []
  await new Promise<void>(resolve => {
    stdin.on('readable', () => {
      let c: string | null
      while ((c = stdin.read() as string | null) !== null) read.push(c)
      if (read.join('').length === 9) resolve()
    })
  })
  t.equal(read.join(''), '/help\rx\r\n')
})

t.test('takeTypeAhead with nothing typed leaves the stream as it was', async t => {
  const stdin = new PassThrough()
  await takeTypeAhead(stdin)
  t.equal(stdin.readableLength, 0)
  t.equal(stdin.listenerCount('readable'), 0)
})
