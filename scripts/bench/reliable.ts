// Reliable channel over the network simulator: a 64 MiB one-way bulk transfer across a
// 100 Mbit/s bottleneck (20 ms RTT, one bandwidth-delay product of queue) at 0% and 1% random
// loss. Reports simulated goodput (what congestion control achieves) and the CPU time both
// channel ends plus the simulator spend (what the implementation costs). One JSON line per metric.
//   npx tsx scripts/bench/reliable.ts        (or: npm run bench -- reliable)
import { pathToFileURL } from 'node:url'
import { createSimNetwork, createRng } from '../../src/sim/index.js'
import { connectChannels } from '../../src/transport/reliable/channel-pair.js'

const TOTAL_BYTES = 64 * 1024 * 1024
const MESSAGE_BYTES = 64 * 1024
const LINK_BPS = 100_000_000
const RTT_MS = 20
const MAX_SIM_MS = 30 * 60_000 // bound every run in simulated time…
const MAX_EVENTS = 5_000_000 // …and in work

interface Result { goodputMbps: number, simSeconds: number, cpuMs: number, packets: number, retransmitted: number, complete: boolean }

function transfer (loss: number): Result {
  const queueBytes = LINK_BPS / 8 * RTT_MS / 1000
  const net = createSimNetwork({ seed: 1, latencyMs: { base: RTT_MS / 2 }, loss, bandwidthBps: LINK_BPS, queueBytes })
  let received = 0
  let wrongSize = 0
  const { a } = connectChannels(net, { onMessage: (m) => { received += m.length; if (m.length !== MESSAGE_BYTES) wrongSize++ } })
  const payload = createRng(2).bytes(MESSAGE_BYTES) // the channel copies on send, so one buffer serves
  const cpu0 = process.cpuUsage()
  for (let sent = 0; sent < TOTAL_BYTES; sent += MESSAGE_BYTES) a.enqueue(payload)
  net.run({ done: () => received >= TOTAL_BYTES, until: MAX_SIM_MS, maxEvents: MAX_EVENTS })
  const cpu = process.cpuUsage(cpu0)
  const s = a.channel.stats
  return {
    goodputMbps: received * 8 / (net.now / 1000) / 1e6,
    simSeconds: net.now / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    packets: s.packetsSent,
    retransmitted: s.retransmittedBytes,
    complete: received === TOTAL_BYTES && wrongSize === 0
  }
}

const round = (x: number): number => Math.round(x * 100) / 100

export async function run (): Promise<void> {
  for (const loss of [0, 0.01]) {
    const r = transfer(loss)
    const params = { bytes: TOTAL_BYTES, linkMbps: LINK_BPS / 1e6, rttMs: RTT_MS, loss, simSeconds: round(r.simSeconds), packets: r.packets, retransmittedBytes: r.retransmitted, complete: r.complete }
    const tag = `loss${loss * 100}pct`
    console.log(JSON.stringify({ metric: `reliable_sim_goodput_mbps_${tag}`, value: round(r.goodputMbps), params }))
    console.log(JSON.stringify({ metric: `reliable_cpu_ms_64mib_${tag}`, value: round(r.cpuMs), params }))
    console.log(JSON.stringify({ metric: `reliable_cpu_throughput_mb_per_s_${tag}`, value: round(TOTAL_BYTES / 1e6 / (r.cpuMs / 1000)), params: { what: 'both channel ends + simulator, per CPU second' } }))
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
