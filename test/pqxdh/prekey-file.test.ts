// The prekey file on a real disk (src/pqxdh/prekey-file.ts, proto-spec/pqxdh.md §5.2): the ring
// survives a restart (written, read back by a fresh load), is sealed under the store key (a wrong
// key or a changed byte is PREKEYS_CORRUPT), mode 0600, padded to a size class; a deleted pair is
// gone from the file once the rotated ring is saved.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity } from '../../src/crypto/identity.js'
import { randomBytes, xchacha } from '../../src/crypto/primitives.js'
import {
  EMPTY_RING, rotatePrekeys, respond, initiate, bundleOf, prekeyFileKey, loadPrekeyRing, savePrekeyRing, sealRing,
  openRing, encodeRing, decodeRing, currentSet, PREKEY_FILE_MODE, type PrekeyRing
} from '../../src/pqxdh/index.js'

const DAY = 86_400_000
const T0 = Date.UTC(2030, 0, 1)
const alice = generateIdentity()
const bob = generateIdentity()
const storeKey = randomBytes(32)
const key = prekeyFileKey(storeKey)

const dir = mkdtempSync(join(tmpdir(), 'dmess-prekeys-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function same (t: Test, a: PrekeyRing, b: PrekeyRing): void {
  t.equal(a.nextId, b.nextId)
  t.same(a.sets.map(s => [s.id, s.createdS, s.retiredS, [...s.seen].sort()]), b.sets.map(s => [s.id, s.createdS, s.retiredS, [...s.seen].sort()]))
  for (let i = 0; i < a.sets.length; i++) {
    t.same(a.sets[i]!.spk.secretKey, b.sets[i]!.spk.secretKey)
    t.same(a.sets[i]!.pqspk.publicKey, b.sets[i]!.pqspk.publicKey, 'the ML-KEM pair is derived again from its seed')
    t.same(a.sets[i]!.pqspkSignature, b.sets[i]!.pqspkSignature)
  }
}

t.test('a ring survives a restart: saved, loaded again, still answers a start and refuses its replay', async t => {
  const path = join(dir, 'prekeys')
  t.equal(await loadPrekeyRing(path, key), null, 'no file yet: null, not an error')
  const ring = rotatePrekeys(EMPTY_RING, bob, T0).ring
  const i = initiate(alice, bundleOf(ring, bob), bob.fingerprint, T0)
  if (!i.ok) throw i.error
  const first = respond(bob, ring, i.value.initialMessage)
  if (!first.ok) throw first.error
  await savePrekeyRing(path, key, first.value.ring)
  t.equal(statSync(path).mode & 0o777, PREKEY_FILE_MODE, 'mode 0600')
  const loaded = await loadPrekeyRing(path, prekeyFileKey(storeKey))
  if (loaded === null) throw new Error('the file should be there')
  same(t, loaded, first.value.ring)
  const again = respond(bob, loaded, i.value.initialMessage)
  t.equal(again.ok ? 'ok' : again.error.code, 'PQXDH_REPLAY', 'the replay memory came back from disk')
  const other = initiate(alice, bundleOf(loaded, bob), bob.fingerprint, T0)
  if (!other.ok) throw other.error
  const r = respond(bob, loaded, other.value.initialMessage)
  t.ok(r.ok && Buffer.from(r.value.sk).equals(Buffer.from(other.value.sk)), 'the loaded keys still work')
})

t.test('deletion on expiry: once the rotated ring is saved, the old pair is not in the file', async t => {
  const path = join(dir, 'rotating')
  let ring = rotatePrekeys(EMPTY_RING, bob, T0).ring
  ring = rotatePrekeys(ring, bob, T0 + 7 * DAY).ring
  await savePrekeyRing(path, key, ring)
  const oldSecret = Buffer.from(ring.sets[0]!.spk.secretKey).toString('hex')
  const rot = rotatePrekeys(ring, bob, T0 + 21 * DAY)
  t.same(rot.deleted.map(s => s.id), [1])
  await savePrekeyRing(path, key, rot.ring)
  const loaded = await loadPrekeyRing(path, key)
  t.same(loaded?.sets.map(s => s.id), [2, 3])
  const plain = xchacha.open(key, readFileSync(path).subarray(5, 29), readFileSync(path).subarray(29), readFileSync(path).subarray(0, 29))
  t.ok(plain !== null && !Buffer.from(plain).toString('hex').includes(oldSecret), "pair 1's secret is not in the new file's plaintext")
})

t.test('sealed: another key, a changed byte, a truncated file or another format are PREKEYS_CORRUPT', async t => {
  const ring = rotatePrekeys(EMPTY_RING, bob, T0).ring
  const file = sealRing(ring, key)
  same(t, openRing(file, key), ring)
  const corrupt = { code: 'PREKEYS_CORRUPT' }
  t.throws(() => openRing(file, prekeyFileKey(randomBytes(32))), corrupt, 'another store key')
  for (const at of [0, 4, 10, 40, file.length - 1]) {
    const bad = file.slice()
    bad[at] = bad[at]! ^ 1
    t.throws(() => openRing(bad, key), corrupt, `byte ${at} changed`)
  }
  t.throws(() => openRing(file.subarray(0, 40), key), corrupt, 'truncated')
  t.throws(() => openRing(new Uint8Array(10), key), corrupt, 'too short')
  const path = join(dir, 'garbage')
  writeFileSync(path, 'not a prekey file at all, just text')
  await t.rejects(loadPrekeyRing(path, key), corrupt, 'load refuses it with the same code')
  t.throws(() => prekeyFileKey(new Uint8Array(31)), { code: 'BAD_ARGUMENT' })
})

t.test('the ring encoding is strict and padded to a size class', async t => {
  const ring = rotatePrekeys(EMPTY_RING, bob, T0).ring
  const plain = encodeRing(ring)
  t.equal(plain.length, 4096, 'a small ring pads to 4096 bytes')
  const withSeen = { ...ring, sets: ring.sets.map(s => ({ ...s, seen: new Set(['ab'.repeat(32), 'cd'.repeat(32)]) })) }
  t.equal(encodeRing(withSeen).length, 4096, 'a few more starts do not change the size')
  t.not(decodeRing(plain), null)
  const dirty = plain.slice(); dirty[plain.length - 1] = 1
  t.equal(decodeRing(dirty), null, 'non-zero padding')
  const version = plain.slice(); version[0] = 2
  t.equal(decodeRing(version), null, 'unknown version')
  const count = plain.slice(); count[5] = 9
  t.equal(decodeRing(count), null, 'more pairs than allowed')
  const two = rotatePrekeys(ring, bob, T0 + 7 * DAY).ring
  const dup = encodeRing({ ...two, sets: [two.sets[1]!, { ...two.sets[1]!, retiredS: 0 }] })
  t.equal(decodeRing(dup), null, 'a repeated id')
  const order = encodeRing({ ...two, sets: [two.sets[1]!, two.sets[0]!] })
  t.equal(decodeRing(order), null, 'a current pair that is not the last')
  t.equal(currentSet(decodeRing(encodeRing(two))!)!.id, 2)
})
