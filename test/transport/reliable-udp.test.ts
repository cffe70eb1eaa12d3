// ReliableSession between two processes over real UDP on 127.0.0.1 (session.md, "Reliable
// delivery over a session"): messages of many sizes up to 1 MiB come back from an echoing peer
// intact, in order and exactly once; a sink peer's count and hash match what we sent; a small
// send buffer applies backpressure without losing or reordering anything.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { Endpoint } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { createRng } from '../../src/sim/index.js'
import { spawnReliablePeer, type ReliablePeer } from '../../scripts/bench/peers/reliable-child.js'

const SIZES = [0, 1, 2, 3, 4, 5, 100, 1000, 1353, 1354, 1355, 1366, 1370, 1371, 2708, 4096, 65_535, 65_536, 65_537, 100_000, 262_144, 1024 * 1024]

async function open (t: Test, peer: ReliablePeer, opts: { sendBufferBytes?: number } = {}): Promise<ReliableSession> {
  const ep = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  t.teardown(async () => { await ep.close() })
  const s = await ep.connect({ host: '127.0.0.1', port: peer.info.port }, { expectFingerprint: peer.info.fingerprint })
  const r = new ReliableSession(s, opts)
  t.teardown(() => { r.close() })
  return r
}

function makeMessages (seed: number, count: number, maxSize: number): Uint8Array[] {
  const rng = createRng(seed)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const m = rng.bytes(4 + rng.int(maxSize))
    new DataView(m.buffer, m.byteOffset).setUint32(0, i) // each message names its index
    out.push(m)
  }
  return out
}

function digest (msgs: Uint8Array[]): { count: number, bytes: number, sha256: string } {
  const h = createHash('sha256')
  const len = Buffer.alloc(4)
  let bytes = 0
  for (const m of msgs) {
    len.writeUInt32BE(m.length)
    h.update(len)
    h.update(m)
    bytes += m.length
  }
  return { count: msgs.length, bytes, sha256: h.digest('hex') }
}

t.test('an echoing peer process returns every size up to 1 MiB intact, in order, exactly once', async t => {
  const peer = await spawnReliablePeer(['--mode', 'echo'])
  t.teardown(peer.stop)
  const r = await open(t, peer)
  const rng = createRng(42)
  const sent = [...SIZES, ...SIZES.slice().reverse()].map(n => rng.bytes(n))
  const it = r.messages()
  for (const m of sent) await r.send(m)
  let i = 0
  for (; i < sent.length; i++) {
    const got = await it.next()
    if (got.done === true) break
    if (!Buffer.from(got.value).equals(Buffer.from(sent[i]!))) {
      t.fail(`message ${i} (${sent[i]!.length} bytes) came back as ${got.value.length} different bytes`)
      break
    }
  }
  t.equal(i, sent.length, `all ${sent.length} messages (${SIZES.length} sizes, twice) came back equal, in order`)
  await r.flushed()
  t.equal(r.stats.sendBufferedBytes, 0, 'flushed: nothing left unacknowledged')
  // exactly once: a marker sent last comes back next, so no duplicate came back before it (the
  // echo keeps order)
  const marker = Buffer.from('end of run: marker')
  await r.send(marker)
  const next = await it.next()
  t.ok(next.done !== true && Buffer.from(next.value).equals(marker), 'no duplicate arrives afterwards: the next message is the marker')
  t.equal(r.stats.droppedMalformed, 0)
})

t.test('a sink peer process counts and hashes 20,000 messages exactly as sent', async t => {
  const peer = await spawnReliablePeer(['--mode', 'sink'])
  t.teardown(peer.stop)
  const r = await open(t, peer)
  const msgs = makeMessages(7, 20_000, 600)
  const reply = new Promise<string>(resolve => r.once('message', m => { resolve(Buffer.from(m).toString()) }))
  for (const m of msgs) await r.send(m)
  await r.send(new Uint8Array(0)) // end of run
  t.same(JSON.parse(await reply), digest(msgs), 'count, bytes and SHA-256 (length-framed, in order) match')
  t.same(await peer.next(o => typeof o.sha256 === 'string'), digest(msgs), 'and the peer printed the same')
})

t.test('backpressure: the smallest send buffer (one max message), 16 MiB of sends, all resolve in order', async t => {
  const peer = await spawnReliablePeer(['--mode', 'sink'])
  t.teardown(peer.stop)
  const bufferBytes = ReliableSession.maxMessageBytes + 4
  const r = await open(t, peer, { sendBufferBytes: bufferBytes })
  const big = createRng(3).bytes(ReliableSession.maxMessageBytes)
  t.ok(r.trySend(big), 'trySend takes a message that fits')
  t.notOk(r.trySend(big), 'trySend refuses one that does not fit (nothing queued)')
  const msgs = [big, big, ...makeMessages(9, 64, 64 * 1024), big]
  const order: number[] = []
  let maxBuffered = 0
  const sends = msgs.map(async (m, i) => {
    await r.send(m)
    order.push(i)
    maxBuffered = Math.max(maxBuffered, r.stats.sendBufferedBytes)
  })
  await Promise.all(sends)
  t.same(order, msgs.map((_, i) => i), 'waiting sends were admitted in the order they were made')
  t.ok(maxBuffered <= bufferBytes, `the buffer never held more than its size (max ${maxBuffered})`)
  const reply = new Promise<string>(resolve => r.once('message', m => { resolve(Buffer.from(m).toString()) }))
  await r.send(new Uint8Array(0))
  t.same(JSON.parse(await reply), digest([big, ...msgs]), 'the peer got everything once, in order')
  await r.flushed()
})
