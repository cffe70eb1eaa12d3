// Network lab: symmetric ↔ symmetric through real Linux NAT (`--random-fully`, where the textbook
// punch fails: test/lab/hole-punch.test.ts), relayed by `dmess bootstrap` on the public address
// (proto-spec/relay.md). Each host runs a dmess Endpoint with a relay client (fixture
// relay-peer.ts); one allocates, the offer is handed to the other (in real use it travels end to
// end through the signalling channel), which joins and completes a Noise session through the
// relay. Prints the relayed connect time as JSON lines (5 runs, median).
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { join } from 'node:path'
import { labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createNatLab } from '../../scripts/lab/nat.js'
import { repoRoot, spawnJson, type JsonChild } from '../../scripts/bench/peers/reliable-child.js'
import { BIN } from '../helpers/cli.js'

const WAIT_MS = 30_000
const RUNS = 5
const fixture = join(repoRoot, 'test/lab/fixtures/relay-peer.ts')

function peer (ns: string, args: string[]): JsonChild {
  return spawnJson('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture, ...args])
}

if (labReady(t, 'the relay lab', iptablesUnavailableReason)) {
  t.test('symmetric ↔ symmetric, relayed by dmess bootstrap', async t => {
    await withLab(async lab => {
      const net = await createNatLab(lab, ['random-fully', 'random-fully'])
      const relay = spawnJson('ip', ['netns', 'exec', net.inetNs, process.execPath, BIN, 'bootstrap', '--host', net.publicAddress, '--port', '0', '--stats-interval', '0.5'])
      const children = [relay]
      try {
        const address = String((await relay.next(o => o.event === 'listening', WAIT_MS)).address)
        const times: number[] = []
        for (let run = 0; run < RUNS; run++) {
          const a = peer(net.sites[0]!.hostNs, ['--relay', address, '--mode', 'allocate'])
          children.push(a)
          const offered = await a.next(o => typeof o.fingerprint === 'string', WAIT_MS)
          const b = peer(net.sites[1]!.hostNs, ['--relay', address, '--mode', 'join', '--offer', JSON.stringify(offered.offer), '--peer', String(offered.fingerprint)])
          children.push(b)
          const done = await b.next(o => o.connected !== undefined, WAIT_MS)
          t.equal(done.connected, 'pong', `run ${run}: a Noise session through the relay, both ways`)
          t.equal(done.via, address)
          const heard = await a.next(o => o.heard !== undefined, WAIT_MS)
          t.ok(String(heard.remote).startsWith(`${net.publicAddress}:`), "A's peer is the relay's address, not B's NAT")
          times.push(Number(offered.allocateMs) + Number(done.ms))
          a.stop()
          b.stop()
        }
        times.sort((x, y) => x - y)
        t.comment(JSON.stringify({ metric: 'relay-connect-lab-symmetric-ms', value: Math.round(times[2]! * 10) / 10, unit: 'ms', runs: times.map(x => Math.round(x)) }))
        // the handshake (3) and ping/pong (2) of every run went through the relay; its stats line says so
        const stats = await relay.next(o => o.event === 'stats' && ((o.relay as { forwardedPackets?: number })?.forwardedPackets ?? 0) >= RUNS * 5, WAIT_MS)
        t.ok(stats, `the relay's stats: ${JSON.stringify(stats.relay)}`)
      } finally {
        for (const c of children) c.stop()
      }
    })
  })
}
