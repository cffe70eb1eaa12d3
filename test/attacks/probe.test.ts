// A port prober (proto-spec/wire.md §4.1.1, session.md §6.1 step 0): an XX initiation without a
// valid mac1 — none, one for another fingerprint, a right one with a byte changed, in a version we
// do not speak, repeated under load — gets no datagram back at all: no HANDSHAKE_RESPONSE (which
// would carry the static key and so the fingerprint), no COOKIE_REPLY, no VERSION_NEGOTIATION.
// Each is counted `bad-mac1`. Then a valid initiation from the same socket is answered, so the
// silence is not a timing artefact. Real loopback UDP.
import t from 'tap'
import { Endpoint } from '../../src/transport/index.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { PacketType } from '../../src/wire/constants.js'
import { mac1Key } from '../../src/wire/mac1.js'
import { until } from '../transport/fixtures/tap.js'
import { testRng } from '../helpers/seed.js'
import { Source, junkInitiation, answeredIndex, metric } from './fixtures.js'

t.test('an initiation without a valid mac1 gets no answer of any kind; a valid one from the same socket does', async t => {
  const rng = testRng(t, 0x9f0be)
  const victimId = generateIdentity()
  // underLoadHalfOpen 0: every initiation would get a COOKIE_REPLY if it passed mac1
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId, tuning: { underLoadHalfOpen: 0 } })
  const prober = await Source.bind('127.0.9.9')
  t.teardown(async () => { await prober.close(); await victim.close() })
  const to = victim.address
  const right = mac1Key(victimId.fingerprint)
  const probes: Array<[string, Uint8Array]> = [
    ['no mac1', junkInitiation(11, rng.bytes(32), null)],
    ['mac1 for another fingerprint', junkInitiation(12, rng.bytes(32), mac1Key(generateIdentity().fingerprint))],
    ['the right mac1, one covered byte changed', (() => { const b = junkInitiation(13, rng.bytes(32), right); b[6] = (b[6] ?? 0) ^ 0x03; return b })()],
    ['an unknown version (would get VERSION_NEGOTIATION)', (() => { const b = junkInitiation(14, rng.bytes(32), null); b[0] = 0xc2; return b })()]
  ]
  for (const [, bytes] of probes) prober.send(to, bytes)
  await until(() => victim.stats().dropped['bad-mac1'] === probes.length, 5000, 'the victim to drop every probe')
  t.equal(victim.stats().dropped['bad-mac1'], probes.length, 'each probe counted bad-mac1')

  // the same socket, now with the fingerprint: answered (a COOKIE_REPLY, the victim is "under load")
  const valid = junkInitiation(99, rng.bytes(32), right)
  const sentAt = performance.now()
  prober.send(to, valid)
  await until(() => prober.received.length > 0, 5000, 'an answer to the valid initiation')
  t.equal(prober.received.length, 1, 'exactly one datagram came back in all')
  const answer = prober.received[0]!
  t.equal(answer.bytes[1], PacketType.COOKIE_REPLY, 'a COOKIE_REPLY (under load)…')
  t.equal(answeredIndex(answer), 99, '…to the valid initiation, not to any probe')
  t.equal(victim.stats().halfOpen, 0, 'no state for any probe')
  metric(t, 'probe.answers-to-bad-mac1', 0, 'datagrams', { probes: probes.length })
  metric(t, 'probe.valid-answer-latency', Math.round((answer.at - sentAt) * 100) / 100, 'ms')
})

t.test('not under load, a valid initiation gets the HANDSHAKE_RESPONSE; its twin without mac1 gets nothing', async t => {
  const rng = testRng(t, 0x9f0bf)
  const victimId = generateIdentity()
  const victim = await Endpoint.listen({ host: '127.0.0.1', identity: victimId })
  const prober = await Source.bind('127.0.9.10')
  t.teardown(async () => { await prober.close(); await victim.close() })
  const e = rng.bytes(32)
  prober.send(victim.address, junkInitiation(21, e, null))
  await until(() => victim.stats().dropped['bad-mac1'] === 1, 5000, 'the drop')
  prober.send(victim.address, junkInitiation(22, e, mac1Key(victimId.fingerprint)))
  await until(() => prober.received.length > 0, 5000, 'the response')
  t.same(prober.received.map(r => [r.bytes[1], answeredIndex(r)]), [[PacketType.HANDSHAKE_RESPONSE, 22]], 'only the valid one is answered')
})
