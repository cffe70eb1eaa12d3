// A real-UDP DHT testnet in one process (cf. hyperdht's testnet.js): n nodes on 127.0.0.1, each
// on its own socket, joined through the first few. Every node shares one IP, so the per-IP
// defences are relaxed by LOOPBACK_SETTINGS (loopback.ts): a testnet exercises routing and
// records, not the anti-abuse limits.
import { StandaloneDht } from './standalone.js'
import type { DhtNodeOptions } from './node.js'
import { LOOPBACK_SETTINGS } from './loopback.js'
import { K } from './constants.js'

export interface TestnetOptions {
  host?: string
  /** How many of the nodes the others join through (default 3). */
  bootstrapCount?: number
  /** Joins in flight at once (default 20): bounded so a 200-node start does not flood one socket. */
  concurrency?: number
  node?: Partial<DhtNodeOptions>
}

export interface Testnet {
  nodes: StandaloneDht[]
  /** Canonical "127.0.0.1:port" addresses to join through. */
  bootstrap: string[]
  destroy: () => Promise<void>
}

/** Starts n nodes and joins them; resolves once every join finished. */
export async function createTestnet (n: number, opts: TestnetOptions = {}): Promise<Testnet> {
  const nodeOpts = { ...LOOPBACK_SETTINGS, ...opts.node }
  const nodes: StandaloneDht[] = []
  const destroy = async (): Promise<void> => { await Promise.all(nodes.map(async s => { await s.close() })) }
  try {
    for (let i = 0; i < n; i++) nodes.push(await StandaloneDht.listen({ host: opts.host, node: nodeOpts }))
    const seeds = nodes.slice(0, Math.max(1, Math.min(n, opts.bootstrapCount ?? 3)))
    const bootstrap = seeds.map(s => s.address)
    // the seeds know each other first, so the network has a core before the others arrive
    for (const s of seeds) await s.node.bootstrap(bootstrap.filter(a => a !== s.address))
    let next = seeds.length
    const worker = async (): Promise<void> => {
      while (next < nodes.length) await nodes[next++]!.node.bootstrap(bootstrap)
    }
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 20) }, worker))
    // A join whose queries timed out (a busy machine answers late) leaves its node with a short
    // table; a node refreshes its buckets in time (dht.md §6.3), a testnet at once: a second join each.
    const k = nodeOpts.k ?? K
    for (const s of nodes) if (s.node.table.size < Math.min(k, n - 1)) await s.node.bootstrap(bootstrap.filter(a => a !== s.address))
    return { nodes, bootstrap, destroy }
  } catch (err) {
    await destroy()
    throw err
  }
}
