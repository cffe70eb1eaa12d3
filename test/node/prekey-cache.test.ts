// A contact's prekey bundle kept in the store (proto-spec/pqxdh.md §8, storage.md §Bundles),
// between whole simulated nodes: after Alice's restart her first message to Bob starts a v2
// session from the bundle she kept, without asking him again; a kept bundle a week old is asked
// for again at the next link-up (Bob has rotated since); one too old to start a session (§3.4)
// is dropped at start. Simulated time is jumped over while the nodes are stopped.
import t from 'tap'
import { type Testnet, type TestNode } from '../../src/node/testnet.js'
import { BUNDLE_MAX_AGE_MS, PREKEY_ROTATE_MS, decodeBundle } from '../../src/pqxdh/index.js'
import { PrekeyExchange } from '../../src/messaging/prekey-exchange.js'
import { FrameType } from '../../src/messaging/frames.js'
import { receipted, testnet } from './helpers.js'

const hex = (b: Uint8Array | undefined): string => b === undefined ? 'none' : Buffer.from(b).toString('hex')
const prekeyId = (b: Uint8Array | undefined): number => { const d = b === undefined ? null : decodeBundle(b); return d?.ok === true ? d.value.prekeyId : 0 }

/**
 * Counts the PREKEY_REQUESTs every node's exchange sends (its fetch), per asker, from now on: a
 * look at what goes on the wire, the exchange itself runs unchanged.
 */
function countAsks (t: Parameters<typeof testnet>[0]): Map<string, number> {
  const asks = new Map<string, number>()
  const fetch = PrekeyExchange.prototype.fetch
  PrekeyExchange.prototype.fetch = async function (this: PrekeyExchange, link, timeoutMs) {
    const me = (this as unknown as { ctx: { identity: { fingerprint: string } } }).ctx.identity.fingerprint
    asks.set(me, (asks.get(me) ?? 0) + 1)
    return await fetch.call(this, link, timeoutMs)
  }
  t.teardown(() => { PrekeyExchange.prototype.fetch = fetch })
  return asks
}

/** Every node stopped, `ms` of simulated time jumped over, every node started again. */
async function awayFor (net: Testnet, ms: number): Promise<void> {
  for (const n of net.nodes) await n.stop()
  const sim = net.sim!
  const end = sim.now + ms
  for (let i = 0; sim.now < end && i < 100_000; i++) {
    sim.clock.run({ until: end, maxEvents: 1 })
    await new Promise(resolve => setImmediate(resolve))
  }
  for (const n of [...net.nodes]) await net.drive(net.restart(n.index))
}

async function setUp (t: Parameters<typeof testnet>[0], seed: number): Promise<{ net: Testnet, alice: () => TestNode, bob: () => TestNode, kept: Uint8Array, keptAt: number }> {
  const net = await testnet(t, 3, seed, { prekeys: true })
  await net.befriend(net.nodes[1]!, net.nodes[2]!)
  const alice = (): TestNode => net.nodes[1]!
  const bob = (): TestNode => net.nodes[2]!
  await net.until(() => alice().messaging.network.link(bob().fingerprint) !== undefined, 120_000, 'a link from Alice to Bob')
  const kept = await net.drive(alice().messaging.prekeyExchange.fetch(alice().messaging.network.link(bob().fingerprint)!))
  const keptAt = alice().messaging.prekeyExchange.cached(bob().fingerprint)!.receivedAt
  return { net, alice, bob, kept, keptAt }
}

t.test("after Alice's restart her first message starts a v2 session from the bundle she kept", async t => {
  const { net, alice, bob, kept, keptAt } = await setUp(t, 71)
  await net.stop(alice().index) // a clean stop: the store's queued writes land
  const asks = countAsks(t)
  await net.drive(net.restart(alice().index))
  const c = alice().messaging.prekeyExchange.cached(bob().fingerprint)
  t.equal(hex(c?.bundle), hex(kept), "the restarted node holds Bob's bundle")
  t.equal(c?.receivedAt, keptAt, 'as it arrived before the restart')
  const m = await net.drive(alice().actions.send(bob().fingerprint, 'first after the restart'))
  await net.until(() => receipted(alice(), m.id), 120_000, 'the message delivered')
  t.ok(alice().messaging.ctx.counters.ratchetOut >= 1 && bob().messaging.ctx.counters.ratchetIn >= 1, 'it went as envelope v2')
  t.equal(asks.get(alice().fingerprint) ?? 0, 0, 'Alice did not ask Bob for his bundle again: her link-up did not wait for it')
  t.same(bob().messaging.ctx.counters.rejected, {}, 'Bob refused nothing')
})

t.test('a kept bundle a week old is asked for again at the next link-up: Bob rotated since', async t => {
  const { net, alice, bob, kept, keptAt } = await setUp(t, 72)
  const asks = countAsks(t)
  await awayFor(net, PREKEY_ROTATE_MS + 3_600_000)
  t.equal(prekeyId(bob().prekeys!.bundle()), prekeyId(kept) + 1, "Bob's restart made a new pair")
  t.equal(alice().messaging.prekeyExchange.cached(bob().fingerprint)?.receivedAt, keptAt, 'Alice kept the old bundle (it still opens)')
  const m = await net.drive(alice().actions.send(bob().fingerprint, 'a week later'))
  await net.until(() => receipted(alice(), m.id), 120_000, 'the message delivered')
  t.ok((asks.get(alice().fingerprint) ?? 0) >= 1, 'Alice asked Bob for his bundle again at link-up')
  t.ok(alice().messaging.ctx.counters.ratchetOut >= 1, 'and wrote v2')
})

t.test('a kept bundle too old to start a session is dropped at start', async t => {
  const { net, alice, bob } = await setUp(t, 73)
  await awayFor(net, BUNDLE_MAX_AGE_MS + 3_600_000)
  t.equal(alice().messaging.prekeyExchange.cached(bob().fingerprint), undefined, 'not held in memory')
  t.same((await net.drive(alice().store.listBundles())).map(b => b.peer), [], 'and deleted from the store')
})

t.test("a bundle from someone who is not a contact is neither kept nor stored (we ask contacts only)", async t => {
  const { net, alice } = await setUp(t, 74)
  const stranger = net.nodes[0]! // not Alice's contact; its bundle is validly its own
  const link = { fingerprint: stranger.fingerprint } as unknown as Parameters<PrekeyExchange['onFrame']>[0]
  alice().messaging.prekeyExchange.onFrame(link, { type: FrameType.PREKEY_BUNDLE, bundle: stranger.prekeys!.bundle() })
  t.equal(alice().messaging.prekeyExchange.cached(stranger.fingerprint), undefined, 'not held')
  await net.stop(alice().index) // the store's queued writes land
  await net.drive(net.restart(alice().index))
  t.same((await net.drive(alice().store.listBundles())).map(b => b.peer), [net.nodes[2]!.fingerprint], "only Bob's bundle is in Alice's store")
})
