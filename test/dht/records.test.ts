// Presence records: signing and verification, the key↔fingerprint binding, replacement rules,
// and the storer's bounds (expiry cap, per-source cap).
import t from 'tap'
import {
  verifyPresenceRecord, cachedRecordVerifier, decodePresenceRecord, presenceKey, compareRecords
} from '../../src/dht/records.js'
import { RecordStore } from '../../src/dht/record-store.js'
import { RECORD_MAX_BYTES, RECORD_MAX_ADDRESSES, MAX_RECORD_TTL_MS } from '../../src/dht/constants.js'
import { fingerprintBytes } from '../../src/crypto/identity.js'
import { sha256, utf8 } from '../../src/crypto/primitives.js'
import { createRng } from '../../src/sim/rng.js'
import { seededIdentity, makeRecord, NOW } from './helpers.js'

const rng = createRng(5)
const alice = seededIdentity(rng)
const mallory = seededIdentity(rng)

t.test('key = SHA-256("dmess-presence-v1\\0" || fingerprint hash bytes)', async t => {
  t.same(presenceKey(alice.fingerprint), sha256(utf8.encode('dmess-presence-v1\0'), fingerprintBytes(alice.fingerprint)))
  t.not(Buffer.from(presenceKey(alice.fingerprint)).toString('hex'), Buffer.from(presenceKey(mallory.fingerprint)).toString('hex'))
})

t.test('a signed record verifies and decodes to what was signed', async t => {
  const addresses = [
    { host: '192.168.1.20', port: 4000, kind: 'lan' as const },
    { host: '2001:db8::7', port: 4001, kind: 'public' as const },
    { host: '203.0.113.1', port: 9, kind: 'relay' as const }
  ]
  const { bytes, key } = makeRecord(alice, { seq: 42, addresses })
  const v = verifyPresenceRecord(bytes, key, NOW)
  t.ok(v)
  t.equal(v?.fingerprint, alice.fingerprint)
  t.equal(v?.seq, 42)
  t.same(v?.addresses, addresses)
  t.same(v?.publicIdentity.signPublic, alice.signPublic)
})

t.test('the largest record stays within RECORD_MAX_BYTES (≈ 1 KiB bound)', async t => {
  const addresses = Array.from({ length: RECORD_MAX_ADDRESSES }, (_, i) => ({ host: `2001:db8::${i + 1}`, port: 1 + i, kind: 'public' as const }))
  const { bytes, key } = makeRecord(alice, { addresses })
  t.equal(bytes.length, RECORD_MAX_BYTES)
  t.ok(RECORD_MAX_BYTES <= 1024)
  t.ok(verifyPresenceRecord(bytes, key, NOW))
  t.throws(() => makeRecord(alice, { addresses: [...addresses, addresses[0]!] }), { code: 'BAD_ARGUMENT' })
  t.throws(() => makeRecord(alice, { addresses: [{ host: 'example.com', port: 1, kind: 'public' }] }), { code: 'BAD_ARGUMENT' })
})

t.test('the cached verifier: same answers as the full check; the cache never lets a changed byte or an expired record through', async t => {
  const verify = cachedRecordVerifier(2)
  const { bytes, key } = makeRecord(alice, { expiresAt: NOW + 1000 })
  const first = verify(bytes, key, NOW)
  t.ok(first)
  t.equal(verify(bytes.slice(), key, NOW + 1), first, 'the same bytes again: the remembered result, not a second check')
  t.ok(Object.isFrozen(first), 'a shared result cannot be changed by one caller')
  t.equal(verify(bytes, presenceKey(mallory.fingerprint), NOW), null, 'same bytes under another key: checked, rejected')
  for (let i = 0; i < bytes.length; i += 11) {
    const b = bytes.slice()
    b[i]! ^= 0x10
    t.equal(verify(b, key, NOW), null, `byte ${i} flipped after the original was cached`)
  }
  t.equal(verify(bytes, key, NOW + 1000), null, 'expired at expiresAt even though cached')
  const second = verify(bytes, key, NOW + 999)
  t.ok(second, 'verified afresh before expiry')
  const other = makeRecord(mallory)
  const third = makeRecord(alice, { seq: 2 })
  t.ok(verify(other.bytes, other.key, NOW))
  t.ok(verify(third.bytes, third.key, NOW), 'a third record: the oldest is forgotten (max 2)')
  t.not(verify(bytes, key, NOW), second, 'the evicted record is verified again (a fresh result)')
  t.equal(verify(new Uint8Array(3), key, NOW), null)
})

t.test('verification rejects: expired, bad signature, wrong key for the fingerprint, tampering', async t => {
  const { bytes, key } = makeRecord(alice, { expiresAt: NOW + 1000 })
  t.ok(verifyPresenceRecord(bytes, key, NOW + 999))
  t.equal(verifyPresenceRecord(bytes, key, NOW + 1000), null, 'expired at expiresAt')
  const sigFlip = bytes.slice()
  sigFlip[sigFlip.length - 1]! ^= 1
  t.equal(verifyPresenceRecord(sigFlip, key, NOW), null, 'bad signature')
  t.equal(verifyPresenceRecord(bytes, presenceKey(mallory.fingerprint), NOW), null, 'stored under someone else\'s key')
  // Mallory signs a record with his keys but offers it under Alice's key: binding fails.
  const forged = makeRecord(mallory)
  t.equal(verifyPresenceRecord(forged.bytes, key, NOW), null, 'wrong key for the fingerprint')
  // Mallory copies Alice's public identity into a record he signs himself: signature fails.
  const copy = bytes.slice()
  copy.set(makeRecord(mallory).bytes.subarray(copy.length - 64), copy.length - 64)
  t.equal(verifyPresenceRecord(copy, key, NOW), null, 'foreign signature')
  for (let i = 0; i < bytes.length; i += 7) {
    const b = bytes.slice()
    b[i]! ^= 0x10
    t.equal(verifyPresenceRecord(b, key, NOW), null, `byte ${i} flipped`)
  }
  t.equal(decodePresenceRecord(bytes.subarray(0, 100)), null, 'truncated')
  t.equal(decodePresenceRecord(new Uint8Array(RECORD_MAX_BYTES + 1)), null, 'oversize')
})

t.test('replacement: newer seq wins; equal seq only if identical; lower is stale', async t => {
  const r1 = makeRecord(alice, { seq: 1 })
  const r2 = makeRecord(alice, { seq: 2 })
  const r2b = makeRecord(alice, { seq: 2, addresses: [{ host: '203.0.113.99', port: 1, kind: 'public' }] })
  const v = (r: { bytes: Uint8Array, key: Uint8Array }): { seq: number, bytes: Uint8Array } => verifyPresenceRecord(r.bytes, r.key, NOW)!
  t.equal(compareRecords(v(r1), v(r2)), 'replace')
  t.equal(compareRecords(v(r2), v(r1)), 'stale')
  t.equal(compareRecords(v(r2), v(r2)), 'identical')
  t.equal(compareRecords(v(r2), v(r2b)), 'conflict')

  const store = new RecordStore()
  t.equal(store.put(verifyPresenceRecord(r1.bytes, r1.key, NOW)!, '198.51.100.1', NOW), 'stored')
  t.equal(store.put(verifyPresenceRecord(r2.bytes, r2.key, NOW)!, '198.51.100.1', NOW), 'stored', 'newer replaces')
  t.equal(store.put(verifyPresenceRecord(r1.bytes, r1.key, NOW)!, '198.51.100.1', NOW), 'stale', 'older rejected')
  t.equal(store.put(verifyPresenceRecord(r2b.bytes, r2b.key, NOW)!, '198.51.100.1', NOW), 'stale', 'same seq, other bytes rejected')
  t.equal(store.put(verifyPresenceRecord(r2.bytes, r2.key, NOW)!, '198.51.100.2', NOW), 'refreshed', 'identical accepted')
  t.same(store.get(r1.key, NOW)?.record.bytes, r2.bytes, 'the seq-2 original stays')
  t.equal(store.size, 1)
})

t.test('storers keep a record at most MAX_RECORD_TTL_MS, whatever it claims', async t => {
  const far = makeRecord(alice, { expiresAt: NOW + 24 * 3600_000 })
  const store = new RecordStore()
  store.put(verifyPresenceRecord(far.bytes, far.key, NOW)!, '198.51.100.1', NOW)
  t.ok(store.get(far.key, NOW + MAX_RECORD_TTL_MS - 1))
  t.equal(store.get(far.key, NOW + MAX_RECORD_TTL_MS), undefined, 'dropped at the cap')
  t.equal(store.size, 0)
  const short = makeRecord(alice, { expiresAt: NOW + 60_000 })
  store.put(verifyPresenceRecord(short.bytes, short.key, NOW)!, '198.51.100.1', NOW)
  t.equal(store.sweep(NOW + 60_000), 1, 'swept at its own expiry')
})

t.test('per-source and total caps', async t => {
  const store = new RecordStore({ maxPerSource: 3, maxRecords: 5 })
  const ids = Array.from({ length: 6 }, () => seededIdentity(rng))
  const put = (i: number, src: string): string => {
    const r = makeRecord(ids[i]!)
    return store.put(verifyPresenceRecord(r.bytes, r.key, NOW)!, src, NOW)
  }
  t.same([0, 1, 2, 3].map(i => put(i, '198.51.100.1')), ['stored', 'stored', 'stored', 'full'], 'fourth from one source refused')
  t.equal(store.countFrom('198.51.100.1'), 3)
  t.same([3, 4, 5].map(i => put(i, '198.51.100.2')), ['stored', 'stored', 'full'], 'total cap of 5')
})
