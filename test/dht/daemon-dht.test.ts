// The DHT wired into real daemons (proto-spec/dht.md §6): a `dmess bootstrap --testnet` process on 127.0.0.1 and
// two `dmess daemon --detach` processes joined through it (no mDNS, no --peer, so the DHT is the
// only way they learn of each other). Alice's `dmess dht lookup` finds Bob's signed presence
// record with the address Bob's daemon is bound to. Every process is stopped by its PID.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { BIN } from '../helpers/cli.js'
import { cli, cliJson, cliResult, daemonPid, ipcCall, makeNodes, waitFor, type Node } from '../e2e/helpers.js'
import { isProcessAlive, waitForExit } from '../../src/daemon/lock.js'

async function stopPid (pid: number): Promise<void> {
  if (!isProcessAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
}

/** `dmess bootstrap --testnet` on 127.0.0.1:0; resolves with its "host:port" from the `listening` line. */
async function startBootstrap (tt: Teardown): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'bootstrap', '--testnet', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const pid = child.pid as number
  tt.teardown(async () => { await stopPid(pid) })
  const lines = createInterface({ input: child.stdout })
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line from dmess bootstrap')), 20_000)
    lines.on('line', l => {
      const ev = JSON.parse(l) as { event?: string, address?: string }
      if (ev.event === 'listening' && typeof ev.address === 'string') { clearTimeout(timer); resolve(ev.address) }
    })
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`dmess bootstrap exited ${code}`)) })
  })
}

type Teardown = { teardown: (fn: () => Promise<void> | void) => void }

// One bootstrap node for the file, started by the first test that needs it and stopped at the
// end: what each test checks is its own daemons' behaviour, not a fresh bootstrap node's.
let shared: Promise<string> | undefined
async function bootstrapNode (): Promise<string> {
  shared ??= startBootstrap(t)
  return await shared
}

interface Status { port: number, dhtNodes: number, nat?: { natKind: string }, relay?: { serving: boolean, allocations: number, using: unknown[] } }

async function startDaemon (tt: Teardown, node: Node, bootstrap: string): Promise<number> {
  await cli(node, ['daemon', '--detach', '--host', '127.0.0.1', '--port', '0', '--no-mdns', '--bootstrap', bootstrap])
  const pid = await daemonPid(node)
  tt.teardown(async () => { await stopPid(pid) })
  return (await cliJson<Status>(node, ['status'])).port
}

t.test('two daemons find each other through the DHT', async t => {
  const bootstrap = await bootstrapNode()
  t.match(bootstrap, /^127\.0\.0\.1:\d+$/, 'the bootstrap node listens on loopback')
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  const alicePort = await startDaemon(t, alice, bootstrap)
  const bobPort = await startDaemon(t, bob, bootstrap)

  // the join runs in the background: wait until both routing tables hold someone (polled over
  // IPC: a `dmess` process per poll would cost more CPU than the daemons under test)
  await waitFor(async () => (await ipcCall(alice, 'status', {})).dhtNodes >= 1 && (await ipcCall(bob, 'status', {})).dhtNodes >= 1, 20_000)
  t.ok((await cliJson<Status>(alice, ['status'])).dhtNodes >= 1, 'status --json shows dhtNodes ≥ 1')

  // Bob's announce also runs in the background: retry the lookup until his record is stored
  await waitFor(async () => (await ipcCall(alice, 'dht.lookup', { fingerprint: bob.fingerprint, timeoutMs: 5000 }, 10_000)).found, 30_000)
  const r = await cliResult(alice, ['dht', 'lookup', bob.fingerprint, '--json', '--timeout', '5'])
  t.equal(r.code, 0, r.stderr)
  const rec = JSON.parse(r.stdout) as { fingerprint: string, addresses: Array<{ host: string, port: number, kind: string }>, seq: number, expiresAt: string } | undefined
  t.equal(rec?.fingerprint, bob.fingerprint, 'alice finds bob by fingerprint')
  t.same(rec?.addresses, [{ host: '127.0.0.1', port: bobPort, kind: 'lan' }], 'with the address bob\'s daemon is bound to')
  t.ok(Date.parse(rec?.expiresAt ?? '') > Date.now(), 'a live record')
  t.ok((rec?.seq ?? 0) > 0, 'with a sequence number')

  const text = await cli(alice, ['dht', 'lookup', bob.fingerprint])
  t.match(text, `127.0.0.1:${bobPort}`, 'the text form shows the address')

  const peers = await cli(alice, ['peers'])
  t.match(peers, /DHT routing table: [1-9]\d* nodes/, '`dmess peers` shows the routing table size')
  t.ok(Array.isArray(await cliJson<unknown>(alice, ['peers'])), '`peers --json` is still an array')

  // STUN (proto-spec/stun.md §6): the bootstrap node answers alice's probe; on loopback no NAT is
  // in the way, so she is publicly reachable and answers STUN herself
  await waitFor(async () => (await ipcCall(alice, 'status', {})).nat?.natKind === 'open', 20_000)
  t.same((await cliJson<Status>(alice, ['status'])).nat, { natKind: 'open', filtering: 'unknown', publicAddresses: [`127.0.0.1:${alicePort}`], publiclyReachable: true, stunServing: true }, 'status --json shows the NAT kind and public address')
  t.same((await cliJson<Status>(alice, ['status'])).relay, { serving: true, allocations: 0, using: [] }, 'and, being publicly reachable, it relays for others, and uses no relay itself')
  t.match(await cli(alice, ['status']), /NAT:\s+open \(publicly reachable\)\nPublic:\s+127\.0\.0\.1:\d+\nSTUN:\s+answering/, 'and so does the text form')
})

t.test('with a daemon running, `dmess id` prints an invite that says where the node is (identity.md §7.1)', async t => {
  // a bootstrap node of its own: the shared one still lists the daemons earlier tests stopped,
  // and the invite names only INVITE_MAX_DHT_NODES of the nodes Alice met
  const bootstrap = await startBootstrap(t)
  const [alice] = await makeNodes(t, ['alice']) as [Node]
  const offline = await cliJson<{ invite: string, addresses: unknown }>(alice, ['id', '--json'])
  t.equal(offline.addresses, null, 'no daemon: no addresses')
  const port = await startDaemon(t, alice, bootstrap)
  await waitFor(async () => (await ipcCall(alice, 'status', {})).dhtNodes >= 1, 20_000)
  const id = await cliJson<{ invite: string, addresses: { node: string[], dht: string[] } }>(alice, ['id', '--json'])
  t.same(id.addresses.node, [`127.0.0.1:${port}`], 'the node\'s address')
  t.ok(id.addresses.dht.includes(bootstrap), 'and a DHT node it met: the bootstrap node')
  t.not(id.invite, offline.invite, 'a version 2 invite')
  t.match(await cli(alice, ['id']), `where your node is now: 127.0.0.1:${port}`)
})

t.test('an unknown fingerprint is "not found", non-zero, one line', async t => {
  const bootstrap = await bootstrapNode()
  const [alice, carol] = await makeNodes(t, ['alice', 'carol']) as [Node, Node]
  await startDaemon(t, alice, bootstrap)
  const r = await cliResult(alice, ['dht', 'lookup', carol.fingerprint, '--timeout', '3'])
  t.not(r.code, 0, 'exits non-zero')
  t.match(r.stderr, /not found/)
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr')
})

t.test('without a daemon: one line saying how to start one', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  const r = await cliResult(alice, ['dht', 'lookup', bob.fingerprint])
  t.not(r.code, 0)
  t.match(r.stderr, /no dmess daemon is running/)
})
