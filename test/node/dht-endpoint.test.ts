// The node's DHT component on a real Endpoint socket (src/node/dht.ts): it joins a loopback testnet,
// announces its presence record with the address it is bound to, and another node's component
// finds that record by fingerprint — the lookup the connection manager needs.
import t from 'tap'
import pino from 'pino'
import { createTestnet } from '../../src/dht/udp-testnet.js'
import { LOOPBACK_SETTINGS } from '../../src/dht/loopback.js'
import { Endpoint } from '../../src/transport/endpoint.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { DhtComponent, announcedAddresses } from '../../src/node/dht.js'
import { realWorld } from '../../src/io/world.js'

t.test('two Endpoint-backed DHT components find each other by fingerprint', async t => {
  const net = await createTestnet(20)
  t.teardown(net.destroy)
  const log = pino({ level: 'silent' })
  const parts = await Promise.all([0, 1].map(async () => {
    const identity = generateIdentity()
    const ep = await Endpoint.listen({ identity, host: '127.0.0.1', port: 0 })
    const dht = new DhtComponent({ endpoint: () => ep, identity, bootstrap: net.bootstrap, log, node: LOOPBACK_SETTINGS, world: realWorld() })
    await dht.start()
    return { identity, ep, dht }
  }))
  t.teardown(async () => { for (const p of parts) { await p.dht.stop(); await p.ep.close() } })
  await Promise.all(parts.map(async p => { await p.dht.ready() }))
  const [a, b] = parts as [typeof parts[0], typeof parts[0]]
  t.ok(a.dht.tableSize >= 10, `joined (routing table ${a.dht.tableSize})`)
  const rec = await b.dht.lookup(a.identity.fingerprint)
  t.equal(rec?.fingerprint, a.identity.fingerprint, 'found by fingerprint')
  t.same(rec?.addresses, [{ host: '127.0.0.1', port: a.ep.address.port, kind: 'lan' }], 'with the address A is bound to')
  t.ok((rec?.expiresAt ?? 0) > Date.now(), 'not expired')
  t.equal(await b.dht.lookup(generateIdentity().fingerprint), null, 'an unknown fingerprint has no record')
})

t.test('announced addresses: the bound one, or the interface addresses on the wildcard', async t => {
  t.same(announcedAddresses({ host: '10.1.2.3', port: 5 }), [{ host: '10.1.2.3', port: 5, kind: 'lan' }])
  for (const a of announcedAddresses({ host: '0.0.0.0', port: 7 })) {
    t.not(a.host, '127.0.0.1', 'no loopback address')
    t.equal(a.port, 7)
  }
})
