// Envelope v2 across crashes (proto-spec/envelope.md §8.4): both ends of a conversation are
// killed as by kill -9 (net.crash) at seeded random points of an exchange and restarted. Every
// envelope that reaches a peer is checked against what the sender's ratchet sealed it with: no
// (session, ratchet key, message number) is ever used for two different ciphertexts on the wire,
// and in the end every message is stored exactly once on the other side.
import t from 'tap'
import { type TestNode, type Testnet } from '../../src/node/testnet.js'
import { decodePeerSessions } from '../../src/session-crypto/index.js'
import { testRng } from '../helpers/seed.js'
import { testnet } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** envelope hex → the key that sealed it: `base:dh:n` (recorded at seal time, across restarts). */
const sealedWith = new Map<string, string>()
/** key → every distinct envelope seen on the wire under it */
const onWire = new Map<string, Set<string>>()

/** Records every seal of `n` and every v2 envelope `n` receives. */
function watch (n: TestNode): void {
  const book = n.messaging.sessions.book!
  const seal = book.seal.bind(book)
  book.seal = (peer, payload, id, timestamp) => {
    const r = seal(peer, payload, id, timestamp)
    if (r !== null) {
      const s = decodePeerSessions(r.write.value)!.list[0]!.state
      sealedWith.set(hex(r.bytes), `${r.base}:${hex(s.dhs.publicKey)}:${s.ns - 1}`)
    }
    return r
  }
  const inbound = n.messaging.inbound
  const onFrame = inbound.onFrame.bind(inbound)
  inbound.onFrame = (link, bytes) => {
    if (bytes[0] === 0x01 && bytes[1] === 0x02) {
      const env = hex(bytes.subarray(1))
      const key = sealedWith.get(env) ?? `unknown:${env.slice(0, 64)}`
      onWire.set(key, (onWire.get(key) ?? new Set()).add(env))
    }
    onFrame(link, bytes)
  }
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
  watch(a0); watch(b0)
  const sent: Record<1 | 2, string[]> = { 1: [], 2: [] }
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
        await net.crash(victim)
      }
      await net.advance(rng.int(8))
    }
    await net.advance(rng.int(300))
    nodes[victim] = await net.restart(victim)
    watch(nodes[victim])
  }
  const all = async (): Promise<boolean> => (await statusOf(nodes[1], sent[1])).every(s => s === 'delivered') && (await statusOf(nodes[2], sent[2])).every(s => s === 'delivered')
  let done = false
  await net.until(() => { void all().then(v => { done = v }); return done }, 600_000, 'every message delivered')

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
  t.ok(onWire.size > 0, `${onWire.size} distinct message keys seen on the wire`)
  t.equal(nodes[1].messaging.sessions.activeBase(nodes[2].fingerprint), nodes[2].messaging.sessions.activeBase(nodes[1].fingerprint), 'both end on one session')
  t.comment(JSON.stringify([1, 2].map(i => { const c = nodes[i as 1 | 2].messaging.ctx.counters; return { out: c.envelopesOut, ratchetOut: c.ratchetOut, ratchetIn: c.ratchetIn, rejected: c.rejected } })))
  t.comment(JSON.stringify({ keys: onWire.size, messages: sent[1].length + sent[2].length, resets: nodes[1].messaging.ctx.counters.sessionResets + nodes[2].messaging.ctx.counters.sessionResets }))
})
