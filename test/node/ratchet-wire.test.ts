// Envelope v2 between whole simulated nodes that keep prekeys (proto-spec/envelope.md §8): the
// first message to a contact starts a PQXDH session from the bundle fetched over the link, every
// later message and receipt is a Double Ratchet message, both ends starting at once settle on one
// session, and a node restarted from its store carries on in the same session.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { conversation, receipted, talkingPair, testnet } from './helpers.js'

const counters = (n: TestNode): { ratchetIn: number, ratchetOut: number, envelopesOut: number, rejected: Record<string, number> } =>
  n.messaging.ctx.counters

t.test('messages both ways travel as ratchet messages and are delivered once each', async t => {
  const { net, alice, bob, first } = await talkingPair(t, 51, { prekeys: true }, 'hello over the ratchet', "Alice's first message delivered")
  t.ok(counters(alice).ratchetOut >= 1 && counters(bob).ratchetIn >= 1, 'it went as envelope v2')
  const ids: string[] = [first]
  for (let i = 0; i < 20; i++) {
    ids.push((await net.drive(alice.actions.send(bob.fingerprint, `a${i}`))).id)
    ids.push((await net.drive(bob.actions.send(alice.fingerprint, `b${i}`))).id)
  }
  await net.until(() => ids.every(id => receipted(alice, id) || receipted(bob, id)), 300_000, 'all delivered')
  const hb = await conversation(bob, alice)
  const ha = await conversation(alice, bob)
  t.equal(hb.length, 41, 'Bob has every message once')
  t.equal(ha.length, 41, 'and Alice')
  t.same(hb.filter(m => m.direction === 'in').map(m => m.text), ['hello over the ratchet', ...Array.from({ length: 20 }, (_, i) => `a${i}`)], 'in the order sent')
  t.same(counters(alice).rejected, {}, 'Alice refused nothing')
  t.same(counters(bob).rejected, {}, 'Bob refused nothing')
  t.ok(counters(bob).ratchetOut >= 20, 'Bob wrote v2 too')
})

t.test('in a conversation that turns at every message, the DH steps take key pairs made ahead (ratchet.md §7)', async t => {
  const { net, alice, bob } = await talkingPair(t, 54, { prekeys: true }, 'hello', 'first delivered')
  const books = [alice, bob].map(n => n.messaging.sessions.book!)
  const before = books.map(b => ({ ...b.keysAhead }))
  for (let i = 0; i < 10; i++) {
    const a = await net.drive(alice.actions.send(bob.fingerprint, `a${i}`))
    await net.until(() => receipted(alice, a.id), 120_000, 'delivered')
    const b = await net.drive(bob.actions.send(alice.fingerprint, `b${i}`))
    await net.until(() => receipted(bob, b.id), 120_000, 'delivered')
  }
  for (const [i, book] of books.entries()) {
    const taken = book.keysAhead.taken - before[i]!.taken
    const missed = book.keysAhead.missed - before[i]!.missed
    t.ok(taken >= 10, `${['Alice', 'Bob'][i]}: ${taken} steps took a set made ahead`)
    t.equal(missed, 0, 'none found the sets used up')
  }
})

t.test('both start a session at once (one end from before the link-up start rule): they settle on one and nothing is lost', async t => {
  // a node from before the PRESENCE frame follows no link-up start rule (envelope.md §8.3): it
  // starts when it has something to send, and its peer, told nothing, does too
  const net = await testnet(t, 3, 52, { prekeys: true, legacyPresence: i => i === 1 })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const [a, b] = await net.drive(Promise.all([alice.actions.send(bob.fingerprint, 'from alice'), bob.actions.send(alice.fingerprint, 'from bob')]))
  await net.until(() => receipted(alice, a.id) && receipted(bob, b.id), 120_000, 'both delivered')
  const more: string[] = []
  for (let i = 0; i < 5; i++) {
    more.push((await net.drive(alice.actions.send(bob.fingerprint, `a${i}`))).id)
    more.push((await net.drive(bob.actions.send(alice.fingerprint, `b${i}`))).id)
  }
  await net.until(() => more.every(id => receipted(alice, id) || receipted(bob, id)), 120_000, 'later messages delivered')
  const activeA = alice.messaging.sessions.activeBase(bob.fingerprint)
  t.ok(activeA !== null, 'Alice has an active session')
  t.equal(bob.messaging.sessions.activeBase(alice.fingerprint), activeA, 'and Bob sends on the same one')
  t.equal(alice.messaging.sessions.book?.sessionCount(bob.fingerprint), 2, 'Alice holds both starts (each opened the first messages)')
  t.equal(bob.messaging.sessions.book?.sessionCount(alice.fingerprint), 2, 'and so does Bob')
  t.equal((await conversation(bob, alice)).length, 12)
  t.equal((await conversation(alice, bob)).length, 12)
})

t.test('a node restarted from its store continues the session', async t => {
  const { net, alice, bob } = await talkingPair(t, 53, { prekeys: true }, 'before', 'delivered before the restart')
  const base = alice.messaging.sessions.activeBase(bob.fingerprint)
  t.ok(base !== null)
  await net.drive(net.stop(alice.index))
  const alice2 = await net.drive(net.restart(alice.index))
  t.equal(alice2.messaging.sessions.activeBase(bob.fingerprint), base, 'the session came back from the store')
  const b = await net.drive(alice2.actions.send(bob.fingerprint, 'after'))
  await net.until(() => receipted(alice2, b.id), 120_000, 'delivered after the restart')
  t.equal(bob.messaging.sessions.activeBase(alice2.fingerprint), base, 'on the same session')
  t.same(counters(bob).rejected, {}, 'Bob refused nothing')
})

t.test('a contact that lost its session: detected, a new session started, the message still arrives', async t => {
  const { net, alice, bob } = await talkingPair(t, 54, { prekeys: true }, 'before', 'delivered before')
  const old = alice.messaging.sessions.activeBase(bob.fingerprint)
  // Bob loses his session state (as a reinstall with the same identity would): gone from the store, with the bundle of Alice's he kept, then a restart
  await net.drive(bob.store.removeSession(alice.fingerprint))
  await net.drive(bob.store.removeBundle(alice.fingerprint))
  await net.drive(net.stop(bob.index))
  const bob2 = await net.drive(net.restart(bob.index))
  t.equal(bob2.messaging.sessions.book?.sessionCount(alice.fingerprint), 0, 'Bob holds no session with Alice')
  const b = await net.drive(alice.actions.send(bob.fingerprint, 'after the loss'))
  await net.until(() => receipted(alice, b.id), 300_000, 'delivered after the loss')
  t.ok((counters(bob2).rejected['v2-no-session'] ?? 0) >= 1, 'Bob saw envelopes on a session he does not hold')
  t.ok(alice.messaging.ctx.counters.sessionResets >= 1, 'Alice saw Bob start anew while she had a confirmed session')
  const reset = (n: TestNode, peer: TestNode): boolean => n.seen.some(e => e.type === 'contact' && e.action === 'session-reset' && (e.contact as { fingerprint?: string }).fingerprint === peer.fingerprint)
  t.ok(reset(alice, bob2) && reset(bob2, alice), 'both users are told the session was reset')
  const now = alice.messaging.sessions.activeBase(bob.fingerprint)
  t.not(now, old, 'they talk on a new session')
  t.equal(bob2.messaging.sessions.activeBase(alice.fingerprint), now, 'the same one on both sides')
  t.same((await conversation(bob2, alice)).filter(m => m.direction === 'in').map(m => m.text), ['before', 'after the loss'], 'nothing dropped')
})

t.test('stores written by v1-only nodes: after the upgrade the conversation carries on in a ratchet session', async t => {
  const { net, alice, bob } = await talkingPair(t, 55, {}, 'v1 era', 'delivered as v1') // no prekeys: every envelope v1, as before envelope v2
  t.equal(counters(alice).ratchetOut, 0, 'no ratchet yet')
  await net.drive(alice.store.setVerified(bob.fingerprint, true))
  await net.drive(net.stop(bob.index))
  const queued = await net.drive(alice.actions.send(bob.fingerprint, 'queued by the old version'))
  await net.drive(net.stop(alice.index))
  // both upgraded: same stores (contacts, history, an outbox entry written by the v1 code path)
  const bob2 = await net.drive(net.restart(bob.index, { prekeys: true }))
  const alice2 = await net.drive(net.restart(alice.index, { prekeys: true }))
  t.match(await alice2.store.getContact(bob.fingerprint), { verified: true }, 'the contact keeps its verification')
  await net.until(() => bob2.seen.some(e => e.type === 'message' && (e.message as { id?: string }).id === queued.id), 120_000, 'the queued message arrives')
  const b = await net.drive(alice2.actions.send(bob.fingerprint, 'first after the upgrade'))
  await net.until(() => receipted(alice2, b.id), 120_000, 'delivered after the upgrade')
  t.ok(counters(alice2).ratchetOut >= 1 && counters(bob2).ratchetIn >= 1, 'it went as a ratchet message')
  t.ok(alice2.messaging.sessions.activeBase(bob.fingerprint) !== null, 'in a session both hold')
  t.equal(alice2.messaging.sessions.activeBase(bob.fingerprint), bob2.messaging.sessions.activeBase(alice.fingerprint))
  t.same((await conversation(bob2, alice2)).filter(m => m.direction === 'in').map(m => m.text), ['v1 era', 'queued by the old version', 'first after the upgrade'], 'the whole history, once each')
})

t.test('a contact removed by the user still gets through: its ratchet messages are held as a request', async t => {
  const { net, alice, bob } = await talkingPair(t, 56, { prekeys: true }, 'hello', 'delivered while contacts')
  await net.drive(bob.store.removeContact(alice.fingerprint))
  bob.events.emit({ type: 'contact', action: 'removed', contact: { fingerprint: alice.fingerprint } })
  await net.until(() => !bob.messaging.ctx.contacts.has(alice.fingerprint), 10_000, 'Bob removed Alice')
  const b = await net.drive(alice.actions.send(bob.fingerprint, 'are you there?'))
  await net.until(() => receipted(alice, b.id), 120_000, 'receipted by Bob')
  t.ok(bob.seen.some(e => e.type === 'request' && (e.request as { fingerprint?: string }).fingerprint === alice.fingerprint), 'Bob sees a request from Alice')
  // its sessions went with the contact: the first envelope on the old one is refused, Bob starts a new session, Alice re-sends on it
  t.equal(bob.messaging.sessions.activeBase(alice.fingerprint), alice.messaging.sessions.activeBase(bob.fingerprint), 'on a new session both hold')
  t.equal((await conversation(bob, alice)).filter(m => m.text === 'are you there?').length, 0, 'held as a request, not in the conversation')
})

t.test('messages sent one at a time: each is receipted alone, and the receiver writes it, its step and its receipt\'s step at once', async t => {
  const { net, alice, bob } = await talkingPair(t, 29, { prekeys: true })
  const K = 12
  const writes = (): { batches: number, sessions: number } => ({ batches: bob.store.writeCounts.batches, sessions: bob.store.writeCounts.putsBySub['!sessions!'] ?? 0 })
  const w0 = writes()
  const r0 = counters(bob).ratchetOut
  for (let i = 0; i < K; i++) {
    const r = await net.drive(alice.actions.send(bob.fingerprint, `one at a time #${i}`, 'delivered', 60_000))
    t.equal(r.status, 'delivered', `#${i} delivered`)
  }
  t.equal(counters(bob).ratchetOut - r0, K, 'one receipt envelope per message')
  // the receipt is sealed when the inbound queue drains, its step written with the text (messaging.md §4.4)
  const w = writes()
  t.same({ batches: w.batches - w0.batches, sessions: w.sessions - w0.sessions }, { batches: K, sessions: K }, `Bob: one write per message, ${K} in all`)
  t.equal((await conversation(bob, alice)).filter(m => m.text.startsWith('one at a time')).length, K, 'each stored once')
})
