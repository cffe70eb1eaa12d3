// The DHT's memo of what an address string says (src/dht/address-facts.ts): the same answers as
// parsing it each time (src/io/address.ts), kept by string, bounded like the contact memo, and
// emptied by clearDhtMemos.
import t from 'tap'
import { addressFacts, canonicalOf } from '../../src/dht/address-facts.js'
import { clearDhtMemos } from '../../src/dht/ids.js'
import { setInternLimit } from '../../src/dht/intern.js'
import { addressOf, formatIp, hostOf, ipScope, networkKeyOf, parseAddress } from '../../src/io/address.js'

const ADDRESSES = [
  '10.1.5.1:49152', '203.0.113.9:4000', '127.0.0.1:1', '192.168.1.20:65535', '[2001:db8::1]:443',
  '[::1]:7', '[fe80::1]:9', '[::ffff:8.8.8.8]:53', '8.8.8.8:0', '1.2.3:4', '1.2.3.4', '[::1]', 'x:1', '',
  '01.2.3.4:5', '1.2.3.4:65536'
]

t.test('the facts are what parsing the string each time gives', async t => {
  for (const addr of ADDRESSES) {
    const p = parseAddress(addr)
    const f = addressFacts(addr)
    if (p === null) { t.equal(f, null, `${addr}: not an address`); continue }
    t.ok(f !== null, addr)
    t.same(Array.from(f!.ip), Array.from(p.ip), `${addr}: ip`)
    t.equal(f!.port, p.port, `${addr}: port`)
    t.equal(f!.scope, ipScope(p.ip), `${addr}: scope`)
    t.equal(f!.host, hostOf(addr), `${addr}: host`)
    t.equal(f!.network, networkKeyOf(addr), `${addr}: network`)
    t.same(f!.peer, { host: formatIp(p.ip), port: p.port }, `${addr}: where to send`)
    t.ok(Object.isFrozen(f) && Object.isFrozen(f!.peer), `${addr}: shared, so frozen`)
  }
})

t.test('canonicalOf is addressOf', async t => {
  const cases: Array<[string, number]> = [['10.1.5.1', 49152], ['::1', 7], ['::ffff:8.8.8.8', 53], ['1.2.3.4', 0], ['1.2.3.4', 70000], ['example.com', 1], ['2001:DB8::1', 443]]
  for (const [host, port] of cases) {
    t.equal(canonicalOf(host, port), addressOf(host, port), `${host} ${port}`)
    t.equal(canonicalOf(host, port), addressOf(host, port), `${host} ${port}, kept`)
  }
})

t.test('one object per address while kept; bounded, and emptied by clearDhtMemos', async t => {
  clearDhtMemos()
  t.equal(addressFacts('203.0.113.9:4000'), addressFacts('203.0.113.9:4000'), 'kept')
  const first = addressFacts('203.0.113.9:4000')
  clearDhtMemos()
  t.not(addressFacts('203.0.113.9:4000'), first, 'worked out again after clearDhtMemos')
  setInternLimit(2)
  clearDhtMemos()
  try {
    const a = addressFacts('203.0.113.1:1')
    addressFacts('203.0.113.2:1')
    addressFacts('203.0.113.3:1') // the memo was full: cleared, then this one kept
    t.not(addressFacts('203.0.113.1:1'), a, 'a full memo starts over')
    t.same(addressFacts('203.0.113.1:1'), a, 'with the same facts')
  } finally {
    setInternLimit()
    clearDhtMemos()
  }
})
