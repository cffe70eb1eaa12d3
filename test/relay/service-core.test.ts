// The relay's state machine alone (proto-spec/relay.md §3–§6): bytes and simulated time in,
// datagrams out, no sockets. Who gets an allocation, who may bind, what is forwarded where, and
// that caps, expiry and bad input hold.
import t, { type Test } from 'tap'
import { RelayCore, type RelaySend, type Reservation } from '../../src/relay/service-core.js'
import { encodeRelayMessage, decodeRelayMessage, type RelayMessage } from '../../src/relay/codec.js'
import { bindKeyOf, bindProof, releaseProof } from '../../src/relay/keys.js'
import { RelayType, BoundState, RefuseReason, RELAY_REQUEST_BYTES } from '../../src/relay/constants.js'
import type { PeerAddress } from '../../src/io/address.js'
import { testRng } from '../helpers/seed.js'

const ALICE: PeerAddress = { host: '203.0.113.1', port: 40001 }
const BOB: PeerAddress = { host: '198.51.100.9', port: 50002 }
const MALLORY: PeerAddress = { host: '192.0.2.66', port: 6666 }
const DATA = Uint8Array.of(0xc1, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14) // a TRANSPORT_DATA-shaped datagram

function setup (t: Test, limits = {}): { core: RelayCore, rng: ReturnType<typeof testRng>, now: { v: number } } {
  const rng = testRng(t, 0x4e1a1)
  const now = { v: 1000 }
  return { core: new RelayCore({ random: n => rng.bytes(n), now: now.v, limits }), rng, now }
}

const decode = (b: Uint8Array): RelayMessage => {
  const m = decodeRelayMessage(b)
  if (m === null) throw new Error('undecodable answer')
  return m
}

/** ALLOCATE through the cookie exchange; returns the reservation the core asks the adapter to open. */
function reserve (core: RelayCore, from: PeerAddress, bindKey: Uint8Array, now: number, requestId: Uint8Array = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)): Reservation | Uint8Array {
  const first = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: null, bindKey }), from, now)
  if (first.kind !== 'reply') throw new Error('expected a challenge')
  const ch = decode(first.bytes)
  if (ch.type !== RelayType.ALLOCATE_CHALLENGE) return first.bytes
  const second = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: ch.cookie, bindKey }), from, now)
  if (second.kind === 'open') return second.reservation
  if (second.kind === 'reply') return second.bytes
  throw new Error('dropped')
}

let nextPort = 30000
function allocate (core: RelayCore, from: PeerAddress, bindKey: Uint8Array, now: number): { id: Uint8Array, ports: [number, number] } {
  const r = reserve(core, from, bindKey, now)
  if (r instanceof Uint8Array) throw new Error(`refused: ${JSON.stringify(decode(r))}`)
  const ok = decode(core.install(r, [nextPort++, nextPort++], now))
  if (ok.type !== RelayType.ALLOCATE_OK) throw new Error('expected ALLOCATE_OK')
  return { id: ok.allocationId, ports: [ok.portA, ok.portB] }
}

/** BIND through the cookie exchange from `from` on `port`; returns what the relay sent. */
function bind (core: RelayCore, id: Uint8Array, port: number, bindKey: Uint8Array, from: PeerAddress, now: number): RelaySend[] {
  const out: RelaySend[] = []
  core.onPortDatagram(port, encodeRelayMessage({ type: RelayType.BIND, allocationId: id, cookie: null, proof: bindProof(bindKey, id, port, null) }), from, now, out)
  const ch = out.length === 1 ? decode(out[0]!.bytes) : null
  if (ch === null || ch.type !== RelayType.BIND_CHALLENGE) return out
  out.length = 0
  core.onPortDatagram(port, encodeRelayMessage({ type: RelayType.BIND, allocationId: id, cookie: ch.cookie, proof: bindProof(bindKey, id, port, ch.cookie) }), from, now, out)
  return out
}

function pair (t: Test, limits = {}): { core: RelayCore, id: Uint8Array, ports: [number, number], key: Uint8Array, now: { v: number } } {
  const { core, rng, now } = setup(t, limits)
  const key = bindKeyOf(rng.bytes(32))
  const { id, ports } = allocate(core, ALICE, key, now.v)
  bind(core, id, ports[0], key, ALICE, now.v)
  bind(core, id, ports[1], key, BOB, now.v)
  return { core, id, ports, key, now }
}

t.test('ALLOCATE: a challenge first, then two ports and an id; no answer is larger than the request', async t => {
  const { core, rng, now } = setup(t)
  const key = bindKeyOf(rng.bytes(32))
  const requestId = rng.bytes(8)
  const first = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: null, bindKey: key }), ALICE, now.v)
  t.equal(first.kind, 'reply')
  const ch = decode((first as { bytes: Uint8Array }).bytes)
  t.equal(ch.type, RelayType.ALLOCATE_CHALLENGE)
  t.ok((first as { bytes: Uint8Array }).bytes.length < RELAY_REQUEST_BYTES, 'the challenge is smaller than the 96-byte request')
  t.equal(core.stats().allocations, 0, 'nothing allocated before the source proved it receives')
  const r = reserve(core, ALICE, key, now.v, requestId)
  t.notOk(r instanceof Uint8Array, 'with the cookie: a reservation')
  const okBytes = core.install(r as Reservation, [31000, 31001], now.v)
  t.ok(okBytes.length < RELAY_REQUEST_BYTES)
  const ok = decode(okBytes)
  t.match(ok, { type: RelayType.ALLOCATE_OK, portA: 31000, portB: 31001, idleTimeoutS: 60 })
  // the same request again (our OK was lost): the same answer, no second allocation
  const again = reserve(core, ALICE, key, now.v, requestId)
  t.same(again, okBytes, 'a repeated ALLOCATE gets the same ALLOCATE_OK')
  t.equal(core.stats().allocations, 1)
})

t.test('a spoofed source never gets an allocation: the cookie is for the address it was sent to', async t => {
  const { core, rng, now } = setup(t)
  const key = bindKeyOf(rng.bytes(32))
  const requestId = rng.bytes(8)
  const first = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: null, bindKey: key }), ALICE, now.v)
  const ch = decode((first as { bytes: Uint8Array }).bytes) as { cookie: Uint8Array }
  // Mallory saw Alice's cookie and tries it from his own address, and a guessed one from Alice's
  const stolen = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: ch.cookie, bindKey: key }), MALLORY, now.v)
  t.equal(stolen.kind, 'reply')
  t.equal(decode((stolen as { bytes: Uint8Array }).bytes).type, RelayType.ALLOCATE_CHALLENGE, 'a cookie from another address is a new challenge')
  const guessed = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie: rng.bytes(16), bindKey: key }), ALICE, now.v)
  t.equal(decode((guessed as { bytes: Uint8Array }).bytes).type, RelayType.ALLOCATE_CHALLENGE)
  t.equal(core.stats().allocations, 0)
})

t.test('BIND: no answer without the bind key, a challenge, then bound; forwarding once both are bound', async t => {
  const { core, rng, now } = setup(t)
  const key = bindKeyOf(rng.bytes(32))
  const { id, ports } = allocate(core, ALICE, key, now.v)
  // a stranger who knows the id and port but not the key: nothing at all comes back
  const wrong = bind(core, id, ports[1], bindKeyOf(rng.bytes(32)), MALLORY, now.v)
  t.same(wrong, [], 'a wrong proof gets no answer')
  t.equal(core.stats().dropped['bad-proof'], 1)
  const a = bind(core, id, ports[0], key, ALICE, now.v)
  t.same(a.map(s => [s.fromPort, s.to, decode(s.bytes)]), [[ports[0], ALICE, { type: RelayType.BOUND, allocationId: id, state: BoundState.WAITING }]])
  // Alice talks before Bob binds: dropped, nothing sent anywhere
  const out: RelaySend[] = []
  core.onPortDatagram(ports[0], DATA, ALICE, now.v, out)
  t.same(out, [], 'nothing is forwarded to a side that has not bound (consent)')
  t.equal(core.stats().dropped['peer-unbound'], 1)
  const b = bind(core, id, ports[1], key, BOB, now.v)
  t.same(b.map(s => [s.fromPort, s.to, decode(s.bytes).type, (decode(s.bytes) as { state: number }).state]), [
    [ports[1], BOB, RelayType.BOUND, BoundState.FORWARDING],
    [ports[0], ALICE, RelayType.BOUND, BoundState.FORWARDING]
  ], 'Bob is told forwarding, and Alice learns it at her bound address')
  core.onPortDatagram(ports[0], DATA, ALICE, now.v, out)
  core.onPortDatagram(ports[1], DATA, BOB, now.v, out)
  t.same(out, [{ fromPort: ports[1], to: BOB, bytes: DATA }, { fromPort: ports[0], to: ALICE, bytes: DATA }],
    'each datagram goes out unchanged, 1:1, from the other port to the other bound side')
})

t.test('only the two bound addresses: strangers and third addresses get nothing', async t => {
  const { core, ports, id, key, now } = pair(t)
  const out: RelaySend[] = []
  for (const from of [MALLORY, { ...ALICE, port: ALICE.port + 1 }, { ...BOB, host: '198.51.100.10' }]) {
    core.onPortDatagram(ports[0], DATA, from, now.v, out)
    core.onPortDatagram(ports[1], DATA, from, now.v, out)
  }
  t.same(out, [], 'nothing from an unbound source is forwarded')
  t.equal(core.stats().dropped['unbound-source'], 6)
  // a BIND replayed verbatim from another address only earns that address a challenge
  const replay: RelaySend[] = []
  core.onPortDatagram(ports[1], encodeRelayMessage({ type: RelayType.BIND, allocationId: id, cookie: null, proof: bindProof(key, id, ports[1], null) }), MALLORY, now.v, replay)
  t.equal(replay.length, 1)
  t.equal(decode(replay[0]!.bytes).type, RelayType.BIND_CHALLENGE)
  t.same(replay[0]!.to, MALLORY, 'the challenge goes back to the asker only, smaller than its request')
  t.ok(replay[0]!.bytes.length < RELAY_REQUEST_BYTES)
  // non-dmess bytes from a bound side are not forwarded either (a relay for dmess only)
  core.onPortDatagram(ports[0], Uint8Array.of(0x16, 3, 1, 0), ALICE, now.v, out)
  t.same(out, [])
  t.equal(core.stats().dropped['not-dmess'], 1)
  // every send the relay ever made went to ALICE or BOB or back to the asker of a challenge
})

t.test('caps: per source network and in total, refused with a reason', async t => {
  const { core, rng, now } = setup(t, { perNetwork: 2, total: 3 })
  const key = bindKeyOf(rng.bytes(32))
  allocate(core, { host: '203.0.113.1', port: 1 }, key, now.v)
  allocate(core, { host: '203.0.113.200', port: 2 }, key, now.v)
  const third = reserve(core, { host: '203.0.113.77', port: 3 }, key, now.v)
  t.match(decode(third as Uint8Array), { type: RelayType.ALLOCATE_REFUSED, reason: RefuseReason.NETWORK_CAP }, 'a third from the same /24 is refused')
  allocate(core, { host: '198.51.100.1', port: 4 }, key, now.v)
  const full = reserve(core, { host: '192.0.2.1', port: 5 }, key, now.v)
  t.match(decode(full as Uint8Array), { type: RelayType.ALLOCATE_REFUSED, reason: RefuseReason.TOTAL_CAP })
  t.same([core.stats().dropped['refused-network'], core.stats().dropped['refused-total'], core.stats().allocations], [1, 1, 3])
})

t.test('bytes/s per allocation and in total hold under a flood', async t => {
  const limits = { allocationBytesPerS: 10_000, allocationBurstBytes: 20_000, totalBytesPerS: 1e9, totalBurstBytes: 1e9 }
  const { core, ports, now } = pair(t, limits)
  const big = new Uint8Array(1000)
  big[0] = 0xc1
  big[1] = 0x10
  const out: RelaySend[] = []
  let sent = 0
  const startedAt = now.v
  for (let i = 0; i < 10_000; i++) { // 10 MB offered over 10 s of simulated time
    if (i % 1000 === 0) now.v += 1000
    core.onPortDatagram(ports[0], big, ALICE, now.v, out)
    sent += big.length
  }
  const forwarded = out.reduce((n, s) => n + s.bytes.length, 0)
  const allowed = limits.allocationBurstBytes + limits.allocationBytesPerS * (now.v - startedAt) / 1000
  t.comment(JSON.stringify({ metric: 'relay-flood-forwarded-bytes', value: forwarded, offered: sent, allowed, unit: 'B' }))
  t.ok(forwarded <= allowed, `forwarded ${forwarded} B of ${sent} B offered, at most ${allowed}`)
  t.ok(forwarded >= limits.allocationBurstBytes, 'but the allowance itself went through')
  t.equal(core.stats().dropped['rate-allocation'], (sent - forwarded) / big.length)
  t.ok(out.every(s => s.to === out[0]!.to), 'all to the one bound peer')
})

t.test('the total budget caps all allocations together', async t => {
  const { core, rng, now } = setup(t, { totalBytesPerS: 1000, totalBurstBytes: 5000 })
  const out: RelaySend[] = []
  for (let i = 0; i < 4; i++) {
    const key = bindKeyOf(rng.bytes(32))
    const a = { host: `203.0.${113 + i}.1`, port: 1 }
    const b = { host: `198.51.${100 + i}.1`, port: 2 }
    const { id, ports } = allocate(core, a, key, now.v)
    bind(core, id, ports[0], key, a, now.v)
    bind(core, id, ports[1], key, b, now.v)
    const big = new Uint8Array(1000)
    big[0] = 0xc1
    big[1] = 0x10
    for (let j = 0; j < 10; j++) core.onPortDatagram(ports[0], big, a, now.v, out)
  }
  t.equal(out.length, 5, 'the total burst (5 × 1000 B) and no more')
  t.equal(core.stats().dropped['rate-total'], 35)
})

t.test('expiry: an allocation never completed, and one gone idle; refreshes keep one alive', async t => {
  const { core, rng, now } = setup(t, { bindTimeoutMs: 30_000, idleTimeoutMs: 60_000 })
  const key = bindKeyOf(rng.bytes(32))
  const lonely = allocate(core, ALICE, key, now.v)
  bind(core, lonely.id, lonely.ports[0], key, ALICE, now.v)
  const busy = allocate(core, BOB, key, now.v)
  bind(core, busy.id, busy.ports[0], key, BOB, now.v)
  bind(core, busy.id, busy.ports[1], key, ALICE, now.v)
  t.equal(core.nextDeadline, now.v + 30_000)
  now.v += 30_000
  t.same(core.tick(now.v), [lonely.ports], 'the half-bound allocation expires at the bind timeout')
  for (let i = 0; i < 10; i++) { // 10 refreshes, 15 s apart: 150 s alive
    now.v += 15_000
    bind(core, busy.id, busy.ports[0], key, BOB, now.v)
    t.same(core.tick(now.v), [])
  }
  now.v += 60_000
  t.same(core.tick(now.v), [busy.ports], 'idle for the idle timeout: gone')
  t.match(core.stats(), { allocations: 0, allocationsExpired: 2 })
  const out: RelaySend[] = []
  core.onPortDatagram(busy.ports[0], DATA, BOB, now.v, out)
  t.same(out, [])
  t.equal(core.stats().dropped['no-allocation'], 1)
})

t.test('RELEASE ends the allocation only with the proof, from the bound address', async t => {
  const { core, id, ports, key, now } = pair(t)
  const release = encodeRelayMessage({ type: RelayType.RELEASE, allocationId: id, cookie: null, proof: releaseProof(key, id, ports[0]) })
  const out: RelaySend[] = []
  t.equal(core.onPortDatagram(ports[0], release, MALLORY, now.v, out), null, 'a replay from elsewhere does nothing')
  t.same(core.onPortDatagram(ports[0], release, ALICE, now.v, out), ports)
  t.match(core.stats(), { allocations: 0, allocationsReleased: 1 })
})

t.test('a side that moves (NAT rebinding) binds again from its new address', async t => {
  const { core, id, ports, key, now } = pair(t)
  const moved = { ...ALICE, port: ALICE.port + 7 }
  const sent = bind(core, id, ports[0], key, moved, now.v)
  t.equal(sent.length, 2, 'BOUND to the new address, and the peer is told again')
  const out: RelaySend[] = []
  core.onPortDatagram(ports[1], DATA, BOB, now.v, out)
  t.same(out.map(s => s.to), [moved], "Bob's datagrams now go to Alice's new address only")
  core.onPortDatagram(ports[0], DATA, ALICE, now.v, out)
  t.equal(out.length, 1, 'the old address is no longer bound')
})

t.test('random and mangled input is dropped and counted, never thrown', async t => {
  const { core, id, ports, key, now } = pair(t)
  const rng = testRng(t, 0xbadf00d, 'fuzz')
  const good = encodeRelayMessage({ type: RelayType.BIND, allocationId: id, cookie: null, proof: bindProof(key, id, ports[0], null) })
  const out: RelaySend[] = []
  for (let i = 0; i < 5000; i++) {
    const b = i % 2 === 0 ? rng.bytes(rng.int(121)) : Uint8Array.from(good)
    if (i % 2 === 1) { const k = 2 + rng.int(b.length - 2); b[k] = b[k]! ^ (1 + rng.int(255)) }
    if (i % 3 === 0) b[0] = 0xc1
    if (i % 5 === 0 && b.length > 1) b[1] = 0x50 + rng.int(16)
    core.onControl(b, MALLORY, now.v)
    core.onPortDatagram(ports[i % 2]!, b, MALLORY, now.v, out)
  }
  t.ok(out.every(s => s.to === MALLORY && decode(s.bytes).type === RelayType.BIND_CHALLENGE), 'at most challenges back to the sender')
  t.equal(core.stats().forwardedPackets, 0)
  const d = core.stats().dropped
  t.ok(d.malformed + d['bad-proof'] + d['unbound-source'] + d.unexpected > 0, JSON.stringify(d))
})

t.test('challenges per source IP are rate-limited: a spoofed flood gets a victim little', async t => {
  const { core, rng, now } = setup(t)
  const key = bindKeyOf(rng.bytes(32))
  let challenges = 0
  for (let i = 0; i < 1000; i++) { // 1000 ALLOCATEs "from" the victim within one second
    const r = core.onControl(encodeRelayMessage({ type: RelayType.ALLOCATE, requestId: rng.bytes(8), cookie: null, bindKey: key }), MALLORY, now.v + i)
    if (r.kind === 'reply') challenges++
  }
  t.comment(JSON.stringify({ metric: 'relay-challenges-to-one-ip-per-1000-requests', value: challenges, unit: 'datagrams' }))
  t.ok(challenges <= 40 + 20 + 1, `${challenges} challenges for 1000 requests in 1 s`)
  t.equal(core.stats().dropped['rate-challenge'], 1000 - challenges)
  t.ok(reserve(core, ALICE, key, now.v + 1000) instanceof Uint8Array === false, 'another source is not affected')
})
