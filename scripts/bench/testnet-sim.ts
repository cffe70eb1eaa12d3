// The whole-node testnet on the simulator (src/node/testnet.ts), the scenario of
// test/node/testnet.test.ts (src/node/testnet-scenario.ts): 50 nodes form a DHT, every pair of 20
// contacts (known to each other by invite only, so each first finds the other in the DHT)
// exchanges a message, one of them is stopped for 30 s of simulated time and started again,
// until every message has its receipt. Wall and CPU time of each phase, and what it took
// (datagrams, simulated events, DHT lookups), and what the conversation's work was made of, summed
// over the nodes (handshakes, envelopes by type, prekey frames, dials, lookups, store writes:
// workCounts in src/node/testnet-scenario.ts), and on Linux how the CPU splits between the main
// thread and V8's background threads: one JSON line per metric. Bounded: a fixed
// scenario, and each wait fails past its limit of simulated time. The nodes keep PQXDH prekeys as
// every daemon does (src/daemon/daemon.ts), so contacts talk envelope v2 (ratchet sessions,
// proto-spec/envelope.md §8); DMESS_BENCH_PREKEYS=0 runs them without, on envelope v1 (HPKE).
//   npm run bench -- testnet-sim
import { readdirSync, readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { createNodes } from '../../src/node/testnet.js'
import { conversation, formDht, workCounts, workSince } from '../../src/node/testnet-scenario.js'

const NODES = 50
const MEMBERS = Array.from({ length: 20 }, (_, i) => i * 2 + 5)

function emit (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ metric, value: Math.round(value), unit, ...extra }) + '\n')
}

function cpuMs (since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since)
  return (c.user + c.system) / 1000
}

// CPU ms of each thread of this process so far (Linux: utime + stime of /proc/self/task/<tid>/stat,
// in USER_HZ ticks, 100 a second: proc(5)); null elsewhere. The main thread runs every node, so on
// an idle machine the wall time follows its CPU; the others are V8's background threads
// (optimising compiles, GC helpers), which process.cpuUsage() counts as well.
function threadCpuMs (): Map<string, number> | null {
  try {
    const out = new Map<string, number>()
    for (const tid of readdirSync('/proc/self/task')) {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10)
    }
    return out
  } catch {
    return null
  }
}

/** The main thread's and the other threads' CPU ms between two threadCpuMs() readings. */
function threadSplit (a: Map<string, number> | null, b: Map<string, number> | null): { mainThreadCpuMs?: number, otherThreadsCpuMs?: number } {
  if (a === null || b === null) return {}
  const main = String(process.pid)
  let others = 0
  for (const [tid, ms] of b) if (tid !== main) others += ms - (a.get(tid) ?? 0)
  return { mainThreadCpuMs: (b.get(main) ?? 0) - (a.get(main) ?? 0), otherThreadsCpuMs: others }
}

export async function run (seed = 1, prekeys = process.env.DMESS_BENCH_PREKEYS !== '0'): Promise<void> {
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpuMs()
  const wall0 = performance.now()
  const phase = (name: string, cpu: NodeJS.CpuUsage, wall: number, extra: Record<string, unknown> = {}): void => {
    emit(`testnet_sim_${name}_cpu_ms`, cpuMs(cpu), 'ms', { wallMs: Math.round(performance.now() - wall), ...extra })
  }
  const net = await createNodes(NODES, { network: 'sim', seed, prekeys })
  try {
    const sim = net.sim!
    phase('start', cpu0, wall0, { nodes: NODES, prekeys })
    let cpu = process.cpuUsage(); let wall = performance.now()
    await formDht(net, 10)
    phase('dht_formed', cpu, wall, { simulatedMs: sim.now, datagrams: sim.stats.sent })
    cpu = process.cpuUsage(); wall = performance.now()
    const sent0 = sim.stats.sent
    const fired0 = sim.clock.fired
    const work0 = workCounts(net)
    const sent = await conversation(net, { members: MEMBERS, restarted: MEMBERS[3]!, downMs: 30_000, maxMs: 600_000 })
    let lookups = 0; let found = 0; let ratchetOut = 0
    for (const m of MEMBERS) { const s = net.nodes[m]!.actions.stats(); lookups += Number(s.lookupsStarted); found += Number(s.lookupsFound); ratchetOut += Number(s.ratchetOut) }
    phase('conversation', cpu, wall, { messages: sent.length, simulatedMs: sim.now, datagrams: sim.stats.sent - sent0, events: sim.clock.fired - fired0, lookups, lookupsFound: found, ratchetOut })
    const w = workSince(work0, workCounts(net))
    emit('testnet_sim_conversation_handshakes', w.handshakes.started, 'count', { ...w.handshakes, dials: w.dials })
    emit('testnet_sim_conversation_envelopes', Object.values(w.envelopes).reduce((a, b) => a + b, 0), 'count', { byType: w.envelopes, prekeyFrames: w.prekeyFrames, presenceFrames: w.presenceFrames, sessions: w.sessions, sendFailures: w.sendFailures })
    emit('testnet_sim_conversation_lookups', w.lookups.started, 'count', { found: w.lookups.found })
    emit('testnet_sim_conversation_store_batches', w.store.batches, 'count', { puts: w.store.puts, dels: w.store.dels })
    emit('testnet_sim_50_nodes_cpu_ms', cpuMs(cpu0), 'ms', { wallMs: Math.round(performance.now() - wall0), ...threadSplit(threads0, threadCpuMs()), seed, prekeys })
  } finally {
    await net.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run()
}
