// The presence record's traversal fields (proto-spec/dht.md §5.2): candidates of kinds reflexive
// and mapped, the NAT kind and rendezvous entries travel sealed; a record without them reads as
// before; what does not fit is refused at sealing, and fitRecord trims addresses to fit. The
// vector `presenceRecordTraversal` of dht.md §12 is read from the spec.
import t from 'tap'
import { sealPresenceRecord, openPresenceRecord, fitRecord, recordFits } from '../../src/dht/presence-seal.js'
import { verifyPresenceRecord } from '../../src/dht/records.js'
import { specVectors, toHex, fromHex } from '../helpers/spec-vectors.js'
import { RECORD, RECORD_NONCE } from '../helpers/dht-vector-inputs.js'
import { alice, TRAVERSAL_RECORD, TAG } from '../helpers/traversal-vector-inputs.js'

const vectors = specVectors('dht.md')

t.test('dht.md §12: Alice\'s record with a reflexive candidate, NAT kind and a rendezvous entry', async t => {
  const id = alice()
  const { key, bytes } = sealPresenceRecord({ ...RECORD, ...TRAVERSAL_RECORD, publicIdentity: id }, id, RECORD_NONCE)
  t.equal(toHex(bytes), vectors.get('presenceRecordTraversal'), 'sealing gives the documented bytes')
  const v = verifyPresenceRecord(fromHex(vectors.get('presenceRecordTraversal')!), key, RECORD.expiresAt - 1)
  const opened = openPresenceRecord(v!, id.fingerprint, RECORD.period)
  t.same(opened?.addresses, TRAVERSAL_RECORD.addresses)
  t.equal(opened?.natKind, 'endpoint-independent')
  t.same(opened?.rendezvous?.map(r => [r.host, r.port, toHex(r.tag)]), [['203.0.113.5', 47400, toHex(TAG)]])
  t.equal(bytes.length, fromHex(vectors.get('presenceRecord')!).length, 'the record keeps its size')
})

t.test('a record without traversal fields opens as unknown with no rendezvous', async t => {
  const id = alice()
  const { key, bytes } = sealPresenceRecord({ ...RECORD, publicIdentity: id }, id, RECORD_NONCE)
  t.equal(toHex(bytes), vectors.get('presenceRecord'), 'the same bytes as before the fields existed')
  const opened = openPresenceRecord(verifyPresenceRecord(bytes, key, RECORD.expiresAt - 1)!, id.fingerprint, RECORD.period)
  t.equal(opened?.natKind, 'unknown')
  t.same(opened?.rendezvous, [])
})

t.test('what does not fit is refused; fitRecord drops addresses from the end', async t => {
  const id = alice()
  const v6 = Array.from({ length: 8 }, (_, i) => ({ host: `2001:db8::${i + 1}`, port: 4000 + i, kind: 'public' as const }))
  const rendezvous = [1, 2, 3].map(i => ({ host: `2001:db8:1::${i}`, port: 47400, tag: TAG }))
  t.notOk(recordFits({ addresses: v6, rendezvous }))
  t.throws(() => sealPresenceRecord({ ...RECORD, addresses: v6, rendezvous, natKind: 'address-dependent', publicIdentity: id }, id, RECORD_NONCE), { code: 'BAD_ARGUMENT' })
  const fitted = fitRecord({ addresses: v6, rendezvous })
  t.ok(recordFits(fitted) && fitted.addresses.length < 8 && fitted.addresses.length > 0, `${fitted.addresses.length} addresses kept with 3 IPv6 rendezvous`)
  t.same(fitted.addresses, v6.slice(0, fitted.addresses.length), 'the first (preferred) ones')
  t.throws(() => sealPresenceRecord({ ...RECORD, rendezvous: [{ host: '203.0.113.5', port: 1, tag: new Uint8Array(8) }], publicIdentity: id }, id, RECORD_NONCE), { code: 'BAD_ARGUMENT' }, 'a tag of the wrong size')
})
