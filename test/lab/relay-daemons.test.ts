// Two `dmess daemon` processes behind real symmetric NATs (`MASQUERADE --random-fully`: a new
// port per destination, where no hole punch gets through, test/lab/hole-punch.test.ts) talk with
// no relay configured by anyone (proto-spec/traversal.md §7): the only configured node is
// `dmess bootstrap` on the lab's public address — their DHT bootstrap, and so their rendezvous
// and, being public, a relay. Alice and Bob add each other by fingerprint; Alice's message must be
// delivered and `dmess peers --json` must show the link relayed via the bootstrap node, and a
// 3 MiB file must arrive through that relay byte for byte (proto-spec/files.md). Then a
// first contact (traversal.md §5.4): Carol, behind the same kind of NAT, adds Alice by fingerprint
// only and writes; her contact request must reach Alice, who never added her. Prints this run's
// relayed connect time (the daemon's, from its first punch to the Noise session through the relay)
// as a JSON line; the median over runs is a measurement, not a test: `npm run bench -- lab-connect
// symmetric-symmetric` (scripts/bench/lab-connect.ts).
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { addSiteHost, createNatLab } from '../../scripts/lab/nat.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, waitFor } from '../daemon/helpers.js'
import { dmess, homes, startBootstrap, startDaemon, stop, type Home, type Proc } from './fixtures/daemons.js'
import { downloadDir, sendFile } from './fixtures/file-transfer.js'

interface Peer { fingerprint: string, address: string, state: string, path: { via: string, relay?: string, rttMs?: number | null, candidate?: string | null } | null }
interface Status { relay?: { using?: Array<{ peer: string, via: string, state: string }> } }

/** The `connectMs` of the n-th "session through a relay" line in a daemon's log (pino JSON on stderr). */
function connectTimes (p: Proc): number[] {
  return p.log().split('\n').flatMap(l => {
    if (!l.includes('session through a relay')) return []
    try {
      const v = (JSON.parse(l) as { connectMs?: unknown }).connectMs
      return typeof v === 'number' ? [v] : []
    } catch { return [] }
  })
}

async function waitForRecord (reader: Home, owner: Home): Promise<void> {
  let rec: { rendezvous: unknown[] } | undefined
  await waitFor(async () => {
    const r = await runCliInProcess(['dht', 'lookup', owner.fingerprint, '--json', '--timeout', '5', '--home', reader.home], { env: PW, timeoutMs: 15_000 })
    rec = r.code === 0 ? JSON.parse(r.stdout) as typeof rec : undefined
    return (rec?.rendezvous.length ?? 0) > 0
  }, 90_000, () => `${owner.name}'s record with a rendezvous entry: ${JSON.stringify(rec)}`)
}

async function peerRow (h: Home, of: Home): Promise<Peer | undefined> {
  return (JSON.parse(await dmess(h, ['peers', '--json'])) as Peer[]).find(p => p.fingerprint === of.fingerprint)
}

if (labReady(t, 'the relay daemons lab', iptablesUnavailableReason)) {
  t.test('symmetric ↔ symmetric through real NAT: two daemons end relayed via the bootstrap node, nobody configured a relay', async t => {
    t.setTimeout(540_000)
    const [alice, bob, carol] = await homes(t, 'alice', 'bob', 'carol') as [Home, Home, Home]
    await withLab(async lab => {
      const net = await createNatLab(lab, ['random-fully', 'random-fully'])
      const [sa, sb] = net.sites as [typeof net.sites[number], typeof net.sites[number]]
      const procs: Proc[] = []
      const t0 = Date.now()
      const step = (what: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`) }
      try {
        await dmess(bob, ['config', 'set', 'downloadDir', downloadDir(bob)])
        const port = await startBootstrap(net.inetNs, net.publicAddress, procs)
        const bootstrap = `${net.publicAddress}:${port}`
        const aliceProc = await startDaemon(sa.hostNs, alice, bootstrap, procs, ['--no-mdns'])
        const bobProc = await startDaemon(sb.hostNs, bob, bootstrap, procs, ['--no-mdns'])
        step('bootstrap node and daemons running')
        await waitForRecord(alice, bob)
        await waitForRecord(bob, alice)
        step('both records list a rendezvous')
        await dmess(alice, ['contacts', 'add', bob.fingerprint, '--name', 'bob'])
        await dmess(bob, ['contacts', 'add', alice.fingerprint, '--name', 'alice'])
        const sent = await dmess(alice, ['send', bob.fingerprint, 'through a relay nobody set up', '--wait', 'delivered', '--timeout', '120', '--json'], 135_000)
        t.match(JSON.parse(sent), { status: 'delivered' }, "Alice's message is delivered")
        step('delivered')
        const p = await peerRow(alice, bob)
        t.equal(p?.state, 'online')
        t.equal(p?.path?.via, 'relayed', `relayed: ${JSON.stringify(p?.path)}`)
        t.equal(p?.path?.relay, bootstrap, 'via the bootstrap node (the only public dmess node)')
        t.ok(p?.address?.startsWith(`${net.publicAddress}:`), `Alice's peer address is a relay port (${p?.address})`)
        t.equal(typeof p?.path?.rttMs, 'number', 'with the round trip through the relay')
        t.equal((await peerRow(bob, alice))?.path?.via, 'relayed', 'Bob sees it relayed too')
        const status = JSON.parse(await dmess(alice, ['status', '--json'])) as Status
        t.ok(status.relay?.using?.some(u => u.peer === bob.fingerprint && u.via === bootstrap), `dmess status names the relay in use: ${JSON.stringify(status.relay?.using)}`)
        const back = await dmess(bob, ['send', alice.fingerprint, 'and back', '--wait', 'delivered', '--timeout', '60', '--json'], 75_000)
        t.match(JSON.parse(back), { status: 'delivered' }, "Bob's answer is delivered through the same relay")
        // a file through the relay (proto-spec/files.md): it relays sealed packets, file chunks included
        const file = await sendFile(t, alice, bob, 'bob', 3 * 1024 * 1024 + 5)
        step('a file sent through the relay')
        t.equal(file.badChunks, 0, 'no chunk failed its proof')
        t.equal((await peerRow(alice, bob))?.path?.via, 'relayed', 'still relayed')

        // this run's connect time, from the log of the daemon that dialled through the relay: one
        // figure, not a median (see the top). Both wrote, so either may be it: the pair keeps the
        // allocation of the smaller fingerprint's side, which dials (traversal.md §7.6)
        const times = [...connectTimes(aliceProc), ...connectTimes(bobProc)]
        t.ok(times.length > 0, "the daemon that dialled through the relay (Alice's or Bob's) logged its session")
        t.comment(JSON.stringify({ metric: 'relay-connect-lab-daemons-symmetric-ms', value: Math.round((times[0] ?? NaN) * 10) / 10, unit: 'ms', runs: 1, from: 'first punch (record looked up) to the Noise session through the relay' }))

        // first contact: Carol, behind her own symmetric NAT, adds Alice by fingerprint only
        const sc = await addSiteHost(lab, sb, 0)
        await startDaemon(sc.hostNs, carol, bootstrap, procs, ['--no-mdns'])
        await waitForRecord(carol, alice)
        await dmess(carol, ['contacts', 'add', alice.fingerprint, '--name', 'alice'])
        await dmess(carol, ['send', alice.fingerprint, 'hello from a stranger', '--json'])
        let requests: Array<{ fingerprint: string }> = []
        await waitFor(async () => {
          requests = JSON.parse(await dmess(alice, ['requests', '--json'])) as typeof requests
          return requests.some(r => r.fingerprint === carol.fingerprint)
        }, 120_000, () => `Carol's contact request at Alice: ${JSON.stringify(requests)}`)
        t.pass("Carol's contact request reached Alice behind her symmetric NAT")
        t.equal((await peerRow(carol, alice))?.path?.via, 'relayed', 'through a relay Alice picked')
        step('first contact')
      } catch (err) {
        for (const p of procs) t.comment(p.log().slice(-4000))
        throw err
      } finally {
        for (const p of procs.reverse()) await stop(p.child)
      }
    })
  })
}
