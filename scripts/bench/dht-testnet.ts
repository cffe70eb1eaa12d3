// DHT on the 200-node loopback testnet: lookup time and round trips to the first hit
// (FIND_VALUE that stops at the first record), a complete lookup (FIND_NODE until the k closest
// answered), requests per lookup, and the RSS of the process holding the nodes. One JSON line per
// metric; "target" is what the native-addon DHT measured on this machine with the same method.
//
// The nodes run in a child process started from compiled dist/ (src/dht/testnet-bench.ts), not
// through tsx: the TypeScript loader alone added ~45 MiB of RSS and getter calls on every imported
// binding. The RSS of an empty `node` process is printed alongside as the floor any JS DHT pays.
//   npm run build && npm run bench -- dht-testnet
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { loadavg } from 'node:os'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHILD = join(ROOT, 'dist', 'src', 'dht', 'testnet-bench.js')

// dist/ must be at least as new as every src/dht source, or we would measure old code.
function staleSources (): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const rel = join(dir, name)
      if (statSync(join(ROOT, rel)).isDirectory()) { walk(rel); continue }
      if (!name.endsWith('.ts')) continue
      const built = join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'))
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, rel)).mtimeMs) out.push(rel)
    }
  }
  walk(join('src', 'dht'))
  return out
}

async function runNode (args: string[], onLine: (line: string) => void): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  let buf = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    buf += d
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
  })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`)
}

async function emptyNodeRssMiB (): Promise<number> {
  let rss = NaN
  await runNode(['--expose-gc', '-e', 'globalThis.gc(); console.log(process.memoryUsage().rss)'], (l) => { rss = Number(l) / 2 ** 20 })
  return Math.round(rss * 10) / 10
}

export async function run (): Promise<void> {
  const stale = staleSources()
  if (stale.length > 0) throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}: run npm run build first`)
  const baseline = await emptyNodeRssMiB()
  process.stdout.write(JSON.stringify({ metric: 'node_empty_process_rss_mib', value: baseline, unit: 'MiB', note: 'node -e with nothing loaded, after gc: the floor under dht_testnet_rss_mib' }) + '\n')
  process.stdout.write(JSON.stringify({ metric: 'dht_bench_load1_at_start', value: Math.round(loadavg()[0]! * 100) / 100 }) + '\n')
  await runNode(['--expose-gc', CHILD, '--nodes', '200', '--lookups', '100', '--records', '20'], (l) => process.stdout.write(l + '\n'))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run()
