// A lost handshake over real UDP (session.md §3.3): a drop hook on the initiator's socket loses
// its first initiation and its first FINAL; both are retransmitted (same bytes) and the session
// comes up. Retry delays are shortened through `tuning` so the test takes about a second. On a
// loaded machine a retry timer may fire once more before the answer is read: that is correct
// behaviour, so the test asks for at least one retransmission of each, every one identical.
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType } from '../../src/wire/constants.js'
import { TapTransport, until } from './fixtures/tap.js'

t.test('lost initiation and lost FINAL are retransmitted; the session comes up', async t => {
  const tap = await TapTransport.bind()
  const a = await Endpoint.listen({ identity: generateIdentity(), transport: tap, tuning: { handshakeRetryInitialMs: 250 } })
  const bId = generateIdentity()
  const b = await Endpoint.listen({ host: '127.0.0.1', identity: bId })
  t.teardown(async () => { await a.close(); await b.close() })
  const lose = new Set([PacketType.HANDSHAKE_INITIATION, PacketType.HANDSHAKE_FINAL])
  tap.dropOut = bytes => {
    const type = bytes[1] ?? 0
    if (!lose.has(type as 1 | 3)) return true
    lose.delete(type as 1 | 3) // lose the first of each
    return false
  }
  const inbound: Session[] = []
  b.on('session', s => inbound.push(s))
  const s = await a.connect(b.address, { expectFingerprint: bId.fingerprint })
  await until(() => inbound.length === 1, 3000, 'the responder to get the retransmitted FINAL')
  const inits = tap.sentOfType(PacketType.HANDSHAKE_INITIATION)
  const finals = tap.sentOfType(PacketType.HANDSHAKE_FINAL)
  t.ok(inits.length >= 2, `the lost initiation was sent again (${inits.length} in all)`)
  for (const i of inits.slice(1)) t.same(i.bytes, inits[0]!.bytes, 'a retransmission is the same datagram')
  t.ok(finals.length >= 2, `the lost FINAL was sent again (${finals.length} in all)`)
  for (const f of finals.slice(1)) t.same(f.bytes, finals[0]!.bytes)
  t.equal(inbound[0]!.remoteFingerprint, a.fingerprint)
  const got = new Promise<string>(resolve => inbound[0]!.once('data', d => { resolve(new TextDecoder().decode(d)) }))
  s.send(new TextEncoder().encode('after the losses'))
  t.equal(await got, 'after the losses')
})
