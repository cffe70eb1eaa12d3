// Roaming over real UDP (session.md §4.5): the client moves to a new UDP port mid-session; the
// server keeps sending to the old address until the first authenticated packet from the new one,
// then follows it.
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { until } from './fixtures/tap.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

t.test('the client rebinds to a new port; the session continues after its first authenticated packet', async t => {
  const bId = generateIdentity()
  const a = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const b = await Endpoint.listen({ host: '127.0.0.1', identity: bId })
  t.teardown(async () => { await a.close(); await b.close() })
  const inbound: Session[] = []
  b.on('session', s => inbound.push(s))
  const sa = await a.connect(b.address, { expectFingerprint: bId.fingerprint })
  await until(() => inbound.length === 1)
  const sb = inbound[0]!
  const atA: string[] = []
  const atB: string[] = []
  const roams: number[] = []
  sa.on('data', d => atA.push(dec.decode(d)))
  sb.on('data', d => atB.push(dec.decode(d)))
  sb.on('roam', addr => roams.push(addr.port))
  sa.send(enc.encode('before'))
  await until(() => atB.length === 1)

  const oldPort = a.address.port
  const newAddr = await a.rebind()
  t.not(newAddr.port, oldPort)
  t.equal(sb.remoteAddress.port, oldPort, 'b does not know yet')
  sb.send(enc.encode('lost: sent to the old port'))

  sa.send(enc.encode('from the new port'))
  await until(() => atB.length === 2)
  t.same(atA, [], 'nothing arrived at the closed old socket (checked after a later round of traffic)')
  t.equal(sb.remoteAddress.port, newAddr.port, 'b follows the authenticated packet')
  t.same(roams, [newAddr.port])
  sb.send(enc.encode('reply'))
  await until(() => atA.length === 1)
  t.same(atA, ['reply'])
  t.same(atB, ['before', 'from the new port'])
  t.equal(sa.closed, null)
  t.equal(sb.closed, null)
})
