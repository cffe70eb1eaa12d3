// IK replay (proto-spec/session.md §6.4): a LAN observer captures one real IK initiation and
// replays it from 60 new addresses. IK message 1 carries a TAI64N timestamp, and the responder
// answers only a timestamp newer than the last it answered for that static key: the capture got
// its one response, the 60 replays get nothing (counted `ik-replay`), and a fresh IK connect from
// the real initiator still works. Real loopback UDP.
import t from 'tap'
import { Endpoint } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { InitiatorHandshake } from '../../src/transport/handshake.js'
import { tai64n } from '../../src/transport/proof.js'
import { PacketType } from '../../src/wire/constants.js'
import { mac1Key } from '../../src/wire/mac1.js'
import { until } from '../transport/fixtures/tap.js'
import { Source, bindSources, metric } from './fixtures.js'

const REPLAYERS = 60

t.test(`one IK initiation replayed from ${REPLAYERS} new addresses gets exactly one response in total`, async t => {
  const aliceId = generateIdentity()
  const bobId = generateIdentity()
  const bob = await Endpoint.listen({ host: '127.0.0.1', identity: bobId })
  const original = await Source.bind('127.0.20.1')
  const replayers = await bindSources(REPLAYERS, 30, 21) // 127.0.21.x and 127.0.22.x
  t.teardown(async () => { for (const s of [original, ...replayers]) await s.close(); await bob.close() })

  // Alice's real IK message 1 (her identity, Bob's key, a fresh timestamp), as it crossed the LAN
  const hs = new InitiatorHandshake({ identity: aliceId, localIndex: 0x0a11ce }, bobId.dhPublic, new Uint8Array(8).fill(1), mac1Key(bobId.fingerprint), tai64n(Date.now()))
  const captured = hs.initiation()
  original.send(bob.address, captured)
  await until(() => original.received.length === 1, 5000, 'the first response')
  t.equal(original.received[0]!.bytes[1], PacketType.HANDSHAKE_RESPONSE, 'the original is answered')

  for (const r of replayers) r.send(bob.address, captured)
  await until(() => bob.stats().dropped['ik-replay'] === REPLAYERS, 10_000, 'every replay to be dropped')
  const responses = [original, ...replayers].reduce((n, s) => n + s.ofType(PacketType.HANDSHAKE_RESPONSE).length, 0)
  const anything = replayers.reduce((n, s) => n + s.received.length, 0)
  t.equal(responses, 1, 'exactly one response in total')
  t.equal(anything, 0, 'the replayers got no datagram of any kind')
  t.equal(bob.stats().halfOpen, 1, 'only the original holds state (until it expires unconfirmed)')
  t.equal(bob.stats().sessions, 0, 'no session from any of it')

  // the real Alice, later, with a new timestamp: still welcome
  const alice = await Endpoint.listen({ host: '127.0.20.2', identity: aliceId })
  t.teardown(async () => { await alice.close() })
  const s = await alice.connect(bob.address, { expectFingerprint: bobId.fingerprint, remoteStatic: bobId.dhPublic })
  t.equal(s.remoteFingerprint, bobId.fingerprint, 'a fresh IK connect from Alice succeeds')
  t.equal(alice.stats().dials, 0)
  metric(t, 'ik-replay.responses', responses, 'datagrams', { replayers: REPLAYERS })
  metric(t, 'ik-replay.dropped', bob.stats().dropped['ik-replay'], 'initiations')
})
