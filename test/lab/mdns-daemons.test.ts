// Discovery with mDNS only (proto-spec/discovery.md): two real `dmess daemon` processes, each
// in its own network namespace, the two joined by one bridge. No --peer, no --bootstrap, mDNS on
// (the config default): the only way Alice's daemon can learn where Bob is, is an mDNS answer on
// the LAN. Alice and Bob add each other by invite before the daemons start (no contact request).
// Alice's `send --wait delivered` must succeed, Bob's history must hold the text as "in", and
// Alice's `peers` must list Bob as found by mDNS at his address on the bridge's subnet.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import type { ChildProcess } from 'node:child_process'
import { labReady, createLan, withLab, nsSpawn } from '../../scripts/lab/netns.js'
import { BIN, runCli } from '../helpers/cli.js'
import { cliHome, PW, waitFor } from '../daemon/helpers.js'
import { isProcessAlive, waitForExit } from '../../src/daemon/lock.js'

const SUBNET = '10.231.4'
const TEXT = 'hello over mdns'

interface Home { name: string, home: string, fingerprint: string, invite: string }
interface Peer { fingerprint: string, address: string, source: string, state: string }

async function dmess (h: Home, args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await runCli([...args, '--home', h.home], { env: PW, timeoutMs })
  if (r.code !== 0) throw new Error(`dmess ${args.join(' ')} (${h.name}) exited ${String(r.code)}: ${r.stderr}`)
  return r.stdout
}

/** `dmess daemon` in the foreground inside `ns`; resolves once it says it runs. */
async function startDaemon (ns: string, h: Home, host: string): Promise<{ child: ChildProcess, log: () => string }> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_HOME') env[k] = v
  const child = nsSpawn(ns, process.execPath, [BIN, 'daemon', '--home', h.home, '--host', host, '--port', '0'], { env: { ...env, ...PW } })
  let log = ''
  child.stdout?.on('data', d => { log += String(d) })
  child.stderr?.on('data', d => { log += String(d) })
  const exited = new Promise<never>((_resolve, reject) => child.on('exit', c => reject(new Error(`${h.name}'s daemon exited early (${String(c)}): ${log}`))))
  exited.catch(() => {})
  await Promise.race([waitFor(() => log.includes('dmess daemon running'), 30_000, () => `${h.name}'s daemon did not start: ${log}`), exited])
  return { child, log: () => log }
}

/** SIGTERM by PID (the `ip netns exec` wrapper execs node, so it is the daemon), then wait. */
async function stop (child: ChildProcess): Promise<void> {
  const pid = child.pid
  if (pid === undefined || !isProcessAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
}

if (labReady(t, 'the mDNS daemons lab')) {
  t.test('two daemons on one bridge find each other by mDNS alone and deliver a message', async t => {
    t.setTimeout(300_000) // each step is bounded on its own; CLI calls crawl when a 2-core CI box runs two heavy files at once
    const [alice, bob] = await Promise.all([cliHome(t, 'alice'), cliHome(t, 'bob')]).then(hs => hs.map((h, i) => ({ name: i === 0 ? 'alice' : 'bob', ...h }))) as [Home, Home]
    await dmess(alice, ['contacts', 'add', bob.invite])
    await dmess(bob, ['contacts', 'add', alice.invite])

    await withLab(async lab => {
      const lan = await createLan(lab, { hosts: 2, subnet: SUBNET })
      const [ha, hb] = lan.hosts as [typeof lan.hosts[number], typeof lan.hosts[number]]
      const daemons: Array<{ child: ChildProcess, log: () => string }> = []
      try {
        daemons.push(await startDaemon(ha.ns, alice, '0.0.0.0'))
        daemons.push(await startDaemon(hb.ns, bob, '0.0.0.0'))

        const sent = await dmess(alice, ['send', 'bob', TEXT, '--wait', 'delivered', '--timeout', '60', '--json'], 75_000)
        t.match(JSON.parse(sent), { id: /^[0-9a-f]{32}$/, status: 'delivered' }, 'send --wait delivered succeeds with no --peer and no DHT')

        const hist = JSON.parse(await dmess(bob, ['history', 'alice', '--json'])) as Array<{ direction: string, text: string }>
        t.same(hist.map(m => [m.direction, m.text]), [['in', TEXT]], 'Bob\'s history holds Alice\'s message as incoming')

        let peers: Peer[] = []
        await waitFor(async () => {
          peers = JSON.parse(await dmess(alice, ['peers', '--json'])) as Peer[]
          return peers.some(p => p.fingerprint === bob.fingerprint)
        }, 10_000, () => `Alice's peers never listed Bob: ${JSON.stringify(peers)}`)
        const p = peers.find(p => p.fingerprint === bob.fingerprint)
        t.equal(p?.source, 'mdns', 'Alice found Bob through mDNS')
        t.match(p?.address, new RegExp(`^${hb.address.replaceAll('.', '\\.')}:\\d+$`), `at his bridge address ${hb.address} (not loopback)`)
      } catch (err) {
        for (const d of daemons) t.comment(d.log())
        throw err
      } finally {
        for (const d of daemons) await stop(d.child)
      }
    })
  })
}
