// `dmess unlock` and `dmess lock` through the real built binary (proto-spec/ipc.md §14): the
// unlock agent as a real background process in a temp home, commands through it with no
// passphrase source at all, no network socket of its own, lock, expiry, kill -9, and a daemon
// taking its place. Every process started here is ended in teardown. Commands that start no
// process (all but an unlock that starts the agent and `daemon --detach`) run in this process
// (test/helpers/cli-inproc.ts): the same commands and output, without a node start each.
import t, { type Test } from 'tap'
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { quickHome, PW } from '../helpers/profiles.js'
import { isProcessAlive, readPidFile, waitForExit } from '../../src/daemon/lock.js'

const LOOPBACK = ['--host', '127.0.0.1', '--port', '0', '--no-mdns']

/** A home, a file holding its passphrase, and every process found running in it ended at teardown. */
async function home (t: Test, name = 'alice'): Promise<{ home: string, invite: string, fingerprint: string, passFile: string, pids: Set<number> }> {
  const h = await quickHome(t, name)
  const passFile = join(h.home, '..', `${name}-${Math.random().toString(36).slice(2)}.pass`)
  await writeFile(passFile, PW.DMESS_PASSPHRASE + '\n', { mode: 0o600 })
  const pids = new Set<number>()
  t.teardown(async () => {
    const last = await readPidFile(join(h.home, 'daemon.pid'))
    if (last !== undefined) pids.add(last)
    for (const pid of pids) {
      if (!isProcessAlive(pid)) continue
      process.kill(pid, 'SIGTERM')
      if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
    }
  })
  return { ...h, passFile, pids }
}

async function statusJson (home: string): Promise<Record<string, unknown>> {
  const r = await runCliInProcess(['status', '--json', '--home', home])
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

/** Starts the agent with the passphrase from a file; returns its PID. */
async function unlock (t: Test, h: { home: string, passFile: string, pids: Set<number> }, extra: string[] = []): Promise<number> {
  const r = await runCli(['unlock', '--home', h.home, '--passphrase-file', h.passFile, ...extra])
  t.equal(r.code, 0, `unlock: ${r.stderr}`)
  const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1])
  t.ok(pid > 0 && isProcessAlive(pid), `the agent (pid ${pid}) outlives the command`)
  h.pids.add(pid)
  return pid
}

/** The kernel's UDP and TCP sockets (IPv4, IPv6) among the process's open files. */
async function networkSocketsOf (pid: number): Promise<string[]> {
  const mine = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))
    if (m !== null) mine.add(m[1] as string)
  }
  const found: string[] = []
  for (const table of ['udp', 'udp6', 'tcp', 'tcp6']) {
    for (const l of (await readFile(`/proc/net/${table}`, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const inode = l.trim().split(/\s+/)[9] // sl local rem st tx:rx tr:tm retrnsmt uid timeout inode
      if (inode !== undefined && mine.has(inode)) found.push(`${table}:${inode}`)
    }
  }
  return found
}

t.test('a bad --for: one line, non-zero, nothing started', async t => {
  const h = await home(t)
  for (const bad of ['10x', '15', '0', '8d']) {
    const r = await runCliInProcess(['unlock', '--for', bad, '--home', h.home], { env: PW })
    assertOneLineError(t, r, /^Error: --for must be/)
  }
  t.same(await statusJson(h.home), { running: false })
})

t.test('unlock once, then commands need no passphrase; the agent is offline with no network socket; status says when it locks; lock ends it and the next command asks again', async t => {
  const bob = await quickHome(t, 'bob')
  const h = await home(t)
  const pid = await unlock(t, h, ['--for', '2h'])
  t.equal(await readPidFile(join(h.home, 'daemon.pid')), pid, 'it writes the pidfile, as the daemon does')

  const st = await statusJson(h.home)
  t.match(st, { running: true, mode: 'agent', pid, fingerprint: h.fingerprint, host: '', port: 0, peers: 0, dhtNodes: 0, mdns: false })
  const left = Date.parse(st.locksAt as string) - Date.now()
  t.ok(left > 110 * 60_000 && left <= 120 * 60_000, `it locks in about 2 h (${Math.round(left / 60_000)} min)`)
  const text = await runCliInProcess(['status', '--home', h.home])
  // to the second: 2h within half a second of the unlock (src/daemon/agent.ts formatDuration)
  t.match(text.stdout, new RegExp(`unlock agent running \\(pid ${pid}\\).*offline[\\s\\S]*Locks at: +${st.locksAt as string} \\(in (?:2h|1h5\\dm)`))
  t.same(await networkSocketsOf(pid), [], 'no UDP or TCP socket among its open files')

  // no --passphrase-file, no $DMESS_PASSPHRASE (runCli drops it), no terminal: any prompt would fail
  const add = await runCliInProcess(['contacts', 'add', bob.invite, '--name', 'bob', '--home', h.home])
  t.equal(add.code, 0, `contacts add: ${add.stderr}`)
  const send = await runCliInProcess(['send', 'bob', 'queued through the agent', '--json', '--home', h.home])
  t.equal(send.code, 0, `send: ${send.stderr}`)
  t.equal((JSON.parse(send.stdout) as { status: string }).status, 'sending', 'queued in the outbox: the agent is offline')
  const hist = await runCliInProcess(['history', 'bob', '--json', '--home', h.home])
  t.equal(hist.code, 0, `history: ${hist.stderr}`)
  t.match(hist.stdout, /queued through the agent/)
  const list = await runCliInProcess(['contacts', 'list', '--home', h.home])
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /bob/)
  const req = await runCliInProcess(['requests', '--home', h.home])
  t.equal(req.code, 0, `requests: ${req.stderr}`)

  const again = await runCliInProcess(['unlock', '--home', h.home])
  t.equal(again.code, 0, 'a second unlock is no error')
  t.equal(again.stdout, `already unlocked until ${st.locksAt as string} (unlock agent, pid ${pid}); to unlock for another time: dmess lock, then dmess unlock\n`)

  const lock = await runCliInProcess(['lock', '--home', h.home])
  t.equal(lock.code, 0, lock.stderr)
  t.equal(lock.stdout, `locked: the unlock agent (pid ${pid}) stopped and wiped the keys\n`)
  t.notOk(isProcessAlive(pid), 'gone when lock returns')
  t.same(await statusJson(h.home), { running: false })
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', '--home', h.home]), /no passphrase: set DMESS_PASSPHRASE, pass --passphrase-file, or run in a terminal/)
  const none = await runCliInProcess(['lock', '--home', h.home])
  t.equal(none.code, 0)
  t.match(none.stdout, /^nothing to lock: no unlock agent runs for /)
  const log = await readFile(join(h.home, 'daemon.log'), 'utf8')
  t.match(log, /"msg":"unlock agent running \(offline\)"[\s\S]*"reason":"ipc stop"[\s\S]*"msg":"daemon stopped"/)

  // `dmess stop` stops an agent too, and says what it stopped
  const pid2 = await unlock(t, h, ['--for', '5m'])
  const stop = await runCliInProcess(['stop', '--home', h.home])
  t.equal(stop.code, 0, stop.stderr)
  t.equal(stop.stdout, `dmess unlock agent stopped (pid ${pid2}): the keys are locked\n`)
  t.notOk(isProcessAlive(pid2), 'gone when stop returns')
  t.notMatch(log, PW.DMESS_PASSPHRASE, 'no passphrase in the log')
  t.notMatch(log, 'queued through the agent', 'no message body in the log')
})

t.test('the agent exits by itself when its time is up', async t => {
  const h = await home(t)
  const pid = await unlock(t, h, ['--for', '8s'])
  // wait for the process, not for a time: it goes when its own clock says so
  t.ok(await waitForExit(pid, 120_000), 'the agent exited by itself')
  t.same(await statusJson(h.home), { running: false })
  t.match(await readFile(join(h.home, 'daemon.log'), 'utf8'), /"reason":"unlock time is up","msg":"daemon stopping"[\s\S]*"msg":"daemon stopped"/)
})

t.test('kill -9 of the agent loses nothing: a message sent through it is in the store afterwards', async t => {
  const bob = await quickHome(t, 'bob')
  const h = await home(t)
  const pid = await unlock(t, h)
  t.equal((await runCliInProcess(['contacts', 'add', bob.invite, '--name', 'bob', '--home', h.home])).code, 0)
  const send = await runCliInProcess(['send', 'bob', 'kept across a kill', '--json', '--home', h.home])
  t.equal(send.code, 0, send.stderr)
  const id = (JSON.parse(send.stdout) as { id: string }).id
  process.kill(pid, 'SIGKILL')
  t.ok(await waitForExit(pid, 30_000), 'killed')
  const hist = await runCliInProcess(['history', 'bob', '--json', '--home', h.home, '--passphrase-file', h.passFile])
  t.equal(hist.code, 0, hist.stderr)
  const messages = JSON.parse(hist.stdout) as Array<{ id: string, text: string, status: string }>
  t.match(messages, [{ id, text: 'kept across a kill', status: 'sending' }], 'the message, still to be sent')
})

t.test('a daemon takes the agent\'s place once its own passphrase is right; lock leaves a daemon alone; unlock with a daemon running does nothing', async t => {
  const h = await home(t)
  const agent = await unlock(t, h)
  const wrong = join(h.home, '..', 'wrong.pass')
  await writeFile(wrong, 'not the passphrase\n')
  assertOneLineError(t, await runCli(['daemon', '--detach', '--home', h.home, ...LOOPBACK, '--passphrase-file', wrong]), /wrong passphrase/)
  t.ok(isProcessAlive(agent), 'a wrong passphrase leaves the agent running')
  t.equal((await statusJson(h.home)).mode, 'agent')

  const d = await runCli(['daemon', '--detach', '--home', h.home, ...LOOPBACK, '--passphrase-file', h.passFile])
  t.equal(d.code, 0, d.stderr)
  t.match(d.stdout, new RegExp(`^dmess daemon started \\(pid \\d+\\) in place of the unlock agent \\(pid ${agent}\\): udp 127\\.0\\.0\\.1:\\d+`))
  const daemon = Number(/started \(pid (\d+)\)/.exec(d.stdout)?.[1])
  h.pids.add(daemon)
  t.notOk(isProcessAlive(agent), 'the agent is gone')
  t.match(await statusJson(h.home), { running: true, mode: 'daemon', pid: daemon, host: '127.0.0.1' })

  const lock = await runCliInProcess(['lock', '--home', h.home])
  assertOneLineError(t, lock, new RegExp(`the dmess daemon \\(pid ${daemon}\\) runs for .*not an unlock agent.*\`dmess stop\` stops it`))
  t.ok(isProcessAlive(daemon), 'lock does not stop a daemon')
  const un = await runCliInProcess(['unlock', '--home', h.home])
  t.equal(un.code, 0, un.stderr)
  t.equal(un.stdout, `the dmess daemon (pid ${daemon}) is running and holds the keys; nothing to unlock\n`)
  const stop = await runCliInProcess(['stop', '--home', h.home])
  t.equal(stop.code, 0, stop.stderr)
})
