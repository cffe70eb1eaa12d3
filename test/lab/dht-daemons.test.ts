// Reach across networks through the DHT (proto-spec/dht.md §6): two real `dmess daemon`
// processes in namespaces on different subnets — hostA 10.1.0.2/24 and hostB 10.2.0.2/24 — joined
// only by a router namespace (10.1.0.1, 10.2.0.1, ip_forward=1) that also runs `dmess bootstrap`.
// No bridge joins A and B, so multicast cannot pass: mDNS is left on and finds nothing. Each daemon
// is told only the bootstrap node's address on its own subnet. Alice adds Bob by fingerprint
// alone; her daemon looks up his signed presence record (messaging.md §5.2), dials him, and her
// contact request reaches him; he accepts, and they exchange messages. Alice's `peers` lists Bob
// as found through the DHT, at his address on the other subnet.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { labReady, createRoutedNetwork, withLab } from '../../scripts/lab/netns.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, waitFor } from '../daemon/helpers.js'
import { dmess, homes, startBootstrap, startDaemon, stop, type Home, type Proc } from './fixtures/daemons.js'

const TEXT = 'hello across the router'
const REPLY = 'hello back through the DHT'

interface Peer { fingerprint: string, address: string, source: string, state: string }

const escape = (s: string): string => s.replaceAll('.', '\\.')

if (labReady(t, 'the DHT daemons lab')) {
  t.test('two daemons on different subnets find each other by fingerprint through one bootstrap node, and talk', async t => {
    t.setTimeout(540_000) // every step is bounded; a loaded 2-core machine runs each CLI call slowly
    const [alice, bob] = await homes(t, 'alice', 'bob') as [Home, Home]

    await withLab(async lab => {
      const net = await createRoutedNetwork(lab, { subnets: ['10.1.0', '10.2.0'] })
      const [ha, hb] = net.hosts as [typeof net.hosts[number], typeof net.hosts[number]]
      const procs: Proc[] = []
      const t0 = Date.now()
      const step = (what: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`) }
      try {
        const port = await startBootstrap(net.routerNs, '0.0.0.0', procs)
        await Promise.all([
          startDaemon(ha.ns, alice, `${ha.gateway}:${port}`, procs),
          startDaemon(hb.ns, bob, `${hb.gateway}:${port}`, procs)
        ])
        step('bootstrap node and daemons running')

        // Bob joins and announces in the background: wait until the network holds his record
        let rec: { addresses: Array<{ host: string, port: number }> } | undefined
        await waitFor(async () => {
          const r = await runCliInProcess(['dht', 'lookup', bob.fingerprint, '--json', '--timeout', '5', '--home', alice.home], { env: PW, timeoutMs: 15_000 })
          if (r.code === 0) rec = JSON.parse(r.stdout) as typeof rec
          return rec !== undefined
        }, 60_000, () => 'Bob\'s presence record in the DHT')
        step('Bob\'s record found by `dht lookup`')
        t.ok(rec?.addresses.some(a => a.host === hb.address), `Bob announces his interface address ${hb.address} (bound to 0.0.0.0): ${JSON.stringify(rec)}`)

        await dmess(alice, ['contacts', 'add', bob.fingerprint])
        let reqs: Array<{ fingerprint: string }> = []
        await waitFor(async () => {
          reqs = JSON.parse(await dmess(bob, ['requests', '--json'])) as typeof reqs
          return reqs.some(r => r.fingerprint === alice.fingerprint)
        }, 90_000, () => `Alice's contact request at Bob: ${JSON.stringify(reqs)}`)
        t.pass('Alice\'s contact request, sent to a fingerprint only, reached Bob')
        step('the request reached Bob')
        await dmess(bob, ['requests', 'accept', alice.fingerprint])

        const sent = await dmess(alice, ['send', bob.fingerprint, TEXT, '--wait', 'delivered', '--timeout', '60', '--json'], 75_000)
        t.match(JSON.parse(sent), { status: 'delivered' }, 'send --wait delivered succeeds')
        step('delivered')
        const hist = JSON.parse(await dmess(bob, ['history', alice.fingerprint, '--json'])) as Array<{ direction: string, text: string }>
        t.ok(hist.some(m => m.direction === 'in' && m.text === TEXT), 'Bob\'s history holds Alice\'s message')

        const back = await dmess(bob, ['send', alice.fingerprint, REPLY, '--wait', 'delivered', '--timeout', '60', '--json'], 75_000)
        t.match(JSON.parse(back), { status: 'delivered' }, 'Bob replies')
        step('reply delivered')
        const histA = JSON.parse(await dmess(alice, ['history', bob.fingerprint, '--json'])) as Array<{ direction: string, text: string }>
        t.ok(histA.some(m => m.direction === 'in' && m.text === REPLY), 'Alice receives it')

        const peers = JSON.parse(await dmess(alice, ['peers', '--json'])) as Peer[]
        const p = peers.find(p => p.fingerprint === bob.fingerprint)
        t.equal(p?.source, 'dht', `Alice found Bob through the DHT: ${JSON.stringify(peers)}`)
        t.match(p?.address, new RegExp(`^${escape(hb.address)}:\\d+$`), `at his address on the other subnet (${hb.address})`)
        t.notOk(peers.some(q => q.source === 'mdns'), 'mDNS found nobody across the router')
      } catch (err) {
        for (const p of procs) t.comment(p.log())
        throw err
      } finally {
        for (const p of procs.reverse()) await stop(p.child)
      }
    })
  })
}
