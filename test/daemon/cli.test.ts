// `dmess daemon`, `status`, `stop` and the contacts commands through the real built binary, with
// the daemon as a real process in a temp home. Every daemon started here is ended in teardown.
import t, { type Test } from 'tap'
import dgram from 'node:dgram'
import { readFile, readdir, stat, access, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, assertOneLineError, ROOT } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { isProcessAlive, readPidFile, waitForExit } from '../../src/daemon/lock.js'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import type { DaemonEvent } from '../../src/runtime/events.js'
import { RPC } from '../../src/daemon/protocol.js'
import { cliHome, killDetachedOnTeardown, PASS, PW, RawClient, startForeground, waitFor, type DaemonChild } from './helpers.js'
import { chachaPolyImplementation } from '../../src/crypto/primitives.js'

const LOOPBACK = ['--host', '127.0.0.1', '--port', '0', '--no-mdns']

async function exists (p: string): Promise<boolean> {
  try { await access(p); return true } catch { return false }
}

async function statusJson (home: string): Promise<Record<string, unknown>> {
  const r = await runCliInProcess(['status', '--json', '--home', home])
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

async function udpBindError (port: number): Promise<string | undefined> {
  const s = dgram.createSocket('udp4')
  return await new Promise(resolve => {
    s.once('error', err => { s.close(); resolve((err as NodeJS.ErrnoException).code) })
    s.bind(port, '127.0.0.1', () => { s.close(); resolve(undefined) })
  })
}

t.test('foreground daemon: status reports it, the UDP port is bound, malformed and oversized requests do not hurt it, stop ends it cleanly', async t => {
  const me = await cliHome(t)
  const d = await startForeground(t, me.home)
  const st = await statusJson(me.home)
  t.equal(st.running, true)
  t.equal(st.fingerprint, me.fingerprint)
  t.equal(st.pid, d.pid)
  t.equal(st.host, '127.0.0.1')
  const port = st.port as number
  t.ok(port > 0)
  t.equal(await udpBindError(port), 'EADDRINUSE', 'a second bind on the port fails: the daemon holds it')
  t.equal((await stat(join(me.home, 'daemon.sock'))).mode & 0o777, 0o600, 'socket 0600')
  t.equal(await readPidFile(join(me.home, 'daemon.pid')), d.pid, 'pidfile holds its PID')

  const text = await runCliInProcess(['status', '--home', me.home])
  t.match(text.stdout, new RegExp(`running \\(pid ${d.pid}\\)[\\s\\S]*Fingerprint: ${me.fingerprint}[\\s\\S]*UDP: +127\\.0\\.0\\.1:${port}`))
  // the daemon runs on the native ChaCha20-Poly1305 whenever this process does (crypto-policy.md §3.1)
  const aead = chachaPolyImplementation().name
  t.equal(st.aead, aead, `status --json names the AEAD: ${aead}`)
  t.match(text.stdout, aead === 'openssl-addon' ? /Encryption: +ChaCha20-Poly1305 via the native OpenSSL addon/ : /Encryption: +ChaCha20-Poly1305 via node:crypto/)

  // the same daemon survives malformed and oversized requests on its socket
  const raw = await RawClient.connect(join(me.home, 'daemon.sock'))
  t.teardown(() => raw.close())
  raw.send('{"jsonrpc":"2.0","id":1,\n')
  t.match(await raw.next(), { id: null, error: { code: RPC.PARSE_ERROR } })
  raw.send('{"jsonrpc":"2.0","id":2,"method":"daemon.selfdestruct"}\n')
  t.match(await raw.next(), { id: 2, error: { code: RPC.METHOD_NOT_FOUND } })
  raw.send('x'.repeat(300 * 1024) + '\n')
  t.match(await raw.next(), { id: null, error: { code: RPC.REQUEST_TOO_LARGE, message: /longer than 262144 bytes/ } })
  raw.send('{"jsonrpc":"2.0","id":3,"method":"status"}\n')
  t.match(await raw.next(), { id: 3, result: { running: true, fingerprint: me.fingerprint } }, 'same connection still served')
  t.equal((await statusJson(me.home)).running, true, 'and new ones too')
  raw.close()

  // a config change while it runs: said to apply after a restart
  const set = await runCliInProcess(['config', 'set', 'mdns', 'false', '--home', me.home])
  t.equal(set.code, 0, set.stderr)
  t.equal(set.stdout, 'mdns = false\n')
  t.match(set.stderr, new RegExp(`^note: the running daemon \\(pid ${d.pid}\\) uses the new value after a restart`))

  const stop = await runCliInProcess(['stop', '--home', me.home])
  t.equal(stop.code, 0, stop.stderr)
  t.match(stop.stdout, new RegExp(`stopped \\(pid ${d.pid}\\)`))
  t.notOk(isProcessAlive(d.pid), 'stop returns after the process has exited')
  t.same(await d.exited, { code: 0, signal: null }, 'the daemon exits 0')
  t.notOk(await exists(join(me.home, 'daemon.sock')), 'socket removed')
  t.notOk(await exists(join(me.home, 'daemon.pid')), 'pidfile removed')
  t.equal(await udpBindError(port), undefined, 'UDP port released')
  t.same(await statusJson(me.home), { running: false })
  t.notMatch(d.stdout() + d.stderr(), PASS, 'the passphrase is not in its output')
})

/** `sig` to a foreground daemon: exit 0, socket and pidfile removed, the orderly stop logged. */
async function stopsCleanlyOn (t: Test, sig: 'SIGTERM' | 'SIGINT', home: string, d: DaemonChild): Promise<void> {
  d.child.kill(sig)
  t.same(await d.exited, { code: 0, signal: null }, `${sig}: exit 0`)
  t.notOk(await exists(join(home, 'daemon.sock')), 'socket removed')
  t.notOk(await exists(join(home, 'daemon.pid')), 'pidfile removed')
  t.match(d.stderr(), new RegExp(`"reason":"${sig}".*daemon stopping[\\s\\S]*daemon stopped`), 'logged the orderly stop')
  t.same(await statusJson(home), { running: false })
}

t.test('the daemon keeps its files to the user: home back to 0700, every store file 0600; SIGINT stops it cleanly', async t => {
  const me = await cliHome(t)
  await chmod(me.home, 0o755) // widened by hand, or by a backup tool that restored it
  const d = await startForeground(t, me.home)
  t.equal((await stat(me.home)).mode & 0o777, 0o700, 'home re-asserted to 0700 at start')
  const db = join(me.home, 'db')
  t.equal((await stat(db)).mode & 0o777, 0o700, 'store directory 0700')
  const names = await readdir(db)
  t.ok(names.some(n => n.startsWith('MANIFEST-')) && names.includes('LOG'), `LevelDB files present: ${names.join(' ')}`)
  for (const name of names) {
    const st = await stat(join(db, name))
    if (st.isFile()) t.equal(st.mode & 0o777, 0o600, `db/${name} is 0600`)
  }
  await stopsCleanlyOn(t, 'SIGINT', me.home, d)
})

// SIGINT is sent at the end of the test above, to the daemon whose files it checked; SIGTERM at
// the end of the next, to the daemon started over a killed one's files
t.test('after kill -9 the stale socket and pidfile do not block a new daemon; SIGTERM stops that one cleanly', async t => {
  const me = await cliHome(t)
  const d = await startForeground(t, me.home)
  d.child.kill('SIGKILL')
  await d.exited
  t.ok(await exists(join(me.home, 'daemon.sock')), 'a stale socket is left')
  t.equal(await readPidFile(join(me.home, 'daemon.pid')), d.pid, 'and a stale pidfile')
  t.same(await statusJson(me.home), { running: false }, 'status is not fooled by them')
  const stop = await runCliInProcess(['stop', '--home', me.home])
  assertOneLineError(t, stop, /no dmess daemon is running/)

  const again = await startForeground(t, me.home)
  t.equal((await statusJson(me.home)).pid, again.pid, 'a new daemon runs')
  t.equal(await readPidFile(join(me.home, 'daemon.pid')), again.pid, 'with its own pidfile')
  await stopsCleanlyOn(t, 'SIGTERM', me.home, again)
})

t.test('--detach returns once ready; status and stop work; a second daemon is refused', async t => {
  const me = await cliHome(t)
  killDetachedOnTeardown(t, me.home)
  const r = await runCli(['daemon', '--detach', '--home', me.home, ...LOOPBACK], { env: PW, nodeFlags: ['--max-semi-space-size=3'] })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim().split('\n').length, 1, 'one line')
  t.match(r.stdout, /dmess daemon started \(pid \d+\): udp 127\.0\.0\.1:\d+, log .*daemon\.log/)
  const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1])
  t.ok(isProcessAlive(pid), 'the daemon outlives the command')
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
  t.ok(cmdline.some(a => a === join(ROOT, 'dist', 'daemon.cjs')), 'the background process is the bundled daemon entry point (scripts/bundle.ts), not the CLI')
  t.ok(cmdline.includes('--max-semi-space-size=2'), 'with a young generation capped for a process that runs all day (detach.ts DAEMON_NODE_FLAGS)')
  t.ok(cmdline.indexOf('--max-semi-space-size=3') > cmdline.indexOf('--max-semi-space-size=2'), 'and a flag node was started with after it: the last of two wins (V8), so the user\'s does')
  t.notOk(cmdline.some(a => a.endsWith('run.js')), 'no CLI framework in the long-lived process')
  const st = await statusJson(me.home)
  t.equal(st.pid, pid)
  t.equal(st.fingerprint, me.fingerprint)
  t.equal(st.aead, chachaPolyImplementation().name, 'the bundle finds the native AEAD beside the package, as the modules do')

  // refused before anything is spawned: the command in this process
  const second = await runCliInProcess(['daemon', '--detach', '--home', me.home, ...LOOPBACK], { env: PW })
  assertOneLineError(t, second, new RegExp(`already running for .* \\(pid ${pid}\\)`))
  const fg = await runCliInProcess(['daemon', '--home', me.home, ...LOOPBACK], { env: PW })
  assertOneLineError(t, fg, /already running/)
  t.equal((await statusJson(me.home)).pid, pid, 'the first is unharmed')

  const stop = await runCliInProcess(['stop', '--home', me.home])
  t.equal(stop.code, 0, stop.stderr)
  t.notOk(isProcessAlive(pid), 'gone when stop returns')
  t.same(await statusJson(me.home), { running: false })
  const log = await readFile(join(me.home, 'daemon.log'), 'utf8')
  t.match(log, /"msg":"daemon running"[\s\S]*"msg":"daemon stopped"/, 'structured log in <home>/daemon.log')
  t.notMatch(log, PASS, 'no passphrase in the log')
  t.equal((await stat(join(me.home, 'daemon.log'))).mode & 0o777, 0o600, 'log is 0600')
})

t.test('the background entry point run by hand refuses in one line', async t => {
  const me = await cliHome(t)
  const { spawnSync } = await import('node:child_process')
  for (const entry of [join(ROOT, 'dist', 'daemon.cjs'), join(ROOT, 'dist', 'src', 'daemon', 'detached-main.js')]) {
    // it refuses at once; the bound only stops a hang (a run on a machine at load 25 took over 20 s)
    const r = spawnSync(process.execPath, [entry, '--home', me.home], { encoding: 'utf8', timeout: 120_000 })
    t.equal(r.error, undefined, `${entry.slice(ROOT.length + 1)} ended by itself`)
    assertOneLineError(t, { code: r.status, stdout: r.stdout, stderr: r.stderr }, /background daemon started by `dmess daemon --detach`; run that instead/)
    await t.rejects(access(join(me.home, 'daemon.pid')), `no daemon started (${entry.slice(ROOT.length + 1)})`)
  }
})

t.test('a wrong passphrase: one line, non-zero, and no daemon left behind', async t => {
  const me = await cliHome(t)
  killDetachedOnTeardown(t, me.home)
  const bad = { DMESS_PASSPHRASE: 'wrong' }
  const fg = await runCli(['daemon', '--home', me.home, ...LOOPBACK], { env: bad })
  assertOneLineError(t, fg, /wrong passphrase/)
  const det = await runCli(['daemon', '--detach', '--home', me.home, ...LOOPBACK], { env: bad })
  assertOneLineError(t, det, /wrong passphrase/)
  const pid = await readPidFile(join(me.home, 'daemon.pid'))
  t.equal(pid, undefined, 'no pidfile')
  t.notOk(await exists(join(me.home, 'daemon.sock')), 'no socket')
  t.same(await statusJson(me.home), { running: false })
  // refused before the keys are touched: the command in this process
  const noPass = await runCliInProcess(['daemon', '--home', me.home, ...LOOPBACK])
  assertOneLineError(t, noPass, /no passphrase/)
  const noHome = await runCliInProcess(['daemon', '--home', join(me.home, 'nothing-here'), ...LOOPBACK], { env: PW })
  assertOneLineError(t, noHome, /no identity/)
  const badPeer = await runCliInProcess(['daemon', '--home', me.home, ...LOOPBACK, '--peer', 'localhost'], { env: PW })
  assertOneLineError(t, badPeer, /--peer must be host:port/)
})

t.test('status and stop without a daemon', async t => {
  const me = await cliHome(t)
  const json = await runCliInProcess(['status', '--json', '--home', me.home])
  t.equal(json.code, 0, 'status is a query: exit 0')
  t.same(JSON.parse(json.stdout), { running: false })
  const text = await runCliInProcess(['status', '--home', me.home])
  t.equal(text.code, 0)
  t.equal(text.stdout.trim(), `dmess daemon is not running for ${me.home}`)
  const stop = await runCliInProcess(['stop', '--home', me.home])
  assertOneLineError(t, stop, /no dmess daemon is running for .*; start one with `dmess daemon --detach`/)
})

t.test('contacts commands go through the daemon while it runs and open the store after: same results', async t => {
  const me = await cliHome(t, 'alice')
  const bob = await cliHome(t, 'bob')
  const carol = await cliHome(t, 'carol')
  const h = ['--home', me.home]
  const d = await startForeground(t, me.home)

  // a subscriber sees what the CLI does through the daemon
  const watcher = await IpcClient.connect(join(me.home, 'daemon.sock'))
  t.teardown(() => watcher.close())
  const seen: DaemonEvent[] = []
  await watcher.subscribe(['contact'], e => seen.push(e))

  // no passphrase needed: the socket (0600 in a 0700 home) is the user's own
  let r = await runCliInProcess(['contacts', 'add', bob.invite, ...h])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^Added bob \(/)
  r = await runCliInProcess(['contacts', 'add', carol.fingerprint, '--name', 'caz', ...h])
  t.match(r.stdout, /Added caz .*keys will be learned/)
  r = await runCliInProcess(['contacts', 'add', bob.invite, ...h])
  assertOneLineError(t, r, /bob is already a contact/)
  r = await runCliInProcess(['contacts', 'verify', 'bob', '--yes', ...h])
  t.match(r.stdout, /Safety number with bob[\s\S]*is verified\./)
  r = await runCliInProcess(['contacts', 'rename', 'caz', 'bob', ...h])
  t.match(r.stderr, /also named "bob"/, 'the clash warning comes through the daemon too')
  r = await runCliInProcess(['contacts', 'rename', carol.fingerprint.slice(0, 8), 'carol', ...h])
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['contacts', 'remove', 'nobody', ...h])
  assertOneLineError(t, r, /no contact matches "nobody"/)
  const viaDaemon = await runCliInProcess(['contacts', 'list', '--json', ...h])
  t.equal(viaDaemon.code, 0, viaDaemon.stderr)
  const viaDaemonText = await runCliInProcess(['contacts', 'list', ...h])
  const verifyJson = await runCliInProcess(['contacts', 'verify', 'bob', '--json', ...h])
  await waitFor(() => seen.length >= 5, 5000, () => `contact events, got ${seen.length}`)
  t.same(seen.map(e => e.action), ['added', 'added', 'verified', 'renamed', 'renamed'])

  const stop = await runCliInProcess(['stop', ...h])
  t.equal(stop.code, 0, stop.stderr)
  await d.exited

  const direct = await runCliInProcess(['contacts', 'list', '--json', ...h], { env: PW })
  t.equal(direct.code, 0, direct.stderr)
  t.same(JSON.parse(direct.stdout), JSON.parse(viaDaemon.stdout), 'the same list either way')
  t.equal((await runCliInProcess(['contacts', 'list', ...h], { env: PW })).stdout, viaDaemonText.stdout, 'the same text either way')
  t.equal((await runCliInProcess(['contacts', 'verify', 'bob', '--json', ...h], { env: PW })).stdout, verifyJson.stdout, 'the same safety number')
  const names = (JSON.parse(direct.stdout) as Array<{ name: string, verified: boolean }>).map(c => `${c.name}:${c.verified}`).sort()
  t.same(names, ['bob:true', 'carol:false'], 'what the daemon wrote is in the store')

  r = await runCliInProcess(['contacts', 'list', ...h])
  assertOneLineError(t, r, /no passphrase/)
})

t.test('a daemon started with --detach from a custom config and logLevel trace logs no secrets', async t => {
  const me = await cliHome(t)
  killDetachedOnTeardown(t, me.home)
  await writeFile(join(me.home, 'config.yaml'), 'logLevel: trace\nhost: 127.0.0.1\nport: 0\nmdns: false\n')
  const r = await runCli(['daemon', '--detach', '--json', '--home', me.home], { env: PW })
  t.equal(r.code, 0, r.stderr)
  const st = JSON.parse(r.stdout) as { host: string, port: number, mdns: boolean, pid: number }
  t.equal(st.host, '127.0.0.1', 'host from config')
  t.equal(st.mdns, false, 'mdns from config')
  const bob = await cliHome(t, 'bob')
  t.equal((await runCliInProcess(['contacts', 'add', bob.invite, '--home', me.home])).code, 0)
  t.equal((await runCliInProcess(['stop', '--home', me.home])).code, 0)
  t.ok(await waitForExit(st.pid, 5000))
  const log = await readFile(join(me.home, 'daemon.log'), 'utf8')
  t.match(log, /"level":10|"level":20/, 'debug/trace lines are written')
  t.notMatch(log, PASS, 'no passphrase')
  t.notMatch(log, bob.invite, 'no request params')
})
