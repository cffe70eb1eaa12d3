// Congestion control over a simulated bottleneck: a clean bulk transfer nearly fills the link
// without flooding it; under heavy random loss it still completes; an outage drops the window
// to one packet (RTO) and the transfer recovers when the link returns.
import t from 'tap'
import { createSimNetwork, createRng } from '../../src/sim/index.js'
import { connectChannels, type ChannelEnd } from '../../src/transport/reliable/channel-pair.js'
import { sha256 } from '../../src/crypto/primitives.js'

const MSG = 64 * 1024

function bulk (end: ChannelEnd, bytes: number, seed: number): Uint8Array[] {
  const rng = createRng(seed)
  const msgs = Array.from({ length: Math.ceil(bytes / MSG) }, () => rng.bytes(MSG))
  for (const m of msgs) end.enqueue(m)
  return msgs
}

const digest = (ms: Uint8Array[]): string => Buffer.from(sha256(...ms)).toString('hex')

t.test('0% loss: goodput approaches the bottleneck rate; the sender does not flood the queue', async t => {
  const bps = 20_000_000
  const rttMs = 40
  const bdp = bps / 8 * rttMs / 1000 // 100 kB
  const net = createSimNetwork({ seed: 31, latencyMs: { base: rttMs / 2 }, bandwidthBps: bps, queueBytes: bdp })
  const { a, b } = connectChannels(net)
  const total = 8 * 1024 * 1024
  const sent = bulk(a, total, 32)
  const cwnds: number[] = []
  const sample = (): void => { cwnds.push(a.channel.stats.cwndBytes); if (cwnds.length < 5) net.clock.after(rttMs, sample) }
  net.clock.after(1, sample)
  net.run({ done: () => b.received.length === sent.length, until: 120_000 })
  const goodputBps = total * 8 / (net.now / 1000)
  t.equal(digest(b.received), digest(sent), 'all data intact')
  t.ok(goodputBps >= 0.8 * bps, `goodput ${(goodputBps / 1e6).toFixed(2)} Mbit/s of ${bps / 1e6}`)
  const grows = cwnds.every((c, i) => i === 0 || c >= cwnds[i - 1]!) && cwnds.at(-1)! >= 4 * cwnds[0]!
  t.ok(grows, `slow start grows fast in the first round trips: ${cwnds.map(c => Math.round(c)).join(' → ')}`)
  const s = a.channel.stats
  t.ok(s.congestionEvents >= 1, 'the queue overflowed at least once and the sender backed off')
  t.ok(net.stats.queueDrops / s.packetsSent < 0.03, `few drops: ${net.stats.queueDrops} of ${s.packetsSent} packets`)
  t.ok(s.ssthreshBytes < 4 * bdp, `ssthresh ${Math.round(s.ssthreshBytes)} settles near the path capacity`)
  t.comment(JSON.stringify({ simS: net.now / 1000, goodputMbps: goodputBps / 1e6, ...s }))
})

t.test('20% random loss on a bottleneck: a 2 MiB bulk transfer completes intact', async t => {
  const net = createSimNetwork({ seed: 33, latencyMs: { base: 15, jitter: 5 }, loss: 0.2, bandwidthBps: 10_000_000, queueBytes: 50_000 })
  const { a, b } = connectChannels(net)
  const sent = bulk(a, 2 * 1024 * 1024, 34)
  net.run({ done: () => b.received.length === sent.length, until: 3_600_000 })
  t.equal(b.received.length, sent.length)
  t.equal(digest(b.received), digest(sent), 'intact')
  const s = a.channel.stats
  t.ok(s.congestionEvents > 10 && s.retransmits > 0, `the sender backed off repeatedly (${s.congestionEvents} congestion events) and recovered every loss`)
})

t.test('an outage: RTO resets the window to one packet and backs off; the transfer resumes', async t => {
  const net = createSimNetwork({ seed: 35, latencyMs: { base: 10 }, bandwidthBps: 50_000_000, queueBytes: 200_000 })
  const { a, b } = connectChannels(net)
  const sent = bulk(a, 4 * 1024 * 1024, 36)
  net.advance(200) // well into the transfer
  const before = a.channel.stats
  t.ok(before.cwndBytes > 12_000, `window opened to ${Math.round(before.cwndBytes)}`)
  net.setLink('a', 'b', { down: true })
  net.setLink('b', 'a', { down: true })
  net.advance(60) // datagrams already on the wire land; nothing more gets through
  const flight = a.channel.stats.bytesInFlight
  t.equal(a.channel.stats.rtoCount, 0)
  net.advance(400) // past the RTO (≥ 200 ms after the last ACK)
  const during = a.channel.stats
  t.ok(during.rtoCount >= 1, 'the retransmission timer fired')
  t.equal(during.cwndBytes, 1200, 'RFC 5681 §3.1: cwnd = 1 MSS after a timeout')
  t.equal(during.ssthreshBytes, Math.max(flight / 2, 2400), 'ssthresh = max(FlightSize/2, 2 MSS)')
  net.advance(5_000)
  const later = a.channel.stats
  t.ok(later.rtoCount >= 3 && later.rtoCount <= 6, `backed off exponentially: ${later.rtoCount} timeouts in 5 s`)
  net.setLink('a', 'b', {})
  net.setLink('b', 'a', {})
  net.run({ done: () => b.received.length === sent.length, until: net.now + 120_000 })
  t.equal(digest(b.received), digest(sent), 'everything arrives once the link is back')
})
