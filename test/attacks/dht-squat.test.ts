// A contact squats a user's presence key (proto-spec/dht.md §5.4, §10). Anyone who knows the
// fingerprint can compute the key and store well-signed records of their own under it; in
// version 1 a storer kept the first period key it saw, so a squatter who stored first and kept
// refreshing hid the owner at every storer it reached. Here, on the seeded DHT simulator:
// squatters on 3 subnets store first and refresh every 2 minutes, the owner publishes after them,
// and a reader still finds the owner's addresses at the same storers; then a flood of fresh period
// keys from one /24 and from 3 subnets under the key never pushes the owner's record out, and 4
// subnets that do are undone by the owner's next republish.
import t from 'tap'
import { SimDht, bindTransport, type SimNode, type DhtSimNetwork } from '../../src/dht/sim/index.js'
import { DhtNode } from '../../src/dht/node.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { periodOf } from '../../src/dht/presence-keys.js'
import { DhtType, StoreStatus, RECORDS_PER_KEY, REPUBLISH_MS } from '../../src/dht/constants.js'
import { simRandom, simScheduler } from '../../src/sim/io.js'
import { createRng, type Rng } from '../../src/sim/rng.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import type { Identity } from '../../src/crypto/identity.js'
import { makeNet, makeRecord, seededIdentity, RawPeer, NOW } from '../dht/helpers.js'
import { testSeed } from '../helpers/seed.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const metric = (t: { comment: (...a: unknown[]) => void }, name: string, value: number, unit: string, extra: object = {}): void => {
  t.comment(JSON.stringify({ metric: name, value, unit, ...extra }))
}
const P = periodOf(NOW)
/** Far enough for the whole test; storers cap it at 2 h per arrival (dht.md §5.4), refreshes extend it. */
const SQUAT_EXPIRY = Math.ceil((NOW + 10 * 3600_000) / 600_000) * 600_000

/** What Mallory can make: a record under `victim`'s key of period P, signed by a period key of `writer`'s own. */
function squatRecord (victim: Identity, writer: Identity): { bytes: Uint8Array, key: Uint8Array } {
  return sealPresenceRecord({ publicIdentity: victim, addresses: [{ host: '198.51.100.66', port: 1, kind: 'public' }], period: P, seq: 4_000_000_000, expiresAt: SQUAT_EXPIRY }, writer, randomBytes(24))
}

interface World { net: DhtSimNetwork, dht: SimDht, alice: Identity, owner: SimNode, reader: SimNode, ownerRecord: { bytes: Uint8Array, key: Uint8Array }, rng: Rng }

function world (seed: number): World {
  const net = makeNet(seed)
  const dht = new SimDht({ net, seed })
  dht.grow(60, { intervalMs: 20 })
  const rng = createRng(seed ^ 0x5a5a)
  const alice = seededIdentity(rng)
  const ownerRecord = makeRecord(alice, { seq: 5, expiresAt: NOW + 3 * 3600_000, addresses: [{ host: '203.0.113.7', port: 4000, kind: 'public' }] })
  return { net, dht, alice, owner: dht.nodes[1]!, reader: dht.nodes[2]!, ownerRecord, rng }
}

/** A squatter's own DHT node on a subnet of its own, republishing every `everyMs` (faster than the owner's 30 min). */
function squatterNode (w: World, addr: string, everyMs: number): DhtNode {
  const node = new DhtNode({
    publicKey: w.rng.bytes(32),
    transport: bindTransport(w.net, addr).transport,
    scheduler: simScheduler(w.net.clock),
    random: simRandom(w.rng.fork()),
    republishMs: everyMs
  })
  node.start()
  node.join([w.dht.nodes[0]!.addr], () => {})
  return node
}

/** Every live node holding something under the key, and whether it holds the owner's record. */
function storers (w: World): Array<{ s: SimNode, count: number, owner: boolean }> {
  const now = w.net.now
  const out = []
  for (const s of w.dht.alive()) {
    const list = s.node.internals.store.list(w.ownerRecord.key, now)
    if (list.length > 0) out.push({ s, count: list.length, owner: list.some(r => hex(r.record.bytes) === hex(w.ownerRecord.bytes)) })
  }
  return out
}

/** Runs simulated time until `p` settles (findPresence awaits between its two periods' lookups), at most `maxMs` of it. */
async function settle<T> (w: World, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  void p.finally(() => { done = true })
  for (let ms = 0; !done && ms < maxMs; ms += 1000) {
    w.net.run({ until: w.net.now + 1000 })
    await new Promise(resolve => setImmediate(resolve))
  }
  return await p
}

async function lookUp (w: World): Promise<string | null> {
  const found = await settle(w, w.reader.node.findPresence(w.alice.fingerprint))
  return found === null ? null : `${found.addresses[0]!.host}:${found.addresses[0]!.port}`
}

t.test('squatters who store first and keep refreshing no longer hide the owner: a reader finds the owner\'s record at the same storers', async t => {
  const seed = testSeed(t, 0x59a7, 'simulated DHT')
  const w = world(seed)
  const net = w.net
  // three contacts of Alice's, each on a /24 of its own, store first and refresh every 2 minutes
  const squatters = ['45.10.1.1:4000', '45.20.2.1:4000', '45.30.3.1:4000'].map(a => squatterNode(w, a, 2 * 60_000))
  net.run({ until: net.now + 5000 })
  const squats = squatters.map(() => squatRecord(w.alice, seededIdentity(w.rng)))
  squatters.forEach((n, i) => { void n.publish(squats[i]!.bytes, squats[i]!.key) })
  net.run({ until: net.now + 2 * 60_000 })
  const before = storers(w)
  t.ok(before.length >= 20, `${before.length} storers hold the squatters' records`)
  t.ok(before.every(x => x.count === 3 && !x.owner), 'each holds all three, none the owner\'s yet')
  t.equal(await lookUp(w), null, 'before the owner publishes a reader finds nothing that opens')

  const published = await settle(w, w.owner.node.publish(w.ownerRecord.bytes, w.ownerRecord.key))
  t.equal(published.stored, 20, 'the owner\'s STOREs are accepted by all 20 closest (version 1 answered STALE)')
  let found = 0
  let checks = 0
  let minWithOwner = Infinity
  // 100 minutes: three owner republishes, fifty squatter refreshes each
  for (let at = 0; at < 100; at += 20) {
    net.run({ until: net.now + 20 * 60_000 })
    const st = storers(w)
    const squatHolders = st.filter(x => x.count > (x.owner ? 1 : 0))
    t.ok(squatHolders.every(x => x.owner), `minute ${at + 20}: every storer holding squat records holds the owner's too (${squatHolders.length})`)
    minWithOwner = Math.min(minWithOwner, st.filter(x => x.owner).length)
    checks++
    if (await lookUp(w) === '203.0.113.7:4000') found++
  }
  t.equal(found, checks, 'the reader found the owner\'s addresses every time')
  metric(t, 'dht_squat_reader_found_owner', found, 'lookups', { of: checks, squatterSubnets: 3 })
  metric(t, 'dht_squat_min_storers_with_owner', minWithOwner, 'storers')
})

t.test(`a flood of squat records under one key cannot push the owner out for long: never from ${RECORDS_PER_KEY - 1} subnets, from more only until the next republish`, async t => {
  const seed = testSeed(t, 0xf100d, 'simulated DHT')
  const w = world(seed)
  const net = w.net
  t.equal((await settle(w, w.owner.node.publish(w.ownerRecord.bytes, w.ownerRecord.key))).stored, 20)
  const targets = storers(w).map(x => x.s)
  t.equal(targets.length, 20)

  // raw flooders: 8 IPs in one /24, then one IP in each of two more /24s (3 subnets in all)
  const oneNet = Array.from({ length: 8 }, (_, i) => new RawPeer(w.net, `45.66.6.${10 + i}:5000`, w.rng.fork()))
  const more = ['45.77.7.1:5000', '45.88.8.1:5000'].map(a => new RawPeer(w.net, a, w.rng.fork()))
  const store = (peer: RawPeer, to: string, rec: { bytes: Uint8Array, key: Uint8Array }): number => {
    peer.send(to, { type: DhtType.FIND_VALUE, key: rec.key, haveSeq: null })
    net.run({ until: net.now + 100 })
    const v = peer.got.at(-1)?.msg
    if (v?.type !== DhtType.VALUE) return -1
    peer.send(to, { type: DhtType.STORE, key: rec.key, token: v.token, record: rec.bytes })
    net.run({ until: net.now + 100 })
    const s = peer.got.at(-1)?.msg
    return s?.type === DhtType.STORED ? s.status : -1
  }
  const maxRecords = 80
  const deadline = Date.now() + 60_000 // bounded in count and in time
  let accepted = 0
  let sent = 0
  let ownerLost = 0
  for (let i = 0; i < maxRecords && Date.now() < deadline; i++) {
    const peer = i < maxRecords / 2 ? oneNet[i % oneNet.length]! : [...oneNet, ...more][i % (oneNet.length + more.length)]!
    const rec = squatRecord(w.alice, seededIdentity(w.rng))
    for (const s of targets) {
      if (store(peer, s.addr, rec) === StoreStatus.OK) accepted++
      sent++
    }
    ownerLost += storers(w).filter(x => !x.owner).length
  }
  t.ok(accepted > 0.9 * sent, `the storers take the flood (${accepted} of ${sent} STOREs)…`)
  t.equal(ownerLost, 0, '…yet no storer ever lost the owner\'s record: the flood churns the flooders\' own places')
  const evictions = targets.reduce((n, s) => n + s.node.internals.store.evictions, 0)
  t.ok(targets.every(s => s.node.internals.store.list(w.ownerRecord.key, net.now).length <= RECORDS_PER_KEY), `at most ${RECORDS_PER_KEY} records per key at each storer`)
  t.equal(await lookUp(w), '203.0.113.7:4000', 'a reader finds the owner during the flood')
  metric(t, 'dht_squat_flood_stores_accepted', accepted, 'STOREs', { sent, squatRecords: maxRecords, subnets: 3 })
  metric(t, 'dht_squat_flood_places_replaced', evictions, 'records')
  metric(t, 'dht_squat_flood_owner_displaced', ownerLost, 'storer-checks')

  // past the bound: 4 more subnets, each writing after the owner's last refresh, do push it out
  // (dht.md §5.4), and only until the owner's next republish (REPUBLISH_MS) takes a place back
  const four = ['45.91.1.1:5000', '45.92.2.1:5000', '45.93.3.1:5000', '45.94.4.1:5000'].map(a => new RawPeer(w.net, a, w.rng.fork()))
  for (let i = 0; i < 8; i++) {
    const rec = squatRecord(w.alice, seededIdentity(w.rng))
    for (const s of targets) store(four[i % four.length]!, s.addr, rec)
  }
  const displaced = storers(w).filter(x => !x.owner).length
  t.ok(displaced > 0, `4 fresh subnets displace the owner at ${displaced} of 20 storers`)
  net.run({ until: net.now + REPUBLISH_MS })
  const back = storers(w).filter(x => x.owner).length
  t.equal(back, 20, 'one republish later the owner\'s record is back at all 20')
  t.equal(await lookUp(w), '203.0.113.7:4000')
  metric(t, 'dht_squat_four_subnets_displaced', displaced, 'storers', { of: 20 })
  metric(t, 'dht_squat_owner_back_after_republish', back, 'storers', { afterMs: REPUBLISH_MS })
})
