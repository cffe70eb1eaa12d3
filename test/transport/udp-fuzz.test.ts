// Fuzzing a live endpoint over real UDP (session.md §6, wire.md §5): 100,000 random and mutated
// datagrams — bit flips, truncations, extensions, splices of real captured handshake and data
// packets, random session indices, random counters, plain replays — sent from another socket,
// while a real session on the same endpoint keeps exchanging datagrams. Seeded and bounded in
// count (the time is printed, not judged; t.setTimeout guards against a hang). The endpoint must not crash, must count what it drops, must not create a
// session from junk, and the real session must keep working during and after. The endpoint's
// clock runs SLOW_MOTION times slower than real (test/helpers/slow-motion.ts): a burst beyond the
// per-IP initiation burst is then rate-limited on any machine, where a loaded one took longer to
// process 100 initiations than the limiter takes to refill (20/s) and limited none.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType } from '../../src/wire/constants.js'
import { mac1Key, sealMac1 } from '../../src/wire/mac1.js'
import { TapTransport, until } from './fixtures/tap.js'
import { rng, int, randomBuf, mutate } from '../wire/fuzz.js'
import { testSeed } from '../helpers/seed.js'
import { slowMotion } from '../helpers/slow-motion.js'

const TOTAL = 100_000
const BATCH = 100
const HANG_GUARD_MS = 540_000
const SLOW_MOTION = 10
const enc = new TextEncoder()

async function client (b: Endpoint, ik: boolean): Promise<{ tap: TapTransport, ep: Endpoint, s: Session }> {
  const tap = await TapTransport.bind()
  const ep = await Endpoint.listen({ identity: generateIdentity(), transport: tap })
  const s = await ep.connect(b.address, { expectFingerprint: b.fingerprint, remoteStatic: ik ? bStatic : undefined })
  return { tap, ep, s }
}

let bStatic: Uint8Array

/** A STUN binding request header (RFC 8489 §5): goes to the STUN hook, not to the session layer. */
function stunRequest (r: () => number): Uint8Array {
  const b = randomBuf(r, 20)
  b.set([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42])
  return b
}

t.test('100k random and mutated datagrams against a live endpoint', async t => {
  t.setTimeout(HANG_GUARD_MS)
  const bId = generateIdentity()
  bStatic = bId.dhPublic
  const b = await Endpoint.listen({ host: '127.0.0.1', identity: bId, scheduler: slowMotion(SLOW_MOTION) })
  let stunSeen = 0
  b.setHandler('stun', () => { stunSeen++ })
  const inbound: Session[] = []
  b.on('session', s => { inbound.push(s); s.on('data', d => { s.send(d) }) }) // echo
  const xx = await client(b, false)
  const ikc = await client(b, true)
  const closer = await client(b, false)
  closer.s.close()
  t.teardown(async () => { await xx.ep.close(); await ikc.ep.close(); await closer.ep.close(); await b.close() })

  // capture real traffic of every kind for the mutation pool
  const echoes: string[] = []
  xx.s.on('data', d => echoes.push(new TextDecoder().decode(d)))
  for (let i = 0; i < 5; i++) xx.s.send(enc.encode(`warm ${i}`))
  await until(() => echoes.length === 5, 30_000, 'warm-up echoes')
  await until(() => inbound.length === 3, 30_000, 'three inbound sessions')
  const taps = [xx.tap, ikc.tap, closer.tap]
  const pool = [...taps.flatMap(tp => tp.sent.map(c => c.bytes)), ...taps.flatMap(tp => tp.received.map(c => c.bytes))]
  const dataToB = xx.tap.sentOfType(PacketType.TRANSPORT_DATA).map(c => c.bytes)
  t.ok(pool.some(p => p[1] === PacketType.HANDSHAKE_INITIATION && p[6] === 2), 'pool has an IK initiation')
  t.ok(pool.some(p => p[1] === PacketType.HANDSHAKE_FINAL) && pool.some(p => p[1] === PacketType.SESSION_CLOSE))

  const fuzzer = createSocket('udp4')
  await new Promise<void>(resolve => { fuzzer.bind(0, '127.0.0.1', resolve) })
  t.teardown(() => { fuzzer.close() })
  const r = rng(testSeed(t, 0xd1e55, 'datagram fuzz'))
  const next = (): Uint8Array => {
    const k = int(r, 10)
    if (k < 2) { // random bytes, half of them with a dmess marker and a plausible type
      const buf = randomBuf(r, int(r, 3) === 0 ? int(r, 1500) : int(r, 100))
      if (buf.length > 1 && int(r, 2) === 0) { buf[0] = 0xc1; buf[1] = [1, 2, 3, 4, 0x10, 0x12, 0x20, 0x11][int(r, 8)]! }
      return buf
    }
    if (k < 7) return mutate(r, pool[int(r, pool.length)]!, pool)
    if (k === 7) { // B's real index, a random counter and a flipped ciphertext bit
      const d = dataToB[int(r, dataToB.length)]!.slice()
      d.set(randomBuf(r, 8), 6)
      d[14 + int(r, d.length - 14)]! ^= 1 << int(r, 8)
      return d
    }
    if (k === 8) { // a real packet with a random session index
      const d = pool[int(r, pool.length)]!.slice()
      if (d.length >= 6) d.set(randomBuf(r, 4), 2)
      return d
    }
    return int(r, 20) === 0 ? stunRequest(r) : pool[int(r, pool.length)]! // plain replay
  }

  const start = Date.now()
  const before = b.stats().packetsIn
  // pace: wait until the endpoint has read what we sent, or made no progress for 3 ms (the
  // kernel dropped the rest), so the socket buffer is not simply overrun
  const drained = async (): Promise<void> => {
    let last = -1
    for (;;) {
      const seen = b.stats().packetsIn - before
      if (seen >= sent || seen === last) return
      last = seen
      await new Promise(resolve => setTimeout(resolve, 3))
    }
  }
  let sent = 0
  let pings = 0
  while (sent < TOTAL) {
    for (let i = 0; i < BATCH; i++) fuzzer.send(next(), b.address.port, '127.0.0.1')
    sent += BATCH
    if (sent % 1000 === 0) xx.s.send(enc.encode(`ping ${pings++}`))
    await drained()
  }
  t.comment(JSON.stringify({ metric: 'udp_fuzz_datagrams_sent', value: sent, unit: 'datagrams', ms: Date.now() - start }))
  // then a burst of 100 altered initiations that carry a valid mac1 (what a caller who knows the
  // fingerprint can send, wire.md §4.1.1), all from one IP at once: far more than the per-IP burst
  // (session.md §6.1), however fast or slow this machine processes them
  const initiations = pool.filter(p => p[1] === PacketType.HANDSHAKE_INITIATION)
  const key = mac1Key(b.fingerprint)
  for (let i = 0; i < 100; i++) {
    const d = initiations[int(r, initiations.length)]!.slice()
    d[6 + int(r, d.length - 22)]! ^= 1 << int(r, 8)
    fuzzer.send(sealMac1(d, key), b.address.port, '127.0.0.1')
  }
  sent += 100
  await drained()
  await until(() => echoes.length >= 5 + pings * 0.9, 30_000, 'echoes during the fuzz')
  t.ok(echoes.length >= 5 + pings * 0.9, `the real session kept working during the fuzz: ${echoes.length - 5}/${pings} echoes`)

  const st = b.stats()
  const received = st.packetsIn - before
  t.ok(received >= sent * 0.95, `the endpoint processed ${received} datagrams`)
  const drops = Object.values(st.dropped).reduce((x, y) => x + y, 0)
  t.ok(drops >= TOTAL * 0.5, `${drops} drops counted`)
  for (const reason of ['malformed', 'unknown-session', 'replay', 'decrypt-failed', 'duplicate'] as const) {
    t.ok(st.dropped[reason] > 0, `counted ${reason}: ${st.dropped[reason]}`)
  }
  t.ok(st.dropped['rate-limited'] + st.cookieRepliesSent > 0, `initiation floods limited: ${st.dropped['rate-limited']} rate-limited, ${st.cookieRepliesSent} cookie replies`)
  t.ok(stunSeen > 0, `STUN-shaped datagrams went to the STUN hook: ${stunSeen}`)
  t.equal(st.listenerErrors, 0)
  t.equal(st.internalErrors, 0, 'no datagram made the session layer throw')
  t.equal(inbound.length, 3, 'no session was created from junk')
  t.ok(st.halfOpen <= 256, `half-open state stayed bounded: ${st.halfOpen}`)

  // and after: every ping answered
  const want = [0, 1, 2, 3, 4].map(i => `after ${i}`)
  for (const m of want) xx.s.send(enc.encode(m))
  await until(() => want.every(m => echoes.includes(m)), 30_000, 'echoes after the fuzz')
  t.pass('every datagram after the fuzz was answered')
  t.equal(xx.s.closed, null)
  t.equal(ikc.s.closed, null)
})
