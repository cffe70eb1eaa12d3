// Random schedules over the Double Ratchet core (proto-spec/ratchet.md §6): 10,000 messages with
// interleaving, loss, duplication and reordering decrypt exactly once each; floods of skipped
// keys stay bounded; skipped keys expire. Seeded: the seed is printed, DMESS_TEST_SEED replays it.
import t from 'tap'
import { x25519 } from './support.js'
import {
  initAlice, initBob, ratchetEncrypt, ratchetDecrypt, encodeState, decodeState,
  ratchetConstants as C, type RatchetState, type RandomBytes, type WorkMeter
} from '../../src/ratchet/index.js'
import { drbg, toHex, utf8 } from './helpers.js'
import { testRng } from '../helpers/seed.js'

const SK = new Uint8Array(32).fill(0x33)
const AD = utf8('alice|bob')
const T0 = 1_700_000_000_000

function start (seed: string): { st: [RatchetState, RatchetState], rnd: [RandomBytes, RandomBytes] } {
  const ra = drbg(utf8(`${seed}/a`))
  const rb = drbg(utf8(`${seed}/b`))
  const spkSecret = rb(32)
  const spk = { secretKey: spkSecret, publicKey: x25519.publicFromSecret(spkSecret) }
  return { st: [initAlice({ sk: SK, ad: AD, bobRatchetPublic: spk.publicKey }, ra), initBob({ sk: SK, ad: AD, ratchetKeyPair: spk })], rnd: [ra, rb] }
}

interface InFlight { id: number, to: 0 | 1, message: Uint8Array }

t.test('10,000 messages, interleaved, lost, duplicated and reordered: each delivered one decrypts exactly once', async t => {
  const rng = testRng(t, 0x7a7c4e7, 'schedule')
  const { st, rnd } = start('schedule')
  const TOTAL = 10_000
  const WINDOW = 12 // reordering: the next delivery is any of the first WINDOW in flight
  const P_SWITCH = 0.03; const P_LOSS = 0.03; const P_DUP = 0.03
  const queue: InFlight[] = []
  const bodies = new Map<number, string>()
  const decrypted = new Map<number, number>()
  let sent = 0; let sender: 0 | 1 = 0; let lost = 0; let dupes = 0; let dupRefused = 0; let now = T0; let steps = 0
  const deliver = (): void => {
    const i = rng.int(Math.min(WINDOW, queue.length))
    const f = queue.splice(i, 1)[0]!
    if (!decrypted.has(f.id) && rng.chance(P_LOSS)) { lost++; bodies.delete(f.id); return }
    if (rng.chance(P_DUP)) { dupes++; queue.splice(rng.int(queue.length + 1), 0, { ...f }) }
    const r = ratchetDecrypt(st[f.to], f.message, { now, random: rnd[f.to] })
    const seen = decrypted.get(f.id) ?? 0
    if (seen > 0) {
      if (r.ok) t.fail(`message ${f.id} decrypted a second time`)
      else dupRefused++
      return
    }
    if (!r.ok) { t.fail(`message ${f.id} to ${f.to} refused: ${r.reason}`); return }
    if (Buffer.from(r.plaintext).toString() !== bodies.get(f.id)) t.fail(`message ${f.id} decrypted to something else`)
    if (r.state.dhr !== st[f.to].dhr) steps++
    st[f.to] = r.state
    decrypted.set(f.id, 1)
  }
  while (sent < TOTAL || queue.length > 0) {
    now += 1000
    if (sent < TOTAL && (queue.length === 0 || rng.chance(0.5))) {
      if (rng.chance(P_SWITCH) && st[1].cks !== null) sender = sender === 0 ? 1 : 0
      const body = `m${sent} ${'x'.repeat(rng.int(64))}`
      const { state, message } = ratchetEncrypt(st[sender], utf8(body), rnd[sender])
      st[sender] = state
      bodies.set(sent, body)
      queue.push({ id: sent++, to: sender === 0 ? 1 : 0, message })
    } else {
      deliver()
    }
    if (sent % 997 === 0) { // the states survive being stored and loaded mid-flight
      st[0] = decodeState(encodeState(st[0]))!
      st[1] = decodeState(encodeState(st[1]))!
    }
  }
  t.comment(`sent ${sent}, lost ${lost}, duplicated ${dupes}, DH steps ${steps}`)
  t.equal(decrypted.size, TOTAL - lost, 'every message not lost decrypted')
  t.equal(dupRefused, dupes, 'every duplicate delivery refused')
  t.ok(steps > 100, 'the schedule changed direction often (DH + KEM steps)')
  t.ok(lost > 100 && dupes > 100, 'and lost and duplicated plenty')
})

/** Alice sends `count` messages, only the last reaches Bob: Bob must skip count - 1 keys. */
function burst (s: { st: [RatchetState, RatchetState], rnd: [RandomBytes, RandomBytes] }, count: number): Uint8Array {
  let last: Uint8Array = new Uint8Array(0)
  for (let i = 0; i < count; i++) {
    const r = ratchetEncrypt(s.st[0], utf8('flood'), s.rnd[0])
    s.st[0] = r.state
    last = r.message
  }
  return last
}

function roundTrip (s: { st: [RatchetState, RatchetState], rnd: [RandomBytes, RandomBytes] }): void {
  const reply = ratchetEncrypt(s.st[1], utf8('reply'), s.rnd[1])
  s.st[1] = reply.state
  const r = ratchetDecrypt(s.st[0], reply.message, { now: T0, random: s.rnd[0] })
  if (!r.ok) throw new Error(r.reason)
  s.st[0] = r.state
}

/** Bob decrypts m and keeps the new state; a refusal fails the test. */
function bobReads (s: { st: [RatchetState, RatchetState], rnd: [RandomBytes, RandomBytes] }, m: Uint8Array): void {
  const r = ratchetDecrypt(s.st[1], m, { now: T0, random: s.rnd[1] })
  if (!r.ok) throw new Error(r.reason)
  s.st[1] = r.state
}

const chainsOf = (s: RatchetState): number => new Set(s.skipped.map(k => toHex(k.hk))).size

t.test('a flood of skipped keys stays bounded in memory, and a huge counter is refused', async t => {
  const s = start('flood')
  const accept = (m: Uint8Array): void => { bobReads(s, m) }
  accept(burst(s, C.MAX_SKIP + 1)) // skips exactly MAX_SKIP keys
  t.equal(s.st[1].skipped.length, C.MAX_SKIP)
  const before = toHex(encodeState(s.st[1]))
  const alice = s.st[0]
  const tooFar = burst(s, C.MAX_SKIP + 2)
  s.st[0] = alice // Alice forgets that burst (as if her store was rolled back), so the session can go on
  t.same(ratchetDecrypt(s.st[1], tooFar, { now: T0, random: s.rnd[1] }), { ok: false, reason: 'too-many-skipped' })
  t.equal(toHex(encodeState(s.st[1])), before, 'refused without a change')
  // a header claiming the largest counter: refused at once, nothing derived
  const huge = ratchetEncrypt({ ...s.st[0], ns: C.MAX_COUNTER - 1 }, utf8('x'), s.rnd[0]).message
  t.same(ratchetDecrypt(s.st[1], huge, { now: T0, random: s.rnd[1] }), { ok: false, reason: 'too-many-skipped' })
  // more floods over new chains: never more than MAX_SKIPPED_KEYS keys
  let most = 0
  for (let round = 0; round < 2; round++) {
    roundTrip(s)
    accept(burst(s, C.MAX_SKIP))
    most = Math.max(most, s.st[1].skipped.length)
  }
  t.equal(most, C.MAX_SKIPPED_KEYS, `at most ${C.MAX_SKIPPED_KEYS} skipped keys are kept`)
  t.ok(encodeState(s.st[1]).length < 16_384 + C.MAX_SKIPPED_KEYS * 84, 'the stored state stays small')
})

t.test('skipped keys expire after SKIPPED_MAX_AGE_MESSAGES later messages, or SKIPPED_MAX_AGE_MS', async t => {
  for (const by of ['count', 'time'] as const) {
    const s = start(`expire-${by}`)
    const late = ratchetEncrypt(s.st[0], utf8('late'), s.rnd[0])
    s.st[0] = late.state
    const keep = ratchetEncrypt(s.st[0], utf8('kept'), s.rnd[0])
    s.st[0] = keep.state
    const next = (now: number): void => {
      const m = ratchetEncrypt(s.st[0], utf8('.'), s.rnd[0])
      s.st[0] = m.state
      const r = ratchetDecrypt(s.st[1], m.message, { now, random: s.rnd[1] })
      if (!r.ok) throw new Error(r.reason)
      s.st[1] = r.state
    }
    next(T0) // the first message skips 'late' and 'kept'
    const later = by === 'count' ? C.SKIPPED_MAX_AGE_MESSAGES - 1 : 1
    for (let i = 0; i < later; i++) next(T0 + (by === 'time' ? C.SKIPPED_MAX_AGE_MS : 0))
    const r1 = ratchetDecrypt(s.st[1], keep.message, { now: T0 + (by === 'time' ? C.SKIPPED_MAX_AGE_MS : 0), random: s.rnd[1] })
    t.ok(r1.ok, `${by}: a key just inside the limit still works`)
    next(T0 + (by === 'time' ? C.SKIPPED_MAX_AGE_MS + 1 : 0))
    t.same(ratchetDecrypt(s.st[1], late.message, { now: T0 + C.SKIPPED_MAX_AGE_MS + 1, random: s.rnd[1] }), { ok: false, reason: 'old-message' }, `${by}: past it the key is gone`)
    t.equal(s.st[1].skipped.length, 0)
  }
})

t.test('fuzz: damaged, truncated and random messages are refused with a reason, never thrown, never accepted', async t => {
  const rng = testRng(t, 0xf022, 'mutations')
  const s = start('fuzz')
  const first = ratchetEncrypt(s.st[0], utf8('first'), s.rnd[0])
  s.st[0] = first.state
  const r = ratchetDecrypt(s.st[1], first.message, { now: T0, random: s.rnd[1] })
  if (!r.ok) throw new Error(r.reason)
  s.st[1] = r.state
  const reply = ratchetEncrypt(s.st[1], utf8('a DH step for the receiver'), s.rnd[1]).message
  const inChain = ratchetEncrypt(s.st[0], utf8('same chain'), s.rnd[0]).message
  const reasons = new Map<string, number>()
  for (let i = 0; i < 600; i++) {
    const [base, receiver] = rng.chance(0.5) ? [reply, 0] as const : [inChain, 1] as const
    let m: Uint8Array = base.slice()
    const kind = rng.int(4)
    if (kind === 0) for (let j = 0, k = 1 + rng.int(4); j < k; j++) m[rng.int(m.length)]! ^= 1 << rng.int(8)
    else if (kind === 1) m = m.subarray(0, rng.int(m.length))
    else if (kind === 2) m = Uint8Array.from([...m, ...rng.bytes(1 + rng.int(8))])
    else m = rng.bytes(rng.int(3000))
    const res = ratchetDecrypt(s.st[receiver], m, { now: T0, random: s.rnd[receiver] })
    if (res.ok) { t.fail(`mutation ${i} (kind ${kind}) accepted`); continue }
    reasons.set(res.reason, (reasons.get(res.reason) ?? 0) + 1)
  }
  t.comment([...reasons].map(([k, v]) => `${k} ${v}`).join(', '))
  t.ok(reasons.has('malformed') && reasons.has('no-header-key') && reasons.has('decrypt-failed'), 'refused for the expected reasons')
  const ok = ratchetDecrypt(s.st[0], reply, { now: T0, random: s.rnd[0] })
  t.ok(ok.ok, 'the genuine message still decrypts after all that')
})

t.test('skipped chains are bounded, and so is the work one incoming message costs, whatever it claims (counted, not timed)', async t => {
  const s = start('work')
  const accept = (m: Uint8Array): void => { bobReads(s, m) }
  // Bob ends up holding skipped keys in as many chains as he keeps
  let mostChains = 0
  for (let round = 0; round < C.MAX_SKIPPED_CHAINS + 4; round++) {
    if (round > 0) roundTrip(s)
    accept(burst(s, 2))
    mostChains = Math.max(mostChains, chainsOf(s.st[1]))
  }
  t.equal(mostChains, C.MAX_SKIPPED_CHAINS, 'never more than MAX_SKIPPED_CHAINS chains keep skipped keys (the oldest go)')
  t.equal(s.st[1].skipped.length, C.MAX_SKIPPED_CHAINS, 'one key in each')
  const cost = (m: Uint8Array): WorkMeter & { reason: string } => {
    const meter: WorkMeter = { headerDecryptions: 0, chainSteps: 0, dhSteps: 0 }
    const r = ratchetDecrypt(s.st[1], m, { now: T0, random: s.rnd[1], meter })
    return { ...meter, reason: r.ok ? 'ok' : r.reason }
  }
  const rng = testRng(t, 0xc057, 'forgeries')
  let most = 0
  for (let i = 0; i < 50; i++) {
    const c = cost(rng.bytes(C.ENC_HEADER_BYTES + 16 + rng.int(100)))
    most = Math.max(most, c.headerDecryptions)
    if (c.headerDecryptions > 2 + C.MAX_SKIPPED_CHAINS || c.chainSteps !== 0 || c.reason !== 'no-header-key') t.fail(`forgery ${i}: ${JSON.stringify(c)}`)
  }
  // current and next header keys, and each chain with skipped keys but the current one (tried first)
  t.equal(most, 1 + C.MAX_SKIPPED_CHAINS, 'a forged header costs at most 2 + MAX_SKIPPED_CHAINS header decryptions and no key derivation')
  const huge = ratchetEncrypt({ ...s.st[0], ns: C.MAX_COUNTER - 1 }, utf8('x'), s.rnd[0]).message
  t.same(cost(huge), { headerDecryptions: 1, chainSteps: 0, dhSteps: 0, reason: 'too-many-skipped' }, 'a counter far ahead: refused after one header decryption, nothing derived')
  const far = cost(burst(s, C.MAX_SKIP + 1))
  t.same(far, { headerDecryptions: 1, chainSteps: C.MAX_SKIP + 1, dhSteps: 0, reason: 'ok' }, 'the largest skip allowed: MAX_SKIP chain steps and the message\'s own')
})

t.test('a state stored and loaded in the middle of a chain\'s skips still counts that chain once (MAX_SKIPPED_CHAINS)', async t => {
  const s = start('reload-skips')
  // chain 0: Bob skips `oldest`, the message the test later delivers
  const oldest = ratchetEncrypt(s.st[0], utf8('oldest'), s.rnd[0])
  s.st[0] = oldest.state
  bobReads(s, burst(s, 1))
  // chains 1 .. MAX_SKIPPED_CHAINS - 1: one skipped key each, so Bob keeps exactly as many chains as allowed
  for (let round = 1; round < C.MAX_SKIPPED_CHAINS; round++) {
    roundTrip(s)
    bobReads(s, burst(s, 2))
  }
  t.equal(chainsOf(s.st[1]), C.MAX_SKIPPED_CHAINS, 'Bob holds skipped keys in MAX_SKIPPED_CHAINS chains')
  // Bob's state is stored and loaded, then more keys are skipped in the current chain
  s.st[1] = decodeState(encodeState(s.st[1]))!
  const meter: WorkMeter = { headerDecryptions: 0, chainSteps: 0, dhSteps: 0 }
  const forged = ratchetDecrypt(s.st[1], testRng(t, 0x5eed, 'forged').bytes(C.ENC_HEADER_BYTES + 16), { now: T0, random: s.rnd[1], meter })
  t.equal(forged.ok, false)
  t.equal(meter.headerDecryptions, 1 + C.MAX_SKIPPED_CHAINS, 'after the reload a forged header costs what it did before (the current chain is not tried twice)')
  bobReads(s, burst(s, 3))
  t.equal(chainsOf(s.st[1]), C.MAX_SKIPPED_CHAINS, 'still MAX_SKIPPED_CHAINS distinct chains')
  t.equal(s.st[1].skipped.length, C.MAX_SKIPPED_CHAINS + 2, 'the oldest chain was not dropped: the current one was counted once')
  const r = ratchetDecrypt(s.st[1], oldest.message, { now: T0, random: s.rnd[1] })
  t.ok(r.ok, 'the oldest chain\'s skipped message still decrypts')
})
