// Two symmetric-NAT users add each other at nearly the same moment (proto-spec/traversal.md §5.3,
// §5.4, §7.6): the first adder's relay-first offer reaches the other while it is still a stranger
// there (answered with a stranger's relay), then the other adds back and offers its own
// allocation. Whichever fingerprint is smaller, whatever the gap, the two must end on one relayed
// session in well under a dial timeout, without waiting out the unused-path sweep (§7.4).
import t from 'tap'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import { testnetSeed } from '../node/helpers.js'
import { row, symmetricPair } from './sim-pair.js'

// the gaps around the stranger's relay answer (its allocation takes one round trip to a relay)
const GAPS = [0, 30, 60, 120]
// 20 ms: the contact is written after the lookup has started, as the daemon's contacts.add does
const LAGS = [0, 20]

/** `a` adds `b` as the daemon's contacts.add does: the lookup starts, the contact is written `lag` ms later. */
async function adds (net: Testnet, a: TestNode, b: TestNode, lag: number): Promise<void> {
  a.actions.contactComing(b.fingerprint)
  if (lag > 0) await net.advance(lag)
  await net.addContact(a, b, `node-${b.index}`, 'fingerprint')
}

for (const firstIs of ['smaller', 'larger'] as const) {
  for (const gap of GAPS) for (const lag of LAGS) {
    t.test(`sim: the ${firstIs} fingerprint adds first, the other ${gap} ms later, each written ${lag} ms after its lookup starts: one relayed session, soon`, async t => {
      const { net, alice, bob } = await symmetricPair(t, testnetSeed(300 + gap * 100 + lag))
      const low = alice.fingerprint < bob.fingerprint ? alice : bob
      const high = low === alice ? bob : alice
      const [first, second] = firstIs === 'smaller' ? [low, high] : [high, low]
      const start = net.sim!.now
      const added = adds(net, first, second, lag)
      await net.advance(gap)
      await Promise.all([added, adds(net, second, first, lag)])
      await net.until(() => row(first, second)?.state === 'online' && row(second, first)?.state === 'online', 20_000, 'both online')
      const ms = net.sim!.now - start
      t.comment(JSON.stringify({ gap, lag, firstIs, ms, first: first.autoRelay!.stats, second: second.autoRelay!.stats }))
      // relay first (both symmetric): an allocation, an offer, a join and a handshake, not a 30 s sweep
      t.ok(ms < 3_000, `both online ${ms} ms after the first add`)
      t.equal(row(first, second)?.path?.via, 'relayed', 'relayed')
      t.equal(first.autoRelay!.stats.relayedSessions + second.autoRelay!.stats.relayedSessions, 1, 'one handshake through a relay')
    })
  }
}
