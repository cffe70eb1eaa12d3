// The ink app drawn on a fake terminal: what a user sees and what their keys do, without a TTY.
// ink's `debug` mode writes every frame whole, so the last write is the screen.
import './interactive-env.js'
import t, { type Test } from 'tap'
import { createElement } from 'react'
import { render } from 'ink'
import { ChatApp } from '../../src/chat/app.js'
import { ChatController } from '../../src/chat/controller.js'
import { runChat } from '../../src/chat/run.js'
import { isDmessError } from '../../src/errors.js'
import { FakeBackend, FakeStdout, fakeStdin, until } from './fakes.js'
import { BOB, msg } from './helpers.js'
import { CONNECTING_SHOW_MS } from '../../src/chat/screen.js'

function mount (t: Test, backend: FakeBackend, stdin = fakeStdin()): { out: FakeStdout, stdin: NodeJS.ReadStream, c: ChatController, done: Promise<void>, frame: () => string } {
  const out = new FakeStdout(80, 16)
  const c = new ChatController(backend, { peer: BOB, messages: backend.messages, presence: backend.presenceState, hasOlder: false, cols: 80, rows: 16 }, { now: Date.now })
  void backend.subscribe(ev => c.dispatch({ type: 'event', event: ev, now: Date.now() }))
  const inst = render(createElement(ChatApp, { controller: c }), { stdout: out.stream, stdin, debug: true, exitOnCtrlC: false, patchConsole: false })
  t.teardown(() => inst.unmount()) // a failed wait must not leave the app holding the process open
  return { out, stdin, c, done: inst.waitUntilExit().then(() => undefined), frame: () => out.writes.at(-1) ?? '' }
}

t.test('the chat screen: header, history with marks, input; keys edit and Enter sends; /quit leaves', async t => {
  const backend = new FakeBackend(BOB)
  backend.messages = [msg({ seq: 1, text: 'hi there', status: 'read' }), msg({ seq: 2, direction: 'out', text: 'hello bob', status: 'delivered' })]
  const { stdin, frame, done } = mount(t, backend)
  await until(() => frame().includes('hello bob'), 'the history')
  t.match(frame(), /dmess · bob \(b{12}…\) · ● online/)
  t.match(frame(), /bob: hi there/)
  t.match(frame(), /you: hello bob ✓✓/)
  stdin.write('helo')
  await until(() => frame().includes('› helo'), 'typed text')
  stdin.write('\u001b[D') // left
  stdin.write('l')
  await until(() => frame().includes('› hello'), 'an insert before the last letter')
  stdin.write('\r')
  await until(() => backend.callsOf('send').length === 1, 'the send')
  t.same(backend.callsOf('send')[0], [BOB.fingerprint, 'hello'])
  await until(() => /you: hello …/.test(frame()), 'the sent message on screen')
  backend.emit({ type: 'typing', peer: BOB.fingerprint, typing: true })
  await until(() => frame().includes('bob is typing…'), 'the typing line')
  backend.receive('reply!')
  await until(() => frame().includes('bob: reply!') && !frame().includes('is typing'), 'the reply, and the typing line gone')
  stdin.write('/quit\r')
  await done
  t.pass('the app exited')
})

t.test('the header follows the clock without a change of state: a link connecting too long is shown as offline', async t => {
  const clock = { now: Date.now() }
  const backend = new FakeBackend(BOB)
  const out = new FakeStdout(100, 16)
  const c = new ChatController(backend, { peer: { ...BOB, verified: true, lastSeen: clock.now - 3 * 3600_000 }, messages: [], presence: 'connecting', hasOlder: false, cols: 100, rows: 16, now: clock.now }, { now: () => clock.now })
  const inst = render(createElement(ChatApp, { controller: c, redrawMs: 20 }), { stdout: out.stream, stdin: fakeStdin(), debug: true, exitOnCtrlC: false, patchConsole: false })
  t.teardown(() => inst.unmount())
  const frame = (): string => out.writes.at(-1) ?? ''
  await until(() => frame().includes('◌ connecting… · ✓ verified'), 'connecting, at first')
  clock.now += CONNECTING_SHOW_MS
  await until(() => frame().includes('○ offline · last seen 3 h ago · ✓ verified'), 'offline with when he was last seen')
  t.pass('the header changed with the clock alone')
})

t.test('Ctrl-C leaves as /quit does', async t => {
  const backend = new FakeBackend(BOB)
  const { stdin, done, frame } = mount(t, backend)
  await until(() => frame().includes('No messages yet'), 'the empty conversation')
  stdin.write('\u0003')
  await done
  t.pass('exited on Ctrl-C')
})

t.test('without a TTY the app refuses with one line instead of throwing from useInput', async t => {
  const backend = new FakeBackend(BOB)
  const { done } = mount(t, backend, fakeStdin(false))
  const err = await done.then(() => null, (e: unknown) => e)
  t.ok(isDmessError(err) && err.code === 'NOT_A_TERMINAL', 'NOT_A_TERMINAL')
  t.match((err as Error).message, /needs an interactive terminal/)
})

t.test('runChat refuses a non-terminal before drawing anything, and closes the backend', async t => {
  const backend = new FakeBackend(BOB)
  const out = new FakeStdout()
  const err = await runChat({ backend, query: 'bob', stdin: fakeStdin(false), stdout: out.stream }).then(() => null, (e: unknown) => e)
  t.ok(isDmessError(err) && err.code === 'NOT_A_TERMINAL')
  t.equal(out.text, '', 'nothing written to the terminal')
  t.equal(backend.closed, true)
})

t.test('runChat: an unknown contact fails before the screen is taken over', async t => {
  const backend = new FakeBackend(BOB)
  const out = new FakeStdout()
  const err = await runChat({ backend, query: 'zed', stdin: fakeStdin(), stdout: out.stream }).then(() => null, (e: unknown) => e)
  t.ok(isDmessError(err) && err.code === 'CONTACT_NOT_FOUND')
  t.equal(out.text, '')
})

t.test('runChat without a contact: pick by number, chat, quit; the alternate screen is entered and left', async t => {
  const backend = new FakeBackend(BOB)
  backend.messages = [msg({ seq: 1, text: 'unread one' })]
  backend.convs = [
    { peer: { fingerprint: 'c'.repeat(48), name: 'carol' }, unread: 0, last: msg({ seq: 5, text: 'old news', status: 'read' }) },
    { peer: BOB, unread: 1, last: backend.messages[0] }
  ]
  const out = new FakeStdout(80, 16)
  const stdin = fakeStdin()
  const running = runChat({ backend, stdin, stdout: out.stream })
  t.teardown(() => { stdin.write('\u0003') })
  await until(() => out.text.includes('1 unread'), 'the list')
  t.match(out.text, /carol/)
  stdin.write('2')
  await until(() => out.text.includes('#2'), 'the typed number shown') // the picker took the key before Enter
  stdin.write('\r')
  await until(() => out.text.includes('bob: unread one'), 'the chosen conversation')
  t.same(backend.callsOf('resolve'), [[BOB.fingerprint]], 'opened by fingerprint')
  await until(() => backend.callsOf('markRead').length === 1, 'the unread message marked read')
  stdin.write('\u0003')
  await running
  t.ok(out.text.startsWith('\u001b[?1049h'), 'entered the alternate screen first')
  t.ok(out.text.endsWith('\u001b[?1049l'), 'and left it last')
  t.equal(backend.closed, true)
})

t.test('runChat: the daemon going away ends the chat with an error after restoring the screen', async t => {
  const backend = new FakeBackend(BOB)
  const out = new FakeStdout(80, 16)
  const stdin = fakeStdin()
  const running = runChat({ backend, query: 'bob', stdin, stdout: out.stream })
  t.teardown(() => { stdin.write('\u0003') })
  await until(() => out.text.includes('No messages yet'), 'the chat')
  backend.dropConnection()
  const err = await running.then(() => null, (e: unknown) => e)
  t.ok(isDmessError(err) && err.code === 'IPC')
  t.match((err as Error).message, /lost the connection to the daemon/)
  t.ok(out.text.endsWith('\u001b[?1049l'), 'the screen is restored')
})

t.test('runChat: with no conversations and no contacts there is nothing to pick', async t => {
  const backend = new FakeBackend(BOB)
  const out = new FakeStdout()
  const err = await runChat({ backend, stdin: fakeStdin(), stdout: out.stream }).then(() => null, (e: unknown) => e)
  t.ok(isDmessError(err) && err.code === 'CONTACT_NOT_FOUND')
  t.match((err as Error).message, /dmess contacts add/)
  t.equal(out.text, '')
})

/** A fake terminal stdin whose raw mode is tracked, as tty.ReadStream's `isRaw` is. */
function trackedStdin (): NodeJS.ReadStream & { isRaw: boolean } {
  const s = fakeStdin() as NodeJS.ReadStream & { isRaw: boolean }
  s.isRaw = false
  s.setRawMode = (mode: boolean) => { s.isRaw = mode; return s }
  return s
}

/** Records, with each write, whether the terminal was in raw mode at that moment. */
class RawAwareStdout extends FakeStdout {
  readonly rawAtWrite: boolean[] = []
  constructor (readonly stdin: { isRaw: boolean }) { super(80, 16) }
  override write (chunk: string): boolean { this.rawAtWrite.push(this.stdin.isRaw); return super.write(chunk) }
}

// A key that reaches a cooked terminal is echoed, and its Enter (CR) becomes LF (ICRNL): drawn
// as ↵ and never sent. ink switches raw mode on only after its first frame, and off when the
// picker unmounts, so someone typing as soon as the screen shows lost their Enter.
t.test('runChat: the terminal is raw before the first byte is drawn, through the picker and the chat, and given back after', async t => {
  const backend = new FakeBackend(BOB)
  backend.convs = [{ peer: BOB, unread: 0 }]
  const stdin = trackedStdin()
  const out = new RawAwareStdout(stdin)
  const running = runChat({ backend, stdin, stdout: out.stream })
  t.teardown(() => { stdin.write('\u0003') })
  await until(() => out.text.includes('bob'), 'the list')
  stdin.write('1\r')
  await until(() => out.text.includes('No messages yet'), 'the chat')
  stdin.write('/quit\r')
  await running
  t.ok(out.rawAtWrite.length > 2, 'the picker and the chat were drawn')
  t.same(out.rawAtWrite.map((raw, i) => raw ? null : JSON.stringify(out.writes[i]?.slice(0, 40))).filter(w => w !== null), [], 'no write while the terminal was cooked')
  t.equal(stdin.isRaw, false, 'cooked again after')
})

// What is typed while `dmess chat` starts reaches a cooked terminal, whose ICRNL has made each
// Enter an LF by the time raw mode is on: read before the first frame, it is Enter again. Once
// the screen is up, LF is Ctrl-J, a line break in the message.
t.test('runChat: keys typed before the screen is drawn are the keys meant; after it, LF is Ctrl-J', async t => {
  const backend = new FakeBackend(BOB)
  const stdin = trackedStdin()
  const out = new RawAwareStdout(stdin)
  stdin.write('typed ahead\n')
  const running = runChat({ backend, query: 'bob', stdin, stdout: out.stream })
  t.teardown(() => { stdin.write('\u0003') })
  await until(() => backend.callsOf('send').length === 1, 'the typed-ahead line sent')
  t.same(backend.callsOf('send')[0], [BOB.fingerprint, 'typed ahead'])
  stdin.write('two\nlines\r')
  await until(() => backend.callsOf('send').length === 2, 'the second message')
  t.same(backend.callsOf('send')[1], [BOB.fingerprint, 'two\nlines'], 'a line break, once drawn')
  stdin.write('/quit\r')
  await running
})
