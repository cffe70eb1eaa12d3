// Flow control: a receiver whose application stops reading bounds what the sender may send;
// when it reads again, everything arrives — even if window updates are lost (persist probes).
import t from 'tap'
import { createSimNetwork, createRng } from '../../src/sim/index.js'
import { connectChannels } from '../../src/transport/reliable/channel-pair.js'

const WINDOW = 128 * 1024
const MSG = 16 * 1024
const COUNT = 200 // 3.2 MiB: 25 windows' worth

for (const loss of [0, 0.2]) {
  t.test(`loss ${loss * 100}%: a stalled reader holds the sender to its window, then catches up`, async t => {
    const net = createSimNetwork({ seed: 21, latencyMs: { base: 10, jitter: 2 }, loss })
    const { a, b } = connectChannels(net, { options: { recvWindowBytes: WINDOW, maxMessageBytes: MSG, sendBufferBytes: 256 * 1024 } })
    const rng = createRng(22)
    const sent = Array.from({ length: COUNT }, (_, i) => { const m = rng.bytes(MSG); m[0] = i; return m })
    b.reading = false
    for (const m of sent) a.enqueue(m)

    // run until the window is full and nothing is in flight: the sender is blocked
    net.run({ done: () => b.channel.stats.recvBufferedBytes >= WINDOW && a.channel.stats.bytesInFlight === 0, until: 600_000 })
    const sentWhenBlocked = a.channel.stats.packetsSent
    net.advance(30_000)
    const bound = WINDOW + MSG + 4 // window + one message being assembled + its header
    t.equal(b.received.length, 0, 'nothing handed to the stalled application')
    t.ok(b.channel.stats.recvBufferedBytes <= bound, `receiver holds ${b.channel.stats.recvBufferedBytes} ≤ ${bound} bytes`)
    t.ok(a.channel.stats.peerLimit <= bound, `sender may send ${a.channel.stats.peerLimit} ≤ ${bound} stream bytes`)
    t.ok(a.channel.stats.bytesInFlight <= WINDOW, 'in-flight bounded by the window')
    const probes = a.channel.stats.packetsSent - sentWhenBlocked
    t.ok(probes >= 1 && probes <= 15, `only occasional window probes while blocked (${probes} packets in 30 s)`)
    t.ok(a.backlog > 0, 'the rest waits in the application backlog (send returned false)')

    b.reading = true
    b.kick()
    net.run({ done: () => b.received.length === COUNT, until: net.now + 600_000 })
    const order = b.received.map(m => m[0])
    t.same(order, sent.map(m => m[0]), 'all messages, in order, after reading resumes')
    t.equal(b.received.filter((m, i) => Buffer.compare(m, sent[i]!) !== 0).length, 0, 'byte-exact')
  })
}
