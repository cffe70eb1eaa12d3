// The controller carries out what the state model asks for, against a backend: the calls a user's
// actions cause, and what comes back onto the screen.
import t from 'tap'
import { ChatController } from '../../src/chat/controller.js'
import { FakeBackend, until } from './fakes.js'
import { BOB, T0, msg } from './helpers.js'
import type { KeyPress } from '../../src/chat/key-press.js'

function setup (messages = [msg({ seq: 1, text: 'hello' })], historyPage = 200): { backend: FakeBackend, c: ChatController, clock: { now: number } } {
  const clock = { now: T0 }
  const backend = new FakeBackend(BOB, () => clock.now)
  backend.messages = messages
  const c = new ChatController(backend, { peer: BOB, messages, presence: 'online', hasOlder: messages.length === historyPage, cols: 80, rows: 24 }, { now: () => clock.now, historyPage })
  return { backend, c, clock }
}

const keys = (c: ChatController, ks: KeyPress[]): void => { for (const key of ks) c.dispatch({ type: 'key', key, now: c.now }) }
const type = (c: ChatController, s: string): void => keys(c, [{ name: 'text', text: s }, { name: 'enter' }])

t.test('start marks the shown history read; the receipt the daemon emits updates the screen', async t => {
  const { backend, c } = setup()
  await backend.subscribe(ev => c.dispatch({ type: 'event', event: ev, now: c.now }))
  t.same(backend.callsOf('markRead'), [], 'nothing before start')
  c.start()
  await c.settle(1000)
  t.same(backend.callsOf('markRead'), [[BOB.fingerprint]])
  t.equal(c.state.messages[0]?.status, 'read')
})

t.test('typing a line and Enter: one TYPING, one send, the message shows from the daemon event', async t => {
  const { backend, c } = setup([])
  await backend.subscribe(ev => c.dispatch({ type: 'event', event: ev, now: c.now }))
  let changes = 0
  c.subscribe(() => { changes++ })
  type(c, 'see you at noon')
  await c.settle(1000)
  t.same(backend.callsOf('typing'), [[BOB.fingerprint, true]])
  t.same(backend.callsOf('send'), [[BOB.fingerprint, 'see you at noon']])
  t.match(c.state.messages, [{ direction: 'out', text: 'see you at noon', status: 'sending' }])
  t.ok(changes > 0, 'subscribers heard about it')
})

t.test('a refused send comes back as a notice with the text on the line', async t => {
  const { backend, c } = setup([])
  backend.failSend = 'the message is 70000 bytes; the limit is 65536'
  type(c, 'too long')
  await c.settle(1000)
  t.match(c.state.notice, { kind: 'error', text: /not sent: the message is 70000 bytes/ })
  t.equal(c.state.input.text, 'too long')
})

t.test('incoming messages are marked read while the view is at the bottom', async t => {
  const { backend, c } = setup([])
  await backend.subscribe(ev => c.dispatch({ type: 'event', event: ev, now: c.now }))
  c.start()
  backend.receive('are you there?')
  await c.settle(1000)
  await until(() => c.state.messages[0]?.status === 'read', 'the read mark')
  t.same(backend.callsOf('markRead').length, 1)
})

t.test('PgUp past the top fetches the previous page', async t => {
  const all = Array.from({ length: 30 }, (_, i) => msg({ seq: i + 1, status: 'read' }))
  const { backend, c } = setup(all.slice(20), 10)
  backend.messages = all
  keys(c, Array.from({ length: 5 }, () => ({ name: 'pageUp' as const })))
  await c.settle(1000)
  t.same(backend.callsOf('history'), [[BOB.fingerprint, { limit: 10, before: 21 }]])
  t.same(c.state.messages.map(m => m.seq), Array.from({ length: 20 }, (_, i) => i + 11))
  t.equal(c.state.hasOlder, true, 'a full page: there may be more')
})

t.test('quit runs the exit hook, even when it is set after the quit', async t => {
  const { c } = setup([])
  let quit = 0
  c.onQuit(() => { quit++ })
  type(c, '/quit')
  t.equal(quit, 1)
  const late = setup([]).c
  type(late, '/quit')
  let lateQuit = 0
  late.onQuit(() => { lateQuit++ })
  t.equal(lateQuit, 1)
})

t.test('losing the daemon ends the chat with the reason', async t => {
  const { backend, c } = setup([])
  let quit = 0
  c.onQuit(() => { quit++ })
  backend.onClose(err => c.fail(err))
  backend.dropConnection()
  t.equal(quit, 1)
  t.match(c.failure?.message, /closed the connection/)
  c.fail(new Error('again'))
  t.equal(quit, 1, 'once')
})

t.test('idle typing is stopped by the clock', async t => {
  const { backend, c, clock } = setup([])
  keys(c, [{ name: 'text', text: 'hm' }])
  clock.now += 6000
  c.dispatch({ type: 'tick', now: clock.now })
  await c.settle(1000)
  t.same(backend.callsOf('typing'), [[BOB.fingerprint, true], [BOB.fingerprint, false]])
})
