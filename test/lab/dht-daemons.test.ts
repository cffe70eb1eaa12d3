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
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { labUnavailableReason, createRoutedNetwork, withLab, nsSpawn } from '../../scripts/lab/netns.js'
import { BIN, runCli } from '../helpers/cli.js'
import { cliHome, PW, waitFor } from '../daemon/helpers.js'
import { isProcessAlive, waitForExit } from '../../src/daemon/lock.js'

const TEXT = 'hello across the router'
const REPLY = 'hello back through the DHT'

interface Home { name: string, home: string, fingerprint: string }
interface Peer { fingerprint: string, address: string, source: string, state: string }
interface Proc { child: ChildProcess, log: () => string }

async function dmess (h: Home, args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await runCli([...args, '--home', h.home], { env: PW, timeoutMs })
  if (r.code !== 0) throw new Error(`dmess ${args.join(' ')} (${h.name}) exited ${String(r.code)}: ${r.stderr}`)
  return r.stdout
}

function cleanEnv (): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_HOME' && k !== 'DMESS_PASSPHRASE') env[k] = v
  return env
}

/** A child in `ns` whose output is kept; rejects `exited` if it ends before we stop it. */
function spawnIn (ns: string, args: string[], env: Record<string, string>): Proc & { exited: Promise<never> } {
  const child = nsSpawn(ns, process.execPath, [BIN, ...args], { env })
  let log = ''
  child.stdout?.on('data', d => { log += String(d) })
  child.stderr?.on('data', d => { log += String(d) })
  const exited = new Promise<never>((_resolve, reject) => child.on('exit', c => reject(new Error(`dmess ${args[0] ?? ''} exited early (${String(c)}): ${log}`))))
  exited.catch(() => {})
  return { child, log: () => log, exited }
}

/** `dmess bootstrap --host 0.0.0.0 --port 0` in `ns`; resolves with its port from the `listening` line. */
async function startBootstrap (ns: string, procs: Proc[]): Promise<number> {
  const p = spawnIn(ns, ['bootstrap', '--host', '0.0.0.0', '--port', '0'], cleanEnv())
  procs.push(p)
  const lines = createInterface({ input: p.child.stdout as NodeJS.ReadableStream })
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line from dmess bootstrap: ${p.log()}`)), 30_000)
    lines.on('line', l => {
      let ev: { event?: string, address?: string }
      try { ev = JSON.parse(l) as typeof ev } catch { return }
      if (ev.event === 'listening' && typeof ev.address === 'string') { clearTimeout(timer); resolve(Number(ev.address.split(':').pop())) }
    })
  })
  return await Promise.race([listening, p.exited])
}

/** `dmess daemon` in the foreground in `ns` on 0.0.0.0, joined through `bootstrap`; mDNS stays on. */
async function startDaemon (ns: string, h: Home, bootstrap: string, procs: Proc[]): Promise<void> {
  const p = spawnIn(ns, ['daemon', '--home', h.home, '--host', '0.0.0.0', '--port', '0', '--bootstrap', bootstrap], { ...cleanEnv(), ...PW })
  procs.push(p)
  await Promise.race([waitFor(() => p.log().includes('dmess daemon running'), 30_000, () => `${h.name}'s daemon did not start: ${p.log()}`), p.exited])
}

/** SIGTERM by PID (the `ip netns exec` wrapper execs node, so it is our process), then wait. */
async function stop (child: ChildProcess): Promise<void> {
  const pid = child.pid
  if (pid === undefined || !isProcessAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
}

const escape = (s: string): string => s.replaceAll('.', '\\.')

const missing = labUnavailableReason()
if (missing !== null && process.env.CI === 'true') {
  t.fail(`the network lab must run in CI, but: ${missing}`)
} else if (missing !== null) {
  console.log(`# skipping the DHT daemons lab: ${missing}`)
  t.plan(0, missing)
} else {
  t.test('two daemons on different subnets find each other by fingerprint through one bootstrap node, and talk', async t => {
    t.setTimeout(540_000) // every step is bounded; a loaded 2-core machine runs each CLI call slowly
    const [alice, bob] = await Promise.all([cliHome(t, 'alice'), cliHome(t, 'bob')]).then(hs => hs.map((h, i) => ({ name: i === 0 ? 'alice' : 'bob', ...h }))) as [Home, Home]

    await withLab(async lab => {
      const net = await createRoutedNetwork(lab, { subnets: ['10.1.0', '10.2.0'] })
      const [ha, hb] = net.hosts as [typeof net.hosts[number], typeof net.hosts[number]]
      const procs: Proc[] = []
      const t0 = Date.now()
      const step = (what: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`) }
      try {
        const port = await startBootstrap(net.routerNs, procs)
        await Promise.all([
          startDaemon(ha.ns, alice, `${ha.gateway}:${port}`, procs),
          startDaemon(hb.ns, bob, `${hb.gateway}:${port}`, procs)
        ])
        step('bootstrap node and daemons running')

        // Bob joins and announces in the background: wait until the network holds his record
        let rec: { addresses: Array<{ host: string, port: number }> } | undefined
        await waitFor(async () => {
          const r = await runCli(['dht', 'lookup', bob.fingerprint, '--json', '--timeout', '5', '--home', alice.home], { env: PW, timeoutMs: 15_000 })
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
