// The STUN server core (what it answers, refuses and rate-limits; the amplification bound) and the
// client core (RFC 8489 §6.2.1 retransmission times, matching, error responses), on a simulated
// clock. proto-spec/stun.md §3, §4.
import t from 'tap'
import { SimClock, simScheduler, simRandom, createRng } from '../../src/sim/index.js'
import { StunServer } from '../../src/stun/server.js'
import { StunClient, StunTransactionError } from '../../src/stun/client.js'
import { StunService } from '../../src/stun/service.js'
import { decodeStun, encodeStun, attribute, type StunMessage } from '../../src/stun/codec.js'
import { decodeAddress, decodeErrorCode, decodeUnknownAttributes, encodeErrorCode, xorPad } from '../../src/stun/attributes.js'
import { Attr, MAX_RESPONSE_GROWTH_BYTES, METHOD_BINDING } from '../../src/stun/constants.js'
import type { PeerAddress } from '../../src/io/address.js'

const tid = Uint8Array.from({ length: 12 }, (_, i) => i + 1)
const legacyTid = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
const from: PeerAddress = { host: '203.0.113.9', port: 51000 }
const msg = (b: Uint8Array): StunMessage => { const r = decodeStun(b); if (!r.ok) throw new Error(r.reason); return r.message }
const request = (attributes: Array<{ type: number, value: Uint8Array }> = [], transactionId = tid, method = METHOD_BINDING): StunMessage =>
  msg(encodeStun({ method, cls: 'request', transactionId, attributes, fingerprint: true }))

t.test('a Binding request gets XOR-MAPPED-ADDRESS with FINGERPRINT; a classic one MAPPED-ADDRESS only', async t => {
  const s = new StunServer()
  for (const addr of [from, { host: '2001:db8::42', port: 443 }]) {
    const out = msg(s.answer(request(), addr, 0)!)
    t.equal(out.cls, 'success')
    t.same(decodeAddress(attribute(out, Attr.XOR_MAPPED_ADDRESS)!, xorPad(tid)), addr, `XOR-MAPPED-ADDRESS ${addr.host}`)
    t.ok(attribute(out, Attr.FINGERPRINT), 'FINGERPRINT (it decoded, so it matched)')
    t.equal(attribute(out, Attr.SOFTWARE), undefined, 'no SOFTWARE: a probe does not learn it is talking to dmess')
  }
  const legacy = s.answer(request([], legacyTid), from, 0)!
  const m = msg(legacy)
  t.equal(m.legacy, true)
  t.same(Buffer.from(m.transactionId), Buffer.from(legacyTid), 'its 16-byte transaction id echoed')
  t.same(m.attributes.map(a => a.type), [Attr.MAPPED_ADDRESS], 'only MAPPED-ADDRESS, which RFC 3489 clients read')
  t.same(decodeAddress(attribute(m, Attr.MAPPED_ADDRESS)!, null), from)
  t.equal(s.stats.answered, 3)
})

t.test('what is refused: unknown comprehension-required attributes (420), CHANGE-REQUEST, RESPONSE-PORT, other methods (400)', async t => {
  const s = new StunServer()
  const err = (m: StunMessage): { code: number, unknown: number[] | null } => ({
    code: decodeErrorCode(attribute(m, Attr.ERROR_CODE)!)!.code,
    unknown: attribute(m, Attr.UNKNOWN_ATTRIBUTES) === undefined ? null : decodeUnknownAttributes(attribute(m, Attr.UNKNOWN_ATTRIBUTES)!)
  })
  t.same(err(msg(s.answer(request([{ type: Attr.RESPONSE_PORT, value: Uint8Array.of(0, 53, 0, 0) }]), from, 0)!)), { code: 420, unknown: [Attr.RESPONSE_PORT] }, 'RESPONSE-PORT: we answer only the source')
  t.same(err(msg(s.answer(request([{ type: Attr.CHANGE_REQUEST, value: Uint8Array.of(0, 0, 0, 6) }]), from, 0)!)), { code: 420, unknown: [Attr.CHANGE_REQUEST] }, 'CHANGE-REQUEST asking for another address or port')
  t.equal(msg(s.answer(request([{ type: Attr.CHANGE_REQUEST, value: Uint8Array.of(0, 0, 0, 0) }]), from, 0)!).cls, 'success', 'CHANGE-REQUEST that changes nothing')
  t.same(err(msg(s.answer(request([{ type: Attr.CHANGE_REQUEST, value: Uint8Array.of(0) }]), from, 0)!)), { code: 400, unknown: null }, 'malformed CHANGE-REQUEST')
  t.same(err(msg(s.answer(request([{ type: 0x7001, value: new Uint8Array(0) }, { type: 0x7002, value: new Uint8Array(0) }, { type: 0x7001, value: new Uint8Array(0) }]), from, 0)!)), { code: 420, unknown: [0x7001, 0x7002] }, 'each unknown type once')
  t.equal(msg(s.answer(request([{ type: 0xc001, value: new Uint8Array(3) }, { type: Attr.PRIORITY, value: new Uint8Array(4) }, { type: Attr.USERNAME, value: new Uint8Array(5) }]), from, 0)!).cls, 'success', 'comprehension-optional, ICE and credential attributes are fine')
  t.same(err(msg(s.answer(request([], tid, 0x003), from, 0)!)), { code: 400, unknown: null }, 'a method other than Binding')
  t.equal(s.answer(msg(encodeStun({ method: METHOD_BINDING, cls: 'indication', transactionId: tid })), from, 0), null, 'an indication gets nothing')
  t.equal(s.answer(msg(encodeStun({ method: METHOD_BINDING, cls: 'success', transactionId: tid })), from, 0), null, 'a response gets nothing')
})

t.test('never an amplifier: every answer within request + 40 bytes, and per-source and global rate limits', async t => {
  const s = new StunServer()
  const cases = [request(), request([], legacyTid), request([{ type: 0x0fff, value: new Uint8Array(0) }]), request([], tid, 0x0ff)]
  for (const r of cases) {
    for (const addr of [from, { host: '2001:db8::1', port: 1 }]) {
      const out = s.answer(r, addr, 0)!
      t.ok(out.length <= r.bytes.length + MAX_RESPONSE_GROWTH_BYTES, `${r.bytes.length} → ${out.length} bytes`)
    }
  }
  // the smallest request that can earn the largest answer: a lone unknown attribute, no FINGERPRINT
  const tiny = msg(encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, attributes: [{ type: 0x0fff, value: new Uint8Array(0) }] }))
  const worst = s.answer(tiny, { host: '192.0.2.1', port: 9 }, 0)!
  t.equal(worst.length - tiny.bytes.length, MAX_RESPONSE_GROWTH_BYTES, `worst case: ${tiny.bytes.length} → ${worst.length} bytes`)

  const limited = new StunServer({ perSource: { ratePerS: 10, burst: 20, maxKeys: 100 }, global: { ratePerS: 100, burst: 50 } })
  let answered = 0
  for (let i = 0; i < 100; i++) if (limited.answer(request(), from, 0) !== null) answered++
  t.equal(answered, 20, 'one source: its burst of 20, then nothing')
  t.equal(limited.answer(request(), from, 1000) === null, false, 'refilled after a second')
  let others = 0
  for (let i = 0; i < 200; i++) if (limited.answer(request(), { host: `198.51.100.${i}`, port: 1 }, 1000) !== null) others++
  t.equal(others, 49, 'many sources: the global burst (50, one already spent) caps them all')
  t.ok(limited.stats.rateLimited > 200, `refused ${limited.stats.rateLimited}`)
  t.comment(JSON.stringify({ metric: 'stun_worst_response_growth', value: worst.length - tiny.bytes.length, unit: 'bytes' }))
})

const failure = async (p: Promise<unknown>): Promise<unknown[]> =>
  await p.then(() => ['resolved'], (e: StunTransactionError) => [e.failure, e.errorCode])

function clientOn (clock: SimClock, sent: Array<{ at: number, to: PeerAddress, bytes: Uint8Array }>): StunClient {
  return new StunClient({ send: (to, bytes) => sent.push({ at: clock.now, to, bytes }), scheduler: simScheduler(clock), random: simRandom(createRng(1)) })
}

t.test('RFC 8489 §6.2.1 retransmission: sends at 0, 250, 750, 1750, 3750 ms, gives up at 5750 ms', async t => {
  const clock = new SimClock()
  const sent: Array<{ at: number, to: PeerAddress, bytes: Uint8Array }> = []
  const c = clientOn(clock, sent)
  const p = c.binding({ host: '192.0.2.1', port: 3478 })
  let failed: StunTransactionError | null = null
  p.catch((e: StunTransactionError) => { failed = e })
  clock.run({ until: 5749 })
  await new Promise(resolve => setImmediate(resolve))
  t.same(sent.map(s => s.at), [0, 250, 750, 1750, 3750])
  t.equal(failed, null, 'still waiting at 5749 ms')
  clock.run({ until: 5750 })
  await new Promise(resolve => setImmediate(resolve))
  t.equal((failed as StunTransactionError | null)?.failure, 'timeout', 'timed out at 5750 ms')
  t.ok(sent.every(s => Buffer.from(s.bytes).equals(Buffer.from(sent[0]!.bytes))), 'the same request (same transaction id) each time')
  t.equal(c.pending, 0)
})

t.test('the client takes the answer from the server it asked, reads error responses, and aborts', async t => {
  const clock = new SimClock()
  const sent: Array<{ at: number, to: PeerAddress, bytes: Uint8Array }> = []
  const c = clientOn(clock, sent)
  const server = new StunServer()
  const to = { host: '192.0.2.1', port: 3478 }
  const p = c.binding(to)
  clock.advance(300) // one retransmission
  const req = msg(sent[1]!.bytes)
  const answer = msg(server.answer(req, from, 0)!)
  t.equal(c.receive(answer, { host: '192.0.2.2', port: 3478 }), false, 'the same transaction id from another address is ignored')
  t.equal(c.receive(answer, to), true)
  const r = await p
  t.same(r.reflexive, from)
  t.equal(r.requests, 2)
  t.equal(r.rttMs, 300)
  t.equal(c.receive(answer, to), false, 'a late duplicate matches nothing')

  const p2 = c.binding(to)
  const req2 = msg(sent.at(-1)!.bytes)
  c.receive(msg(encodeStun({ method: METHOD_BINDING, cls: 'error', transactionId: req2.transactionId, attributes: [{ type: Attr.ERROR_CODE, value: encodeErrorCode(420, 'Unknown Attribute') }] })), to)
  t.same(await failure(p2), ['error-response', 420])

  const p3 = c.binding(to)
  c.receive(msg(encodeStun({ method: METHOD_BINDING, cls: 'success', transactionId: msg(sent.at(-1)!.bytes).transactionId })), to)
  t.same(await failure(p3), ['bad-response', undefined], 'a success without an address')

  const ac = new AbortController()
  const p4 = c.binding(to, ac.signal)
  ac.abort()
  t.same(await failure(p4), ['aborted', undefined])
  const p5 = c.binding(to)
  c.close()
  t.same(await failure(p5), ['closed', undefined])
  t.equal(c.pending, 0)
})

t.test('the service: requests answered only while serving, garbage counted', async t => {
  const clock = new SimClock()
  const out: Uint8Array[] = []
  let serving = false
  const svc = new StunService({ send: (_to, b) => out.push(b), scheduler: simScheduler(clock), random: simRandom(createRng(2)), serve: () => serving })
  svc.receive(request().bytes, from)
  t.equal(out.length, 0)
  serving = true
  svc.receive(request().bytes, from)
  t.equal(out.length, 1)
  svc.receive(new Uint8Array(24), from)
  svc.receive(encodeStun({ method: METHOD_BINDING, cls: 'success', transactionId: tid }), from)
  svc.receive(encodeStun({ method: METHOD_BINDING, cls: 'indication', transactionId: tid }), from)
  t.same(svc.drops, { 'not-serving': 1, 'bad-length': 1, unmatched: 1, indication: 1 }, 'each drop counted by reason')
  svc.receive(new Uint8Array(20), from)
  t.equal(out.length, 2, '20 zero bytes: a classic request of method 0, answered 400')
  t.equal(decodeErrorCode(attribute(msg(out[1]!), Attr.ERROR_CODE)!)!.code, 400)
})
