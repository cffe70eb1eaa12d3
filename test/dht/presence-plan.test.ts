// The owner's publishing schedule and the reader's periods (dht.md §5.1, §5.3, §5.5): which
// periods' records exist when, what their visible seq and expiry are, and that a reader whose
// clock is on the other side of a period boundary than the owner's still finds the record.
import t from 'tap'
import { presencePlan, presenceSeq, presenceExpiry, PREPUBLISH_MS } from '../../src/dht/presence-plan.js'
import { findPresence, lookupPeriods, clearOpenedRecords, type ValueFinder } from '../../src/dht/presence-lookup.js'
import { periodStartMs, presenceKey } from '../../src/dht/presence-keys.js'
import { verifyPresenceRecord, type VerifiedRecord } from '../../src/dht/records.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { EXPIRY_GRANULE_MS, PRESENCE_PERIOD_MS } from '../../src/dht/constants.js'
import { ed25519, randomBytes } from '../../src/crypto/primitives.js'
import type { LookupResult } from '../../src/dht/lookup-run.js'
import { createRng } from '../../src/sim/rng.js'
import { seededIdentity } from './helpers.js'

const P = 20_500
const START = periodStartMs(P)
const HOUR = 60 * 60_000

t.test('the plan: this period, and the next one within PREPUBLISH_MS of it', async t => {
  t.same(presencePlan(START + HOUR, HOUR).map(x => x.period), [P])
  t.same(presencePlan(START + PRESENCE_PERIOD_MS - PREPUBLISH_MS - 1, HOUR).map(x => x.period), [P])
  t.same(presencePlan(START + PRESENCE_PERIOD_MS - PREPUBLISH_MS, HOUR).map(x => x.period), [P, P + 1])
  const [cur, next] = presencePlan(START + PRESENCE_PERIOD_MS - 60_000, HOUR)
  t.equal(cur!.expiresAt, START + PRESENCE_PERIOD_MS + EXPIRY_GRANULE_MS, 'the ending period\'s record stops 10 minutes past its end')
  t.equal(next!.seq, PREPUBLISH_MS / 1000 - 60, 'the next period\'s seq counts from 3 h before it')
  t.ok(next!.expiresAt > START + PRESENCE_PERIOD_MS)
})

t.test('seq grows within a period by the clock alone; expiry is coarse and the same for everyone in 10 minutes', async t => {
  const a = presenceSeq(P, START + 5000)
  t.equal(a, PREPUBLISH_MS / 1000 + 5)
  t.ok(presenceSeq(P, START + 6000) > a, 'a restart a second later publishes a newer record')
  t.ok(presenceSeq(P, START + PRESENCE_PERIOD_MS + EXPIRY_GRANULE_MS) < 2 ** 32)
  for (const now of [START + 1, START + 7 * 60_000, START + 10 * 60_000]) {
    const e = presenceExpiry(P, now, HOUR)
    t.equal(e % EXPIRY_GRANULE_MS, 0)
    t.ok(e >= now + HOUR && e < now + HOUR + EXPIRY_GRANULE_MS)
  }
  t.equal(presenceExpiry(P, START + 1, HOUR), presenceExpiry(P, START + 9 * 60_000, HOUR), 'one value for 10 minutes of signers')
})

t.test('the reader asks this period, then the adjacent one nearer to now', async t => {
  t.same(lookupPeriods(START + HOUR), [P, P - 1])
  t.same(lookupPeriods(START + 20 * HOUR), [P, P + 1])
})

/** A DHT of one record per key, as findValue would return it (accept honoured). */
function fakeDht (records: Array<{ key: Uint8Array, bytes: Uint8Array }>, now: number): ValueFinder & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    findValue: async (key, opts) => {
      asked.push(Buffer.from(key).toString('hex'))
      const hits = records.map(r => verifyPresenceRecord(r.bytes, r.key, now)).filter((r): r is VerifiedRecord => r !== null && Buffer.compare(r.key, key) === 0 && (opts.accept?.(r) ?? true))
      return { record: hits[0] ?? null } as unknown as LookupResult
    }
  }
}

t.test('across a period boundary: owner and reader clocks on either side of it', async t => {
  const alice = seededIdentity(createRng(31))
  const boundary = START + PRESENCE_PERIOD_MS
  // the owner, 20 minutes before the boundary, publishes both periods' records
  const ownerNow = boundary - 20 * 60_000
  const sealed = presencePlan(ownerNow, HOUR).map(plan => ({ plan, ...sealPresenceRecord({ publicIdentity: alice, addresses: [{ host: '198.51.100.4', port: 7, kind: 'public' }], ...plan }, alice, randomBytes(24)) }))
  t.equal(sealed.length, 2)
  // a reader whose clock already says the next period asks its key first and finds the pre-published record
  const ahead = fakeDht(sealed, boundary + 5 * 60_000)
  t.equal((await findPresence(ahead, alice.fingerprint, boundary + 5 * 60_000))?.period, P + 1)
  t.equal(ahead.asked.length, 1)
  // only the old period's record is around (the owner has not pre-published): the reader in the
  // new period's first half falls back to the previous period
  const late = fakeDht(sealed.filter(s => s.plan.period === P), boundary + 5 * 60_000)
  t.equal((await findPresence(late, alice.fingerprint, boundary + 5 * 60_000))?.period, P)
  t.same(late.asked, [presenceKey(alice.fingerprint, P + 1), presenceKey(alice.fingerprint, P)].map(k => Buffer.from(k).toString('hex')))
  // a record under Alice's key that is not hers is passed over
  const mallory = seededIdentity(createRng(32))
  const squat = sealPresenceRecord({ publicIdentity: alice, addresses: [], period: P, seq: 99_999, expiresAt: boundary }, mallory, randomBytes(24))
  t.equal(await findPresence(fakeDht([squat], ownerNow), alice.fingerprint, ownerNow), null, 'a squatter\'s record never opens')
})

t.test('a record opened once is not opened again: every reader of the period gets its own copy', async t => {
  clearOpenedRecords()
  const alice = seededIdentity(createRng(33))
  const now = START + HOUR
  const [plan] = presencePlan(now, HOUR)
  const sealed = sealPresenceRecord({ publicIdentity: alice, addresses: [{ host: '198.51.100.9', port: 9, kind: 'public' }], ...plan! }, alice, randomBytes(24))
  const record = verifyPresenceRecord(sealed.bytes, sealed.key, now)!
  const dht: ValueFinder = { findValue: async (key, opts) => ({ record: Buffer.compare(key, record.key) === 0 && (opts.accept?.(record) ?? true) ? record : null }) as unknown as LookupResult }
  // the curve operations of an opening (the period certificate; the identity binding), counted
  const verify = ed25519.verify
  let verifies = 0
  ed25519.verify = (...args) => { verifies++; return verify(...args) }
  t.teardown(() => { ed25519.verify = verify })
  const first = await findPresence(dht, alice.fingerprint, now)
  t.equal(first?.addresses[0]?.host, '198.51.100.9')
  t.ok(verifies > 0, 'the first lookup opens the record')
  first!.addresses[0]!.host = '203.0.113.66'
  first!.publicIdentity.dhPublic.fill(0)
  verifies = 0
  const again = await findPresence(dht, alice.fingerprint, now)
  t.equal(verifies, 0, 'the second lookup (another reader, or a reconnect) verifies nothing again')
  t.equal(again?.addresses[0]?.host, '198.51.100.9', 'what one caller did to its result reaches no other')
  t.same(again?.publicIdentity.dhPublic, alice.dhPublic)
  // the same bytes looked up as another fingerprint's are opened (and fail) afresh
  const bob = seededIdentity(createRng(34))
  const anyKey: ValueFinder = { findValue: async (_key, opts) => ({ record: (opts.accept?.(record) ?? true) ? record : null }) as unknown as LookupResult }
  t.equal(await findPresence(anyKey, bob.fingerprint, now), null, 'what Alice\'s record opened to is not what it opens to for Bob\'s fingerprint')
  clearOpenedRecords()
  verifies = 0
  t.equal((await findPresence(dht, alice.fingerprint, now))?.period, plan!.period)
  t.ok(verifies > 0, 'once forgotten, it is opened again')
})
