// Connect time through NATs (proto-spec/traversal.md), on the seeded simulator: whole nodes
// (createNodes) with node 0 public (bootstrap and rendezvous) and Alice and Bob behind simulated
// NATs (src/sim/nat.ts, 10 ms per link). Measured per pair from "Alice knows Bob's fingerprint"
// (both add each other) to Alice holding the delivered receipt of her first message: the DHT
// lookup, the punch through the rendezvous, the Noise IK handshake and the message. Median of 5
// seeds, in simulated ms (the protocol's round trips and timers, not this machine's CPU). The
// real-NAT lab measures cone–cone in test/lab/punch-daemons.test.ts.
//   npx tsx scripts/bench/punch-connect.ts   (or: npm run bench -- punch-connect)
import { createNodes, type TestNode, type TestnetOptions } from '../../src/node/testnet.js'
import { NAT_PRESETS, type NatPresetName } from '../../src/sim/index.js'

const RUNS = 5
const PUBLIC = '198.51.100.7'

type Layout = Pick<TestnetOptions, 'host' | 'behind'>

function homes (a: NatPresetName | null, b: NatPresetName | null, hairpin = true): Layout {
  const kinds = [null, a, b]
  return {
    host: i => i === 0 ? PUBLIC : kinds[i] === null ? `198.51.100.${20 + i}` : '192.168.1.2',
    behind: (i, sim) => {
      const kind = kinds[i]
      return kind == null ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS[kind], hairpinning: hairpin })
    }
  }
}

const PAIRS: Record<string, Layout> = {
  'none-none': homes(null, null),
  'cone-cone': homes('portRestrictedCone', 'portRestrictedCone'),
  'restricted-cone-symmetric': homes('restrictedCone', 'symmetric'),
  'double-nat': {
    host: i => i === 0 ? PUBLIC : i === 1 ? '192.168.1.2' : '192.168.7.2',
    behind: (i, sim) => i === 0
      ? null
      : i === 1
        ? sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.portRestrictedCone })
        : sim.createNat({ externalIps: ['203.0.113.100'], ...NAT_PRESETS.restrictedCone }).createNat({ externalIps: ['100.64.0.7'], ...NAT_PRESETS.portRestrictedCone })
  }
}

const delivered = (n: TestNode, id: string): boolean =>
  n.seen.some(e => e.type === 'receipt' && e.direction === 'out' && (e.ids as string[]).includes(id))

async function once (layout: Layout, seed: number): Promise<number> {
  const net = await createNodes(3, { network: 'sim', seed, ...layout })
  try {
    const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
    await net.drive(bob.dht!.ready())
    await net.until(() => (bob.traversal?.recordFields()?.rendezvous.length ?? 0) > 0 || bob.traversal?.service?.natKind() === 'open', 60_000, 'Bob ready')
    await net.advance(1000) // his record republished
    const t0 = net.sim!.now
    await net.addContact(alice, bob, 'bob', 'fingerprint')
    await net.addContact(bob, alice, 'alice', 'fingerprint')
    const m = await net.drive(alice.actions.send(bob.fingerprint, 'hi'))
    await net.until(() => delivered(alice, m.id), 120_000, 'delivered')
    return net.sim!.now - t0
  } finally {
    await net.destroy()
  }
}

for (const [pair, layout] of Object.entries(PAIRS)) {
  const times: number[] = []
  for (let seed = 1; seed <= RUNS; seed++) times.push(await once(layout, seed))
  times.sort((x, y) => x - y)
  console.log(JSON.stringify({ metric: 'punch_connect_ms', pair, network: 'sim', linkMs: 10, median: times[Math.floor(RUNS / 2)], min: times[0], max: times[RUNS - 1], runs: RUNS, unit: 'simulated ms' }))
}
