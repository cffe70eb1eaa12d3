// What the network-lab benchmarks (lab-connect.ts, portmap-lab.ts) share around their measuring:
// skip with the reason where the lab cannot run (not root, no namespaces, no iptables, a missing
// tool), printing each item's line with value null; else measure each item in turn; and, run as a
// script, the items named on the command line (an unknown one: a one-line error, exit 2).
import { pathToFileURL } from 'node:url'
import { labUnavailableReason } from '../lab/netns.js'
import { iptablesUnavailableReason } from '../lab/loss.js'

export interface LabBench<T extends string> {
  /** the benchmark's name, as `npm run bench -- <name>` takes it */
  name: string
  /** what the items are called in the usage line ("pair", "router") */
  noun: string
  items: readonly T[]
  /** a further reason the lab cannot run (a tool it needs), or null */
  unavailable?: () => string | null
  /** prints `item`'s lines with value null and `reason` */
  skip: (item: T, reason: string) => void
  measure: (item: T) => Promise<void>
}

export async function runLabBench<T extends string> (b: LabBench<T>, items: readonly T[] = b.items): Promise<void> {
  const missing = labUnavailableReason() ?? iptablesUnavailableReason() ?? b.unavailable?.() ?? null
  if (missing !== null) {
    process.stderr.write(`# ${b.name} skipped: ${missing}\n`)
    for (const item of items) b.skip(item, `skipped: ${missing}`)
    return
  }
  for (const item of items) await b.measure(item)
}

/** Run as a script (`metaUrl` is the benchmark module's import.meta.url): the items on the command line, or all. */
export async function labBenchMain<T extends string> (b: LabBench<T>, metaUrl: string): Promise<void> {
  if (process.argv[1] === undefined || metaUrl !== pathToFileURL(process.argv[1]).href) return
  const asked = process.argv.slice(2) as T[]
  const unknown = asked.filter(a => !b.items.includes(a))
  if (unknown.length > 0) {
    process.stderr.write(`unknown ${b.noun} ${unknown.join(', ')}; ${b.noun}s: ${b.items.join(', ')}\n`)
    process.exit(2)
  }
  await runLabBench(b, asked.length > 0 ? asked : b.items)
}
