// The traversal packets (proto-spec/traversal.md §4) and the sealed punch messages (§5): the
// vectors of §8 read from the spec, round trips, and bad input refused without throwing.
import t from 'tap'
import { encodeTraversal, decodeTraversal } from '../../src/traversal/messages.js'
import { openPunch, sealPunch } from '../../src/traversal/punch-seal.js'
import { TraversalType, PUNCH_PACKET_BYTES, REGISTER_BYTES } from '../../src/traversal/constants.js'
import { classifyDatagram, isTraversalDatagram } from '../../src/wire/packet.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { parseVectorFile, runVectors } from '../../scripts/noise-vector-runner.js'
import { readFileSync } from 'node:fs'
import { specVectors, fromHex, toHex } from '../helpers/spec-vectors.js'
import { traversalVectorMessages, alice, bob, OFFER, RELAY_OFFER, sealedOffer, sealedRelayOffer } from '../helpers/traversal-vector-inputs.js'
import { testRng } from '../helpers/seed.js'

const vectors = specVectors('traversal.md')
const plain = (m: unknown): unknown => JSON.parse(JSON.stringify(m, (_k, v: unknown) => v instanceof Uint8Array ? toHex(v) : v))

t.test('traversal.md §8: every message encodes to the documented bytes and decodes back', async t => {
  for (const [name, m] of Object.entries(traversalVectorMessages())) {
    const hex = vectors.get(name)
    t.ok(hex !== undefined, `the spec has ${name}`)
    t.equal(toHex(encodeTraversal(m)), hex, `${name}: encodes as documented`)
    t.same(plain(decodeTraversal(fromHex(hex!))), plain(m), `${name}: decodes to the fields`)
    t.ok(isTraversalDatagram(fromHex(hex!)) && classifyDatagram(fromHex(hex!)) === 'dmess', `${name}: a dmess datagram for the traversal hook`)
  }
  t.equal(vectors.get('punch-request')!.length / 2, PUNCH_PACKET_BYTES)
  t.equal(vectors.get('register')!.length / 2, REGISTER_BYTES)
})

t.test('the documented offer opens for Bob only, and names Alice', async t => {
  const sealed = fromHex(vectors.get('sealed-offer')!)
  t.equal(toHex(sealedOffer()), vectors.get('sealed-offer'), 'sealing with the fixed ephemeral gives the documented bytes')
  const opened = openPunch(sealed, bob())
  t.equal(opened?.fingerprint, alice().fingerprint, 'Bob learns it is Alice (Noise X authenticates her static key)')
  t.same(plain(opened?.candidates), plain(OFFER.candidates))
  t.equal(opened?.natKind, 'endpoint-independent')
  t.equal(opened?.sentAt, OFFER.sentAt)
  t.equal(openPunch(sealed, alice()), null, 'not for Alice herself')
  t.equal(openPunch(sealed, generateIdentity()), null, 'not for anyone else (a rendezvous cannot read it)')
  for (const at of [0, 40, 100, sealed.length - 1]) {
    const bad = sealed.slice()
    bad[at] = (bad[at] ?? 0) ^ 1
    t.equal(openPunch(bad, bob()), null, `a flipped bit at ${at} is refused (cannot be forged or altered)`)
  }
})

t.test('traversal.md §5.2: a relay block travels sealed and opens to the documented fields', async t => {
  t.equal(toHex(sealedRelayOffer()), vectors.get('sealed-relay-offer'), 'sealing with the fixed ephemeral gives the documented bytes')
  const opened = openPunch(fromHex(vectors.get('sealed-relay-offer')!), bob())
  t.same(plain(opened?.relay), plain(RELAY_OFFER.relay), 'relay address, allocation id, port and pair secret')
  t.same(plain(opened?.candidates), plain(OFFER.candidates), 'the candidates beside it')
  t.equal(openPunch(sealedOffer(), bob())?.relay, undefined, 'an offer without a block has none')
  const v6 = { ...RELAY_OFFER, role: 'relay' as const, relay: { ...RELAY_OFFER.relay!, relay: { host: '2001:db8::5', port: 9 } } }
  const back = openPunch(sealPunch(v6, alice(), bob().dhPublic), bob())
  t.equal(back?.role, 'relay', 'role 3: a relay offer for a punch already offered')
  t.same(back?.relay?.relay, { host: '2001:db8::5', port: 9 }, 'an IPv6 relay fits the block')
  t.throws(() => sealPunch({ ...RELAY_OFFER, relay: { ...RELAY_OFFER.relay!, port: 0 } }, alice(), bob().dhPublic), 'port 0 is local misuse')
  t.throws(() => sealPunch({ ...RELAY_OFFER, relay: { ...RELAY_OFFER.relay!, pairSecret: new Uint8Array(3) } }, alice(), bob().dhPublic), 'a short pair secret is local misuse')
})

t.test('Noise_X_25519_ChaChaPoly_SHA256: the engine passes the cacophony vectors for X', async t => {
  const all = parseVectorFile(readFileSync(new URL('../vectors/noise/cacophony.txt', import.meta.url), 'utf8'))
  const x = all.filter(v => v.protocol_name === 'Noise_X_25519_ChaChaPoly_SHA256')
  t.ok(x.length > 0, 'vectors present')
  const r = runVectors(x)
  t.same({ passed: r.passed, failed: r.outcomes.filter(o => o.status === 'failed').length }, { passed: x.length, failed: 0 })
})

t.test('a fresh seal each time; an answer sealed to the offerer opens for the offerer', async t => {
  const a = alice()
  const b = bob()
  const one = sealPunch(OFFER, a, b.dhPublic)
  const two = sealPunch(OFFER, a, b.dhPublic)
  t.not(toHex(one), toHex(two), 'fresh ephemerals: two seals of one payload differ')
  const answer = sealPunch({ ...OFFER, role: 'answer', candidates: [{ kind: 'reflexive', host: '203.0.113.9', port: 5000 }] }, b, a.dhPublic)
  const opened = openPunch(answer, a)
  t.equal(opened?.role, 'answer')
  t.equal(opened?.fingerprint, b.fingerprint)
  t.same(plain(opened?.candidates), [{ kind: 'reflexive', host: '203.0.113.9', port: 5000 }])
})

t.test('malformed datagrams decode to null, never throw', async t => {
  const rng = testRng(t, 0x7a1)
  const samples = Object.values(traversalVectorMessages()).map(encodeTraversal)
  let nulls = 0
  for (let i = 0; i < 2000; i++) {
    const base = samples[rng.int(samples.length)]!
    const b = base.slice(0, rng.int(base.length + 1))
    if (b.length > 2 && rng.float() < 0.5) { const i = 2 + rng.int(b.length - 2); b[i] = (b[i] ?? 0) ^ (1 << rng.int(8)) }
    const m = decodeTraversal(b)
    if (m === null) nulls++
    else t.equal(m.type, b[1], 'what decodes has the type byte it carries')
  }
  t.ok(nulls > 0, `${nulls} of 2000 mangled datagrams refused`)
  t.equal(decodeTraversal(Uint8Array.from([0xc1, 0x4f])), null, 'an unassigned type')
  t.equal(decodeTraversal(Uint8Array.from([0xc1, 0x20, 0, 0])), null, 'a DHT type is not ours')
  const reg = encodeTraversal({ type: TraversalType.REGISTER, txid: 1, tag: new Uint8Array(16) })
  reg[REGISTER_BYTES - 1] = 1
  t.equal(decodeTraversal(reg), null, 'REGISTER padding must be zeros')
})
