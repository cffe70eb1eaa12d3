// Replays over real UDP (session.md §5, §6.3). Guarantees tested:
// - a captured TRANSPORT_DATA re-sent (from the original or any other address) is dropped and
//   counted as 'replay', never delivered twice;
// - a captured handshake initiation replayed never creates a second session: XX needs message 3,
//   which only the holder of the ephemeral can write; IK's replayed message 1 makes keys that are
//   never confirmed (no session, never used to send) and expire with the half-open entry. The
//   responder's answer to a replay is never larger than the replayed datagram.
import t from 'tap'
import { createSocket, type Socket } from 'node:dgram'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType } from '../../src/wire/constants.js'
import { TapTransport, until } from './fixtures/tap.js'

const enc = new TextEncoder()

async function raw (): Promise<{ sock: Socket, got: Buffer[] }> {
  const sock = createSocket('udp4')
  const got: Buffer[] = []
  sock.on('message', m => got.push(m))
  await new Promise<void>(resolve => { sock.bind(0, '127.0.0.1', resolve) })
  return { sock, got }
}

async function pair (ik: boolean): Promise<{ tap: TapTransport, a: Endpoint, b: Endpoint, sa: Session, inbound: Session[] }> {
  const bId = generateIdentity()
  const tap = await TapTransport.bind()
  const a = await Endpoint.listen({ identity: generateIdentity(), transport: tap })
  const b = await Endpoint.listen({ host: '127.0.0.1', identity: bId })
  const inbound: Session[] = []
  b.on('session', s => inbound.push(s))
  const sa = await a.connect(b.address, { expectFingerprint: bId.fingerprint, remoteStatic: ik ? bId.dhPublic : undefined })
  await until(() => inbound.length === 1, 2000, 'inbound session')
  return { tap, a, b, sa, inbound }
}

t.test('a captured data packet re-sent is dropped and counted', async t => {
  const { tap, a, b, sa, inbound } = await pair(false)
  t.teardown(async () => { await a.close(); await b.close() })
  const got: string[] = []
  inbound[0]!.on('data', d => got.push(new TextDecoder().decode(d)))
  sa.send(enc.encode('pay me once'))
  await until(() => got.length === 1)
  const captured = tap.sentOfType(PacketType.TRANSPORT_DATA).at(-1)!
  tap.inner.send(captured.to, captured.bytes) // the same source address
  const { sock } = await raw()
  t.teardown(() => { sock.close() })
  sock.send(captured.bytes, captured.to.port, captured.to.host) // another address
  await until(() => b.stats().dropped.replay === 2, 2000, 'two replays counted')
  t.same(got, ['pay me once'])
  t.equal(inbound[0]!.remoteAddress.port, a.address.port, 'a replay from elsewhere does not move the session')
})

for (const ik of [false, true]) {
  t.test(`a replayed ${ik ? 'IK' : 'XX'} initiation does not create a second session`, async t => {
    const { tap, a, b, sa, inbound } = await pair(ik)
    t.teardown(async () => { await a.close(); await b.close() })
    const init = tap.sentOfType(PacketType.HANDSHAKE_INITIATION)[0]!
    const { sock, got } = await raw()
    t.teardown(() => { sock.close() })
    for (let i = 0; i < 3; i++) sock.send(init.bytes, init.to.port, init.to.host)
    if (ik) {
      // session.md §6.4: its timestamp is not newer than the one answered: no answer, no state
      await until(() => b.stats().dropped['ik-replay'] >= 3, 2000, 'the three replays counted')
      t.equal(got.length, 0, 'no answer to a replayed IK initiation')
      t.equal(b.stats().halfOpen, 0, 'no half-open entry')
    } else {
      await until(() => got.length >= 1, 2000, 'an answer to the replay')
      await until(() => b.stats().dropped.duplicate >= 2, 2000, 'the other two replays counted') // all three handled
      t.equal(b.stats().halfOpen, 1, 'one half-open entry, answered from its cache afterwards')
      t.equal(b.stats().dropped.duplicate, 2)
      t.ok(got.every(m => m.length < init.bytes.length), 'the answer is smaller than the replayed initiation')
      t.ok(got.every(m => m[1] === PacketType.HANDSHAKE_RESPONSE))
    }
    t.equal(inbound.length, 1, 'no new session event')
    t.equal(b.stats().sessions, 1)
    // the real session is unaffected
    const echoed = new Promise(resolve => inbound[0]!.once('data', resolve))
    sa.send(enc.encode('still fine'))
    await echoed
    t.pass('the original session still carries data')
  })
}
