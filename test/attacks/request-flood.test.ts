// Strangers flooding the request book (proto-spec/messaging.md §3.2), on the seeded simulator
// (whole nodes, simulated time): 40 identities from one /24, then 110 from as many networks,
// each introducing itself and writing once. One network gets at most its quota, the book stays
// at its bound, a real newcomer from yet another network still gets in (the oldest request of
// the busiest network makes room), and unanswered requests expire after 30 days, files and all,
// and stay gone after a restart. Evicted stranger sessions do not come back in a loop.
// Prints its figures as JSON lines.
import t from 'tap'
import { createNodes, type TestNode, type Testnet } from '../../src/node/testnet.js'
import { MAX_PENDING_REQUESTS, MAX_REQUESTS_PER_NETWORK, REQUEST_EXPIRY_MS } from '../../src/messaging/constants.js'
import { testSeed } from '../helpers/seed.js'

t.setTimeout(600_000) // ~23 s of CPU; on a machine at load 25 it took over 300 s

// 40: two and a half times a /24's quota (16); with the 110 below, 151 strangers, more than the
// 128 stranger sessions Bob keeps (MAX_STRANGER_SESSIONS), so evicted ones redial
const ONE_NET = 40
const MANY_NETS = 110
const BOB = 0
const NEWCOMER = 1 + ONE_NET + MANY_NETS
const FLOOD_NET = '10.250.7' // a /24 of its own for the first wave

/** Node 0 is Bob; 1..40 share 10.250.7.0/24; the next 110 have a /24 each; the last is the newcomer at 192.0.2.7. */
function hostOf (i: number): string {
  if (i === BOB) return '10.1.0.1'
  if (i <= ONE_NET) return `${FLOOD_NET}.${i}`
  if (i === NEWCOMER) return '192.0.2.7'
  return `10.${100 + (i >> 8)}.${i & 255}.1`
}

const metric = (t: { comment: (s: string) => void }, name: string, value: number, unit: string): void => {
  t.comment(JSON.stringify({ metric: name, value, unit }))
}

/** `s` knows where Bob is and adds him: its CONTACT_REQUEST goes out, and one message with it. */
async function write (net: Testnet, s: TestNode, bob: TestNode): Promise<void> {
  s.messaging.network.conn.remember(bob.fingerprint, bob.address, 'static', s.opts.world.scheduler.wallNow())
  await net.addContact(s, bob, 'bob')
  await s.actions.send('bob', `hello from ${s.index}`)
}

const receivedBy = (bob: TestNode): Set<string> => new Set(bob.seen
  .filter(e => e.type === 'request' && e.action === 'received')
  .map(e => (e.request as { fingerprint: string }).fingerprint))

t.test('a request flood from one network and from many: bounded, fair to a newcomer, and gone after 30 days', async t => {
  const seed = testSeed(t, 0x4eb0, 'the simulated network')
  const net = await createNodes(NEWCOMER + 1, { network: 'sim', seed, dht: false, host: hostOf })
  t.teardown(async () => { await net.destroy() })
  const bob = net.nodes[BOB] as TestNode
  const strangers = net.nodes.slice(1, NEWCOMER)
  const counts = (): ReturnType<TestNode['actions']['requestCounts']> => bob.actions.requestCounts()

  // wave 1: one /24
  for (const s of strangers.slice(0, ONE_NET)) await write(net, s, bob)
  await net.until(() => counts().dropped >= ONE_NET - MAX_REQUESTS_PER_NETWORK, 120_000, 'the first wave to be turned away')
  const fromFlood = bob.actions.requests().length
  t.equal(fromFlood, MAX_REQUESTS_PER_NETWORK, `${ONE_NET} identities from one /24 hold ${fromFlood} slots, the network's quota`)
  metric(t, 'one-network-requests-kept', fromFlood, 'requests')

  // wave 2: as many networks
  for (const s of strangers.slice(ONE_NET)) await write(net, s, bob)
  const many = new Set(strangers.slice(ONE_NET).map(s => s.fingerprint))
  await net.until(() => [...receivedBy(bob)].filter(fp => many.has(fp)).length === MANY_NETS, 120_000, 'every stranger of the second wave to be received')
  t.equal(bob.actions.requests().length, MAX_PENDING_REQUESTS, 'the book stays at its bound')
  t.ok(counts().evicted > 0, `${counts().evicted} requests evicted to make room`)
  const kept = bob.actions.requests().filter(r => many.has(r.fingerprint)).length
  t.ok(kept >= MAX_PENDING_REQUESTS - MAX_REQUESTS_PER_NETWORK, `the many networks hold ${kept} slots: the flood's /24 made room first`)

  // a real newcomer, from another network, once the book is full
  const newcomer = net.nodes[NEWCOMER] as TestNode
  await write(net, newcomer, bob)
  const listed = (): boolean => bob.actions.requests().some(r => r.fingerprint === newcomer.fingerprint && r.held === 1 && r.text === `hello from ${newcomer.index}`)
  await net.until(listed, 60_000, 'the newcomer\'s request and message')
  t.ok(listed(), 'the newcomer\'s request and message are in Bob\'s list, although the book was full')
  await net.until(() => newcomer.seen.some(e => e.type === 'receipt' && e.status === 'delivered'), 60_000, 'the newcomer\'s message to be delivered')
  // the flood keeps retrying what was not acknowledged: the newcomer stays. 151 strangers share
  // Bob's 128 stranger sessions; each evicted one redials with a growing backoff (messaging.md §5.1)
  const handshakes = (): number => bob.udp.endpoint.stats().handshakesCompleted
  const before = handshakes()
  await net.advance(10 * 60_000)
  t.ok(bob.actions.requests().some(r => r.fingerprint === newcomer.fingerprint), 'still there after ten minutes of retries from the flood')
  const perSecond = (handshakes() - before) / 600
  metric(t, 'stranger-churn-handshakes', Math.round(perSecond * 10) / 10, 'handshakes/s (simulated)')
  t.ok(perSecond < 20, `evicted strangers back off: ${perSecond.toFixed(1)} handshakes/s at Bob, not one per stranger every half second`)
  const c = counts()
  for (const [k, v] of Object.entries(c)) metric(t, `book-${k}`, v, k.endsWith('Bytes') ? 'bytes' : 'count')

  // everyone goes quiet; 30 days later nothing is left
  for (let i = 1; i <= NEWCOMER; i++) await net.stop(i)
  await net.advance(REQUEST_EXPIRY_MS + 2 * 3600_000)
  t.same(bob.actions.requests(), [], 'every unanswered request expired')
  t.equal(counts().expired, c.pending, `${c.pending} expired`)
  const storage = bob.opts.world.storage
  t.same(await storage.list(`${bob.opts.paths.home}/requests`), [], 'and their files are gone')
  await net.stop(BOB)
  const again = await net.restart(BOB)
  t.same(again.actions.requests(), [], 'nothing comes back after a restart')
  t.equal(again.actions.requestCounts().expired, c.pending, 'the counts are kept')
})
