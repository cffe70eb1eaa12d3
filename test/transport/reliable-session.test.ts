// ReliableSession lifecycle over real UDP on 127.0.0.1, two endpoints in this process
// (session.md, "Reliable delivery over a session"): what a close does to data in flight, a
// peer's close, a peer that breaks the channel protocol, a reader that stops (flow control), the
// async iterator's high-water mark, size limits and a throwing listener.
import t, { type Test } from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession, type ReliableCloseInfo } from '../../src/transport/reliable-session.js'
import { encodePacket } from '../../src/transport/reliable/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { isDmessError } from '../../src/errors.js'
import { RELIABLE_SESSION_RECV_WINDOW_BYTES as WINDOW } from '../../src/transport/reliable-session-constants.js'
import { until } from './fixtures/tap.js'

interface Pair { a: ReliableSession, b: ReliableSession, sa: Session, sb: Session }

async function sessions (t: Test): Promise<{ sa: Session, sb: Session }> {
  const ea = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const eb = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  t.teardown(async () => { await ea.close(); await eb.close() })
  const inbound = new Promise<Session>(resolve => eb.once('session', resolve))
  const sa = await ea.connect(eb.address, { expectFingerprint: eb.fingerprint })
  return { sa, sb: await inbound }
}

async function pair (t: Test, optsB: ConstructorParameters<typeof ReliableSession>[1] = {}): Promise<Pair> {
  const { sa, sb } = await sessions(t)
  return { a: new ReliableSession(sa), b: new ReliableSession(sb, optsB), sa, sb }
}

/**
 * The paused reader's window is shut: it holds a window's worth and the sender has nothing in
 * flight (every byte it was allowed to send is acknowledged; it may send no more).
 */
const windowShut = async (sender: ReliableSession, reader: ReliableSession): Promise<void> => {
  await until(() => reader.stats.recvBufferedBytes >= WINDOW && sender.stats.bytesInFlight === 0, 10_000, 'the reader\'s window to shut')
}
const closed = async (r: ReliableSession): Promise<ReliableCloseInfo> => await new Promise(resolve => r.once('close', resolve))
const code = (err: unknown): string => isDmessError(err) ? err.code : String(err)

t.test('close() with data the peer has not acknowledged: sends and flushes reject, close says how much', async t => {
  const { a, b } = await pair(t)
  b.pause() // the peer stops reading: its window closes and our data stays unacknowledged
  const msg = new Uint8Array(1024 * 1024)
  const sends = Array.from({ length: 12 }, async () => await a.send(msg).then(() => 'ok', code))
  const flushed = a.flushed().then(() => 'ok', code)
  await windowShut(a, b)
  const bClosed = closed(b)
  const info = closed(a)
  a.close()
  const ai = await info
  t.equal(ai.reason, 'local')
  t.ok(ai.unackedBytes > 0, `${ai.unackedBytes} bytes were never acknowledged`)
  t.ok(ai.unsentMessages > 0, `${ai.unsentMessages} messages were still waiting for buffer room`)
  const results = await Promise.all(sends)
  t.ok(results.includes('ok') && results.includes('SESSION_CLOSED'), 'sends that got in resolved; the waiting ones rejected with SESSION_CLOSED')
  t.equal(await flushed, 'SESSION_CLOSED', 'flushed() rejects')
  t.equal(await a.send(msg).then(() => 'ok', code), 'SESSION_CLOSED', 'send after close rejects')
  t.equal(await a.flushed().then(() => 'ok', code), 'SESSION_CLOSED')
  t.equal((await bClosed).reason, 'peer', 'the peer sees an authenticated close')
})

t.test('messages the peer acknowledged are delivered even when it closes at once', async t => {
  const { a, b } = await pair(t)
  b.pause()
  for (let i = 0; i < 50; i++) await a.send(Buffer.from(`m${i}`))
  await a.flushed() // b's channel holds them all (acknowledged), its application has read none
  const got: string[] = []
  b.on('message', m => { got.push(Buffer.from(m).toString()) })
  const bClosed = closed(b)
  a.close()
  const info = await bClosed
  t.equal(info.reason, 'peer')
  t.equal(info.unackedBytes, 0)
  t.same(got, Array.from({ length: 50 }, (_, i) => `m${i}`), 'all 50, in order, before close')
})

t.test("the peer's close ends our iterator and rejects our pending flush", async t => {
  const { a, b } = await pair(t)
  const it = a.messages()
  b.pause()
  // b takes neither: the first completes, then b's window (1 MiB) stops the second (reliable.md §9)
  await a.send(new Uint8Array(3 * 1024 * 1024))
  await a.send(new Uint8Array(3 * 1024 * 1024))
  const flushed = a.flushed().then(() => 'ok', code)
  await windowShut(a, b)
  b.close()
  t.same(await it.next(), { value: undefined, done: true }, 'the iterator finishes')
  t.equal(await flushed, 'SESSION_CLOSED')
  t.equal(a.closed?.reason, 'peer')
})

t.test('a peer that breaks the channel protocol: CHANNEL_FAILED, the session is closed', async t => {
  const { sa, sb } = await sessions(t)
  const a = new ReliableSession(sa)
  const info = closed(a)
  const bClosed = new Promise(resolve => sb.once('close', resolve))
  // a length prefix above the limit both ends use: the stream cannot be resynchronised
  const tooLong = new Uint8Array([0xff, 0xff, 0xff, 0xff])
  sb.send(encodePacket({ pn: 0, frames: [{ type: 0x01, offset: 0, payload: tooLong }] }))
  const i = await info
  t.equal(i.reason, 'channel-failed')
  t.equal(i.error?.code, 'CHANNEL_FAILED')
  t.equal(await bClosed, 'peer', 'we closed the session: the peer got SESSION_CLOSE')
  t.equal(sa.closed, 'local')
})

t.test('junk datagrams are counted, not thrown', async t => {
  const { a, b, sb } = await pair(t)
  sb.send(new Uint8Array([1, 2, 3]))
  sb.send(new Uint8Array(40).fill(0xee))
  // a real message sent after the junk arrives after it (one session, in order on loopback):
  // once it is here, the junk has been looked at
  const arrived = new Promise(resolve => a.once('message', resolve))
  await b.send(new Uint8Array([7]))
  await arrived
  t.equal(a.stats.droppedMalformed, 2)
  t.equal(a.closed, null, 'still open')
})

t.test('a reader that stops: the window closes, nothing is lost, resume delivers the rest in order', async t => {
  const { a, b } = await pair(t)
  b.pause()
  const n = 48
  const msg = (i: number): Uint8Array => new Uint8Array(64 * 1024).fill(i)
  for (let i = 0; i < n; i++) await a.send(msg(i))
  await windowShut(a, b)
  const held = b.stats.recvBufferedBytes
  t.ok(held <= 1024 * 1024 + 4 * 1024 * 1024 + 4, `the paused reader holds ${held} bytes, within window + max message`)
  t.ok(a.stats.sendBufferedBytes > 0, 'the sender still holds what it may not send')
  let next = 0
  let bad = 0
  const done = new Promise<void>(resolve => b.on('message', m => {
    if (m.length !== 64 * 1024 || m[0] !== next) bad++
    if (++next === n) resolve()
  }))
  b.resume()
  await done
  t.equal(bad, 0, `all ${n} messages, in order`)
  await a.flushed()
})

t.test("the async iterator's high-water mark holds the channel shut until the reader reads", async t => {
  const { a, b } = await pair(t, { highWaterMessages: 16 })
  const it = b.messages()
  for (let i = 0; i < 2000; i++) await a.send(Buffer.from(String(i)))
  // all 2000 are in b's channel (it acknowledged them; the poll that did so also delivered
  // what the iterator had room for)
  await a.flushed()
  t.equal(b.stats.messagesDelivered, 16, 'only 16 taken from the channel while nobody reads')
  const got: number[] = []
  for (let i = 0; i < 2000; i++) {
    const r = await it.next()
    if (r.done === true) break
    got.push(Number(Buffer.from(r.value).toString()))
  }
  t.same(got, Array.from({ length: 2000 }, (_, i) => i), 'then all 2000 in order')
  await a.flushed()
})

t.test('size limits and misuse', async t => {
  const { a } = await pair(t)
  const tooBig = new Uint8Array(ReliableSession.maxMessageBytes + 1)
  t.throws(() => a.trySend(tooBig), { code: 'MESSAGE_TOO_LARGE' })
  t.equal(await a.send(tooBig).then(() => 'ok', code), 'MESSAGE_TOO_LARGE')
  t.ok(a.trySend(new Uint8Array(ReliableSession.maxMessageBytes)), 'exactly the limit is fine')
  await a.flushed()
  a.close()
  a.close() // idempotent
  t.throws(() => a.trySend(new Uint8Array(1)), { code: 'SESSION_CLOSED' })
  const late = a.messages()
  t.same(await late.next(), { value: undefined, done: true }, 'an iterator made after close is already done')
})

t.test("a 'message' listener that throws is reported on 'error'; delivery goes on", async t => {
  const { a, b } = await pair(t)
  const errors: unknown[] = []
  b.on('error', err => { errors.push(err) })
  const got: string[] = []
  b.on('message', m => {
    const s = Buffer.from(m).toString()
    got.push(s)
    if (s === 'boom') throw new Error('listener bug')
  })
  for (const s of ['one', 'boom', 'two']) await a.send(Buffer.from(s))
  await a.flushed()
  await until(() => got.length === 3, 5000, 'the three messages')
  t.same(got, ['one', 'boom', 'two'])
  t.equal(errors.length, 1)
  t.equal(b.closed, null)
})

t.test('wrapping a session that is already closed gives a closed ReliableSession', async t => {
  const { sa } = await sessions(t)
  sa.close()
  const r = new ReliableSession(sa)
  t.equal(r.closed?.reason, 'local')
  t.equal(await r.send(new Uint8Array(1)).then(() => 'ok', code), 'SESSION_CLOSED')
})

t.test('a lone message leaves within the current task; messages sent while data is in flight share packets', async t => {
  const { a, b } = await pair(t)
  // one exchange first, so both sides have advertised their windows and owe no ACKs
  await Promise.all([a.send(Buffer.from('w')), b.send(Buffer.from('w'))])
  await Promise.all([a.flushed(), b.flushed()])
  // and the path MTU searches on both sides are over (their probes are packets too)
  await until(() => a.stats.pmtuState !== 'searching' && b.stats.pmtuState !== 'searching', 10_000, 'the path MTU searches')
  const got: string[] = []
  b.on('message', m => { got.push(Buffer.from(m).toString()) })
  const before = a.stats.packetsSent
  t.ok(a.trySend(Buffer.from('ping')))
  await Promise.resolve() // microtasks only: no turn of the event loop, no timer
  t.equal(a.stats.packetsSent, before + 1, 'sent before the event loop turned (session.md §10.2)')
  // the ping is unacknowledged, so these wait for the turn's poll and go out together
  for (let i = 0; i < 10; i++) t.ok(a.trySend(Buffer.from(`m${i}`)))
  await Promise.resolve()
  t.equal(a.stats.packetsSent, before + 1, 'nothing more within the task while data is in flight')
  await a.flushed()
  t.equal(a.stats.packetsSent, before + 2, 'ten small messages in one packet')
  t.same(got, ['ping', ...Array.from({ length: 10 }, (_, i) => `m${i}`)])
})
