// A testnet node killed as by `kill -9` (net.crash, src/node/testnet-life.ts), and started again:
// what it had committed is there, what it had not yet handed to its store is not, its peers get
// no goodbye, and a burst sent across the crash arrives exactly once, in order, from the
// sender's outbox. The same scenario with real processes is test/e2e/crash.test.ts.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { conversation, receipted, testnet } from './helpers.js'

const N = 60
const CRASH_AT = 20

for (const network of ['sim', 'udp'] as const) {
  t.test(`${network}: the receiver killed mid-burst; after a restart every message arrives exactly once, in order`, async t => {
    const net = await testnet(t, 3, 51, { network })
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.befriend(alice, bob)
    const ids: string[] = []
    for (let i = 0; i < N; i++) {
      ids.push((await net.drive(alice.actions.send(bob.fingerprint, `burst ${i}`))).id)
      if (i === CRASH_AT) await net.crash(2)
      await net.advance(10) // a burst spread over time: some are in flight at the kill
    }
    const before = await Promise.all(ids.map(async id => (await alice.store.getMessage(id))?.status))
    t.ok(before.some(s => s !== 'delivered'), 'some messages are still undelivered while Bob is down')
    t.ok(ids.slice(0, 5).every(id => receipted(alice, id)), 'and the first ones were delivered before the kill')

    const bob2 = await net.restart(2)
    await net.until(() => ids.every(id => receipted(alice, id)), 240_000, 'every message delivered after the restart')
    const got = (await conversation(bob2, alice)).filter(m => m.direction === 'in')
    const counts = new Map<string, number>()
    for (const m of got) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
    t.same([...counts.values()].filter(n => n !== 1), [], 'no message stored twice')
    t.equal(got.length, N, `exactly ${N} messages`)
    t.same(got.map(m => m.id), ids, 'in the order they were sent')
    t.same(got.map(m => m.text), ids.map((_, i) => `burst ${i}`))
  })
}

t.test('sim: a crash keeps what was committed, loses what was not handed over, and says no goodbye', async t => {
  const net = await testnet(t, 4, 52)
  const [, alice, bob, carol] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  await net.befriend(alice, carol)
  const hi = await net.drive(Promise.all([alice.actions.send(bob.fingerprint, 'hi bob'), alice.actions.send(carol.fingerprint, 'hi carol')]))
  await net.until(() => hi.every(m => receipted(alice, m.id)), 60_000, 'both links up')
  const online = (fp: string): boolean => alice.actions.peers().some(p => p.fingerprint === fp && p.state === 'online')
  t.ok(online(bob.fingerprint) && online(carol.fingerprint))

  const message = (id: string, text: string): Parameters<TestNode['store']['addMessage']>[0] =>
    ({ id, peer: alice.fingerprint, direction: 'in', text, timestamp: 1, receivedAt: 1, status: 'received', read: false })
  await bob.store.addMessage(message('c0'.repeat(16), 'committed'))
  let lostSettled = false
  bob.store.addMessage(message('d0'.repeat(16), 'queued at the kill')).finally(() => { lostSettled = true }).catch(() => {})
  const seenBefore = bob.seen.length
  await net.crash(2) // Bob: as kill -9
  await net.stop(3) // Carol: a clean stop

  await net.advance(1_000)
  t.notOk(online(carol.fingerprint), 'a clean stop tells the peer at once (SESSION_CLOSE)')
  t.ok(online(bob.fingerprint), 'a crash tells it nothing: the link looks up until it times out')
  t.equal(lostSettled, false, 'the write issued at the kill never completes')
  t.equal(bob.seen.length, seenBefore, 'and the dead node reports nothing')
  await t.rejects(net.crash(2), { code: 'BAD_ARGUMENT' }, 'a dead node cannot be killed again')

  const bob2 = await net.restart(2)
  t.equal((await bob2.store.getMessage('c0'.repeat(16)))?.text, 'committed', 'what was committed is there after the restart')
  t.equal(await bob2.store.getMessage('d0'.repeat(16)), undefined, 'what had not been handed to the store is not')
  const after = await net.drive(alice.actions.send(bob.fingerprint, 'back?'))
  await net.until(() => receipted(alice, after.id), 120_000, 'a message to the restarted node')
  t.pass('the restarted node takes messages again')
})
