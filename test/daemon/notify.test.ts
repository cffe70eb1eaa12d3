// The notifier's decisions without a desktop (src/daemon/notify.ts): which events it announces
// (incoming messages, a stranger's new contact request),
// what it shows in each mode, and that a flood queues a bounded number. notify-send itself is
// replaced by a recorder here; test/e2e/notify.test.ts runs a fake one from a daemon's PATH.
import t from 'tap'
import pino from 'pino'
import { EventBus } from '../../src/runtime/events.js'
import { Notifier, notifyArgs, requestNotifyArgs, NOTIFY_BODY_CHARS, NOTIFY_QUEUE } from '../../src/daemon/notify.js'
import type { NotifyMode } from '../../src/config/schema.js'

const FP = 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop'
const log = pino({ level: 'silent' })

function message (text: string, direction = 'in', peer = FP): { type: 'message', peer: string, message: { direction: string, text: string } } {
  return { type: 'message', peer, message: { direction, text } }
}

async function setup (mode: NotifyMode, opts: { watched?: () => boolean, hold?: Promise<void> } = {}): Promise<{ events: EventBus, calls: string[][], notifier: Notifier }> {
  const events = new EventBus()
  const calls: string[][] = []
  const notifier = new Notifier({
    mode, events, log,
    watched: opts.watched ?? (() => false),
    contactName: async fp => fp === FP ? 'bob' : undefined,
    run: async args => { calls.push(args); await opts.hold }
  })
  await notifier.start()
  return { events, calls, notifier }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await new Promise(resolve => setImmediate(resolve)) }

t.test('body: who and the text; sender: who only; off: nothing', async t => {
  for (const [mode, want] of [['body', [['--app-name=dmess', '--category=im.received', '--', 'dmess: bob', 'hi &lt;3']]], ['sender', [['--app-name=dmess', '--category=im.received', '--', 'dmess', 'New message from bob']]], ['off', []]] as const) {
    const { events, calls, notifier } = await setup(mode)
    events.emit(message('hi <3'))
    await settle()
    t.same(calls, want, mode)
    await notifier.stop()
  }
})

t.test('only incoming messages, only while nothing watches, unknown senders by fingerprint', async t => {
  let watched = true
  const { events, calls } = await setup('sender', { watched: () => watched })
  events.emit(message('seen in the chat'))
  events.emit(message('mine', 'out'))
  events.emit({ type: 'receipt', peer: FP })
  await settle()
  t.same(calls, [], 'nothing while the chat shows it, nothing for our own or for receipts')
  watched = false
  events.emit(message('x', 'in', 'q'.repeat(48)))
  await settle()
  t.same(calls.map(c => c.at(-1)), [`New message from ${'q'.repeat(12)}…`])
})

function request (action: string, fingerprint: string, name?: string, text?: string): { type: 'request', action: string, request: Record<string, unknown> } {
  return { type: 'request', action, request: { fingerprint, timestamp: 1, held: 1, ...(name === undefined ? {} : { name }), ...(text === undefined ? {} : { text }) } }
}

t.test("a stranger's request: announced once, when it comes, by fingerprint with the name it gave quoted", async t => {
  const Q = 'q'.repeat(48)
  for (const [mode, want] of [
    ['sender', [['--app-name=dmess', '--category=im.received', '--', 'dmess', `Contact request from ${'q'.repeat(12)}… ("mallory &lt;3")`]]],
    ['body', [['--app-name=dmess', '--category=im.received', '--', `dmess: contact request from ${'q'.repeat(12)}… ("mallory <3")`, 'hello, it is me']]],
    ['off', []]
  ] as const) {
    const { events, calls, notifier } = await setup(mode)
    events.emit(request('received', Q, 'mallory <3', 'hello, it is me'))
    events.emit(request('updated', Q, 'mallory <3', 'hello, it is me'))
    events.emit(request('accepted', Q, 'mallory <3', 'hello, it is me'))
    await settle()
    t.same(calls, want, `${mode}: one notification, for the new request only (markup escaped in the body, which servers may read as markup)`)
    await notifier.stop()
  }
  let watched = true
  const { events, calls } = await setup('sender', { watched: () => watched })
  events.emit(request('received', Q))
  await settle()
  t.same(calls, [], 'nothing while the chat shows it')
  watched = false
  events.emit(request('received', Q))
  await settle()
  t.same(calls.map(c => c.at(-1)), [`Contact request from ${'q'.repeat(12)}…`], 'no name given: the fingerprint alone')
  t.equal(requestNotifyArgs('body', Q, undefined, undefined).at(-1), 'wants to add you as a contact', 'body mode, no text yet: what the request is')
})

t.test('a request\'s name and greeting are cleaned and cut like a message', async t => {
  const args = requestNotifyArgs('body', 'abcdefghijklmnop', '\u202ebob\u001b' + 'n'.repeat(500), 'x'.repeat(500))
  t.ok(args[3]!.startsWith('dmess: contact request from abcdefghijkl… ("bob n'), 'controls become spaces')
  t.ok(args[3]!.endsWith('…")'), 'a long name is cut')
  t.equal([...args[4]!].length, NOTIFY_BODY_CHARS)
})

t.test('text is cleaned and cut; a leading dash stays an argument', async t => {
  const args = notifyArgs('body', '-bob\u001b[31m', '\u202eevil\nline ' + 'x'.repeat(500))
  t.equal(args[2], '--', 'options end before the name and text')
  t.equal(args[3], 'dmess: -bob [31m')
  t.equal([...args[4]!].length, NOTIFY_BODY_CHARS)
  t.ok(args[4]!.startsWith('evil line x'))
  t.ok(args[4]!.endsWith('…'))
})

t.test('one notify-send at a time; a flood queues a bounded number and drops the rest', async t => {
  let release!: () => void
  const hold = new Promise<void>(resolve => { release = resolve })
  const { events, calls, notifier } = await setup('body', { hold })
  for (let i = 0; i < 50; i++) events.emit(message(`m${i}`))
  await settle()
  t.equal(calls.length, 1, 'the first runs; the rest wait')
  release()
  await settle()
  t.equal(calls.length, 1 + NOTIFY_QUEUE, 'then the queued ones, in order')
  t.same(calls.map(c => c.at(-1)).slice(0, 3), ['m0', 'm1', 'm2'])
  t.equal(notifier.counters.dropped, 50 - 1 - NOTIFY_QUEUE)
})

t.test('notify-send missing: one warning, then no more tries', async t => {
  const events = new EventBus()
  let tries = 0
  const warned: string[] = []
  const notifier = new Notifier({
    mode: 'sender', events, watched: () => false, contactName: async () => 'bob',
    log: { ...log, warn: (m: string) => { warned.push(m) }, debug: () => {} } as unknown as pino.Logger,
    run: async () => { tries++; throw Object.assign(new Error('spawn notify-send ENOENT'), { code: 'ENOENT' }) }
  })
  await notifier.start()
  events.emit(message('a'))
  await settle()
  events.emit(message('b'))
  await settle()
  t.equal(tries, 1)
  t.match(warned, [/notify-send is not on PATH/])
})
