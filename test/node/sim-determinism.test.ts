// The simulated testnet replays exactly: two runs of one whole-node scenario with the same seed
// (DHT formed, contacts befriended by invite, messages and receipts, one node stopped and
// started again mid-conversation) give the same trace, line for line: every event of every node,
// every datagram in the order sent (time, addresses, length, packet type), how many timers fired,
// and every node's messaging counters. Anything a run takes from outside the seed (OS randomness
// that orders messages or sessions, real timers, real I/O) shows up here as a difference.
import t from 'tap'
import { createNodes } from '../../src/node/testnet.js'
import { conversation, formDht } from '../../src/node/testnet-scenario.js'
import { testSeed } from '../helpers/seed.js'

const PLAN = { members: [3, 6, 11, 17], restarted: 6, downMs: 20_000, maxMs: 600_000 }

/** The conversation of src/node/testnet-scenario.ts on 20 simulated nodes, every datagram traced. */
async function scenario (seed: number): Promise<{ trace: string[], delivered: number }> {
  const net = await createNodes(20, { network: 'sim', seed, tracePackets: true, prekeys: true })
  try {
    await formDht(net, 8)
    const sent = await conversation(net, PLAN)
    const counters = net.nodes.map(n => `counters ${n.index} ${JSON.stringify(n.actions.stats())}`)
    return { trace: [...net.trace, `timers fired ${net.sim!.clock.fired}`, ...counters], delivered: sent.length }
  } finally {
    await net.destroy()
  }
}

t.test('two runs with the same seed: the same events, datagrams, timers and counters', async t => {
  const seed = testSeed(t, 0x5eed, 'the simulated network and the nodes\' keys')
  const first = await scenario(seed)
  t.equal(first.delivered, 4 * 3 + 3 + 3, 'every message arrived and was receipted')
  t.ok(first.trace.filter(l => l.includes(' > ')).length > 500, 'the trace holds the datagrams')
  const second = await scenario(seed)
  const at = first.trace.findIndex((line, i) => line !== second.trace[i])
  if (at >= 0 || first.trace.length !== second.trace.length) {
    const i = at >= 0 ? at : Math.min(first.trace.length, second.trace.length)
    t.fail(`the traces part at line ${i} of ${first.trace.length}/${second.trace.length}`, {
      found: second.trace.slice(Math.max(0, i - 2), i + 3), wanted: first.trace.slice(Math.max(0, i - 2), i + 3)
    })
  } else {
    t.pass(`identical traces: ${first.trace.length} lines`)
  }
})
