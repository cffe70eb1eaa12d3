// Shared fixtures for the DHT tests: seeded identities and records, nodes on a simulated network,
// and a raw endpoint to hand-craft datagrams.
import { identityFromSecrets, type Identity } from '../../src/crypto/identity.js'
import type { RecordAddress } from '../../src/dht/records.js'
import { sealPresenceRecord } from '../../src/dht/presence-seal.js'
import { periodOf } from '../../src/dht/presence-keys.js'
import { presenceExpiry } from '../../src/dht/presence-plan.js'
import { EXPIRY_GRANULE_MS } from '../../src/dht/constants.js'
import { randomBytes } from '../../src/crypto/primitives.js'
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

/** A sealed record of `id` for the period of NOW (or `o.period`); expiresAt is rounded up to EXPIRY_GRANULE_MS. */
export function makeRecord (id: Identity, o: { seq?: number, expiresAt?: number, period?: number, addresses?: RecordAddress[] } = {}): { bytes: Uint8Array, key: Uint8Array } {
  return sealPresenceRecord({
    publicIdentity: id,
    addresses: o.addresses ?? [{ host: '203.0.113.7', port: 4000, kind: 'public' }],
    period: o.period ?? periodOf(NOW),
    seq: o.seq ?? 1,
    expiresAt: Math.ceil((o.expiresAt ?? NOW + 60 * 60_000) / EXPIRY_GRANULE_MS) * EXPIRY_GRANULE_MS
  }, id, randomBytes(24))
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

/** A sealed record of `id` for the period of `now` (real time by default), live for an hour. */
export function sealNow (id: Identity, addresses: RecordAddress[], seq: number, now = Date.now()): { bytes: Uint8Array, key: Uint8Array } {
  const period = periodOf(now)
  return sealPresenceRecord({ publicIdentity: id, addresses, period, seq, expiresAt: presenceExpiry(period, now, 60 * 60_000) }, id, randomBytes(24))
}
