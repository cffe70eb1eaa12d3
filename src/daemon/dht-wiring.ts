// How the daemon gets its DHT (issue 5, proto-spec/dht.md §6): a DhtComponent on the messaging
// Endpoint's socket (it shares the one UDP port through the Endpoint's 'dht' handler), joined
// through --bootstrap, else config `bootstrap`, else the shipped bootstrap/nodes.json.
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Identity } from '../crypto/identity.js'
import type { Endpoint } from '../transport/endpoint.js'
import { LOOPBACK_SETTINGS } from '../dht/testnet.js'
import { DhtComponent } from './dht-component.js'

export { DhtComponent }

interface HostPort { host: string, port: number }

function hostPort (a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** Bound to loopback, every peer shares our one IP: the per-IP defences (dht.md §8) would refuse them all. */
export function isLoopbackHost (host: string): boolean {
  return host.startsWith('127.') || host === '::1'
}

export function createDht (o: { host: string, bootstrap: HostPort[], log: Logger }, identity: Identity, endpoint: () => Endpoint): DhtComponent {
  return new DhtComponent({
    endpoint,
    identity,
    bootstrap: o.bootstrap.map(hostPort),
    log: o.log.child({ c: 'dht' }),
    node: isLoopbackHost(o.host) ? LOOPBACK_SETTINGS : {}
  })
}

/** bootstrap/nodes.json of the installed package (src/daemon/ in a checkout, dist/src/daemon/ when built). */
export function shippedNodesPath (): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'bootstrap', 'nodes.json')
    if (existsSync(p)) return p
    dir = dirname(dir)
  }
  return undefined
}

/** The "host:port" entries of bootstrap/nodes.json; [] when the package ships none. */
export async function shippedBootstrap (path = shippedNodesPath()): Promise<string[]> {
  if (path === undefined) return []
  let nodes: unknown
  try {
    nodes = (JSON.parse(await readFile(path, 'utf8')) as { nodes?: unknown }).nodes
  } catch (err) {
    throw errors.BAD_CONFIG(`cannot read the bootstrap list ${path}: ${(err as Error).message}`)
  }
  if (!Array.isArray(nodes) || !nodes.every(n => typeof n === 'string')) throw errors.BAD_CONFIG(`${path}: "nodes" must be a list of "host:port" strings`)
  return nodes as string[]
}
