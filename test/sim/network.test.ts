import t from 'tap'
import { createSimNetwork, driveCore, type SimNetwork } from '../../src/sim/index.js'

const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b }
const num = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0)

function blast (net: SimNetwork, n: number, size = 4): { got: number[], times: number[] } {
  const got: number[] = []
  const times: number[] = []
  const a = net.bind('a')
  net.bind('b', (d, from) => { if (from === 'a') { got.push(num(d)); times.push(net.now) } })
  for (let i = 0; i < n; i++) {
    const d = new Uint8Array(size)
    d.set(u32(i))
    a.send('b', d)
  }
  net.run()
  return { got, times }
}

t.test('delivers after the configured latency and copies the datagram', async t => {
  const net = createSimNetwork({ seed: 1, latencyMs: { base: 25 } })
  const a = net.bind('10.0.0.1:1')
  let got: Uint8Array | null = null
  let at = -1
  net.bind('10.0.0.2:1', (d, from) => { got = d; at = net.now; t.equal(from, '10.0.0.1:1') })
  const data = new Uint8Array([1, 2, 3])
  a.send('10.0.0.2:1', data)
  data[0] = 9
  net.run()
  t.same(got, new Uint8Array([1, 2, 3]), 'sender mutating its buffer later does not change the datagram')
  t.equal(at, 25)
  t.equal(net.stats.delivered, 1)
})

t.test('loss and duplication happen at about the configured rates', async t => {
  const net = createSimNetwork({ seed: 2, latencyMs: { base: 5, jitter: 5 }, loss: 0.2, duplicate: 0.05 })
  const { got } = blast(net, 20_000)
  const unique = new Set(got).size
  t.ok(Math.abs(unique / 20_000 - 0.8) < 0.02, `delivered share ${unique / 20_000}`)
  const dups = got.length - unique
  t.ok(Math.abs(dups / unique - 0.05) < 0.01, `duplicate share ${dups / unique}`)
  t.equal(net.stats.lost + net.stats.delivered - net.stats.duplicated, 20_000, 'every datagram accounted for')
})

t.test('jitter alone keeps a link in order; reordering lets some overtake', async t => {
  const fifo = blast(createSimNetwork({ seed: 3, latencyMs: { base: 10, jitter: 20 } }), 2000)
  t.same(fifo.got, [...fifo.got].sort((x, y) => x - y), 'in order')
  const re = blast(createSimNetwork({ seed: 3, latencyMs: { base: 10, jitter: 20 }, reorder: 0.1, reorderDelayMs: 30 }), 2000)
  let inversions = 0
  for (let i = 1; i < re.got.length; i++) if (re.got[i]! < re.got[i - 1]!) inversions++
  t.ok(inversions > 50, `${inversions} out-of-order arrivals`)
  t.equal(new Set(re.got).size, 2000, 'reordering loses nothing')
})

t.test('a bottleneck serializes at its rate and drops past its queue', async t => {
  // 1 Mbps: a 1250-byte datagram takes 10 ms on the wire
  const net = createSimNetwork({ seed: 4, latencyMs: { base: 0 }, bandwidthBps: 1_000_000, queueBytes: 5000 })
  const { got, times } = blast(net, 10, 1250)
  t.same(got, [0, 1, 2, 3], 'queue holds 4 datagrams; the rest are tail-dropped')
  t.same(times, [10, 20, 30, 40])
  t.equal(net.stats.queueDrops, 6)
})

t.test('same seed replays exactly; another seed does not', async t => {
  const run = (seed: number): string => {
    const net = createSimNetwork({ seed, latencyMs: { base: 10, jitter: 10 }, loss: 0.1, duplicate: 0.1, reorder: 0.1 })
    const r = blast(net, 500)
    return JSON.stringify(r)
  }
  t.equal(run(11), run(11))
  t.not(run(11), run(12))
})

t.test('per-link overrides, mtu, down links, unroutable and closed endpoints', async t => {
  const net = createSimNetwork({ seed: 5, latencyMs: { base: 10 } })
  const a = net.bind('a')
  const got: string[] = []
  const b = net.bind('b', (d) => got.push(`b${d.length}`))
  net.bind('c', (d) => got.push(`c${d.length}`))
  net.setLink('a', 'c', { down: true })
  net.setLink('a', 'b', { mtu: 100, latencyMs: () => 1 })
  a.send('b', new Uint8Array(100))
  a.send('b', new Uint8Array(101))
  a.send('c', new Uint8Array(5))
  a.send('nowhere', new Uint8Array(5))
  net.run()
  t.same(got, ['b100'])
  t.equal(net.now, 10, 'the unroutable datagram still travelled')
  t.equal(net.stats.unroutable, 1)
  t.equal(net.stats.lost, 2)
  b.close()
  a.send('b', new Uint8Array(1))
  net.run()
  t.equal(net.stats.unroutable, 2)
  t.throws(() => net.bind('a'), { code: 'BAD_ARGUMENT' })
})

t.test('driveCore feeds a core, sends its datagrams and wakes it at its deadline', async t => {
  const net = createSimNetwork({ seed: 6, latencyMs: { base: 5 } })
  const wakeups: number[] = []
  // an echo core that also wants a timer 100 ms after every poll, up to 300 ms
  const echo = {
    inbox: [] as Uint8Array[],
    receive (d: Uint8Array) { this.inbox.push(d) },
    poll (now: number) {
      wakeups.push(now)
      const datagrams = this.inbox.splice(0)
      return { datagrams, nextTimeoutAt: now < 300 ? now + 100 : null }
    }
  }
  const d = driveCore(net, { address: 'echo', peer: 'client', core: echo })
  const replies: number[] = []
  const client = net.bind('client', (data) => replies.push(num(data)))
  net.bind('stranger')
  client.send('echo', u32(7))
  net.bind('other').send('echo', u32(8)) // not the peer: ignored
  d.kick()
  net.run({ until: 1000 })
  t.same(replies, [7])
  t.same(wakeups, [0, 5, 105, 205, 305], 'kick, arrival, then the timer each 100 ms until the core wants none')
  d.detach()
  client.send('echo', u32(9))
  net.run()
  t.same(replies, [7], 'detached core no longer answers')
})

t.test('driveCore reports a core that wants polling again without time passing', async t => {
  const net = createSimNetwork({ seed: 7 })
  const stuck = { receive () {}, poll: (now: number) => ({ datagrams: [], nextTimeoutAt: now }) }
  driveCore(net, { address: 'stuck', peer: 'x', core: stuck }).kick()
  t.throws(() => net.run({ maxEvents: 10_000 }), { code: 'BAD_ARGUMENT' })
})
