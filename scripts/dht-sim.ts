// DHT simulation (proto-spec/dht.md §9): the real DhtNode code over an in-memory network with
// log-normal RTTs (median 70 ms), seeded and reproducible. One JSON line per metric per scenario.
//   npx tsx scripts/dht-sim.ts [--nodes 10000] [--churn 0,0.2,0.5] [--lookups 2000]
//                              [--publishers 500] [--seed 1] [--network lean|sim] [--loss 0]
//                              [--join-refresh no|yes] [--jobs 1]
// --jobs N runs up to N scenarios at once in child processes (each is single-threaded).
import { pathToFileURL, fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'
import { runScenario, type ScenarioOptions, type ScenarioResult } from '../src/dht/sim/index.js'

export interface SimArgs {
  nodes: number
  churn: number[]
  lookups: number
  publishers: number
  seed: number
  network: 'lean' | 'sim'
  loss: number
  /** Kademlia §2.3 bucket refresh after joining (on in real nodes; ~3× the join traffic, needed for ≥ 99%). */
  joinRefresh: boolean
  jobs: number
}

export const DEFAULT_ARGS: SimArgs = { nodes: 10_000, churn: [0, 0.2, 0.5], lookups: 2000, publishers: 500, seed: 1, network: 'lean', loss: 0, joinRefresh: true, jobs: 1 }

export function parseArgs (argv: string[]): SimArgs {
  const a = { ...DEFAULT_ARGS }
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? '']
    if (flag === '--nodes') a.nodes = Number(value)
    else if (flag === '--churn') a.churn = value.split(',').map(Number)
    else if (flag === '--lookups') a.lookups = Number(value)
    else if (flag === '--publishers') a.publishers = Number(value)
    else if (flag === '--seed') a.seed = Number(value)
    else if (flag === '--network') a.network = value === 'sim' ? 'sim' : 'lean'
    else if (flag === '--loss') a.loss = Number(value)
    else if (flag === '--join-refresh') a.joinRefresh = value === 'yes'
    else if (flag === '--jobs') a.jobs = Math.max(1, Math.floor(Number(value)))
    else throw new Error(`unknown option ${flag}`)
  }
  return a
}

function print (r: ScenarioResult, tag: string): void {
  const base = { nodes: r.nodes, churn: r.churn, scenario: tag }
  const line = (metric: string, value: number, unit?: string): void => {
    console.log(JSON.stringify({ metric: `dht_${metric}`, value: Math.round(value * 1000) / 1000, ...(unit ? { unit } : {}), ...base }))
  }
  line('lookup_success_rate', r.successRate)
  line('lookup_hops_median', r.hops.median, 'round trips')
  line('lookup_hops_p95', r.hops.p95, 'round trips')
  line('lookup_messages_mean', r.messages.mean, 'datagrams')
  line('lookup_messages_p95', r.messages.p95, 'datagrams')
  line('lookup_latency_median_ms', r.latencyMs.median, 'ms')
  line('lookup_latency_p95_ms', r.latencyMs.p95, 'ms')
  line('replicas_per_record', r.replicas)
  line('contacts_per_node', r.avgContacts)
  line('sim_wall_s', r.wallMs / 1000, 's')
  line('sim_heap_mb', r.heapMb, 'MiB')
  line('sim_formation_cpu_s', r.cpu.formationS, 's')
  line('sim_formation_datagrams_per_node', r.formationDatagramsPerNode, 'datagrams')
  line('sim_cpu_per_lookup_ms', r.cpu.perLookupMs, 'ms')
}

/** Runs every churn level of `args`, printing metrics as each scenario finishes. */
export function simulate (args: SimArgs): ScenarioResult[] {
  const out: ScenarioResult[] = []
  for (const churn of args.churn) {
    const opts: ScenarioOptions = {
      seed: args.seed, nodes: args.nodes, churn, lookups: args.lookups, publishers: args.publishers,
      network: args.network, loss: args.loss, settings: { refreshOnJoin: args.joinRefresh }, log: (l) => process.stderr.write(`# ${args.nodes} nodes, churn ${churn}: ${l}\n`)
    }
    const r = runScenario(opts)
    print(r, `${args.nodes}n-${Math.round(churn * 100)}churn${args.loss ? `-${args.loss * 100}loss` : ''}`)
    out.push(r)
  }
  return out
}

function toArgv (a: SimArgs, churn: number): string[] {
  return ['--nodes', String(a.nodes), '--churn', String(churn), '--lookups', String(a.lookups), '--publishers', String(a.publishers),
    '--seed', String(a.seed), '--network', a.network, '--loss', String(a.loss), '--join-refresh', a.joinRefresh ? 'yes' : 'no']
}

/** Runs the churn levels in up to `jobs` child processes at once; their JSON lines pass through. */
export async function simulateParallel (args: SimArgs): Promise<void> {
  if (args.jobs <= 1 || args.churn.length <= 1) {
    simulate(args)
    return
  }
  const script = fileURLToPath(import.meta.url)
  const queue = [...args.churn]
  const worker = async (): Promise<void> => {
    for (let churn = queue.shift(); churn !== undefined; churn = queue.shift()) {
      const child = spawn(process.execPath, [...process.execArgv, script, ...toArgv(args, churn)], { stdio: ['ignore', 'inherit', 'inherit'] })
      const code = await new Promise<number | null>(resolve => child.on('close', resolve))
      if (code !== 0) throw new Error(`scenario churn=${churn} exited with ${code}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(args.jobs, args.churn.length) }, worker))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await simulateParallel(parseArgs(process.argv.slice(2)))
}
