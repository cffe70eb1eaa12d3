// What the simulated relay tests share (proto-spec/traversal.md §7): two public relays, a user's
// row for a peer as `dmess peers --json` shows it, and two users behind symmetric NATs who have
// registered with both relays and learnt their NAT kind.
import { NAT_PRESETS } from '../../src/sim/index.js'
import type { TestNode, Testnet } from '../../src/node/testnet.js'
import type { PeerJson } from '../../src/messaging/json.js'
import { testnet } from '../node/helpers.js'

/** Nodes 0 and 1 of a relay testnet: public, and relays. */
export const PUBLIC = ['198.51.100.7', '198.51.100.8']

/** `a`'s row for `b` in `dmess peers --json`. */
export function row (a: TestNode, b: TestNode): PeerJson | undefined {
  return a.actions.peers().find(p => p.fingerprint === b.fingerprint)
}

/** Nodes 0 and 1 public relays; Alice (2) and Bob (3) behind symmetric NATs, registered, knowing their NAT kind; not yet contacts. */
export async function symmetricPair (t: Parameters<typeof testnet>[0], seed: number): Promise<{ net: Testnet, alice: TestNode, bob: TestNode }> {
  const net = await testnet(t, 4, seed, {
    host: i => PUBLIC[i] ?? '192.168.1.2',
    relay: i => i < PUBLIC.length,
    behind: (i, sim) => i < PUBLIC.length ? null : sim.createNat({ externalIps: [`203.0.113.${i}`], ...NAT_PRESETS.symmetric })
  })
  const [,, alice, bob] = net.nodes as [TestNode, TestNode, TestNode, TestNode]
  for (const n of [alice, bob]) {
    await net.until(() => (n.traversal?.recordFields()?.rendezvous.length ?? 0) > 0, 120_000, `node ${n.index} registered`)
    await net.until(() => n.traversal!.recordFields()!.natKind === 'address-dependent', 120_000, `node ${n.index} knows its NAT is symmetric`)
  }
  return { net, alice, bob }
}
