// Time to a port mapping through a real router (miniupnpd in the lab, scripts/lab/miniupnpd.ts):
// the lab host's client (test/lab/fixtures/portmap-node.ts, all three protocols, the default
// order) from its start to its first outcome, in wall-clock ms, and how many UDP datagrams it sent
// by then (PCP, NAT-PMP, SSDP; UPnP's HTTP is not counted). Per router: one that speaks PCP and
// NAT-PMP, one that speaks only UPnP IGD. Median of RUNS runs, each a new client that deletes its
// mapping before the next; one JSON line per router and figure. Wall time on a loaded machine
// moves with the load; the sends and the protocol do not.
// Root only (network namespaces); elsewhere each line has value null with the reason.
//   npx tsx scripts/bench/portmap-lab.ts [natpmp|upnp ...]   (or: npm run bench -- portmap-lab)
import { join } from 'node:path'
import { withLab } from '../lab/netns.js'
import { createUpnpSite, miniupnpdUnavailableReason, startMiniupnpd } from '../lab/miniupnpd.js'
import { repoRoot, spawnJson, type JsonLine } from './peers/reliable-child.js'
import { labBenchMain, runLabBench, type LabBench } from './lab-bench.js'

const RUNS = Number(process.env.RUNS ?? 5)
const LIMIT_MS = 30_000
type Router = 'natpmp' | 'upnp'
const ROUTERS: readonly Router[] = ['natpmp', 'upnp']

interface Outcome { atMs: number, sent: number, protocol: string | null }

function emit (router: Router, runs: Outcome[], reason: string | null): void {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const params = { router, runs: runs.length, protocols: [...new Set(runs.map(r => r.protocol))], ...(reason === null ? {} : { reason }) }
  if (reason !== null || runs.length === 0) {
    for (const metric of ['portmap_time_to_mapping_ms', 'portmap_sends_to_mapping']) console.log(JSON.stringify({ metric, value: null, params }))
    return
  }
  const ms = runs.map(r => r.atMs)
  console.log(JSON.stringify({ metric: 'portmap_time_to_mapping_ms', value: median(ms), unit: 'ms', params: { ...params, min: Math.min(...ms), max: Math.max(...ms), all: ms } }))
  console.log(JSON.stringify({ metric: 'portmap_sends_to_mapping', value: median(runs.map(r => r.sent)), unit: 'datagrams', params: { ...params, all: runs.map(r => r.sent) } }))
}

async function measure (router: Router): Promise<void> {
  const runs: Outcome[] = []
  let reason: string | null = null
  await withLab(async lab => {
    const site = await createUpnpSite(lab)
    const daemon = await startMiniupnpd(site, { protocols: router })
    try {
      for (let i = 0; i < RUNS; i++) {
        const node = spawnJson('ip', ['netns', 'exec', site.hostNs, process.execPath, '--import', 'tsx', join(repoRoot, 'test/lab/fixtures/portmap-node.ts')])
        try {
          const isOutcome = (o: JsonLine): boolean => { const s = o.status as { state?: string } | undefined; return s?.state === 'mapped' || s?.state === 'unavailable' }
          const line = await node.next(isOutcome, LIMIT_MS) as { atMs: number, sent: number, status: { mapping: { protocol: string } | null } }
          runs.push({ atMs: line.atMs, sent: line.sent, protocol: line.status.mapping?.protocol ?? null })
          node.proc.stdin!.write('stop\n')
          await node.next(o => o.stopped === true, LIMIT_MS)
        } finally {
          node.stop()
        }
      }
    } finally {
      await daemon.stop()
    }
  }).catch((err: Error) => { reason = `the run failed: ${err.message.split('\n')[0] ?? ''}` })
  emit(router, runs, reason)
}

const bench: LabBench<Router> = { name: 'portmap-lab', noun: 'router', items: ROUTERS, unavailable: miniupnpdUnavailableReason, skip: (r, reason) => { emit(r, [], reason) }, measure }

export async function run (routers: readonly Router[] = ROUTERS): Promise<void> {
  await runLabBench(bench, routers)
}

await labBenchMain(bench, import.meta.url)
