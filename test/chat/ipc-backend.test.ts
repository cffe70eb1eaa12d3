// The IPC-backed ChatBackend against two real daemons in this process (real UDP on 127.0.0.1,
// real LevelDB, the real socket): every operation the chat uses, and every event it listens to,
// in the shapes the daemon actually sends.
import t from 'tap'
import { Daemon } from '../../src/daemon/daemon.js'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import { daemonPaths } from '../../src/daemon/paths.js'
import { unlock } from '../../src/app/profile.js'
import { silentLogger } from '../../src/daemon/log.js'
import { IpcChatBackend, toChatEvent } from '../../src/chat/ipc-backend.js'
import { forceInteractiveRendering } from '../../src/chat/tty.js'
import type { ChatEvent } from '../../src/chat/types.js'
import type { HomePaths } from '../../src/config/home.js'
import { PASS, profileHome, waitFor } from '../daemon/helpers.js'

type T = { teardown: (fn: () => Promise<void> | void) => void }

/** A daemon in this process; stopped in teardown unless the test stopped it. */
async function daemon (t: T, paths: HomePaths, peers: Daemon[] = []): Promise<Daemon> {
  const d = new Daemon({
    paths, host: '127.0.0.1', port: 0, mdns: false, bootstrap: [], log: silentLogger(),
    peers: peers.map(p => ({ host: '127.0.0.1', port: p.status().port, fingerprint: p.node.fingerprint }))
  }, await unlock(paths, PASS))
  t.teardown(async () => { if (running.has(d)) await d.stop('teardown') })
  await d.start()
  running.add(d)
  return d
}

const running = new Set<Daemon>()

async function stop (d: Daemon): Promise<void> {
  running.delete(d)
  await d.stop('test')
}

async function backend (t: T, paths: HomePaths): Promise<IpcChatBackend> {
  const b = new IpcChatBackend(await IpcClient.connect(daemonPaths(paths).socket))
  t.teardown(() => b.close())
  return b
}

t.test('chat operations and events between two daemons', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  const A = await daemon(t, alice.paths)
  const B = await daemon(t, bob.paths, [A])
  const a = await backend(t, alice.paths)
  const b = await backend(t, bob.paths)
  // each adds the other by invite: no request needed
  const ca = await IpcClient.connect(daemonPaths(alice.paths).socket)
  const cb = await IpcClient.connect(daemonPaths(bob.paths).socket)
  t.teardown(() => { ca.close(); cb.close() })
  await ca.call('contacts.add', { who: bob.invite, name: 'bob' })
  await cb.call('contacts.add', { who: alice.invite, name: 'alice' })

  const bobPeer = await a.resolve('bob')
  t.match(bobPeer, { fingerprint: bob.fingerprint, name: 'bob', verified: false }, 'resolved by name, with the header\'s facts')
  t.ok(bobPeer.lastSeen === null || Number.isFinite(bobPeer.lastSeen), 'last seen: never, or a time')
  t.match(await a.resolve(bob.fingerprint.slice(0, 8)), { fingerprint: bob.fingerprint, name: 'bob' }, 'and by fingerprint prefix')
  await t.rejects(a.resolve('zed'), { code: 'CONTACT_NOT_FOUND' })
  await waitFor(async () => await a.presence(bob.fingerprint) === 'online', 20_000, () => 'bob online')

  const seenByBob: ChatEvent[] = []
  const seenByAlice: ChatEvent[] = []
  await b.subscribe(ev => seenByBob.push(ev))
  await a.subscribe(ev => seenByAlice.push(ev))
  t.same(await a.conversations(), [{ peer: { fingerprint: bob.fingerprint, name: 'bob' }, unread: 0 }], 'a contact without messages is listed to pick')
  t.same(await a.requests(), [], 'no requests between contacts')

  await a.typing(bob.fingerprint, true)
  await waitFor(() => seenByBob.some(e => e.type === 'typing' && e.peer === alice.fingerprint && e.typing), 10_000, () => 'typing at bob')

  const sent = await a.send(bob.fingerprint, 'hi bob')
  t.match(sent, { id: /^[0-9a-f]+$/, status: /sending|sent|delivered/ })
  await waitFor(() => seenByAlice.some(e => e.type === 'message' && e.message.id === sent.id && e.message.direction === 'out'), 10_000, () => 'own message event')
  await waitFor(() => seenByBob.some(e => e.type === 'message' && e.message.text === 'hi bob' && e.message.direction === 'in'), 10_000, () => 'message at bob')
  t.ok(seenByBob.some(e => e.type === 'typing' && !e.typing), 'her message ended her typing indicator at bob')
  await waitFor(() => seenByAlice.some(e => e.type === 'receipt' && e.direction === 'out' && e.status === 'delivered' && e.ids.includes(sent.id)), 10_000, () => 'delivered')

  const convs = await b.conversations()
  t.match(convs, [{ peer: { fingerprint: alice.fingerprint, name: 'alice' }, unread: 1, last: { text: 'hi bob', direction: 'in' } }])
  const hist = await b.history(alice.fingerprint, { limit: 10 })
  t.match(hist, [{ id: sent.id, direction: 'in', text: 'hi bob', status: 'received', seq: 1 }])
  t.same(await b.history(alice.fingerprint, { limit: 10, before: 1 }), [], 'nothing before the first')
  t.match(await b.search(alice.fingerprint, 'hi b', 10), [{ id: sent.id, text: 'hi bob', peer: alice.fingerprint, name: 'alice' }], '/search')
  t.same(await b.search(alice.fingerprint, 'nowhere', 10), [])

  await b.markRead(alice.fingerprint)
  t.ok(seenByBob.some(e => e.type === 'receipt' && e.direction === 'in' && e.status === 'read' && e.ids.includes(sent.id)), 'bob\'s own screen hears of the read')
  await waitFor(() => seenByAlice.some(e => e.type === 'receipt' && e.direction === 'out' && e.status === 'read' && e.ids.includes(sent.id)), 10_000, () => 'the read receipt at alice')
  t.equal((await b.conversations())[0]?.unread, 0)

  // bob's daemon stops: alice sees his presence change; bob's chat connection ends
  let closed: Error | null = null
  b.onClose(err => { closed = err })
  await stop(B)
  await waitFor(() => closed !== null, 10_000, () => 'the close callback')
  await waitFor(() => seenByAlice.some(e => e.type === 'presence' && e.peer === bob.fingerprint && e.state !== 'online'), 20_000, () => 'bob no longer online')
})

t.test('events not in the documented shape are skipped', async t => {
  const peer = 'a'.repeat(48)
  const message = { id: 'x1', direction: 'in', text: 'hi', timestamp: 1, status: 'received', seq: 1 }
  t.same(toChatEvent({ type: 'message', peer, message }), { type: 'message', peer, message })
  t.equal(toChatEvent({ type: 'message', message }), null, 'no peer')
  t.equal(toChatEvent({ type: 'message', peer, message: { ...message, status: 'weird' } }), null)
  t.equal(toChatEvent({ type: 'message', peer, message: { ...message, direction: 'sideways' } }), null)
  t.equal(toChatEvent({ type: 'message', peer, message: { ...message, seq: 'one' } }), null)
  t.equal(toChatEvent({ type: 'message', peer, message: null }), null)
  t.same(toChatEvent({ type: 'receipt', peer, direction: 'out', status: 'read', ids: ['x1'] }), { type: 'receipt', peer, direction: 'out', status: 'read', ids: ['x1'] })
  t.equal(toChatEvent({ type: 'receipt', peer, direction: 'out', status: 'read', ids: [1] }), null)
  t.equal(toChatEvent({ type: 'receipt', peer, direction: 'up', status: 'read', ids: [] }), null)
  t.same(toChatEvent({ type: 'typing', peer, typing: false }), { type: 'typing', peer, typing: false })
  t.equal(toChatEvent({ type: 'typing', peer, typing: 'yes' }), null)
  t.same(toChatEvent({ type: 'presence', peer, state: 'away', address: null }), { type: 'presence', peer, state: 'away' })
  t.equal(toChatEvent({ type: 'presence', peer, state: 'asleep' }), null)
  t.equal(toChatEvent({ type: 'contact', peer, action: 'added' }), null, 'other event types are not the chat\'s')
  t.same(toChatEvent({ type: 'presence', peer, state: 'online', name: 'bob' }), { type: 'presence', peer, state: 'online', name: 'bob' })
  const request = { fingerprint: peer, name: 'carol', text: 'hi', timestamp: 5, held: 1 }
  t.same(toChatEvent({ type: 'request', action: 'received', request }), { type: 'request', action: 'received', request: { fingerprint: peer, name: 'carol', text: 'hi', timestamp: 5 } })
  t.same(toChatEvent({ type: 'request', action: 'evicted', request: { fingerprint: peer, timestamp: 5, held: 0 } }), { type: 'request', action: 'gone', request: { fingerprint: peer, timestamp: 5 } }, 'answered, evicted or expired: gone')
  t.equal(toChatEvent({ type: 'request', action: 'exploded', request }), null)
  t.equal(toChatEvent({ type: 'request', action: 'received', request: { fingerprint: peer } }), null)
  const contact = { fingerprint: peer, name: null, verified: true, keys: true, addedAt: '2025-01-01T00:00:00.000Z', lastSeen: null }
  t.same(toChatEvent({ type: 'contact', action: 'updated', contact }), { type: 'contact', peer, name: null, verified: true })
  t.equal(toChatEvent({ type: 'contact', action: 'blocked', fingerprint: peer, contact: null }), null)
  t.same(toChatEvent({ type: 'contact', action: 'session-reset', contact }), { type: 'contact', peer, name: null, verified: true, reset: true }, 'a session reset is told')
})

t.test('a terminal on stdout makes ink render frames even under CI; a pipe changes nothing', async t => {
  const env: NodeJS.ProcessEnv = { CI: 'true', CONTINUOUS_INTEGRATION: '1', PATH: '/bin' }
  t.equal(forceInteractiveRendering({ isTTY: false }, env), false)
  t.same(env, { CI: 'true', CONTINUOUS_INTEGRATION: '1', PATH: '/bin' })
  t.equal(forceInteractiveRendering({ isTTY: true }, env), true)
  t.same(env, { PATH: '/bin' })
  t.equal(forceInteractiveRendering({ isTTY: true }, env), false, 'nothing left to change')
})
