// The test vectors of proto-spec/dht.md §12, read from the spec itself: every DHT message encodes
// to exactly the documented bytes and decodes to exactly the documented fields, the presence
// record (§5) is what sealing Alice's record gives, verifies for a storer and opens for a reader
// with her fingerprint, its derived keys are the documented ones, and the dumps spell the same bytes.
import t from 'tap'
import { encodeMessage, decodeMessage, type DhtMessage } from '../../src/dht/messages.js'
import { nodeIdOf, nodeIdAt, placementCrc, idValidFor } from '../../src/dht/ids.js'
import { parseIp } from '../../src/io/address.js'
import { WriteTokens } from '../../src/dht/tokens.js'
import { decodePresenceRecord, verifyPresenceRecord } from '../../src/dht/records.js'
import { openPresenceRecord } from '../../src/dht/presence-seal.js'
import { presenceKey, presenceAeadKey, periodSigningKey, certificateMessage } from '../../src/dht/presence-keys.js'
import { ed25519 } from '../../src/crypto/primitives.js'
import { specVectors, specDumps, fromHex, toHex } from '../helpers/spec-vectors.js'
import {
  dhtVectorMessages, presenceRecordBytes, alicePresenceKey, alice, dhtPublic, token, RECORD, RECORD_NONCE, ASKER_ADDRESS, TOKEN_SECRET, NODE_ADDRESSES
} from '../helpers/dht-vector-inputs.js'

const vectors = specVectors('dht.md')
const dumps = specDumps('dht.md')
const messages = dhtVectorMessages()
const get = (name: string): string => {
  const v = vectors.get(name)
  if (v === undefined) throw new Error(`dht.md §12 has no ${name}`)
  return v
}

function plain (m: unknown): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => v instanceof Uint8Array ? toHex(v) : v))
}

t.test('dht.md §12 covers every request and answer type of §3', async t => {
  const types = new Set(Object.values(messages).map(m => m.type))
  t.same([...types].sort(), [0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27])
  const valueStatuses = new Set(Object.values(messages).flatMap(m => m.type === 0x25 ? [m.status] : []))
  t.same([...valueStatuses].sort(), [0, 2, 3], 'VALUE with each status (1, version 1\'s single RECORD, is retired)')
  for (const name of [...Object.keys(messages), 'presenceRecord']) t.ok(dumps.has(name), `a dump of ${name}`)
})

for (const [name, want] of Object.entries(messages)) {
  t.test(`${name}: encoder, decoder and dump agree with the spec`, async t => {
    const hex = get(name)
    t.equal(toHex(encodeMessage(want)), hex, 'encodes to the documented bytes')
    const got: DhtMessage | null = decodeMessage(fromHex(hex))
    t.same(plain(got), plain(want), 'decodes to the documented fields')
    t.equal(dumps.get(name), hex, 'the field-by-field dump spells the same bytes')
  })
}

t.test('keys, ids and token are what §12.1 says', async t => {
  for (const who of ['A', 'B', 'C', 'D'] as const) {
    t.equal(toHex(nodeIdOf(dhtPublic(who))), get(`keyHash.${who}`), `key hash of ${who}`)
    t.equal(toHex(nodeIdAt(dhtPublic(who), NODE_ADDRESSES[who])), get(`nodeId.${who}`), `node id of ${who} at its address`)
    t.ok(idValidFor(fromHex(get(`nodeId.${who}`)), NODE_ADDRESSES[who]), 'valid for its address (BEP 42)')
    t.notOk(idValidFor(fromHex(get(`keyHash.${who}`)), NODE_ADDRESSES[who]), 'the bare key hash is not')
  }
  const bep42 = [...vectors.keys()].filter(k => k.startsWith('bep42.'))
  t.equal(bep42.length, 5, 'BEP 42\'s five examples')
  for (const name of bep42) {
    const [, ip, r] = /^bep42\.(.+)\.r(\d)$/.exec(name)!
    t.equal(placementCrc(parseIp(ip!)!, Number(r)).toString(16).padStart(8, '0'), get(name), name)
  }
  t.equal(toHex(dhtPublic('A')), get('dhtPublic.A'))
  t.equal(toHex(dhtPublic('B')), get('dhtPublic.B'))
  const id = alice()
  t.equal(toHex(presenceKey(id.fingerprint, RECORD.period)), get('presenceKey'))
  t.equal(toHex(presenceAeadKey(id.fingerprint, RECORD.period)), get('presenceAeadKey'))
  const period = periodSigningKey(id.signSecret, RECORD.period)
  t.equal(toHex(period.publicKey), get('periodPublic'))
  t.equal(toHex(ed25519.sign(certificateMessage(RECORD.period, alicePresenceKey(), period.publicKey), id.signSecret)), get('certificate'))
  t.equal(toHex(token()), get('token'))
  const tokens = new WriteTokens({ random: () => TOKEN_SECRET.slice() }, 0)
  t.ok(tokens.check(fromHex(get('token')), ASKER_ADDRESS, alicePresenceKey(), 0), 'B accepts it back from A')
  t.notOk(tokens.check(fromHex(get('token')), '192.0.2.2:47474', alicePresenceKey(), 0), 'not from another address')
})

t.test('the presence record: sealed bytes, visible fields, verification, opening', async t => {
  const bytes = fromHex(get('presenceRecord'))
  t.equal(toHex(presenceRecordBytes()), get('presenceRecord'), 'sealing Alice\'s record gives the documented bytes')
  t.equal(dumps.get('presenceRecord'), get('presenceRecord'))
  const id = alice()
  t.same(plain(decodePresenceRecord(bytes)), plain({
    periodPublic: fromHex(get('periodPublic')),
    seq: RECORD.seq,
    expiresAt: RECORD.expiresAt,
    nonce: RECORD_NONCE,
    ciphertext: bytes.subarray(65, 434)
  }), 'what storers see: period key, seq, expiry, nonce, ciphertext')
  const key = fromHex(get('presenceKey'))
  const before = RECORD.expiresAt - 1
  const v = verifyPresenceRecord(bytes, key, before)
  t.ok(v, 'the outer layer verifies')
  t.equal(verifyPresenceRecord(bytes, key, RECORD.expiresAt), null, 'not once expired')
  const opened = openPresenceRecord(v!, id.fingerprint, RECORD.period)
  t.equal(opened?.fingerprint, id.fingerprint, 'opens with Alice\'s fingerprint, and names her')
  t.same(opened?.addresses, RECORD.addresses)
  const flipped = bytes.slice()
  flipped[150] = (flipped[150] ?? 0) ^ 1
  t.equal(verifyPresenceRecord(flipped, key, before), null, 'not with a ciphertext byte changed')
})
