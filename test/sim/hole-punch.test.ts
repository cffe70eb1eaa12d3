// The textbook UDP hole punch (Ford, Srisuresh & Kegel, "Peer-to-Peer Communication Across Network
// Address Translators", USENIX 2005, §3) through simulated NATs: hosts A and B, each behind its
// own NAT and both at the same private address, register with a rendezvous server on a public
// address; once both have, the server tells each the other's reflexive address (the source it saw).
// Both then send punches to that address at once, a few times; a host that hears from the other
// answers the address the packet came from, so one packet through is enough for both to talk.
//
// Expected (RFC 4787 terms): with endpoint-independent mapping on both sides (any cone) the
// reflexive address is the one the peer's packets must go to, and each side's own punch opens its
// filter for the other, so it succeeds. With address-and-port-dependent mapping and random ports
// on both (symmetric) each punch leaves from a fresh port nobody has been told, and the other
// side's filter drops it: it fails. Cone against symmetric depends on the cone's filtering: the
// symmetric side's punch arrives from an unknown port, which port-restricted filtering drops (so it
// fails) but endpoint-independent and address-dependent filtering admit (so it succeeds, and
// the cone side's answer opens the rest).
import t from 'tap'
import { createSimNetwork, NAT_PRESETS, type NatPresetName, type SimEndpoint, type SimNetwork } from '../../src/sim/index.js'

const RENDEZVOUS = '198.51.100.7:3478'
const PRIVATE = '192.168.1.2:5000'
const PUNCHES = 10
const PUNCH_INTERVAL_MS = 100
const SEEDS = [1, 2, 3]

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** One side of the punch: what it was told about the peer, and whom it heard from. */
class Peer {
  told: string | null = null
  heardFrom: string[] = []
  readonly ep: SimEndpoint

  constructor (readonly net: SimNetwork, bind: (handler: (d: Uint8Array, from: string) => void) => SimEndpoint) {
    this.ep = bind((d, from) => this.#receive(dec(d), from))
  }

  register (): void { this.ep.send(RENDEZVOUS, enc('register')) }

  #receive (msg: string, from: string): void {
    if (from === RENDEZVOUS && msg.startsWith('peer ')) {
      const peer = msg.slice(5)
      this.told = peer
      for (let i = 0; i < PUNCHES; i++) this.net.clock.after(i * PUNCH_INTERVAL_MS, () => this.ep.send(peer, enc('punch')))
    } else if (msg === 'punch' || msg === 'ack') {
      this.heardFrom.push(from)
      if (msg === 'punch') this.ep.send(from, enc('ack'))
    }
  }
}

function rendezvous (net: SimNetwork): { seen: string[] } {
  const seen: string[] = []
  const ep = net.bind(RENDEZVOUS, (d, from) => {
    if (dec(d) !== 'register' || seen.includes(from)) return
    seen.push(from)
    if (seen.length === 2) {
      ep.send(seen[0]!, enc(`peer ${seen[1]!}`))
      ep.send(seen[1]!, enc(`peer ${seen[0]!}`))
    }
  })
  return { seen }
}

interface Outcome { a: Peer, b: Peer, seen: string[], net: SimNetwork, dropped: { a: number, b: number } }

function punch (kindA: NatPresetName, kindB: NatPresetName, seed: number): Outcome {
  const net = createSimNetwork({ seed, latencyMs: { base: 20, jitter: 30 } })
  const { seen } = rendezvous(net)
  const natA = net.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS[kindA] })
  const natB = net.createNat({ externalIps: ['203.0.113.2'], ...NAT_PRESETS[kindB] })
  const a = new Peer(net, h => natA.bind(PRIVATE, h))
  const b = new Peer(net, h => natB.bind(PRIVATE, h))
  a.register()
  b.register()
  net.run({ until: 10_000, maxEvents: 10_000 })
  const drops = (s: typeof natA.stats): number => s.filtered + s.noMapping
  return { a, b, seen, net, dropped: { a: drops(natA.stats), b: drops(natB.stats) } }
}

const succeeds: Array<[NatPresetName, NatPresetName]> = [
  ['fullCone', 'fullCone'],
  ['restrictedCone', 'restrictedCone'],
  ['portRestrictedCone', 'portRestrictedCone'],
  ['fullCone', 'portRestrictedCone'],
  ['restrictedCone', 'portRestrictedCone']
]

for (const [kindA, kindB] of succeeds) {
  t.test(`${kindA} ↔ ${kindB}: the punch succeeds at the reflexive addresses`, async t => {
    for (const seed of SEEDS) {
      t.comment(`seed ${seed}`)
      const { a, b, seen } = punch(kindA, kindB, seed)
      t.same([...seen].sort(), ['203.0.113.1:5000', '203.0.113.2:5000'], 'the rendezvous saw each NAT with the port preserved')
      t.ok(a.heardFrom.length > 0 && b.heardFrom.length > 0, `both heard the other (A ${a.heardFrom.length}, B ${b.heardFrom.length} packets)`)
      t.same(new Set(a.heardFrom), new Set([a.told]), "A hears B only from B's reflexive address")
      t.same(new Set(b.heardFrom), new Set([b.told]), "B hears A only from A's reflexive address")
    }
  })
}

t.test('symmetric ↔ symmetric: the punch fails', async t => {
  for (const seed of SEEDS) {
    t.comment(`seed ${seed}`)
    const { a, b, dropped } = punch('symmetric', 'symmetric', seed)
    t.ok(a.told !== null && b.told !== null, 'both were told a reflexive address')
    t.same([a.heardFrom, b.heardFrom], [[], []], 'neither hears the other')
    t.same([dropped.a, dropped.b], [PUNCHES, PUNCHES], "every punch was dropped by the other side's NAT")
  }
})

t.test('portRestrictedCone ↔ symmetric: the textbook punch fails', async t => {
  for (const seed of SEEDS) {
    t.comment(`seed ${seed}`)
    const { a, b, dropped } = punch('portRestrictedCone', 'symmetric', seed)
    t.same([a.heardFrom, b.heardFrom], [[], []], 'neither hears the other')
    t.ok(dropped.a === PUNCHES && dropped.b === PUNCHES, `all punches dropped (at A's NAT ${dropped.a}, at B's ${dropped.b})`)
  }
})

for (const cone of ['fullCone', 'restrictedCone'] as const) {
  t.test(`${cone} ↔ symmetric: the cone's filter admits the symmetric side's punch`, async t => {
    for (const seed of SEEDS) {
      t.comment(`seed ${seed}`)
      const { a, b } = punch(cone, 'symmetric', seed)
      t.ok(a.heardFrom.length > 0 && b.heardFrom.length > 0, 'both heard the other')
      t.not(a.heardFrom[0], a.told, "A hears B from another port than the rendezvous saw (B's NAT is symmetric)")
      t.same(new Set(b.heardFrom), new Set([b.told]), "B hears A from A's reflexive address")
    }
  })
}
