// The simulated testnet replays exactly: two runs of one whole-node scenario with the same seed
// (DHT formed, contacts befriended by invite, messages and receipts, one node stopped and
// started again mid-conversation) give the same trace, line for line: every event of every node,
// every datagram in the order sent (time, addresses, length, packet type), how many timers fired,
// and every node's messaging counters. Anything a run takes from outside the seed (OS randomness
// that orders messages or sessions, real timers, real I/O) shows up here as a difference.
import t from 'tap'
import { createNodes } from '../../src/node/testnet.js'
import { testSeed } from '../helpers/seed.js'
import { received, receipted } from './helpers.js'

const MEMBERS = [3, 6, 11, 17]
const RESTARTED = 6

async function scenario (seed: number): Promise<{ trace: string[], delivered: number }> {
  const net = await createNodes(20, { network: 'sim', seed, tracePackets: true })
  try {
    await net.until(() => net.nodes.every(n => (n.dht?.tableSize ?? 0) >= 8), 60_000, 'every routing table filled')
    for (const [k, a] of MEMBERS.entries()) for (const b of MEMBERS.slice(k + 1)) await net.befriend(net.nodes[a]!, net.nodes[b]!)
    const sent: Array<{ from: number, to: number, id: string, text: string }> = []
    const send = async (from: number, to: number, text: string): Promise<void> => {
      sent.push({ from, to, text, id: (await net.nodes[from]!.actions.send(net.nodes[to]!.fingerprint, text)).id })
    }
    for (const a of MEMBERS) for (const b of MEMBERS) if (a !== b) await send(a, b, `${a} to ${b}`)
    await net.advance(1)
    await net.stop(RESTARTED)
    for (const a of MEMBERS) if (a !== RESTARTED) await send(a, RESTARTED, `${a} to ${RESTARTED} while it is down`)
    await net.advance(20_000)
    await net.restart(RESTARTED)
    const through = (): boolean => sent.every(s => received(net.nodes[s.to]!, s.text) && receipted(net.nodes[s.from]!, s.id))
    await net.until(through, 600_000, 'every message received and receipted')
    const counters = net.nodes.map(n => `counters ${n.index} ${JSON.stringify(n.actions.stats())}`)
    return { trace: [...net.trace, `timers fired ${net.sim!.clock.fired}`, ...counters], delivered: sent.length }
  } finally {
    await net.destroy()
  }
}

t.test('two runs with the same seed: the same events, datagrams, timers and counters', async t => {
  const seed = testSeed(t, 0x5eed, 'the simulated network and the nodes\' keys')
  const first = await scenario(seed)
  t.equal(first.delivered, 15, 'every message arrived and was receipted')
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
