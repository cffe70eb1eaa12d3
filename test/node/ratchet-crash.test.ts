// Envelope v2 across crashes (proto-spec/envelope.md §8.4): both ends of a conversation are
// killed as by kill -9 (net.crash) at seeded random points of an exchange and restarted. Every
// envelope that reaches a peer is checked against what the sender's ratchet sealed it with: no
// (session, ratchet key, message number) is ever used for two different ciphertexts on the wire,
// and in the end every message is stored exactly once on the other side. A reuse shows on the
// wire only if the restarted node happens to send on the old chain before a ratchet step moves it
// on, so each restart is also checked where reuse starts: the state read back from the store must
// be past every key whose ciphertext left before the kill (same ratchet key: a higher message
// number; never a ratchet key older than one that sent).
import t from 'tap'
import { type TestNode, type Testnet } from '../../src/node/testnet.js'
import { testRng } from '../helpers/seed.js'
import { testnet } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

interface SealedKey { by: 1 | 2, base: string, dh: string, n: number, order: number }
/** envelope hex → the key that sealed it and who did (recorded at seal time, across restarts) */
const sealedWith = new Map<string, SealedKey>()
let seals = 0
/** `base:dh:n` → every distinct envelope seen on the wire under it */
const onWire = new Map<string, Set<string>>()
/** per sealer, per session base, per ratchet key: the highest message number that left, and when that key first sealed */
const left: Record<1 | 2, Map<string, Map<string, { n: number, first: number }>>> = { 1: new Map(), 2: new Map() }
const firstSeal = new Map<string, number>()

/** Records every seal of node `i` and every v2 envelope it receives. */
function watch (n: TestNode, i: 1 | 2): void {
  const book = n.messaging.sessions.book!
  const seal = book.seal.bind(book)
  book.seal = (peer, payload, id, timestamp) => {
    const r = seal(peer, payload, id, timestamp)
    if (r !== null) {
      const dh = hex(r.dh)
      if (!firstSeal.has(dh)) firstSeal.set(dh, seals)
      sealedWith.set(hex(r.bytes), { by: i, base: r.base, dh, n: r.n, order: seals++ })
    }
    return r
  }
  const inbound = n.messaging.inbound
  const onFrame = inbound.onFrame.bind(inbound)
  inbound.onFrame = (link, bytes) => {
    if (bytes[0] === 0x01 && bytes[1] === 0x02) {
      const env = hex(bytes.subarray(1))
      const k = sealedWith.get(env)
      const key = k === undefined ? `unknown:${env.slice(0, 64)}` : `${k.base}:${k.dh}:${k.n}`
      onWire.set(key, (onWire.get(key) ?? new Set()).add(env))
      if (k !== undefined) {
        const chains = left[k.by].get(k.base) ?? new Map<string, { n: number, first: number }>()
        left[k.by].set(k.base, chains)
        chains.set(k.dh, { n: Math.max(k.n, chains.get(k.dh)?.n ?? -1), first: firstSeal.get(k.dh)! })
      }
    }
    onFrame(link, bytes)
  }
}

/** Where node `i`, just restarted, would send next on each session, against what it sent before the kill. */
function rollbacks (n: TestNode, i: 1 | 2, peer: string): string[] {
  const out: string[] = []
  for (const s of n.messaging.sessions.book!.sendingKeys(peer)) {
    const chains = left[i].get(s.base)
    const dh = hex(s.dh)
    const mine = chains?.get(dh)
    if (chains === undefined || mine === undefined) continue // a ratchet key none of whose messages left
    const newest = Math.max(...[...chains.values()].map(c => c.first))
    if (mine.first < newest) out.push(`node ${i} restarted on an older ratchet key of session ${s.base.slice(0, 8)} than one that sent`)
    else if (s.ns <= mine.n) out.push(`node ${i} restarted to send message ${s.ns} on ratchet key ${dh.slice(0, 8)}, but ${mine.n} of it left`)
  }
  return out
}

async function statusOf (n: TestNode, ids: string[]): Promise<string[]> {
  return await Promise.all(ids.map(async id => (await n.store.getMessage(id))?.status ?? 'missing'))
}

t.test('kill -9 at random points of an exchange: no key used twice, nothing lost, nothing duplicated', async t => {
  const rng = testRng(t, 0x5ac4e7, 'when and whom to kill')
  const net: Testnet = await testnet(t, 3, 61, { prekeys: true })
  const [, a0, b0] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(a0, b0)
  const nodes = { 1: a0, 2: b0 } as Record<1 | 2, TestNode>
  watch(a0, 1); watch(b0, 2)
  const restartedBehind: string[] = []
  const sent: Record<1 | 2, string[]> = { 1: [], 2: [] }
  /** waits until the peer's channel took `id` (its link is up): what comes next goes out at once */
  const taken = async (from: 1 | 2, id: string): Promise<void> => {
    let ok = false
    await net.until(() => { void statusOf(nodes[from], [id]).then(([s]) => { ok = s === 'sent' || s === 'delivered' || s === 'read' }); return ok }, 120_000, `message ${id} taken by the peer`)
  }
  // a session both ways first: the kills land in ratchet traffic, not before the bundles arrive
  for (const from of [1, 2] as const) {
    const id = (await net.drive(nodes[from].actions.send(nodes[from === 1 ? 2 : 1].fingerprint, `hello from ${from}`))).id
    sent[from].push(id)
    await taken(from, id)
  }
  let killedInRatchetTraffic = 0
  const ROUNDS = 6
  for (let round = 0; round < ROUNDS; round++) {
    // the kill lands in the middle of a burst: sealing, sending, storing and receipting in flight
    const victim = rng.int(2) === 0 ? 1 : 2
    const killAt = rng.int(12)
    for (let i = 0; i < 12; i++) {
      const from = rng.int(2) === 0 ? 1 : 2
      const to = from === 1 ? 2 : 1
      if (i < killAt || from !== victim) sent[from].push((await net.drive(nodes[from].actions.send(nodes[to].fingerprint, `r${round} #${i} from ${from}`))).id)
      if (i === killAt) {
        await net.advance(1 + rng.int(6)) // its envelopes are on the way, their receipts not yet back
        if (nodes[victim].messaging.ctx.counters.ratchetOut > 0) killedInRatchetTraffic++
        await net.crash(victim)
      }
      await net.advance(rng.int(8))
    }
    await net.advance(rng.int(300))
    nodes[victim] = await net.restart(victim)
    watch(nodes[victim], victim)
    restartedBehind.push(...rollbacks(nodes[victim], victim, nodes[victim === 1 ? 2 : 1].fingerprint))
    // the first thing it does is write: a state read back behind what left would reuse a key now
    const back = (await net.drive(nodes[victim].actions.send(nodes[victim === 1 ? 2 : 1].fingerprint, `r${round} back`))).id
    sent[victim].push(back)
    await taken(victim, back)
  }
  t.equal(killedInRatchetTraffic, ROUNDS, 'every kill landed while the victim was writing ratchet messages')
  const all = async (): Promise<boolean> => (await statusOf(nodes[1], sent[1])).every(s => s === 'delivered') && (await statusOf(nodes[2], sent[2])).every(s => s === 'delivered')
  let done = false
  let delivered = true
  await net.until(() => { void all().then(v => { done = v }); return done }, 600_000, 'every message delivered').catch(() => { delivered = false })
  t.ok(delivered, 'every message shows as delivered to its sender in the end')

  for (const [from, to] of [[1, 2], [2, 1]] as const) {
    const got = (await nodes[to].store.history(nodes[from].fingerprint, { limit: 10_000 })).filter(m => m.direction === 'in')
    const counts = new Map<string, number>()
    for (const m of got) counts.set(m.id, (counts.get(m.id) ?? 0) + 1)
    t.same([...counts.values()].filter(n => n !== 1), [], `node ${to} stored no message of node ${from} twice`)
    t.same(new Set(got.map(m => m.id)), new Set(sent[from]), `and has every one of the ${sent[from].length} it sent`)
  }
  const unknown = [...onWire.keys()].filter(k => k.startsWith('unknown:'))
  t.same(unknown, [], 'every v2 envelope on the wire was one a ratchet sealed')
  const reused = [...onWire.entries()].filter(([, envs]) => envs.size > 1).map(([k]) => k)
  t.same(reused, [], 'no (session, ratchet key, message number) carried two different ciphertexts')
  t.same(restartedBehind, [], 'every restart read back a state past every key whose ciphertext left')
  t.ok(onWire.size > 0, `${onWire.size} distinct message keys seen on the wire`)
  t.equal(nodes[1].messaging.sessions.activeBase(nodes[2].fingerprint), nodes[2].messaging.sessions.activeBase(nodes[1].fingerprint), 'both end on one session')
  t.comment(JSON.stringify([1, 2].map(i => { const c = nodes[i as 1 | 2].messaging.ctx.counters; return { out: c.envelopesOut, ratchetOut: c.ratchetOut, ratchetIn: c.ratchetIn, rejected: c.rejected } })))
  t.comment(JSON.stringify({ keys: onWire.size, messages: sent[1].length + sent[2].length, resets: nodes[1].messaging.ctx.counters.sessionResets + nodes[2].messaging.ctx.counters.sessionResets }))
})

t.test('a burst written and the writer killed once it left, before anything came back: restarted past those keys', async t => {
  sealedWith.clear(); onWire.clear(); left[1].clear(); left[2].clear(); firstSeal.clear()
  const net: Testnet = await testnet(t, 3, 62, { prekeys: true })
  const [, a0, b0] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(a0, b0)
  watch(a0, 1); watch(b0, 2)
  const hello = (await net.drive(a0.actions.send(b0.fingerprint, 'hello'))).id
  let done = false
  await net.until(() => { void statusOf(a0, [hello]).then(([s]) => { done = s === 'delivered' }); return done }, 120_000, 'a session both ways')
  // Alice's burst is sealed from the outbox (no receipt of hers is due, nothing comes in to save her state)
  const arrived = (): number => [...sealedWith.entries()].filter(([env, k]) => k.by === 1 && [...onWire.values()].some(s => s.has(env))).length
  const before = arrived()
  const burst: string[] = [hello]
  for (let i = 0; i < 5; i++) burst.push((await net.drive(a0.actions.send(b0.fingerprint, `burst ${i}`))).id)
  await net.until(() => arrived() >= before + 5, 60_000, 'the burst reached Bob')
  await net.crash(1) // Bob's receipts are on their way to a dead process
  const a1 = await net.restart(1)
  watch(a1, 1)
  t.same(rollbacks(a1, 1, b0.fingerprint), [], 'Alice read back a state past every key of the burst')
  const after = (await net.drive(a1.actions.send(b0.fingerprint, 'after the kill'))).id
  burst.push(after)
  let delivered = true
  let all = false
  await net.until(() => { void statusOf(a1, burst).then(s => { all = s.every(x => x === 'delivered') }); return all }, 300_000, 'all delivered').catch(() => { delivered = false })
  t.ok(delivered, 'everything shows as delivered')
  const reused = [...onWire.entries()].filter(([, envs]) => envs.size > 1).map(([k]) => k)
  t.same(reused, [], 'no (session, ratchet key, message number) carried two different ciphertexts')
  t.same((await b0.store.history(a0.fingerprint, { limit: 100 })).filter(m => m.direction === 'in').map(m => m.text).sort(),
    ['after the kill', 'burst 0', 'burst 1', 'burst 2', 'burst 3', 'burst 4', 'hello'], 'Bob has each once')
})
