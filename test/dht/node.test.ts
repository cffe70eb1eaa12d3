// DhtNode over a simulated network: RPC answers only from the asked address, the defences
// (rate limit per IP, /24 cap, per-source record cap, oversize drop, tokens on STORE),
// publish/find, lookup convergence, progress and cancellation.
import t from 'tap'
import { createRng } from '../../src/sim/rng.js'
import { DhtType, StoreStatus, ValueStatus, RATE_BURST, MAX_MESSAGE_BYTES } from '../../src/dht/constants.js'
import { RpcTable } from '../../src/dht/rpc.js'
import { encodeMessage, type DhtMessage, type FindValueBody } from '../../src/dht/messages.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { periodOf } from '../../src/dht/presence-keys.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { compareDistance, idToHex, nodeIdAt } from '../../src/dht/ids.js'
import { Lookup } from '../../src/dht/lookup.js'
import { SimDht } from '../../src/dht/sim/index.js'
import { simScheduler } from '../../src/sim/io.js'
import { makeNet, makeNode, makeRecord, seededIdentity, RawPeer, NOW } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('a response is accepted only from the address that was asked', async t => {
  const net = makeNet(1)
  const rng = createRng(1)
  const sent: Array<{ to: string, d: Uint8Array }> = []
  const rpc = new RpcTable({ scheduler: simScheduler(net.clock), random: n => rng.bytes(n), send: (to, d) => sent.push({ to, d }) })
  const events: string[] = []
  const tx = rpc.request('198.51.100.1:1', DhtType.PING, (txid) => encodeMessage({ txid, readOnly: false, senderKey: rng.bytes(32), type: DhtType.PING }), {
    timeoutMs: 1000, retries: 1, onResponse: (_m, from) => events.push(`ok ${from}`), onTimeout: () => events.push('timeout')
  })!
  const pong = { txid: tx.txid, readOnly: false, senderKey: rng.bytes(32), type: DhtType.PONG, observed: '198.51.100.9:9' } as const
  t.equal(rpc.receive(pong, '198.51.100.2:1'), 'wrong-address', 'another host')
  t.equal(rpc.receive(pong, '198.51.100.1:2'), 'wrong-address', 'another port')
  t.equal(rpc.receive({ ...pong, type: DhtType.NODES, nodes: [] }, '198.51.100.1:1'), 'wrong-type')
  t.equal(rpc.receive({ ...pong, txid: tx.txid ^ 1 }, '198.51.100.1:1'), 'unknown-txid')
  t.same(events, [], 'none of them reached the caller')
  net.advance(1000)
  t.equal(sent.length, 2, 'retried once with the same packet')
  t.same(sent[0]!.d, sent[1]!.d)
  t.equal(rpc.receive(pong, '198.51.100.1:1'), 'ok', 'the real answer still counts after a retry')
  t.same(events, ['ok 198.51.100.1:1'])
  t.equal(rpc.receive(pong, '198.51.100.1:1'), 'unknown-txid', 'a duplicate is dropped')
  rpc.request('198.51.100.1:1', DhtType.PING, () => new Uint8Array(1), { timeoutMs: 100, onResponse: () => {}, onTimeout: () => events.push('timeout') })
  net.advance(100)
  t.same(events, ['ok 198.51.100.1:1', 'timeout'])
})

t.test('a node ignores a spoofed answer from the wrong address', async t => {
  const net = makeNet(2)
  const rng = createRng(2)
  const a = makeNode(net, '198.51.100.1:4000', rng)
  const liar = new RawPeer(net, '203.0.113.66:4000')
  const asked = new RawPeer(net, '198.51.100.2:4000')
  let result: string | null = 'pending'
  a.ping('198.51.100.2:4000', (id) => { result = id && idToHex(id) }, 0)
  net.advance(15)
  // The liar learned the txid (an on-path observer) and answers from its own address.
  const seen = asked.got[0]!
  t.ok(seen.msg && seen.msg.type === DhtType.PING, 'the ping arrived')
  liar.send('198.51.100.1:4000', { type: DhtType.PONG, observed: '198.51.100.1:4000' }, seen.msg!.txid)
  net.advance(20)
  t.equal(result, 'pending', 'spoofed PONG ignored')
  t.equal(a.stats().drops['wrong-address'], 1, 'and counted')
  asked.send('198.51.100.1:4000', { type: DhtType.PONG, observed: '198.51.100.1:4000' }, seen.msg!.txid)
  net.advance(20)
  t.equal(result, idToHex(nodeIdAt(asked.key, '198.51.100.2:4000')), 'the asked node\'s answer is taken')
})

t.test('per-IP rate limit: a flood from one IP is cut at the burst, others are served', async t => {
  const net = makeNet(3)
  const rng = createRng(3)
  makeNode(net, '198.51.100.1:4000', rng, { rateLimit: { ratePerSecond: 10, burst: 20 } })
  const flooder = new RawPeer(net, '203.0.113.5:1000')
  const polite = new RawPeer(net, '192.0.2.7:1000')
  for (let i = 0; i < 200; i++) flooder.send('198.51.100.1:4000', { type: DhtType.PING })
  polite.send('198.51.100.1:4000', { type: DhtType.PING })
  net.advance(100)
  t.equal(flooder.got.length, 20, 'only the burst is answered')
  t.equal(polite.got.length, 1, 'another IP is unaffected')
  net.advance(1000)
  for (let i = 0; i < 50; i++) flooder.send('198.51.100.1:4000', { type: DhtType.PING })
  net.advance(100)
  const refilled = flooder.got.length - 20
  t.ok(refilled >= 10 && refilled <= 12, `refilled at 10/s: ${refilled} answered after 1.1 s`)
  t.ok(RATE_BURST > 0)
})

t.test('oversize and malformed datagrams are dropped and counted, never thrown', async t => {
  const net = makeNet(4)
  const rng = createRng(4)
  const a = makeNode(net, '198.51.100.1:4000', rng)
  const peer = new RawPeer(net, '203.0.113.5:1000')
  const ping = encodeMessage({ txid: 1, readOnly: true, senderKey: peer.key, type: DhtType.PING })
  const big = new Uint8Array(MAX_MESSAGE_BYTES + 1)
  big.set(ping)
  peer.ep.send('198.51.100.1:4000', big)
  peer.ep.send('198.51.100.1:4000', ping.subarray(0, 10))
  peer.ep.send('198.51.100.1:4000', new Uint8Array(0))
  net.advance(50)
  t.equal(a.stats().drops.oversize, 1)
  t.equal(a.stats().drops.malformed, 2)
  t.equal(peer.got.length, 0, 'no answer to any of them')
})

t.test('STORE: token bound to the asker, full verification, per-source cap, replacement', async t => {
  const net = makeNet(5)
  const rng = createRng(5)
  makeNode(net, '198.51.100.1:4000', rng, { records: { maxPerSource: 2 } })
  const peer = new RawPeer(net, '203.0.113.5:1000')
  const thief = new RawPeer(net, '203.0.113.6:1000')
  const ids = [seededIdentity(rng), seededIdentity(rng), seededIdentity(rng)]
  const recs = ids.map(id => makeRecord(id))
  const tokenFor = (p: RawPeer, key: Uint8Array): Uint8Array => {
    p.send('198.51.100.1:4000', { type: DhtType.FIND_VALUE, key, haveSeq: null })
    net.advance(30)
    const m = p.got.at(-1)!.msg!
    if (m.type !== DhtType.VALUE) throw new Error('expected VALUE')
    return m.token
  }
  const store = (p: RawPeer, r: { key: Uint8Array, bytes: Uint8Array }, token: Uint8Array): number => {
    p.send('198.51.100.1:4000', { type: DhtType.STORE, key: r.key, token, record: r.bytes })
    net.advance(30)
    const m = p.got.at(-1)!.msg!
    return m.type === DhtType.STORED ? m.status : -1
  }
  const tok0 = tokenFor(peer, recs[0]!.key)
  t.equal(store(thief, recs[0]!, tok0), StoreStatus.BAD_TOKEN, 'a token is useless from another address')
  t.equal(store(peer, recs[1]!, tok0), StoreStatus.BAD_TOKEN, 'and for another key')
  const forged = makeRecord(ids[1]!)
  forged.bytes[forged.bytes.length - 1]! ^= 1
  t.equal(store(peer, { key: recs[0]!.key, bytes: forged.bytes }, tok0), StoreStatus.INVALID, 'bad record refused')
  t.equal(store(peer, recs[0]!, tok0), StoreStatus.OK)
  t.equal(store(peer, recs[1]!, tokenFor(peer, recs[1]!.key)), StoreStatus.OK)
  t.equal(store(peer, recs[2]!, tokenFor(peer, recs[2]!.key)), StoreStatus.FULL, 'third record from one IP refused')
  const older = makeRecord(ids[0]!, { seq: 0 })
  t.equal(store(peer, older, tokenFor(peer, older.key)), StoreStatus.STALE)
  peer.send('198.51.100.1:4000', { type: DhtType.FIND_VALUE, key: recs[0]!.key, haveSeq: null })
  net.advance(30)
  const v = peer.got.at(-1)!.msg!
  t.ok(v.type === DhtType.VALUE && v.status === ValueStatus.RECORDS && v.total === 1 && Buffer.from(v.records[0]!).equals(Buffer.from(recs[0]!.bytes)), 'served back')
  peer.send('198.51.100.1:4000', { type: DhtType.FIND_VALUE, key: recs[0]!.key, haveSeq: 1 })
  net.advance(30)
  const nn = peer.got.at(-1)!.msg!
  t.ok(nn.type === DhtType.VALUE && nn.status === ValueStatus.NOT_NEWER && nn.seq === 1, 'have-seq 1: NOT_NEWER')
})

t.test('FIND_VALUE selects among several writers\' records: all of them two at a time, or one period key\'s for a publisher (dht.md §3.4, §3.5)', async t => {
  const net = makeNet(6)
  const rng = createRng(6)
  makeNode(net, '198.51.100.1:4000', rng)
  const alice = seededIdentity(rng)
  const owner = makeRecord(alice, { seq: 5 })
  // records under Alice's key signed by period keys of three others (squatters: they verify, they do not open)
  const squats = [0, 1, 2].map(() => sealPresenceRecord({ publicIdentity: alice, addresses: [], period: periodOf(NOW), seq: 5, expiresAt: Math.ceil((NOW + 3600_000) / 600_000) * 600_000 }, seededIdentity(rng), randomBytes(24)))
  const writers = [owner, ...squats].map((r, i) => ({ r, peer: new RawPeer(net, `203.0.${113 + i}.5:1000`, createRng(60 + i)) }))
  const ask = (p: RawPeer, body: Omit<FindValueBody, 'type' | 'key'>): DhtMessage & { type: typeof DhtType.VALUE } => {
    p.send('198.51.100.1:4000', { type: DhtType.FIND_VALUE, key: owner.key, ...body })
    net.advance(30)
    const m = p.got.at(-1)!.msg!
    if (m.type !== DhtType.VALUE) throw new Error('expected VALUE')
    return m
  }
  for (const { r, peer } of writers) {
    const v = ask(peer, { haveSeq: null })
    peer.send('198.51.100.1:4000', { type: DhtType.STORE, key: r.key, token: v.token, record: r.bytes })
    net.advance(30)
    const st = peer.got.at(-1)!.msg!
    t.ok(st.type === DhtType.STORED && st.status === StoreStatus.OK, 'each writer\'s record is stored')
  }
  const reader = new RawPeer(net, '192.0.2.9:1', createRng(70))
  const first = ask(reader, { haveSeq: null })
  t.ok(first.type === DhtType.VALUE && first.status === ValueStatus.RECORDS && first.total === 4 && first.start === 0 && first.records.length === 2, 'records 0 and 1 of 4')
  const rest = ask(reader, { haveSeq: null, start: 2 })
  t.ok(rest.type === DhtType.VALUE && rest.status === ValueStatus.RECORDS && rest.total === 4 && rest.start === 2 && rest.records.length === 2, 'the follow-up: records 2 and 3')
  const all = [first, rest].flatMap(m => m.type === DhtType.VALUE && m.status === ValueStatus.RECORDS ? m.records.map(hex) : [])
  t.same(new Set(all), new Set([owner, ...squats].map(r => hex(r.bytes))), 'every writer\'s record, once')
  t.ok(ask(reader, { haveSeq: null, start: 4 }).status === ValueStatus.NONE, 'nothing from index 4 on')
  const ownerKey = owner.bytes.slice(1, 33)
  const mine = ask(reader, { haveSeq: 5, periodKey: ownerKey })
  t.ok(mine.type === DhtType.VALUE && mine.status === ValueStatus.NOT_NEWER && mine.seq === 5, 'the publisher\'s question: its own record, NOT_NEWER, though squatters hold the same seq')
  const older = ask(reader, { haveSeq: 4, periodKey: ownerKey })
  t.ok(older.type === DhtType.VALUE && older.status === ValueStatus.RECORDS && older.total === 1 && hex(older.records[0]!) === hex(owner.bytes), 'a newer one under its period key: that record alone')
  t.ok(ask(reader, { haveSeq: 5, periodKey: rng.bytes(32) }).status === ValueStatus.NONE, 'an unknown period key: NONE (the publisher then stores)')
  t.ok(ask(reader, { haveSeq: 5 }).status === ValueStatus.NOT_NEWER, 'have seq alone: NOT_NEWER when no record under the key is newer')
})

t.test('routing table and lookups cap contacts per /24', async t => {
  const net = makeNet(6)
  const rng = createRng(6)
  const a = makeNode(net, '198.51.100.1:4000', rng)
  for (let i = 0; i < 10; i++) makeNode(net, `203.0.113.${10 + i}:4000`, rng)
  for (let i = 0; i < 10; i++) a.ping(`203.0.113.${10 + i}:4000`, () => {})
  net.advance(200)
  t.equal(a.table.size, 2, 'two contacts from 203.0.113.0/24, no more')
  const l = new Lookup({ target: rng.bytes(32), selfId: a.id, maxPerSubnet: 2 })
  const added = l.add(Array.from({ length: 10 }, (_, i) => ({ id: rng.bytes(32), addr: `203.0.113.${i + 1}:1` })), 1)
  t.equal(added, 2, 'a lookup takes at most two candidates from one /24')
})

t.test('lookups converge to the true k closest; publish then find; cancel; progress', async t => {
  const net = makeNet(7)
  const dht = new SimDht({ net, seed: 7 })
  dht.grow(150, { intervalMs: 20 })
  const nodes = dht.nodes.map(s => s.node)
  const target = createRng(70).bytes(32)
  const want = [...nodes].sort((x, y) => compareDistance(x.id, y.id, target)).slice(0, 20).map(n => idToHex(n.id))
  const asker = nodes[100]!
  let progress = 0
  const p = asker.findNode(target, { onProgress: () => { progress++ } })
  net.run({ until: net.now + 10_000 })
  const r = await p
  const got = r.closest.map(c => idToHex(c.id))
  const overlap = got.filter(h => want.includes(h)).length
  t.ok(overlap >= 19, `found ${overlap}/20 of the true closest`)
  t.ok(progress >= r.responded, 'progress reported per answer')

  const alice = seededIdentity(createRng(71))
  const rec = makeRecord(alice, { expiresAt: Math.floor(net.now) + 3600_000 })
  const pub = nodes[3]!.publish(rec.bytes, rec.key)
  net.run({ until: net.now + 10_000 })
  const pr = await pub
  t.ok(pr.stored >= 18, `${pr.stored} replicas stored`)
  const found = nodes[120]!.findPresence(alice.fingerprint)
  net.run({ until: net.now + 10_000 })
  t.equal((await found)?.fingerprint, alice.fingerprint, 'found and the keys hash to the fingerprint asked for')
  const mallory = seededIdentity(createRng(72))
  // not found: this period's key, then the adjacent period's (dht.md §5.1), one lookup after the other
  t.equal(await runUntilSettled(net, nodes[120]!.findPresence(mallory.fingerprint)), null, 'nobody published mallory')

  const ac = new AbortController()
  const sentBefore = net.stats.sent
  const cancelled = nodes[50]!.findNode(createRng(73).bytes(32), { signal: ac.signal })
  net.run({ until: net.now + 15 })
  ac.abort(new Error('user gave up'))
  const afterAbort = net.stats.sent
  net.run({ until: net.now + 5000 })
  await t.rejects(cancelled, { message: 'user gave up' }, 'the promise rejects with the signal reason')
  t.ok(afterAbort > sentBefore, 'it had started')
  t.equal(nodes[50]!.stats().pendingRpcs, 0, 'no transaction left pending')
  void NOW
})

t.test('a node that itself holds the record finds it: in a two-node network the only replica is the asker', async t => {
  const net = makeNet(11)
  const rng = createRng(11)
  const a = makeNode(net, '10.0.0.1:4000', rng)
  const b = makeNode(net, '10.0.1.1:4000', rng)
  const joined = b.bootstrap(['10.0.0.1:4000'])
  net.run({ until: net.now + 5000 })
  await joined
  const bob = seededIdentity(createRng(12))
  const old = makeRecord(bob, { seq: 1, expiresAt: Math.floor(net.now) + 3600_000 })
  const pub = b.publish(old.bytes, old.key)
  net.run({ until: net.now + 5000 })
  t.equal((await pub).stored, 1, 'a is the one replica (b does not store its own)')
  t.equal(a.stats().records, 1)
  const found = a.findPresence(bob.fingerprint)
  net.run({ until: net.now + 5000 })
  t.equal((await found)?.seq, 1, 'a answers its own lookup from its store')

  // a newer record held elsewhere still wins over the one in our store
  const c = makeNode(net, '10.0.2.1:4000', rng)
  const cj = c.bootstrap(['10.0.0.1:4000'])
  net.run({ until: net.now + 5000 })
  await cj
  const newer = makeRecord(bob, { seq: 2, expiresAt: Math.floor(net.now) + 3600_000 })
  t.equal(c.internals.store.put(c.internals.verifyRecord(newer.bytes, newer.key, net.now)!, '10.0.9.9', net.now), 'stored')
  const again = a.findValue(newer.key, { exhaustive: true })
  net.run({ until: net.now + 5000 })
  t.equal((await again).record?.seq, 2, 'the newest seq wins')
  t.equal(await runUntilSettled(net, a.findPresence(seededIdentity(createRng(13)).fingerprint)), null, 'and a key nobody holds is still not found')
})

/** Runs simulated time in 1 s steps (at most 60 s) until `p` settles: lookups that start others need it. */
async function runUntilSettled<T> (net: ReturnType<typeof makeNet>, p: Promise<T>): Promise<T> {
  let settled = false
  void p.finally(() => { settled = true }).catch(() => {})
  for (let i = 0; i < 60 && !settled; i++) {
    net.run({ until: net.now + 1000 })
    await new Promise(resolve => setImmediate(resolve))
  }
  return await p
}
