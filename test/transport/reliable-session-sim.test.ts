// ReliableSession over the real Endpoint and Session on the seeded simulated network (src/sim),
// with the simulated clock as its scheduler (session.md, "Reliable delivery over a session"):
// loss, duplication and reordering in both directions deliver everything exactly once and in
// order; a dead link ends in an idle timeout that rejects what was never acknowledged.
import t from 'tap'
import { createSimNetwork, createRng, type SimNetwork } from '../../src/sim/index.js'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { SimTransport, simScheduler } from '../../src/sim/io.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { IDLE_TIMEOUT_MS } from '../../src/transport/constants.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { isDmessError } from '../../src/errors.js'

async function node (net: SimNetwork, host: string, seed: number): Promise<Endpoint> {
  const rng = createRng(seed)
  const transport = new SimTransport(net, { host, port: 7000 })
  return await Endpoint.listen({ identity: generateIdentity(), transport, scheduler: simScheduler(net.clock), random: n => rng.bytes(n) })
}

/** Advance simulated time in slices until `done()` (or `maxMs`), letting promises run between. */
async function runUntil (net: SimNetwork, done: () => boolean, maxMs: number): Promise<void> {
  for (let ms = 0; ms < maxMs && !done(); ms += 50) {
    net.advance(50)
    await new Promise(resolve => setImmediate(resolve))
  }
}

async function connectPair (net: SimNetwork): Promise<{ a: ReliableSession, b: ReliableSession, ea: Endpoint, eb: Endpoint }> {
  const ea = await node(net, '10.0.0.1', 1)
  const eb = await node(net, '10.0.0.2', 2)
  const scheduler = simScheduler(net.clock)
  let b: ReliableSession | null = null
  eb.on('session', s => { b = new ReliableSession(s, { scheduler }) })
  let sa: Session | null = null
  void ea.connect(eb.address, { expectFingerprint: eb.fingerprint }).then(s => { sa = s })
  await runUntil(net, () => sa !== null && b !== null, 60_000)
  if (sa === null || b === null) throw new Error('no session')
  return { a: new ReliableSession(sa, { scheduler }), b, ea, eb }
}

function messages (seed: number, n: number): Uint8Array[] {
  const rng = createRng(seed)
  const out = Array.from({ length: n }, () => rng.bytes(rng.int(3000)))
  out.push(rng.bytes(200_000)) // one that spans ~150 packets
  return out
}

const same = (x: Uint8Array[], y: Uint8Array[]): boolean => x.length === y.length && x.every((m, i) => Buffer.from(m).equals(y[i]!))

for (const seed of [3, 4]) {
  t.test(`10% loss, 2% duplication, 5% reordering both ways (seed ${seed}): both directions exactly once, in order`, async t => {
    const net = createSimNetwork({ seed, loss: 0.1, duplicate: 0.02, reorder: 0.05, reorderDelayMs: 40, latencyMs: { base: 20, jitter: 10 } })
    const { a, b, ea, eb } = await connectPair(net)
    const toB = messages(seed * 10, 1500)
    const toA = messages(seed * 10 + 1, 1500)
    const atB: Uint8Array[] = []
    const atA: Uint8Array[] = []
    b.on('message', m => { atB.push(m) })
    a.on('message', m => { atA.push(m) })
    for (const m of toB) void a.send(m)
    for (const m of toA) void b.send(m)
    let flushed = 0
    void a.flushed().then(() => { flushed++ })
    void b.flushed().then(() => { flushed++ })
    await runUntil(net, () => flushed === 2 && atA.length >= toA.length && atB.length >= toB.length, 600_000)
    t.ok(same(atB, toB), `a → b: ${atB.length} of ${toB.length} messages, equal and in order`)
    t.ok(same(atA, toA), `b → a: ${atA.length} of ${toA.length} messages, equal and in order`)
    t.equal(flushed, 2, 'both sides flushed')
    t.ok(a.stats.retransmits > 0 && b.stats.retransmits > 0, `losses were repaired (${a.stats.retransmits} + ${b.stats.retransmits} retransmissions)`)
    const replays = ea.stats().dropped.replay + eb.stats().dropped.replay
    t.ok(replays > 0, `${replays} duplicated datagrams were dropped by the session's replay window`)
  })
}

t.test('a link that dies: idle timeout closes both; unacknowledged data is reported and rejected', async t => {
  const net = createSimNetwork({ seed: 9, latencyMs: { base: 10 } })
  const { a, b } = await connectPair(net)
  await a.send(new Uint8Array(1000))
  await runUntil(net, () => a.stats.sendBufferedBytes === 0, 10_000)
  net.setLink('10.0.0.1:7000', '10.0.0.2:7000', { down: true })
  net.setLink('10.0.0.2:7000', '10.0.0.1:7000', { down: true })
  const sent = a.send(new Uint8Array(5000)).then(() => 'ok', e => isDmessError(e) ? e.code : String(e))
  const flushed = a.flushed().then(() => 'ok', e => isDmessError(e) ? e.code : String(e))
  await runUntil(net, () => a.closed !== null && b.closed !== null, IDLE_TIMEOUT_MS + 30_000)
  t.equal(a.closed?.reason, 'timeout')
  t.equal(b.closed?.reason, 'timeout')
  t.equal(a.closed?.unackedBytes, 5004, 'the message and its length prefix were never acknowledged')
  t.equal(await sent, 'ok', 'the send itself had been accepted into the buffer')
  t.equal(await flushed, 'SESSION_CLOSED', 'but it never flushed')
  t.ok(a.stats.rtoCount > 3, `the channel kept retransmitting with backoff (${a.stats.rtoCount} timeouts)`)
})
