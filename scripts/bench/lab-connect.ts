// Connect time through real Linux NAT, with real daemons (scripts/lab/nat.ts, scripts/lab/daemons.ts):
// per pair of topologies, from "Alice knows Bob's fingerprint" (both daemons running and
// registered, Bob's record readable, Bob has Alice as a contact; Alice adds Bob over IPC) to Bob's
// daemon emitting her first message: the DHT lookup, the punch or dial, the Noise IK handshake and
// the message, in wall-clock ms. Median of RUNS runs, each with a new Alice (first contact again);
// one JSON line per pair. A pair that does not connect within LIMIT_MS prints value null with the
// reason, not a number: symmetric NATs need the relay fallback or birthday punching
// (proto-spec/traversal.md §7), and this bench picks them up once they exist.
// Root only (network namespaces); elsewhere each pair prints null with the reason. Needs `npm run build`.
//   npx tsx scripts/bench/lab-connect.ts [pair ...]   (or: npm run bench -- lab-connect)
import { pathToFileURL } from 'node:url'
import { labUnavailableReason, withLab } from '../lab/netns.js'
import { iptablesUnavailableReason } from '../lab/loss.js'
import { withPair, type PairName } from '../lab/daemons.js'

const RUNS = Number(process.env.RUNS ?? 5)
const LIMIT_MS = Number(process.env.LIMIT_MS ?? 30_000)
export const BENCH_PAIRS: readonly PairName[] = ['none-none', 'cone-cone', 'cone-symmetric', 'symmetric-symmetric', 'same-nat', 'double-nat']

function emit (pair: PairName, times: number[], reason: string | null): void {
  const params = { pair, runs: times.length, limitMs: LIMIT_MS, ...(reason === null ? {} : { reason }) }
  if (reason !== null || times.length === 0) {
    console.log(JSON.stringify({ metric: 'lab_connect_ms', value: null, params }))
    return
  }
  const sorted = [...times].sort((a, b) => a - b)
  console.log(JSON.stringify({ metric: 'lab_connect_ms', value: sorted[Math.floor(sorted.length / 2)], unit: 'ms', params: { ...params, min: sorted[0], max: sorted[sorted.length - 1] } }))
}

async function measure (pair: PairName): Promise<void> {
  const times: number[] = []
  let reason: string | null = null
  await withLab(async lab => {
    await withPair(lab, pair, async p => {
      for (let i = 0; i < RUNS; i++) {
        if (i > 0) await p.freshAlice()
        const ms = await p.connect(`hello ${i}`, LIMIT_MS)
        if (ms === null) {
          reason = `no message within ${LIMIT_MS} ms (Bob's record: NAT kind ${p.record.natKind}, ${p.record.rendezvous.length} rendezvous)`
          return
        }
        times.push(ms)
      }
    })
  }).catch((err: Error) => { reason = `the run failed: ${err.message.split('\n')[0] ?? ''}` })
  emit(pair, times, reason)
}

export async function run (pairs: readonly PairName[] = BENCH_PAIRS): Promise<void> {
  const missing = labUnavailableReason() ?? iptablesUnavailableReason()
  if (missing !== null) {
    process.stderr.write(`# lab-connect skipped: ${missing}\n`)
    for (const pair of pairs) emit(pair, [], `skipped: ${missing}`)
    return
  }
  for (const pair of pairs) await measure(pair)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const asked = process.argv.slice(2) as PairName[]
  const unknown = asked.filter(a => !BENCH_PAIRS.includes(a))
  if (unknown.length > 0) {
    process.stderr.write(`unknown pair ${unknown.join(', ')}; pairs: ${BENCH_PAIRS.join(', ')}\n`)
    process.exit(2)
  }
  await run(asked.length > 0 ? asked : BENCH_PAIRS)
}
