// Where the daemon's DHT joins (proto-spec/dht.md §6): --bootstrap, else config `bootstrap`, else
// the shipped bootstrap/nodes.json, read here.
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errors } from '../errors.js'

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
