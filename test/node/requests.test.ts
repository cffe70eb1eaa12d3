// Contact requests between whole nodes on the simulated testnet (proto-spec/messaging.md §3, §6,
// §7, §10): a stranger's messages are held with the request until accepted; then both talk,
// type, show presence and send read receipts; decline drops and ignores the sender; the request
// book survives a restart; blocking a requester drops the request. Moved from in-process daemons
// (test/messaging/service.test.ts) and from two daemon processes (test/e2e/two-daemons.test.ts).
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { conversation, received, receipted, stats, testnet } from './helpers.js'

const names = ['boot', 'alice', 'bob', 'carol', 'dave']

t.test('a stranger\'s request holds its messages until accepted; then both talk, type, show presence and read', async t => {
  const net = await testnet(t, 3, 11, { name: i => names[i]! })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]

  await net.addContact(alice, bob, 'bob') // Alice adds Bob from his invite; Bob has not added her
  const first = await net.drive(alice.actions.send('bob', 'hi Bob'))
  t.match(first, { id: /^[0-9a-f]{32}$/, status: /^(sending|sent)$/ }, 'send gives an id and a status')
  await net.until(() => receipted(alice, first.id), 60_000, 'the held message receipted')
  t.equal((await alice.store.getMessage(first.id))?.status, 'delivered', 'a message to a stranger is delivered (held with the request)')

  const reqs = bob.actions.requests()
  t.same(reqs.map(r => [r.fingerprint, r.name, r.text, r.held]), [[alice.fingerprint, 'alice', 'hi Bob', 1]], 'Bob sees Alice, her name and her message')
  t.type(reqs[0]?.timestamp, 'number')
  t.same(await bob.store.listContacts(), [], 'Alice is not a contact yet')
  t.same(await bob.store.conversations(), [], 'nor a conversation')
  t.ok(bob.seen.some(e => e.type === 'request' && e.action === 'received'), 'a request event')
  t.notOk(received(bob, 'hi Bob'), 'no message event before accepting')

  const accepted = await net.drive(bob.actions.accept(alice.fingerprint.slice(0, 10)))
  t.equal(accepted.messages, 1)
  t.equal(accepted.contact.name, 'alice', 'named as she introduced herself')
  t.same(bob.actions.requests(), [], 'the request is answered')
  t.same((await conversation(bob, alice)).map(m => m.text), ['hi Bob'], 'her held message is now the conversation')
  t.ok(received(bob, 'hi Bob'), 'a message event for the held message')
  await t.rejects(bob.actions.accept(alice.fingerprint), { code: 'REQUEST_NOT_FOUND' })

  const back = await net.drive(bob.actions.send('alice', 'hello Alice'))
  await net.until(() => receipted(bob, back.id) && received(alice, 'hello Alice'), 60_000, 'Bob\'s reply')

  t.same(await net.drive(alice.actions.typing('bob', true)), { sent: true })
  await net.until(() => bob.seen.some(e => e.type === 'typing' && e.peer === alice.fingerprint && e.typing === true), 10_000, 'typing event')
  t.same(await net.drive(alice.actions.setPresence('away')), { state: 'away', told: 1 }, 'Alice goes away; her one connected contact is told')
  await net.until(() => bob.seen.some(e => e.type === 'presence' && e.peer === alice.fingerprint && e.state === 'away'), 10_000, 'away')
  t.equal(bob.actions.peers().find(p => p.fingerprint === alice.fingerprint)?.state, 'away', 'Bob\'s peer list shows her away')
  await net.drive(alice.actions.setPresence('online'))
  await net.until(() => bob.actions.peers().find(p => p.fingerprint === alice.fingerprint)?.state === 'online', 10_000, 'online again')

  t.equal((await net.drive(bob.actions.markRead('alice'))).marked, 1, 'her one message')
  await net.until(() => receipted(alice, first.id, 'read'), 10_000, 'read receipt')
  t.equal((await alice.store.getMessage(first.id))?.status, 'read')
  const s = stats(alice, bob.fingerprint)
  t.ok(s.textIn >= 1 && (s.peer?.admitted ?? 0) >= 3, 'Alice counted Bob\'s frames and his message')
  t.equal(stats(bob).held, 1, 'Bob held one message with the request')
})

t.test('decline drops the request and ignores the sender; the book survives a restart; blocking a requester', async t => {
  const net = await testnet(t, 5, 12, { name: i => names[i]! })
  const [, , bob, carol, dave] = net.nodes as [TestNode, TestNode, TestNode, TestNode, TestNode]
  await net.addContact(carol, bob, 'bob')
  await net.addContact(dave, bob, 'bob')
  const c1 = await net.drive(carol.actions.send('bob', 'carol here'))
  const d1 = await net.drive(dave.actions.send('bob', 'dave here'))
  await net.until(() => receipted(carol, c1.id) && receipted(dave, d1.id), 60_000, 'both requests delivered')
  t.equal(bob.actions.requests().length, 2)

  t.same(await net.drive(bob.actions.decline(carol.fingerprint)), { fingerprint: carol.fingerprint, messages: 1 })
  const droppedBefore = stats(bob).requestsDropped
  const later = await net.drive(carol.actions.send('bob', 'please?'))
  // Bob dropping it is the event to wait for: a receipt, had he sent one, would be on its way by then
  await net.until(() => stats(bob).requestsDropped > droppedBefore, 60_000, 'Bob dropping Carol\'s message')
  await net.advance(5_000)
  t.not((await carol.store.getMessage(later.id))?.status, 'delivered', 'no receipt after a decline')
  t.same(bob.actions.requests().map(r => r.fingerprint), [dave.fingerprint])

  await net.stop(2)
  const bob2 = await net.restart(2)
  t.same(bob2.actions.requests().map(r => [r.fingerprint, r.text]), [[dave.fingerprint, 'dave here']], 'pending requests survive a restart')

  t.same(await net.drive(bob2.actions.block(dave.fingerprint.slice(0, 10))), { fingerprint: dave.fingerprint, changed: true })
  t.same(bob2.actions.requests(), [], 'blocking drops the request')
  t.same((await bob2.actions.blocked()).map(b => b.fingerprint), [dave.fingerprint])
  t.same((await net.drive(bob2.actions.unblock(dave.fingerprint))).changed, true)
})

t.test('two users who add each other at once: their crossed requests settle each other, with no receipt for either (messaging.md §3.2)', async t => {
  for (const prekeys of [true, false]) {
    const net = await testnet(t, 3, 12, { name: i => names[i]!, prekeys })
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.befriend(alice, bob)
    const a = await net.drive(alice.actions.send(bob.fingerprint, 'hi Bob'))
    const b = await net.drive(bob.actions.send(alice.fingerprint, 'hi Alice'))
    await net.until(() => receipted(alice, a.id) && receipted(bob, b.id), 120_000, 'both messages receipted')
    await net.until(() => alice.messaging.outbound.scheduler.size === 0 && bob.messaging.outbound.scheduler.size === 0, 60_000, 'both outboxes empty')
    await net.advance(10_000) // a receipt is counted once the peer's channel took it
    for (const n of [alice, bob]) {
      const byType = n.messaging.ctx.counters.envelopesByType
      t.same(Object.entries(byType).filter(([k]) => k.startsWith('CONTACT_REQUEST') || k.startsWith('DELIVERY_RECEIPT')).map(([k, v]) => [k.split(' ')[0], v]).sort(),
        [['CONTACT_REQUEST', 1], ['DELIVERY_RECEIPT', 1]], `${prekeys ? 'v2' : 'v1'}: ${n === alice ? 'Alice' : 'Bob'} sent her request once and one receipt, the text's`)
    }
    await net.destroy()
  }
})
