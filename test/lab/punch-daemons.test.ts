// Two `dmess daemon` processes behind real Linux NAT (scripts/lab/nat.ts: iptables MASQUERADE,
// conntrack admitting only replies — an endpoint-independent mapping with address-and-port
// dependent filtering, a home router) reach each other directly by hole punching
// (proto-spec/traversal.md). Both sites use 192.168.1.0/24, so no private address crosses; the
// only public dmess node is `dmess bootstrap` in the lab's internet namespace, which is both
// daemons' DHT bootstrap and, with no configuration, their rendezvous. Alice and Bob add each
// other by fingerprint (only contacts may make a node punch, traversal.md §5.3); Alice's message
// must be delivered and `dmess peers --json` must show Bob at his NAT's public address, direct.
// Then a 3 MiB file goes over the punched path, byte for byte (proto-spec/files.md).
// (Both behind one NAT, double NAT and a miniupnpd router: test/lab/nat-matrix.test.ts.)
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { labReady, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createNatLab, type NatMode } from '../../scripts/lab/nat.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, waitFor } from '../daemon/helpers.js'
import { dmess, homes, startBootstrap, startDaemon, stop, waitForDirect, type Home, type Proc } from './fixtures/daemons.js'
import { downloadDir, sendFile } from './fixtures/file-transfer.js'


if (labReady(t, 'the NAT punch daemons lab', iptablesUnavailableReason)) {
  const pair: NatMode[] = ['masquerade', 'masquerade']
  t.test('cone – cone through real NAT: two daemons end direct, through the bootstrap node as rendezvous', async t => {
    t.setTimeout(540_000)
    const [alice, bob] = await homes(t, 'alice', 'bob') as [Home, Home]
    await withLab(async lab => {
      const net = await createNatLab(lab, pair)
      const [sa, sb] = net.sites as [typeof net.sites[number], typeof net.sites[number]]
      const procs: Proc[] = []
      const t0 = Date.now()
      const step = (what: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`) }
      try {
        await dmess(bob, ['config', 'set', 'logLevel', 'debug'])
        await dmess(bob, ['config', 'set', 'downloadDir', downloadDir(bob)])
        const port = await startBootstrap(net.inetNs, net.publicAddress, procs)
        const bootstrap = `${net.publicAddress}:${port}`
        await Promise.all([startDaemon(sa.hostNs, alice, bootstrap, procs, ['--no-mdns']), startDaemon(sb.hostNs, bob, bootstrap, procs, ['--no-mdns'])])
        step('bootstrap node and daemons running')
        // Bob registers with the bootstrap node as his rendezvous and republishes his record with it
        let rec: { addresses: Array<{ host: string, kind: string }>, natKind: string, rendezvous: unknown[] } | undefined
        await waitFor(async () => {
          const r = await runCliInProcess(['dht', 'lookup', bob.fingerprint, '--json', '--timeout', '5', '--home', alice.home], { env: PW, timeoutMs: 15_000 })
          rec = r.code === 0 ? JSON.parse(r.stdout) as typeof rec : undefined
          return (rec?.rendezvous.length ?? 0) > 0
        }, 90_000, () => `Bob's record with a rendezvous entry: ${JSON.stringify(rec)}`)
        step('Bob\'s record lists his rendezvous')
        t.ok(rec?.addresses.some(a => a.kind === 'reflexive' && a.host === sb.wanAddress), `his record carries his reflexive address ${sb.wanAddress}: ${JSON.stringify(rec?.addresses)}`)
        await dmess(alice, ['contacts', 'add', bob.fingerprint, '--name', 'bob'])
        await dmess(bob, ['contacts', 'add', alice.fingerprint, '--name', 'alice'])
        const sent = await dmess(alice, ['send', bob.fingerprint, 'through two home routers', '--wait', 'delivered', '--timeout', '120', '--json'], 135_000)
        t.match(JSON.parse(sent), { status: 'delivered' }, 'Alice\'s message is delivered')
        step('delivered')
        // a punch that loses the race to the relay (traversal.md §7.2) still moves the session direct (§7.3)
        const { peers, back } = await waitForDirect(alice, bob)
        const p = peers.find(q => q.fingerprint === bob.fingerprint)
        const q = back.find(r => r.fingerprint === alice.fingerprint)
        t.equal(p?.state, 'online')
        t.ok(p?.address?.startsWith(`${sb.wanAddress}:`), `Alice talks to Bob's router's public address ${sb.wanAddress}: ${p?.address}`)
        t.equal(p?.path?.via, 'direct', 'direct: no relay on the path')
        // one rendezvous cannot tell a NAT's kind: each record says 'unknown', so each side also dials
        // the other's reflexive address (traversal.md §5.3), and two such dials crossing open both
        // NATs as a punch does; whichever made the session, it is direct at the public address
        const won = p?.path?.candidate ?? q?.path?.candidate ?? null
        const byDial = rec?.natKind === 'unknown' && won === null
        t.ok(won === 'reflexive' || won === 'peer-reflexive' || byDial, `a hole punch or the crossing dials found the path (${String(won)}, NAT kind ${String(rec?.natKind)})`)
        const status = JSON.parse(await dmess(bob, ['status', '--json'])) as { traversal?: { registeredWith: string[] } }
        t.ok(status.traversal?.registeredWith.includes(bootstrap), `dmess status names the rendezvous Bob is registered with: ${JSON.stringify(status.traversal?.registeredWith)}`)
        // a file over the punched path (proto-spec/files.md)
        const file = await sendFile(t, alice, bob, 'bob', 3 * 1024 * 1024 + 5)
        step('a file sent direct')
        t.equal(file.badChunks, 0, 'no chunk failed its proof')
        t.equal((await waitForDirect(alice, bob)).peers.find(q => q.fingerprint === bob.fingerprint)?.path?.via, 'direct', 'the link stayed direct')
      } catch (err) {
        for (const p of procs) t.comment(p.log().slice(-4000))
        throw err
      } finally {
        for (const p of procs.reverse()) await stop(p.child)
      }
    })
  })
}
