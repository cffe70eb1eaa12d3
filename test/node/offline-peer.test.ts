// A contact whose node stopped (proto-spec/messaging.md §5 "Shown state"): Alice's peer list
// shows it offline once the attempts to reach it fail — not "connecting" for minutes while the
// backoff keeps redialling in the background — with when it was last seen, kept in the store.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { testnet } from './helpers.js'

t.test('a stopped contact shows offline with its last seen, never connecting again', async t => {
  const net = await testnet(t, 3, 41)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  const bobPeer = (): ReturnType<TestNode['actions']['peers']>[number] | undefined => alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
  await net.befriend(alice, bob)
  await net.until(() => bobPeer()?.state === 'online', 60_000, 'Bob online in Alice\'s peer list')
  const upAt = bobPeer()?.lastSeen
  t.type(upAt, 'number', 'last seen is set when the session comes up')

  await net.stop(2)
  const stoppedAt = alice.opts.world.scheduler.wallNow()
  await net.until(() => bobPeer()?.state === 'offline', 120_000, 'Bob shown offline')
  const shown: Record<string, number> = {}
  // 150 s of simulated time, sampled every second: the backoff redials Bob many times meanwhile
  for (let s = 0; s < 150; s++) {
    await net.advance(1000)
    const state = bobPeer()?.state ?? 'missing'
    shown[state] = (shown[state] ?? 0) + 1
  }
  t.same(shown, { offline: 150 }, 'offline all along, never connecting')
  t.ok(alice.actions.stats().dialsStarted as number > 0, 'while Alice kept dialling')
  const presence = alice.seen.filter(e => e.type === 'presence' && e.peer === bob.fingerprint).map(e => e.state)
  t.equal(presence.at(-1), 'offline', 'the last presence event says offline')
  t.notOk(presence.slice(presence.lastIndexOf('online')).includes('connecting'), 'no connecting event after Bob went away')

  const lastSeen = bobPeer()?.lastSeen as number
  t.ok(lastSeen >= (upAt as number) && lastSeen <= stoppedAt + 120_000, 'last seen: when the session ended')
  t.equal((await alice.store.getContact(bob.fingerprint))?.lastSeen, lastSeen, 'kept in the store')
})
