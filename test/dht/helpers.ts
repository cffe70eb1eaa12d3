// Shared fixtures for the DHT tests: seeded identities and records, nodes on a simulated network,
// and a raw endpoint to hand-craft datagrams.
import { identityFromSecrets, type Identity } from '../../src/crypto/identity.js'
import { signPresenceRecord, presenceKey, type RecordAddress } from '../../src/dht/records.js'
import { DhtNode, type DhtNodeOptions } from '../../src/dht/node.js'
import { DhtSimNetwork, bindTransport, SIM_EPOCH_MS } from '../../src/dht/sim/index.js'
import { simScheduler, simRandom } from '../../src/sim/io.js'
import { encodeMessage, decodeMessage, type DhtMessage, type Body } from '../../src/dht/messages.js'
import { createRng, type Rng } from '../../src/sim/rng.js'
import type { SimEndpoint } from '../../src/sim/network.js'

export const NOW = SIM_EPOCH_MS

export function seededIdentity (rng: Rng): Identity {
  return identityFromSecrets({ 'identity.ed25519': rng.bytes(32), 'identity.x25519': rng.bytes(32) })
}

export function makeRecord (id: Identity, o: { seq?: number, expiresAt?: number, addresses?: RecordAddress[] } = {}): { bytes: Uint8Array, key: Uint8Array } {
  const bytes = signPresenceRecord({
    publicIdentity: id,
    addresses: o.addresses ?? [{ host: '203.0.113.7', port: 4000, kind: 'public' }],
    seq: o.seq ?? 1,
    expiresAt: o.expiresAt ?? NOW + 60 * 60_000
  }, id.signSecret)
  return { bytes, key: presenceKey(id.fingerprint) }
}

export function makeNet (seed = 1): DhtSimNetwork {
  // fixed 20 ms RTT, no jitter: timings in tests are exact
  return new DhtSimNetwork({ seed, startMs: NOW, rtt: { medianMs: 20, sigma: 0, minMs: 1 }, jitterMs: 0 })
}

export function makeNode (net: DhtSimNetwork, addr: string, rng: Rng, opts: Partial<DhtNodeOptions> = {}): DhtNode {
  const node = new DhtNode({
    publicKey: rng.bytes(32),
    transport: bindTransport(net, addr).transport,
    scheduler: simScheduler(net.clock),
    random: simRandom(rng),
    ...opts
  })
  node.start()
  return node
}

/** A hand-driven peer: sends crafted messages, collects what comes back. */
export class RawPeer {
  readonly ep: SimEndpoint
  readonly key: Uint8Array
  readonly got: Array<{ msg: DhtMessage | null, from: string, bytes: Uint8Array }> = []
  #txid = 1

  constructor (net: DhtSimNetwork, addr: string, rng: Rng = createRng(99)) {
    this.key = rng.bytes(32)
    this.ep = net.bind(addr, (d, from) => this.got.push({ msg: decodeMessage(d), from, bytes: d }))
  }

  send (to: string, body: Body, txid = this.#txid++): number {
    this.ep.send(to, encodeMessage({ ...body, txid, readOnly: true, senderKey: this.key } as DhtMessage))
    return txid
  }
}
