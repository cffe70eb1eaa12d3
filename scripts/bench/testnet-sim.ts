// The whole-node testnet on the simulator (src/node/testnet.ts), the scenario of
// test/node/testnet.test.ts: 50 nodes form a DHT, every pair of 20 contacts (known to each other
// by invite only, so each first finds the other in the DHT) exchanges a message, one of them is
// stopped for 30 s of simulated time and started again, until every message has its receipt.
// Wall and CPU time of each phase, and what it took (datagrams, simulated events): one JSON line
// per metric. Bounded: a fixed scenario, and each wait fails past its limit of simulated time.
//   npm run bench -- testnet-sim
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { createNodes, type TestNode } from '../../src/node/testnet.js'

const NODES = 50
const MEMBERS = Array.from({ length: 20 }, (_, i) => i * 2 + 5)
const RESTARTED = MEMBERS[3]!

function emit (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ metric, value: Math.round(value), unit, ...extra }) + '\n')
}

/**
 * What each node received (texts) and holds receipts for (ids), read from its events as they come:
 * the condition is checked after every simulated event, and rescanning every node's events each
 * time cost the benchmark more CPU than some of the work it measures (test/node/testnet.test.ts
 * reads them the same way).
 */
class Seen {
  readonly texts = new Set<string>()
  readonly receipts = new Set<string>()
  #list: TestNode['seen'] | null = null
  #read = 0

  catchUp (node: TestNode): void {
    if (node.seen !== this.#list) { this.#list = node.seen; this.#read = 0 } // a restarted node's new run
    for (; this.#read < node.seen.length; this.#read++) {
      const e = node.seen[this.#read]!
      const m = e.message as { direction?: string, text?: string } | undefined
      if (e.type === 'message' && m?.direction === 'in' && m.text !== undefined) this.texts.add(m.text)
      if (e.type === 'receipt' && e.direction === 'out' && (e.status === 'delivered' || e.status === 'read')) for (const id of e.ids as string[]) this.receipts.add(id)
    }
  }
}

function cpuMs (since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since)
  return (c.user + c.system) / 1000
}

export async function run (seed = 1): Promise<void> {
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const phase = (name: string, cpu: NodeJS.CpuUsage, wall: number, extra: Record<string, unknown> = {}): void => {
    emit(`testnet_sim_${name}_cpu_ms`, cpuMs(cpu), 'ms', { wallMs: Math.round(performance.now() - wall), ...extra })
  }
  const net = await createNodes(NODES, { network: 'sim', seed })
  try {
    const sim = net.sim!
    phase('start', cpu0, wall0, { nodes: NODES })
    let cpu = process.cpuUsage(); let wall = performance.now()
    await net.until(() => net.nodes.every(n => (n.dht?.tableSize ?? 0) >= 10), 60_000, 'every routing table filled')
    phase('dht_formed', cpu, wall, { simulatedMs: sim.now, datagrams: sim.stats.sent })
    cpu = process.cpuUsage(); wall = performance.now()
    const sent0 = sim.stats.sent
    const fired0 = sim.clock.fired
    for (const [k, a] of MEMBERS.entries()) for (const b of MEMBERS.slice(k + 1)) await net.befriend(net.nodes[a]!, net.nodes[b]!)
    const sent: Array<{ from: number, to: number, id: string, text: string }> = []
    const send = async (from: number, to: number, text: string): Promise<void> => {
      sent.push({ from, to, text, id: (await net.nodes[from]!.actions.send(net.nodes[to]!.fingerprint, text)).id })
    }
    for (const a of MEMBERS) for (const b of MEMBERS) if (a !== b) await send(a, b, `${a} to ${b}`)
    await net.advance(1)
    await net.stop(RESTARTED)
    for (const a of MEMBERS) if (a !== RESTARTED) await send(a, RESTARTED, `${a} to ${RESTARTED} while it is down`)
    await net.advance(30_000)
    await net.restart(RESTARTED)
    for (const b of MEMBERS) if (b !== RESTARTED) await send(RESTARTED, b, `${RESTARTED} to ${b} after its restart`)
    const seen = net.nodes.map(() => new Seen())
    let pending = sent.slice()
    const through = (): boolean => {
      for (const [i, n] of net.nodes.entries()) seen[i]!.catchUp(n)
      pending = pending.filter(s => !seen[s.to]!.texts.has(s.text) || !seen[s.from]!.receipts.has(s.id))
      return pending.length === 0
    }
    await net.until(through, 600_000, 'every message received and receipted')
    phase('conversation', cpu, wall, { messages: sent.length, simulatedMs: sim.now, datagrams: sim.stats.sent - sent0, events: sim.clock.fired - fired0 })
    emit('testnet_sim_50_nodes_cpu_ms', cpuMs(cpu0), 'ms', { wallMs: Math.round(performance.now() - wall0), seed })
  } finally {
    await net.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run()
}
