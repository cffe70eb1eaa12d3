// The messaging service inside real daemons in this process (real UDP on 127.0.0.1, real
// LevelDB, real state files): contact requests held and accepted, decline, typing and presence
// events, the request book surviving a restart, blocking a stranger, and the store-only methods
// without a daemon. proto-spec/messaging.md §3, §6, §7, §10.
import t from 'tap'
import { Daemon } from '../../src/daemon/daemon.js'
import { unlock, withStore } from '../../src/app/profile.js'
import { addContact } from '../../src/app/contacts.js'
import { silentLogger } from '../../src/daemon/log.js'
import { localCall } from '../../src/daemon/rpc-methods.js'
import type { DaemonEvent } from '../../src/runtime/events.js'
import type { HomePaths } from '../../src/config/home.js'
import { PASS, profileHome, waitFor } from '../daemon/helpers.js'

type T = { teardown: (fn: () => Promise<void> | void) => void }
interface Who { paths: HomePaths, fingerprint: string, invite: string }

async function daemon (t: T, who: Who, peers: Daemon[] = []): Promise<{ d: Daemon, events: DaemonEvent[] }> {
  const u = await unlock(who.paths, PASS)
  const d = new Daemon({
    paths: who.paths, host: '127.0.0.1', port: 0, mdns: false, bootstrap: [], log: silentLogger(),
    peers: peers.map(p => ({ host: '127.0.0.1', port: p.status().port, fingerprint: p.node.fingerprint }))
  }, u)
  const events: DaemonEvent[] = []
  d.events.on(ev => { events.push(ev) })
  t.teardown(async () => { await d.stop('teardown') })
  await d.start()
  return { d, events }
}

const api = (d: Daemon): Daemon['node']['actions'] => d.node.actions

t.test('a stranger\'s request holds its messages until accepted; then both talk, type and show presence', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  const A = await daemon(t, alice)
  const B = await daemon(t, bob, [A.d])
  await waitFor(() => api(A.d).peers().some(p => p.fingerprint === bob.fingerprint && p.state === 'online'), 20_000, () => 'the link')
  t.equal(A.d.status().peers, 1, 'status counts the peer online')

  // Alice adds Bob (from his invite) through the same method the CLI uses; her request goes out
  await localCall({ store: A.d.store, identity: { fingerprint: alice.fingerprint } as never, now: Date.now, events: A.d.events })('contacts.add', { who: bob.invite })
  const first = await api(A.d).send('bob', 'hi Bob', 'delivered', 20_000)
  t.equal(first.status, 'delivered', 'a message to a stranger is delivered (held with the request)')
  const reqs = api(B.d).requests()
  t.same(reqs.map(r => [r.fingerprint, r.name, r.text, r.held]), [[alice.fingerprint, 'alice', 'hi Bob', 1]])
  t.same(await B.d.store.conversations(), [], 'not a conversation')
  t.ok(B.events.some(e => e.type === 'request' && e.action === 'received'), 'a request event')

  const accepted = await api(B.d).accept(alice.fingerprint.slice(0, 8))
  t.equal(accepted.messages, 1)
  t.equal(accepted.contact.name, 'alice', 'named as she introduced herself')
  t.same((await B.d.store.history(alice.fingerprint)).map(m => m.text), ['hi Bob'])
  t.ok(B.events.some(e => e.type === 'message' && (e.message as { text: string }).text === 'hi Bob'), 'a message event for the held message')
  await t.rejects(api(B.d).accept(alice.fingerprint), { code: 'REQUEST_NOT_FOUND' })

  const back = await api(B.d).send('alice', 'hello Alice', 'delivered', 20_000)
  t.equal(back.status, 'delivered')
  await waitFor(() => A.events.some(e => e.type === 'message' && (e.message as { text: string }).text === 'hello Alice'), 10_000)

  t.same(await api(A.d).typing('bob', true), { sent: true })
  await waitFor(() => B.events.some(e => e.type === 'typing' && e.peer === alice.fingerprint && e.typing === true), 10_000, () => 'typing event')
  await api(A.d).setPresence('away')
  await waitFor(() => B.events.some(e => e.type === 'presence' && e.peer === alice.fingerprint && e.state === 'away'), 10_000, () => 'away')

  t.equal((await api(B.d).markRead('alice')).marked, 1, 'her one message')
  await waitFor(async () => (await A.d.store.getMessage(first.id))?.status === 'read', 10_000, () => 'read receipt')
  t.ok(A.events.some(e => e.type === 'receipt' && e.status === 'read' && (e.ids as string[]).includes(first.id)))
  const stats = api(A.d).stats(bob.fingerprint) as { textIn: number, held: number, peer: { admitted: number } }
  t.ok(stats.textIn >= 1 && stats.peer.admitted >= 3, 'Alice counted Bob\'s frames and his message')
  t.equal((api(B.d).stats() as { held: number }).held, 1, 'Bob held one message with the request')
})

t.test('decline drops the request and ignores the sender; the book survives a restart; blocking a requester', async t => {
  const bob = await profileHome(t, 'bob')
  const carol = await profileHome(t, 'carol')
  const dave = await profileHome(t, 'dave')
  let B = await daemon(t, bob)
  const C = await daemon(t, carol, [B.d])
  const D = await daemon(t, dave, [B.d])
  for (const X of [C, D]) await localCall({ store: X.d.store, identity: {} as never, now: Date.now, events: X.d.events })('contacts.add', { who: bob.invite })
  await api(C.d).send('bob', 'carol here', 'delivered', 20_000)
  await api(D.d).send('bob', 'dave here', 'delivered', 20_000)
  t.equal(api(B.d).requests().length, 2)

  const declined = await api(B.d).decline(carol.fingerprint)
  t.same(declined, { fingerprint: carol.fingerprint, messages: 1 })
  const dropped = (): number => (api(B.d).stats() as { requestsDropped: number }).requestsDropped
  const droppedBefore = dropped()
  const later = await api(C.d).send('bob', 'please?')
  // Bob's side dropping it is the event to wait for: a receipt, had he sent one, would be on its way by then.
  await waitFor(() => dropped() > droppedBefore, 20_000, () => 'Bob dropping Carol\'s message')
  t.not((await C.d.store.getMessage(later.id))?.status, 'delivered', 'no receipt after a decline')
  t.same(api(B.d).requests().map(r => r.fingerprint), [dave.fingerprint])

  // restart Bob: Dave's request and its message are still there (the state file)
  await B.d.stop('restart')
  B = await daemon(t, bob)
  t.same(api(B.d).requests().map(r => [r.fingerprint, r.text]), [[dave.fingerprint, 'dave here']], 'pending requests survive a restart')

  const blocked = await api(B.d).block(dave.fingerprint.slice(0, 10))
  t.same(blocked, { fingerprint: dave.fingerprint, changed: true })
  t.same(api(B.d).requests(), [], 'blocking drops the request')
  t.same((await api(B.d).blocked()).map(b => b.fingerprint), [dave.fingerprint])
  t.same((await api(B.d).unblock(dave.fingerprint)).changed, true)
})

t.test('history, search and conversations run on the store alone; the rest needs a daemon', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  await withStore(alice.paths, PASS, async (store, u) => {
    await store.putContact({ fingerprint: bob.fingerprint, name: 'bob', verified: false, addedAt: 1 })
    await store.addMessage({ id: 'a1', peer: bob.fingerprint, direction: 'in', text: 'lunch at noon?', timestamp: 1_700_000_000_000, receivedAt: 1_700_000_000_001, status: 'received', read: false })
    await store.addMessage({ id: 'a2', peer: bob.fingerprint, direction: 'out', text: 'yes', timestamp: 1_700_000_000_005, receivedAt: 1_700_000_000_005, status: 'delivered', read: true })
    const call = localCall({ store, identity: u.identity, now: Date.now })
    const h = await call('messages.history', { contact: 'bob' })
    t.same(h.messages.map(m => [m.id, m.direction, m.status, m.seq]), [['a1', 'in', 'received', 1], ['a2', 'out', 'delivered', 2]], 'oldest first')
    t.same((await call('messages.search', { query: 'NOON' })).map(m => [m.peer, m.name, m.id]), [[bob.fingerprint, 'bob', 'a1']])
    t.same((await call('messages.conversations', {})).map(c => [c.name, c.unread]), [['bob', 1]])
    t.same((await call('messages.history', { contact: bob.fingerprint, limit: 1 })).messages.map(m => m.id), ['a2'])
    await t.rejects(call('messages.send', { contact: 'bob', text: 'x' }), { code: 'DAEMON_NOT_RUNNING' })
    await t.rejects(call('messages.history', { contact: 'bob', limit: 0 }), { code: -32602 }, 'bad params are INVALID_PARAMS')
    await t.rejects(call('messages.search', { query: '  ' }), { code: 'BAD_ARGUMENT' })
  })
})

t.test('mDNS: two contacts\' daemons on 127.0.0.1 find each other without --peer and record the peer as mdns', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  // mDNS announces a token only those who know the fingerprint recognise (discovery.md §2.4)
  await withStore(alice.paths, PASS, async store => { await addContact(store, bob.invite, { self: alice.fingerprint, now: Date.now() }) })
  await withStore(bob.paths, PASS, async store => { await addContact(store, alice.invite, { self: bob.fingerprint, now: Date.now() }) })
  const mk = async (who: Who): Promise<Daemon> => {
    const d = new Daemon({ paths: who.paths, host: '127.0.0.1', port: 0, mdns: true, bootstrap: [], log: silentLogger(), peers: [] }, await unlock(who.paths, PASS))
    t.teardown(async () => { await d.stop('teardown') })
    await d.start()
    return d
  }
  const A = await mk(alice)
  const B = await mk(bob)
  await waitFor(() => api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.state === 'online') &&
    api(B).peers().some(p => p.fingerprint === alice.fingerprint && p.state === 'online'), 30_000, () => 'mDNS discovery and a Noise session')
  const row = api(A).peers().find(p => p.fingerprint === bob.fingerprint)
  t.equal(row?.address, `127.0.0.1:${B.status().port}`)
  t.ok(['mdns', 'inbound'].includes(row?.source ?? ''), `found by ${row?.source}`)
  t.ok(api(A).peers().some(p => p.fingerprint === bob.fingerprint && p.source === 'mdns') || api(B).peers().some(p => p.fingerprint === alice.fingerprint && p.source === 'mdns'), 'at least one side found the other by mDNS')
})

// (envelope.md §6 rejects envelopes dated more than 5 min in the receiver's future, so clocks
// further apart than that do not get messages through at all: messaging.md §4.3)
t.test('clocks that disagree by minutes do not reorder a conversation: order is arrival, timestamps are shown', async t => {
  const alice = await profileHome(t, 'alice')
  const bob = await profileHome(t, 'bob')
  const skewMs = 4 * 60_000 // Alice's clock is four minutes behind
  const start = async (who: Who, now: () => number, peers: Daemon[] = []): Promise<Daemon> => {
    const d = new Daemon({ paths: who.paths, host: '127.0.0.1', port: 0, mdns: false, bootstrap: [], log: silentLogger(), now, peers: peers.map(p => ({ host: '127.0.0.1', port: p.status().port, fingerprint: p.node.fingerprint })) }, await unlock(who.paths, PASS))
    t.teardown(async () => { await d.stop('teardown') })
    await d.start()
    return d
  }
  const A = await start(alice, () => Date.now() - skewMs)
  const B = await start(bob, Date.now, [A])
  for (const [d, inv] of [[A, bob.invite], [B, alice.invite]] as const) await localCall({ store: d.store, identity: {} as never, now: Date.now, events: d.events })('contacts.add', { who: inv })
  const m1 = await api(A).send('bob', 'one (Alice, behind)', 'delivered', 20_000)
  const m2 = await api(B).send('alice', 'two (Bob)', 'delivered', 20_000)
  const m3 = await api(A).send('bob', 'three (Alice, behind)', 'delivered', 20_000)
  for (const [d, peer] of [[A, bob.fingerprint], [B, alice.fingerprint]] as const) {
    const h = (await d.store.history(peer)).reverse()
    t.same(h.map(m => m.id), [m1.id, m2.id, m3.id], 'arrival order on both sides')
    t.ok((h[1]?.timestamp ?? 0) - (h[2]?.timestamp ?? 0) > skewMs - 60_000, 'although the third carries a timestamp minutes before the second')
  }
})
