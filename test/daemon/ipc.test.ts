// The IPC server and client in one process over a real Unix socket and a real LevelDB store:
// permissions, bad input, limits, errors crossing the socket, subscriptions.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IpcServer, type IpcLimits } from '../../src/daemon/ipc-server.js'
import { IpcClient, probeSocket } from '../../src/daemon/ipc-client.js'
import { EventBus, type DaemonEvent } from '../../src/runtime/events.js'
import { RPC } from '../../src/daemon/protocol.js'
import { silentLogger } from '../../src/daemon/log.js'
import type { DaemonStatus, MethodContext } from '../../src/daemon/rpc-methods.js'
import { unlock, lock } from '../../src/app/profile.js'
import { openStore } from '../../src/store/index.js'
import { DmessError } from '../../src/errors.js'
import { PASS, profileHome, RawClient, waitFor } from './helpers.js'

type T = Test

async function serve (t: T, limits: Partial<IpcLimits> = {}, messaging?: MethodContext['messaging']) {
  const me = await profileHome(t, 'alice')
  const u = await unlock(me.paths, PASS)
  const store = await openStore(me.paths.db, u.storeKey)
  const events = new EventBus()
  let stopRequested = ''
  const status: DaemonStatus = { running: true, mode: 'daemon', fingerprint: me.fingerprint, host: '127.0.0.1', port: 1, pid: process.pid, startedAt: new Date(0).toISOString(), peers: 0, home: me.paths.home, mdns: false, dhtNodes: 0, aead: 'openssl-addon' }
  const path = join(me.paths.home, 'daemon.sock')
  const server = new IpcServer({
    path,
    events,
    log: silentLogger(),
    limits,
    context: session => ({ store, identity: u.identity, now: Date.now, events, session, messaging, daemon: { status: () => status, requestStop: r => { stopRequested = r } } })
  })
  await server.start()
  t.teardown(async () => { await server.stop(); await store.close(); lock(u) })
  return { me, server, path, events, store, stopRequested: () => stopRequested }
}

t.test('the socket is 0600 and answers status; a stale socket file is replaced, a live one refused', async t => {
  const { server, path, me } = await serve(t)
  t.equal((await stat(path)).mode & 0o777, 0o600, 'socket mode 0600')
  t.equal((await stat(me.paths.home)).mode & 0o777, 0o700, 'home 0700')
  const c = await IpcClient.connect(path)
  t.teardown(() => c.close())
  const s = await c.call('status', {})
  t.equal(s.fingerprint, me.fingerprint)
  t.equal(await probeSocket(path), 'live')

  const second = new IpcServer({ path, events: new EventBus(), log: silentLogger(), context: () => ({}) as MethodContext })
  await t.rejects(second.start(), { code: 'DAEMON_RUNNING' }, 'a second server on a live socket is refused')
  t.equal(await probeSocket(path), 'live', 'and the first keeps its socket')

  await server.stop()
  t.equal(await probeSocket(path), 'absent', 'stop removes the socket')
  await t.rejects(IpcClient.connect(path), { code: 'DAEMON_NOT_RUNNING' })
})

t.test('a socket left by a killed process is removed at start', async t => {
  const me = await profileHome(t)
  const path = join(me.paths.home, 'daemon.sock')
  // a listening socket whose process was SIGKILLed: the file stays, nobody accepts
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}); setInterval(() => {}, 1000)`], { stdio: 'ignore' })
  t.teardown(() => { if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL') })
  await waitFor(async () => await probeSocket(path) === 'live', 10_000)
  holder.kill('SIGKILL')
  await new Promise(resolve => holder.once('exit', resolve))
  t.equal(await probeSocket(path), 'stale')
  const server = new IpcServer({ path, events: new EventBus(), log: silentLogger(), context: () => ({}) as MethodContext })
  await server.start()
  t.equal(await probeSocket(path), 'live')
  await server.stop()

  await writeFile(path, 'not a socket')
  t.equal(await probeSocket(path), 'stale', 'a regular file in the way counts as stale')
})

t.test('malformed input gets JSON-RPC errors and the connection keeps serving', async t => {
  const { path, server } = await serve(t, { maxRequestBytes: 1024 })
  const raw = await RawClient.connect(path)
  t.teardown(() => raw.close())

  raw.send('this is not json\n')
  t.match(await raw.next(), { jsonrpc: '2.0', id: null, error: { code: RPC.PARSE_ERROR } })
  raw.send('{"jsonrpc":"2.0","id":1,"method":"no.such.method"}\n')
  t.match(await raw.next(), { id: 1, error: { code: RPC.METHOD_NOT_FOUND, message: /no\.such\.method/ } })
  raw.send('{"jsonrpc":"2.0","id":2,"method":"contacts.add","params":{"who":42}}\n')
  t.match(await raw.next(), { id: 2, error: { code: RPC.INVALID_PARAMS, message: /"who" must be a string/ } })
  raw.send('{"jsonrpc":"2.0","id":3,"method":"subscribe","params":{"events":["message","nonsense"]}}\n')
  t.match(await raw.next(), { id: 3, error: { code: RPC.INVALID_PARAMS, message: /nonsense/ } })
  for (const texts of ['"hi"', '[]', '["ok",7]']) {
    raw.send(`{"jsonrpc":"2.0","id":"many","method":"messages.sendMany","params":{"contact":"bob","texts":${texts}}}\n`)
    t.match(await raw.next(), { id: 'many', error: { code: RPC.INVALID_PARAMS, message: texts === '["ok",7]' ? /"texts\[1\]" must be a string/ : /"texts" must be an array of 1–1000 strings/ } }, `sendMany with texts ${texts}`)
  }
  raw.send('[{"jsonrpc":"2.0","id":4,"method":"status"}]\n')
  t.match(await raw.next(), { id: null, error: { code: RPC.INVALID_REQUEST, message: /batch/ } })
  raw.send(`{"jsonrpc":"2.0","id":5,"method":"status","pad":"${'x'.repeat(5000)}"}\n`)
  t.match(await raw.next(), { id: null, error: { code: RPC.REQUEST_TOO_LARGE, message: /longer than 1024 bytes/ } })
  raw.send(Buffer.from([0xff, 0xfe, 0x00, 0x0a]))
  t.match(await raw.next(), { error: { code: RPC.PARSE_ERROR } }, 'binary junk')
  // A notification gets no answer: the next line is the answer to the request sent after it.
  raw.send('{"jsonrpc":"2.0","method":"status"}\n')
  raw.send('{"jsonrpc":"2.0","id":"last","method":"status"}\n')
  t.match(await raw.next(), { id: 'last', result: { running: true } }, 'no answer to the notification; still serving after all that')
  t.equal(server.counters.oversized, 1)
  t.equal(server.counters.badRequests, 3, 'parse errors and invalid requests are counted')
})

t.test('a run of sends pipelined on one connection starts together, in order; answers stay in request order', async t => {
  // a stand-in for the messaging service: records when each call starts, answers when released
  const started: string[] = []
  const release = new Map<string, () => void>()
  const call = async (label: string): Promise<unknown> => {
    started.push(label)
    await new Promise<void>(resolve => release.set(label, resolve))
    return { id: label, status: 'sending', timestamp: 0 }
  }
  const messaging = {
    send: async (_c: string, text: string) => await call(text),
    sendMany: async (_c: string, texts: string[]) => await call(texts.join('+'))
  } as unknown as MethodContext['messaging']
  const { path } = await serve(t, {}, messaging)
  const raw = await RawClient.connect(path)
  t.teardown(() => raw.close())
  const send = (id: number, text: string, wait?: string): string =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'messages.send', params: { contact: 'bob', text, ...(wait === undefined ? {} : { wait }) } }) + '\n'
  // one write: the server reads all five lines in one turn
  raw.send(send(1, 'a') + send(2, 'b') +
    JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'messages.sendMany', params: { contact: 'bob', texts: ['c', 'd'] } }) + '\n' +
    send(4, 'e', 'delivered') + // waits for a status: starts only once those before it are answered
    send(5, 'f'))
  await waitFor(() => started.length >= 3, 5000, () => 'the run started')
  t.same(started, ['a', 'b', 'c+d'], 'the three sends started together, in request order, before any was answered; not the send with wait')
  release.get('b')!(); release.get('c+d')!()
  release.get('a')!()
  t.match(await raw.next(), { id: 1, result: { id: 'a' } }, 'answers in request order')
  t.match(await raw.next(), { id: 2, result: { id: 'b' } })
  t.match(await raw.next(), { id: 3, result: { id: 'c+d' } })
  await waitFor(() => started.length >= 4, 5000, () => 'the send with wait started')
  t.same(started, ['a', 'b', 'c+d', 'e'], 'and the send after it waits for it')
  release.get('e')!()
  await waitFor(() => started.length >= 5, 5000, () => 'the last send started')
  release.get('f')!()
  t.match(await raw.next(), { id: 4, result: { id: 'e' } })
  t.match(await raw.next(), { id: 5, result: { id: 'f' } })
})

t.test('a DmessError in a method reaches the client as the same DmessError', async t => {
  const { path } = await serve(t)
  const c = await IpcClient.connect(path)
  t.teardown(() => c.close())
  const err = await c.call('contacts.remove', { contact: 'nobody' }).catch(e => e as DmessError)
  t.ok(err instanceof DmessError)
  t.equal((err as DmessError).code, 'CONTACT_NOT_FOUND')
  t.equal((err as DmessError).message, 'no contact matches "nobody" (by name or fingerprint prefix)')
  await t.rejects(c.request('contacts.add', { who: 'not-a-fingerprint' }), { code: 'BAD_FINGERPRINT' })
  await t.rejects(c.request('nope'), { code: 'IPC', message: /unknown method "nope"/ })
  await t.rejects(c.call('contacts.add', { who: 'x'.repeat(300 * 1024) }), { code: 'IPC', message: /larger than the daemon accepts/ }, 'refused before sending')
  t.same(await c.call('contacts.list', {}), [], 'the client still works')
})

t.test('contacts methods and events: subscribers get only the types they asked for', async t => {
  const { path, store } = await serve(t)
  const bob = await profileHome(t, 'bob')
  const watcher = await IpcClient.connect(path)
  const other = await IpcClient.connect(path)
  const actor = await IpcClient.connect(path)
  t.teardown(() => { watcher.close(); other.close(); actor.close() })
  const seen: DaemonEvent[] = []
  const otherSeen: DaemonEvent[] = []
  t.same(await watcher.subscribe(['contact', 'message'], e => seen.push(e)), ['contact', 'message'])
  await other.subscribe(['typing'], e => otherSeen.push(e))

  const added = await actor.call('contacts.add', { who: bob.invite })
  t.equal(added.created, true)
  t.equal(added.contact.name, 'bob')
  t.equal((await store.getContact(bob.fingerprint))?.name, 'bob', 'written to the store')
  await actor.call('contacts.rename', { contact: 'bob', name: 'robert' })
  const v = await actor.call('contacts.verify', { contact: 'robert', set: true })
  t.match(v.safetyNumber, /^(\d{5} ){11}\d{5}$/)
  t.equal(v.contact.verified, true)
  await waitFor(() => seen.length >= 3, 2000, () => `events, got ${JSON.stringify(seen)}`)
  t.same(seen.map(e => [e.type, e.action]), [['contact', 'added'], ['contact', 'renamed'], ['contact', 'verified']])
  t.equal((seen[1]?.contact as { name: string }).name, 'robert')
  t.same(otherSeen, [], 'a typing-only subscriber saw none of it')

  t.same((await watcher.call('unsubscribe', {})).events, [])
  await actor.call('contacts.remove', { contact: 'robert' })
  // A round trip on the watcher's own connection: an event sent for the removal would arrive before this answer.
  await watcher.call('contacts.list', {})
  t.equal(seen.length, 3, 'nothing after unsubscribing')
  t.same(await actor.call('contacts.list', {}), [])
})

t.test('connection and pending-request limits', async t => {
  const { path, server } = await serve(t, { maxConnections: 2, maxPending: 2 })
  const a = await RawClient.connect(path)
  const b = await RawClient.connect(path)
  t.teardown(() => { a.close(); b.close() })
  await waitFor(() => server.connectionCount === 2, 2000)
  const c = await RawClient.connect(path)
  t.match(await c.next(), { id: null, error: { code: RPC.TOO_MANY_CONNECTIONS } })
  await waitFor(() => c.closed, 2000, () => 'the third connection to be closed')
  t.equal(server.counters.refused, 1)

  // pipeline more requests than may wait: verify computes a safety number (slow enough to queue)
  const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'status' })).join('\n') + '\n'
  a.send(lines)
  const answers = await Promise.all(Array.from({ length: 6 }, async () => await a.next()))
  const ok = answers.filter(r => 'result' in r).length
  const busy = answers.filter(r => (r.error as { code?: number } | undefined)?.code === RPC.TOO_MANY_PENDING).length
  t.equal(ok + busy, 6, 'every request is answered')
  t.ok(ok >= 2, `at least maxPending succeed (${ok})`)
  t.ok(busy > 0, `the rest are refused, not queued without bound (${busy})`)
  b.send('{"jsonrpc":"2.0","id":1,"method":"status"}\n')
  t.match(await b.next(), { id: 1, result: { running: true } }, 'other connections unaffected')
})

t.test('stop answers before the daemon stops; a stopping server refuses new work', async t => {
  const { path, server, stopRequested } = await serve(t)
  const c = await IpcClient.connect(path)
  const r = await c.call('stop', {})
  t.same(r, { stopping: true, pid: process.pid })
  await waitFor(() => stopRequested() === 'ipc stop', 2000)
  const closed = new Promise<Error>(resolve => c.onClose(resolve))
  await server.stop()
  t.match((await closed).message, /closed the connection/, 'clients learn the daemon went away')
  await t.rejects(c.call('status', {}), { code: 'IPC' })
})
