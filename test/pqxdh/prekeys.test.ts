// The prekey ring's lifecycle (src/pqxdh/prekeys.ts, proto-spec/pqxdh.md §5.1) on a simulated
// calendar: a new pair every 7 days, the old one answering for 14 more, then deleted (and a start
// under it refused); early rotation when a pair's replay memory fills; the ring never mutated.
import t from 'tap'
import { generateIdentity } from '../../src/crypto/identity.js'
import {
  EMPTY_RING, rotatePrekeys, bundleOf, initiate, respond, currentSet, findSet, nextRotationAt, rememberInitial,
  wipePrekeySets, openBundle, PREKEY_ROTATE_MS, PREKEY_GRACE_MS, MAX_SEEN_PER_PREKEY, MAX_PREKEY_SETS, type PrekeyRing
} from '../../src/pqxdh/index.js'

const DAY = 86_400_000
const T0 = Date.UTC(2030, 0, 1)
const alice = generateIdentity()
const bob = generateIdentity()

function ids (r: PrekeyRing): string {
  return r.sets.map(s => `${s.id}${s.retiredS === 0 ? '*' : ''}`).join(',')
}

t.test('rotation schedule: weekly pairs, kept two weeks after retirement, then deleted', async t => {
  const r0 = rotatePrekeys(EMPTY_RING, bob, T0)
  t.ok(r0.created, 'an empty ring gets its first pair')
  t.equal(ids(r0.ring), '1*')
  t.equal(nextRotationAt(r0.ring), T0 + PREKEY_ROTATE_MS)
  const r1 = rotatePrekeys(r0.ring, bob, T0 + 6 * DAY)
  t.equal(r1.created, undefined, 'nothing to do after 6 days')
  t.equal(ids(r1.ring), '1*')
  const r2 = rotatePrekeys(r1.ring, bob, T0 + 7 * DAY)
  t.equal(ids(r2.ring), '1,2*', 'a week on: pair 2 is current, pair 1 retired')
  t.equal(ids(r0.ring), '1*', 'the old ring object is unchanged')
  t.equal(nextRotationAt(r2.ring), T0 + 14 * DAY)
  const opened = openBundle(bundleOf(r2.ring, bob), bob.fingerprint, T0 + 7 * DAY)
  t.ok(opened.ok && opened.value.prekeyId === 2, 'the bundle now names pair 2')
  const r3 = rotatePrekeys(r2.ring, bob, T0 + 14 * DAY)
  t.equal(ids(r3.ring), '1,2,3*')
  t.same(r3.deleted, [])
  const r4 = rotatePrekeys(r3.ring, bob, T0 + 7 * DAY + PREKEY_GRACE_MS)
  t.equal(ids(r4.ring), '2,3,4*', 'pair 1 goes 14 days after it was retired')
  t.same(r4.deleted.map(s => s.id), [1])
  t.equal(findSet(r4.ring, 1), undefined)
})

t.test('a start under a pair is answered until the pair is deleted, then refused', async t => {
  const r0 = rotatePrekeys(EMPTY_RING, bob, T0).ring
  const i = initiate(alice, bundleOf(r0, bob), bob.fingerprint, T0 + 13 * DAY)
  if (!i.ok) throw i.error
  const at20 = rotatePrekeys(rotatePrekeys(r0, bob, T0 + 7 * DAY).ring, bob, T0 + 20 * DAY).ring
  const r = respond(bob, at20, i.value.initialMessage)
  t.ok(r.ok && Buffer.from(r.value.sk).equals(Buffer.from(i.value.sk)), 'day 20: still answered (retired on day 7)')
  const rot = rotatePrekeys(at20, bob, T0 + 21 * DAY)
  t.same(rot.deleted.map(s => s.id), [1])
  const late = respond(bob, rot.ring, i.value.initialMessage)
  t.equal(late.ok ? 'ok' : late.error.code, 'PQXDH_UNKNOWN_PREKEY', 'day 21: the pair is gone, and with it the means to read that start')
  wipePrekeySets(rot.deleted)
  t.ok(rot.deleted[0]!.spk.secretKey.every(b => b === 0) && rot.deleted[0]!.kemSeed.every(b => b === 0), 'wiped')
  t.ok(rot.deleted[0]!.pqspk.secretKey.every(b => b === 0))
})

/** The ring with pair `id`'s replay memory filled to the limit (one rememberInitial for the last). */
function fill (ring: PrekeyRing, id: number): PrekeyRing {
  const seen = new Set(Array.from({ length: MAX_SEEN_PER_PREKEY - 1 }, (_, i) => i.toString(16).padStart(64, '0')))
  const filled = { ...ring, sets: ring.sets.map(s => s.id === id ? { ...s, seen } : s) }
  return rememberInitial(filled, id, new Uint8Array(32).fill(0xee))
}

t.test('a full replay memory retires the pair early', async t => {
  const r = fill(rotatePrekeys(EMPTY_RING, bob, T0).ring, 1)
  t.equal(currentSet(r)!.seen.size, MAX_SEEN_PER_PREKEY)
  const rot = rotatePrekeys(r, bob, T0 + DAY)
  t.equal(ids(rot.ring), '1,2*', 'a day in, pair 1 is full: pair 2 made')
  t.equal(currentSet(rot.ring)!.seen.size, 0)
})

t.test('at most MAX_PREKEY_SETS pairs: the oldest retired ones go early', async t => {
  let r = rotatePrekeys(EMPTY_RING, bob, T0).ring
  for (let n = 1; n <= MAX_PREKEY_SETS + 2; n++) r = rotatePrekeys(fill(r, currentSet(r)!.id), bob, T0 + n * 1000).ring
  t.equal(r.sets.length, MAX_PREKEY_SETS)
  t.equal(currentSet(r)!.id, MAX_PREKEY_SETS + 3)
  t.equal(r.sets[0]!.id, 4, 'pairs 1-3 went first')
})

t.test('ids skip zero and ones still held when the counter wraps', async t => {
  const r0 = rotatePrekeys({ nextId: 0xffff_ffff, sets: [] }, bob, T0).ring
  t.equal(currentSet(r0)!.id, 0xffff_ffff)
  const r1 = rotatePrekeys(r0, bob, T0 + 7 * DAY).ring
  t.equal(currentSet(r1)!.id, 1, 'after 2^32 - 1 comes 1, not 0')
  t.throws(() => bundleOf(EMPTY_RING, bob), { code: 'CRYPTO' }, 'no bundle without a current pair')
})
