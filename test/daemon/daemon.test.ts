// The Daemon in this process, on a real profile, LevelDB and sockets: component order, rollback
// of a failed start, one daemon per home, the UDP socket really bound, keys wiped at stop.
import t, { type Test } from 'tap'
import dgram from 'node:dgram'
import { stat } from 'node:fs/promises'
import { Daemon, type DaemonOptions } from '../../src/daemon/daemon.js'
import type { Component } from '../../src/runtime/component.js'
import { probeSocket, IpcClient } from '../../src/daemon/ipc-client.js'
import { readPidFile } from '../../src/daemon/lock.js'
import { silentLogger } from '../../src/daemon/log.js'
import { unlock } from '../../src/app/profile.js'
import { openStore } from '../../src/store/index.js'
import type { HomePaths } from '../../src/config/home.js'
import { PASS, profileHome } from './helpers.js'

type T = Test

function recorder (log: string[], name: string, failStart = false): Component {
  return {
    name,
    start: async () => { log.push(`start ${name}`); if (failStart) throw new Error(`${name} cannot start`) },
    stop: async () => { log.push(`stop ${name}`) }
  }
}

async function makeDaemon (t: T, paths: HomePaths, extra: Partial<DaemonOptions> = {}): Promise<Daemon> {
  const u = await unlock(paths, PASS)
  const d = new Daemon({ paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], bootstrap: [], log: silentLogger(), ...extra }, u)
  t.teardown(async () => { await d.stop('teardown') })
  return d
}

async function storeIsFree (paths: HomePaths): Promise<boolean> {
  const u = await unlock(paths, PASS)
  try {
    const s = await openStore(paths.db, u.storeKey)
    await s.close()
    return true
  } catch {
    return false
  }
}

async function bindFails (host: string, port: number): Promise<string | undefined> {
  const s = dgram.createSocket('udp4')
  return await new Promise(resolve => {
    s.once('error', err => { s.close(); resolve((err as NodeJS.ErrnoException).code) })
    s.bind(port, host, () => { s.close(); resolve(undefined) })
  })
}

t.test('components start in order and stop in reverse; status, socket, pidfile and UDP are real', async t => {
  const { paths, fingerprint } = await profileHome(t)
  const log: string[] = []
  const d = await makeDaemon(t, paths, { extraComponents: () => [recorder(log, 'transport'), recorder(log, 'mdns')] })
  const st = await d.start()
  t.equal(st.fingerprint, fingerprint)
  t.equal(st.host, '127.0.0.1')
  t.ok(st.port > 0, 'port 0 resolved to the bound port')
  t.equal(st.pid, process.pid)
  t.equal(await readPidFile(d.files.pidfile), process.pid, 'pidfile names this process')
  t.equal((await stat(d.files.socket)).mode & 0o777, 0o600)
  t.equal(await bindFails('127.0.0.1', st.port), 'EADDRINUSE', 'the UDP port is really bound')
  t.equal(await storeIsFree(paths), false, 'the daemon holds the store lock')

  // a datagram that is no protocol of ours reaches the daemon's socket, and is counted as dropped
  const udp = d.udp
  const s = dgram.createSocket('udp4')
  await new Promise<void>(resolve => s.send(Buffer.from('hello'), st.port, '127.0.0.1', () => resolve()))
  s.close()
  // wait for the count (up to 10 s: a busy machine may take a while to schedule the read)
  for (let i = 0; i < 400 && udp.dropped === 0; i++) await new Promise(resolve => setTimeout(resolve, 25))
  t.equal(udp.dropped, 1, 'the datagram reached the daemon')

  const c = await IpcClient.connect(d.files.socket)
  t.same(await c.call('status', {}), st, 'status over the socket')
  c.close()

  await d.stop()
  t.same(log, ['start transport', 'start mdns', 'stop mdns', 'stop transport'])
  t.equal(await probeSocket(d.files.socket), 'absent', 'socket removed')
  t.equal(await readPidFile(d.files.pidfile), undefined, 'pidfile removed')
  t.equal(await bindFails('127.0.0.1', st.port), undefined, 'UDP port released')
  t.equal(await storeIsFree(paths), true, 'store closed: its lock is released')
  await d.stop()
  t.pass('stop is idempotent')
})

t.test('a failed start stops what started, in reverse, and leaves nothing behind', async t => {
  const { paths } = await profileHome(t)
  const log: string[] = []
  const u = await unlock(paths, PASS)
  const d = new Daemon({ paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], bootstrap: [], log: silentLogger(), extraComponents: () => [recorder(log, 'a'), recorder(log, 'b', true), recorder(log, 'c')] }, u)
  await t.rejects(d.start(), { message: 'b cannot start' })
  t.same(log, ['start a', 'start b', 'stop a'], 'c never started; a stopped; b (failed) not stopped')
  t.equal(await probeSocket(d.files.socket), 'absent', 'no socket')
  t.equal(await readPidFile(d.files.pidfile), undefined, 'no pidfile')
  t.equal(await storeIsFree(paths), true, 'store released')
  t.ok(u.identity.signSecret.every(b => b === 0) && u.identity.dhSecret.every(b => b === 0), 'secret keys wiped')
  t.ok(u.storeKey.every(b => b === 0), 'store key wiped')
  await d.stopped
  t.pass('stopped resolves')
})

t.test('one daemon per home: a second is refused while the first runs; the first is unharmed', async t => {
  const { paths } = await profileHome(t)
  const first = await makeDaemon(t, paths)
  const st = await first.start()
  const second = await makeDaemon(t, paths)
  await t.rejects(second.start(), { code: 'DAEMON_RUNNING', message: new RegExp(`already running for .* \\(pid ${process.pid}\\)`) })
  t.equal(await probeSocket(first.files.socket), 'live', 'the first still answers')
  t.equal(await readPidFile(first.files.pidfile), process.pid)
  const c = await IpcClient.connect(first.files.socket)
  t.equal((await c.call('status', {})).port, st.port)
  c.close()
})

t.test('a UDP port in use fails the start with one clear line and releases the store', async t => {
  const { paths } = await profileHome(t)
  const blocker = dgram.createSocket('udp4')
  await new Promise<void>(resolve => blocker.bind(0, '127.0.0.1', () => resolve()))
  t.teardown(() => blocker.close())
  const d = await makeDaemon(t, paths, { port: blocker.address().port })
  await t.rejects(d.start(), { code: 'DAEMON_FAILED', message: /UDP port \d+ on 127\.0\.0\.1 is in use/ })
  t.equal(await storeIsFree(paths), true)
})

t.test('the IPC stop method stops the daemon', async t => {
  const { paths } = await profileHome(t)
  const d = await makeDaemon(t, paths)
  await d.start()
  const c = await IpcClient.connect(d.files.socket)
  t.same(await c.call('stop', {}), { stopping: true, pid: process.pid })
  await d.stopped
  t.equal(d.isRunning, false)
  t.equal(await probeSocket(d.files.socket), 'absent')
})
