// Reaching a contact through the DHT (proto-spec/messaging.md §5.2) with whole nodes: no static
// peers and no mDNS, node 0 is everyone's bootstrap. Alice adds Bob by fingerprint alone, so the
// only way she can learn where he is, and his keys, is his signed presence record. On the
// simulated testnet, and on real loopback UDP where the DHT shares the node's one socket. A
// contact the DHT does not know is looked up with backoff (5 s doubling to 5 min), measured over
// half an hour of simulated time. Moved from in-process daemons (test/messaging/dht-reach.test.ts).
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { DHT_LOOKUP_INITIAL_MS, DHT_LOOKUP_MAX_MS, DHT_LOOKUP_JITTER, DHT_LOOKUP_TIMEOUT_MS } from '../../src/messaging/constants.js'
import { conversation, receipted, stats, testnet } from './helpers.js'
import { localCall } from '../../src/daemon/rpc-methods.js'

for (const network of ['sim', 'udp'] as const) {
  t.test(`${network}: a contact added by fingerprint is found through the DHT, dialled, and the two talk`, async t => {
    const net = await testnet(t, 3, 41, { network })
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.drive(bob.dht!.ready()) // Bob's record is stored

    await net.addContact(alice, bob, 'bob', 'fingerprint')
    await net.until(() => bob.actions.requests().some(r => r.fingerprint === alice.fingerprint), 30_000, 'Alice\'s contact request at Bob')
    const row = alice.actions.peers().find(p => p.fingerprint === bob.fingerprint)
    t.equal(row?.source, 'dht', 'Alice found Bob through the DHT')
    t.equal(row?.address, `${bob.address.host}:${bob.address.port}`, 'at the address his record holds')
    const st = stats(alice)
    t.ok(st.lookupsFound >= 1 && st.lookupsStarted >= st.lookupsFound, `lookups counted (${st.lookupsStarted} started, ${st.lookupsFound} found)`)

    await net.drive(bob.actions.accept(alice.fingerprint))
    const m1 = await net.drive(alice.actions.send(bob.fingerprint, 'found you'))
    await net.until(() => receipted(alice, m1.id), 30_000, 'delivered to Bob')
    t.same((await conversation(bob, alice)).map(m => [m.direction, m.text]), [['in', 'found you']])
    const m2 = await net.drive(bob.actions.send(alice.fingerprint, 'and I you'))
    await net.until(() => receipted(bob, m2.id), 30_000, 'Bob\'s reply delivered')
    t.same((await conversation(alice, bob)).filter(m => m.direction === 'in').map(m => m.text), ['and I you'], 'Alice has his reply')
  })
}

t.test('sim: a contact the DHT does not know is looked up, not listed, and the lookups back off to 5 min', async t => {
  const net = await testnet(t, 3, 42)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.drive(bob.dht!.ready())
  const sim = net.sim!
  // Carol never ran a node: no record of hers is anywhere
  const carol = generateIdentity().fingerprint
  await net.addContact(alice, carol, 'carol')
  const starts: number[] = []
  let seen = 0
  const watch = (): boolean => {
    const n = stats(alice).lookupsStarted
    for (; seen < n; seen++) starts.push(sim.now)
    return false
  }
  await net.until(() => { watch(); return starts.length >= 1 }, 10_000, 'a lookup of Carol')
  const first = starts[0]!
  const firstBackoffMs = DHT_LOOKUP_INITIAL_MS * (1 - DHT_LOOKUP_JITTER)
  await net.until(() => { watch(); return sim.now - first >= firstBackoffMs }, 60_000, 'the first backoff')
  t.equal(starts.filter(at => at - first < firstBackoffMs).length, 1, 'one lookup within the first backoff, not a stream')
  const s = stats(alice)
  t.equal(s.lookupsFound, 0)
  t.equal(s.dialsStarted, 0, 'nowhere to dial')
  t.notOk(alice.actions.peers().some(p => p.fingerprint === carol), 'not listed without an address')

  const HALF_HOUR = 30 * 60_000
  await net.until(() => { watch(); return sim.now - first >= HALF_HOUR }, HALF_HOUR + 60_000, 'half an hour of lookups')
  const gaps = starts.slice(1).map((at, i) => at - starts[i]!)
  t.comment(JSON.stringify({ metric: 'dht_lookup_gaps', value: gaps.map(g => Math.round(g / 1000)), unit: 's' }))
  t.ok(gaps.length >= 4 && gaps.length <= 14, `${starts.length} lookups in half an hour: backing off, and still trying`)
  const capMs = DHT_LOOKUP_MAX_MS * (1 + DHT_LOOKUP_JITTER) + DHT_LOOKUP_TIMEOUT_MS
  t.ok(gaps.every(g => g >= DHT_LOOKUP_INITIAL_MS * (1 - DHT_LOOKUP_JITTER) && g <= capMs), 'every gap between the first backoff and the 5 min cap')
  const growing = gaps.slice(0, 5)
  t.ok(growing.every((g, i) => i === 0 || g > growing[i - 1]!), 'the first gaps grow (doubling)')
  t.ok(gaps.at(-1)! >= DHT_LOOKUP_MAX_MS * (1 - DHT_LOOKUP_JITTER), 'and reach the cap')
  t.equal(stats(alice).lookupsFound, 0)
})

t.test('sim: contacts.add starts the lookup before it writes the contact, in the call\'s own turn; an add that fails withdraws it', async t => {
  const net = await testnet(t, 3, 43)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.drive(bob.dht!.ready())
  await net.addContact(bob, alice, 'alice', 'fingerprint')
  const call = localCall({ store: alice.store, identity: alice.identity, now: () => alice.opts.world.scheduler.wallNow(), events: alice.events, messaging: alice.actions })
  // what the lookup counter said when the contact reached the store
  const put = alice.store.putContact.bind(alice.store)
  const atWrite: number[] = []
  alice.store.putContact = async c => { atWrite.push(stats(alice).lookupsStarted); await put(c) }
  const before = stats(alice).lookupsStarted
  await net.drive(call('contacts.add', { who: bob.fingerprint, name: 'bob' }))
  t.same(atWrite, [before + 1], 'the lookup had started when the contact was written (messaging.md §5.2)')
  await net.until(() => alice.actions.peers().some(p => p.fingerprint === bob.fingerprint && p.state === 'online'), 30_000, 'Alice and Bob linked')
  t.equal(stats(alice).lookupsStarted, before + 1, 'one lookup: the add\'s own event did not start a second')

  const carol = generateIdentity().fingerprint
  const started = stats(alice).lookupsStarted
  await t.rejects(net.drive(call('contacts.add', { who: carol, name: 'carol\u0007' })), { code: 'BAD_ARGUMENT' })
  t.equal(stats(alice).lookupsStarted, started + 1, 'the lookup went before the name was refused')
  const sim = net.sim!
  const from = sim.now
  await net.until(() => sim.now - from >= 60_000, 70_000, 'a minute')
  t.equal(stats(alice).lookupsStarted, started + 1, 'and the demand went with the refusal: no lookups backing off for someone never added')
  t.notOk(alice.messaging.ctx.contacts.has(carol))
})
