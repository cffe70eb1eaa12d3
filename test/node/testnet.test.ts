// Whole nodes in one process (src/node/testnet.ts): on the seeded simulator and on real loopback
// UDP, nodes that know each other only by invite find each other through the DHT, exchange
// messages with receipts, and a node restarted mid-conversation loses nothing.
import t from 'tap'
import { createNodes, type Testnet, type TestNode } from '../../src/node/testnet.js'

const delivered = (from: TestNode, id: string): boolean =>
  from.seen.some(e => e.type === 'receipt' && e.direction === 'out' && (e.ids as string[]).includes(id) && (e.status === 'delivered' || e.status === 'read'))

const received = (to: TestNode, text: string): boolean =>
  to.seen.some(e => e.type === 'message' && (e.message as { text?: string, direction?: string }).text === text && (e.message as { direction?: string }).direction === 'in')

async function conversation (t: { pass: (m: string) => void }, net: Testnet, pairs: Array<[number, number]>): Promise<void> {
  for (const [a, b] of pairs) await net.befriend(net.nodes[a]!, net.nodes[b]!)
  const sent: Array<{ from: TestNode, to: TestNode, id: string, text: string }> = []
  for (const [a, b] of pairs) {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const from = net.nodes[x]!
      const to = net.nodes[y]!
      const text = `hello ${y} from ${x}`
      const r = await from.actions.send(to.fingerprint, text)
      sent.push({ from, to, id: r.id, text })
    }
  }
  await net.until(() => sent.every(s => received(s.to, s.text) && delivered(s.from, s.id)), 120_000, 'every message delivered and receipted')
  t.pass(`${sent.length} messages arrived and were receipted`)
}

t.test('simulator: 50 nodes form a DHT; 20 of them, all contacts of each other, exchange messages with receipts', async t => {
  const seed = Number(process.env.DMESS_TEST_SEED ?? 1)
  t.comment(`seed=${seed}`)
  const net = await createNodes(50, { network: 'sim', seed })
  t.teardown(async () => { await net.destroy() })
  await net.until(() => net.nodes.every(n => (n.dht?.tableSize ?? 0) >= 10), 60_000, 'every routing table filled')
  const twenty = Array.from({ length: 20 }, (_, i) => i * 2 + 5)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i < twenty.length; i++) for (let j = i + 1; j < twenty.length; j++) pairs.push([twenty[i]!, twenty[j]!])
  await conversation(t, net, pairs)
  t.ok(net.sim!.now < 600_000, `in ${Math.round(net.sim!.now / 1000)} s of simulated time`)
})

t.test('simulator: a node restarted mid-conversation loses nothing', async t => {
  const net = await createNodes(6, { network: 'sim', seed: 7 })
  t.teardown(async () => { await net.destroy() })
  const [, a, b] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(a, b)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await a.actions.send(b.fingerprint, `before ${i}`)).id)
  await net.stop(2)
  for (let i = 0; i < 5; i++) ids.push((await a.actions.send(b.fingerprint, `while down ${i}`)).id)
  await net.advance(30_000)
  const b2 = await net.restart(2)
  await net.until(() => ids.every(id => delivered(a, id)), 300_000, 'all ten delivered')
  const history = await b2.store.history(a.fingerprint, { limit: 100 })
  const texts = history.filter(m => m.direction === 'in').map(m => m.text)
  t.same(new Set(texts), new Set([...Array.from({ length: 5 }, (_, i) => `before ${i}`), ...Array.from({ length: 5 }, (_, i) => `while down ${i}`)]), 'every message stored exactly once')
  t.equal(texts.length, 10, 'no duplicate')
})

t.test('simulator: the same seed gives the same event trace', async t => {
  const run = async (): Promise<string[]> => {
    const net = await createNodes(8, { network: 'sim', seed: 42 })
    try {
      await net.befriend(net.nodes[3]!, net.nodes[6]!)
      const r = await net.nodes[3]!.actions.send(net.nodes[6]!.fingerprint, 'deterministic')
      await net.until(() => delivered(net.nodes[3]!, r.id), 120_000, 'delivery')
      return net.trace.slice()
    } finally {
      await net.destroy()
    }
  }
  const first = await run()
  const second = await run()
  t.ok(first.length > 5, `${first.length} events`)
  t.same(second, first, 'identical traces')
})

t.test('real loopback UDP: 10 nodes, the same scenario', async t => {
  const net = await createNodes(10, { network: 'udp' })
  t.teardown(async () => { await net.destroy() })
  await net.until(() => net.nodes.every(n => (n.dht?.tableSize ?? 0) >= 5), 30_000, 'routing tables filled')
  const pairs: Array<[number, number]> = []
  for (let i = 1; i < 10; i++) for (let j = i + 1; j < 10; j++) pairs.push([i, j])
  await conversation(t, net, pairs.slice(0, 12))
})
