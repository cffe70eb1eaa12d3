// Presence records (dht.md §5): the per-period derivations, sealing and opening, the outer
// verification storers run, what a reader checks before it trusts addresses, replacement rules,
// and the storer's bounds (expiry cap, per-source cap).
import t from 'tap'
import { verifyPresenceRecord, cachedRecordVerifier, decodePresenceRecord, compareRecords } from '../../src/dht/records.js'
import { sealPresenceRecord, openPresenceRecord } from '../../src/dht/presence-seal.js'
import { presenceKey, presenceAeadKey, periodSigningKey, periodOf } from '../../src/dht/presence-keys.js'
import { RecordStore } from '../../src/dht/record-store.js'
import { RECORD_BYTES, RECORD_MAX_BYTES, RECORD_MAX_ADDRESSES, MAX_RECORD_TTL_MS, EXPIRY_GRANULE_MS, RECORDS_PER_KEY as RECORDS_PER_KEY_DEFAULT } from '../../src/dht/constants.js'
import { fingerprintBytes } from '../../src/crypto/identity.js'
import { hkdfSha256, utf8, randomBytes, wipe } from '../../src/crypto/primitives.js'
import { createRng } from '../../src/sim/rng.js'
import { seededIdentity, makeRecord, NOW } from './helpers.js'

const rng = createRng(5)
const alice = seededIdentity(rng)
const mallory = seededIdentity(rng)
const P = periodOf(NOW)
/** the first expiry a record made at NOW can have */
const EXP = Math.ceil((NOW + 1) / EXPIRY_GRANULE_MS) * EXPIRY_GRANULE_MS
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const u64 = (n: number): Uint8Array => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b }

t.test('key = HKDF-SHA256(fingerprint bytes, "dmess-presence-v2\\0", "dmess-presence-key-v2\\0" ‖ period): per fingerprint and per period', async t => {
  t.same(presenceKey(alice.fingerprint, P), hkdfSha256(fingerprintBytes(alice.fingerprint), utf8.encode('dmess-presence-v2\0'), Buffer.concat([utf8.encode('dmess-presence-key-v2\0'), u64(P)]), 32))
  const keys = [presenceKey(alice.fingerprint, P), presenceKey(alice.fingerprint, P + 1), presenceKey(mallory.fingerprint, P), presenceAeadKey(alice.fingerprint, P)]
  t.equal(new Set(keys.map(hex)).size, 4, 'another period, another fingerprint, another purpose: another key')
  const a = periodSigningKey(alice.signSecret, P)
  const b = periodSigningKey(alice.signSecret, P + 1)
  t.not(hex(a.publicKey), hex(b.publicKey), 'a period key per period')
  t.not(hex(a.publicKey), hex(alice.signPublic), 'not the identity key')
  t.same(periodSigningKey(alice.signSecret, P).publicKey, a.publicKey, 'the same on every device of the identity')
})

t.test('wiping the identity seed wipes the period signing key derived from it', async t => {
  const id = seededIdentity(createRng(77))
  const pair = periodSigningKey(id.signSecret, P)
  const expected = hex(pair.publicKey)
  t.ok(pair.secretKey.some(x => x !== 0), 'a secret key while the seed lives')
  const copy = Uint8Array.from(id.signSecret)
  wipe(id.signSecret)
  t.ok(pair.secretKey.every(x => x === 0), 'zeroed with the seed')
  t.equal(hex(periodSigningKey(copy, P).publicKey), expected, 'the same seed bytes derive the same pair again')
})

t.test('a sealed record verifies for storers, opens for a reader with the fingerprint, and names no one to anyone else', async t => {
  const addresses = [
    { host: '192.168.1.20', port: 4000, kind: 'lan' as const },
    { host: '2001:db8::7', port: 4001, kind: 'public' as const },
    { host: '203.0.113.1', port: 9, kind: 'relay' as const }
  ]
  const { bytes, key } = makeRecord(alice, { seq: 42, addresses })
  t.equal(bytes.length, RECORD_BYTES)
  const v = verifyPresenceRecord(bytes, key, NOW)
  t.ok(v, 'the outer layer verifies without the fingerprint')
  t.equal(v?.seq, 42)
  const o = openPresenceRecord(v!, alice.fingerprint, P)
  t.equal(o?.fingerprint, alice.fingerprint)
  t.same(o?.addresses, addresses)
  t.same(o?.publicIdentity.signPublic, alice.signPublic)
  t.equal(openPresenceRecord(v!, mallory.fingerprint, P), null, 'another fingerprint does not open it')
  t.equal(openPresenceRecord(v!, alice.fingerprint, P + 1), null, 'nor another period')
  const text = hex(bytes)
  for (const secretish of [alice.signPublic, alice.dhPublic, alice.dhSignature, fingerprintBytes(alice.fingerprint)]) {
    t.notOk(text.includes(hex(secretish.subarray(0, 8))), 'no identity key, signature or fingerprint byte string in the record')
  }
})

t.test('one size whatever the address count; too many or bad addresses are misuse', async t => {
  const addresses = Array.from({ length: RECORD_MAX_ADDRESSES }, (_, i) => ({ host: `2001:db8::${i + 1}`, port: 1 + i, kind: 'public' as const }))
  const full = makeRecord(alice, { addresses })
  const none = makeRecord(alice, { addresses: [] })
  t.equal(full.bytes.length, RECORD_BYTES)
  t.equal(none.bytes.length, RECORD_BYTES, 'the address count does not show')
  t.equal(RECORD_MAX_BYTES, RECORD_BYTES)
  t.same(openPresenceRecord(verifyPresenceRecord(full.bytes, full.key, NOW)!, alice.fingerprint, P)?.addresses, addresses)
  t.same(openPresenceRecord(verifyPresenceRecord(none.bytes, none.key, NOW)!, alice.fingerprint, P)?.addresses, [])
  t.throws(() => makeRecord(alice, { addresses: [...addresses, addresses[0]!] }), { code: 'BAD_ARGUMENT' })
  t.throws(() => makeRecord(alice, { addresses: [{ host: 'example.com', port: 1, kind: 'public' }] }), { code: 'BAD_ARGUMENT' })
  const base = { publicIdentity: alice, addresses: [], period: P, seq: 1 }
  t.throws(() => sealPresenceRecord({ ...base, expiresAt: EXP + 1000 }, alice, randomBytes(24)), { code: 'BAD_ARGUMENT' }, 'a fine-grained expiry')
  t.throws(() => sealPresenceRecord({ ...base, expiresAt: EXP, seq: 2 ** 32 }, alice, randomBytes(24)), { code: 'BAD_ARGUMENT' }, 'seq past u32')
  t.throws(() => sealPresenceRecord({ ...base, expiresAt: EXP }, alice, randomBytes(12)), { code: 'BAD_ARGUMENT' }, 'a short nonce')
})

t.test('the cached verifier: same answers as the full check; the cache never lets a changed byte or an expired record through', async t => {
  const verify = cachedRecordVerifier(2)
  const { bytes, key } = makeRecord(alice, { expiresAt: EXP })
  const first = verify(bytes, key, NOW)
  t.ok(first)
  t.equal(verify(bytes.slice(), key, NOW + 1), first, 'the same bytes again: the remembered result, not a second check')
  t.ok(Object.isFrozen(first), 'a shared result cannot be changed by one caller')
  t.equal(verify(bytes, presenceKey(mallory.fingerprint, P), NOW), null, 'same bytes under another key: checked, rejected')
  for (let i = 0; i < bytes.length; i += 11) {
    const b = bytes.slice()
    b[i]! ^= 0x10
    t.equal(verify(b, key, NOW), null, `byte ${i} flipped after the original was cached`)
  }
  t.equal(verify(bytes, key, EXP), null, 'expired at expiresAt even though cached')
  const second = verify(bytes, key, EXP - 1)
  t.ok(second, 'verified afresh before expiry')
  const other = makeRecord(mallory)
  const third = makeRecord(alice, { seq: 2 })
  t.ok(verify(other.bytes, other.key, NOW))
  t.ok(verify(third.bytes, third.key, NOW), 'a third record: the oldest is forgotten (max 2)')
  t.not(verify(bytes, key, NOW), second, 'the evicted record is verified again (a fresh result)')
  t.equal(verify(new Uint8Array(3), key, NOW), null)
})

t.test('outer verification rejects: expired, bad signature, another key, tampering, v1 and fine expiries', async t => {
  const { bytes, key } = makeRecord(alice, { expiresAt: EXP })
  t.ok(verifyPresenceRecord(bytes, key, EXP - 1))
  t.equal(verifyPresenceRecord(bytes, key, EXP), null, 'expired at expiresAt')
  const sigFlip = bytes.slice()
  sigFlip[sigFlip.length - 1]! ^= 1
  t.equal(verifyPresenceRecord(sigFlip, key, NOW), null, 'bad signature')
  t.equal(verifyPresenceRecord(bytes, presenceKey(alice.fingerprint, P + 1), NOW), null, 'offered under another key (the signature covers it)')
  for (let i = 0; i < bytes.length; i += 7) {
    const b = bytes.slice()
    b[i]! ^= 0x10
    t.equal(verifyPresenceRecord(b, key, NOW), null, `byte ${i} flipped`)
  }
  t.equal(decodePresenceRecord(bytes.subarray(0, 100)), null, 'truncated')
  t.equal(decodePresenceRecord(new Uint8Array(RECORD_BYTES + 1)), null, 'oversize')
  const v1 = bytes.slice()
  v1[0] = 0x01
  t.equal(decodePresenceRecord(v1), null, 'a v1 record type is refused')
  const fine = bytes.slice()
  new DataView(fine.buffer).setUint32(37, EXP / 1000 + 1)
  t.equal(decodePresenceRecord(fine), null, 'an expiry that is not a multiple of 10 minutes')
})

t.test('a reader trusts only the owner: someone who knows the fingerprint and the public keys cannot make a record that opens', async t => {
  // Mallory, a contact, knows Alice's fingerprint and public identity; he seals them with his own
  // secret: the record verifies for storers (his period key signed it) but the certificate is not Alice's.
  const forged = sealPresenceRecord({ publicIdentity: alice, addresses: [{ host: '198.51.100.66', port: 1, kind: 'public' }], period: P, seq: 9, expiresAt: EXP }, mallory, randomBytes(24))
  t.same(forged.key, presenceKey(alice.fingerprint, P), 'under Alice\'s key')
  const v = verifyPresenceRecord(forged.bytes, forged.key, NOW)
  t.ok(v, 'storers cannot tell')
  t.equal(openPresenceRecord(v!, alice.fingerprint, P), null, 'the reader refuses it: no certificate by Alice')
  // Mallory's own identity under Alice's key: the fingerprint inside is not the one asked for
  const own = sealPresenceRecord({ publicIdentity: mallory, addresses: [], period: P, seq: 9, expiresAt: EXP }, mallory, randomBytes(24))
  const moved = verifyPresenceRecord(own.bytes, presenceKey(alice.fingerprint, P), NOW)
  t.equal(moved, null, 'a record moved under another key fails its signature')
})

t.test('replacement within a period key: newer seq wins; equal seq only if identical; lower is stale', async t => {
  const r1 = makeRecord(alice, { seq: 1 })
  const r2 = makeRecord(alice, { seq: 2 })
  const r2b = makeRecord(alice, { seq: 2, addresses: [{ host: '203.0.113.99', port: 1, kind: 'public' }] })
  const squat = sealPresenceRecord({ publicIdentity: alice, addresses: [], period: P, seq: 1_000_000, expiresAt: EXP }, mallory, randomBytes(24))
  const v = (r: { bytes: Uint8Array, key: Uint8Array }): ReturnType<typeof verifyPresenceRecord> & object => verifyPresenceRecord(r.bytes, r.key, NOW)!
  t.equal(compareRecords(v(r1), v(r2)), 'replace')
  t.equal(compareRecords(v(r2), v(r1)), 'stale')
  t.equal(compareRecords(v(r2), v(r2)), 'identical')
  t.equal(compareRecords(v(r2), v(r2b)), 'conflict')
  t.equal(compareRecords(v(r2), v(squat)), 'conflict', 'another period key does not replace, whatever its seq')

  const store = new RecordStore()
  t.equal(store.put(v(r1), '198.51.100.1', NOW), 'stored')
  t.equal(store.put(v(r2), '198.51.100.1', NOW), 'stored', 'newer replaces')
  t.equal(store.put(v(r1), '198.51.100.1', NOW), 'stale', 'older rejected')
  t.equal(store.put(v(r2b), '198.51.100.1', NOW), 'stale', 'same seq, other bytes rejected')
  t.equal(store.put(v(r2), '198.51.100.2', NOW), 'refreshed', 'identical accepted')
  t.same(store.get(r1.key, NOW)?.record.bytes, r2.bytes, 'the seq-2 original stays')
  t.equal(store.size, 1)
  t.equal(store.put(v(squat), '203.0.113.9', NOW), 'stored', 'a squatter\'s period key gets a place of its own')
  t.same(store.list(r1.key, NOW).map(s => hex(s.record.bytes)), [hex(r2.bytes), hex(squat.bytes)], 'and the owner\'s stays beside it')
  t.equal(store.put(v(r1), '198.51.100.1', NOW), 'stale', 'the owner\'s place still follows its own seq')
})

/** A record under Alice's key of period P signed by a period key of `writer`'s (a squatter: it verifies, it does not open). */
function squatRecord (writer = seededIdentity(rng), seq = 1_000_000): ReturnType<typeof verifyPresenceRecord> & object {
  const r = sealPresenceRecord({ publicIdentity: alice, addresses: [], period: P, seq, expiresAt: EXP + 10 * 3600_000 }, writer, randomBytes(24))
  return verifyPresenceRecord(r.bytes, r.key, NOW)!
}

t.test('several writers under one key (dht.md §5.4): a place per period key, at most RECORDS_PER_KEY, one per source subnet', async t => {
  const owner = makeRecord(alice, { seq: 5 })
  const mine = verifyPresenceRecord(owner.bytes, owner.key, NOW)!
  const store = new RecordStore()
  const holdsOwner = (now: number): boolean => store.list(owner.key, now).some(s => hex(s.record.bytes) === hex(owner.bytes))
  t.equal(store.put(squatRecord(), '203.0.113.9', NOW), 'stored', 'the squatter stores first')
  t.equal(store.put(mine, '198.51.100.1', NOW + 1), 'stored', 'the owner is not refused (version 1 kept the first period key and answered STALE)')
  // a flood of fresh period keys from one /24, each from another IP, each refreshing at once
  let flood = 0
  for (let i = 0; i < 60; i++) if (store.put(squatRecord(), `203.0.113.${i % 250}`, NOW + 2 + i) === 'stored') flood++
  t.equal(flood, 60, 'each accepted…')
  t.ok(holdsOwner(NOW + 300), '…but the owner stays: one /24 holds one place per key and replaces its own')
  t.equal(store.list(owner.key, NOW + 300).length, 2)
  t.equal(store.countFrom('203.0.113.9'), 0, 'the per-source counts follow the replaced places')
  // three subnets besides the owner's fill the key, whatever they send
  for (let i = 0; i < 60; i++) store.put(squatRecord(), `203.0.${114 + (i % 2)}.1`, NOW + 400 + i)
  t.equal(store.list(owner.key, NOW + 700).length, RECORDS_PER_KEY_DEFAULT)
  t.ok(holdsOwner(NOW + 700), 'N − 1 = 3 subnets cannot push the owner out, however fast they write')
  t.equal(store.evictions, 60 + 58, 'every squat record but the two that found a free place replaced one, none of them the owner\'s')
  // a fourth subnet takes the least recently refreshed place: the owner's, had it not refreshed since
  t.equal(store.put(mine, '198.51.100.1', NOW + 800), 'refreshed', 'the owner refreshes (its republish)')
  store.put(squatRecord(), '203.0.116.1', NOW + 801)
  t.ok(holdsOwner(NOW + 801), 'a fourth subnet evicts a squatter refreshed before the owner')
  for (const net of ['203.0.113.7', '203.0.114.1', '203.0.115.1']) store.put(squatRecord(), net, NOW + 900)
  store.put(squatRecord(), '203.0.117.1', NOW + 901)
  t.notOk(holdsOwner(NOW + 901), 'N subnets that all wrote after the owner\'s last refresh do push it out (the bound of §5.4)')
  t.equal(store.put(mine, '198.51.100.1', NOW + 902), 'stored', 'and its next republish takes a place back')
})

t.test('a source subnet\'s new period key replaces its own place, not the owner\'s, even when the key is full', async t => {
  const store = new RecordStore({ perKey: 2 })
  const owner = makeRecord(alice, { seq: 5 })
  store.put(verifyPresenceRecord(owner.bytes, owner.key, NOW)!, '2001:db8:1::1', NOW)
  store.put(squatRecord(), '2001:db8:2::1', NOW + 1)
  t.equal(store.put(squatRecord(), '2001:db8:2:ffff::9', NOW + 2), 'stored', 'same /48')
  t.same(store.list(owner.key, NOW + 2).map(s => s.source), ['2001:db8:1::1', '2001:db8:2:ffff::9'], 'IPv6 sources group by /48')
})

t.test('storers keep a record at most MAX_RECORD_TTL_MS, whatever it claims', async t => {
  const far = makeRecord(alice, { expiresAt: NOW + 20 * 3600_000, period: P + 1 })
  const store = new RecordStore()
  store.put(verifyPresenceRecord(far.bytes, far.key, NOW)!, '198.51.100.1', NOW)
  t.ok(store.get(far.key, NOW + MAX_RECORD_TTL_MS - 1))
  t.equal(store.get(far.key, NOW + MAX_RECORD_TTL_MS), undefined, 'dropped at the cap')
  t.equal(store.size, 0)
  const short = makeRecord(alice, { expiresAt: EXP })
  store.put(verifyPresenceRecord(short.bytes, short.key, NOW)!, '198.51.100.1', NOW)
  t.equal(store.sweep(EXP), 1, 'swept at its own expiry')
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
