// How long a person waits for `dmess` to answer: wall time of `dmess --help`, `dmess --version` and
// `dmess status` (no daemon running) through the executable that `npm run setup` puts on PATH
// (bin/run.js; built commands in dist/, scripts/bundle.ts), beside bare `node -e 0` on the same
// machine in the same run. Median and p90 of N runs after 2 warm-up runs. Needs `npm run build`.
// One JSON line per metric.   npm run bench -- cli-start      (DMESS_BENCH_CLI_N, default 15)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js')
const N = Number(process.env.DMESS_BENCH_CLI_N ?? 15)
const WARMUP = 2

function timeOnce (args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 30_000 })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function quantile (sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

export async function run (): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'dmess-cli-start-'))
  const env = { ...process.env, DMESS_HOME: home }
  const cases: Array<[string, string[]]> = [
    ['node -e 0', ['-e', '0']],
    ['dmess --version', [BIN, '--version']],
    ['dmess --help', [BIN, '--help']],
    ['dmess status', [BIN, 'status']]
  ]
  try {
    for (const [name, args] of cases) {
      for (let i = 0; i < WARMUP; i++) timeOnce(args, env)
      const ms = Array.from({ length: N }, () => timeOnce(args, env)).sort((a, b) => a - b)
      for (const [stat, q] of [['p50', 0.5], ['p90', 0.9]] as const) {
        console.log(JSON.stringify({ metric: `cli_start_${stat}_ms`, value: Math.round(quantile(ms, q) * 10) / 10, params: { command: name, runs: N } }))
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await run()
