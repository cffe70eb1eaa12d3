// The unlock agent (`dmess unlock`, proto-spec/ipc.md §14) in this process: the duration a user
// types, the timer that locks by the monotonic or the wall clock (a driven scheduler), and the
// Daemon in agent mode on a real profile and LevelDB: no socket of the kernel's but its IPC
// socket, a message sent through it kept in the store and the outbox, keys wiped when it locks.
import t from 'tap'
import { readdir, readFile, readlink } from 'node:fs/promises'
import { Daemon } from '../../src/daemon/daemon.js'
import { AgentTimer, AGENT_CHECK_MS, DEFAULT_UNLOCK_MS, formatDuration, MAX_UNLOCK_MS, parseDuration } from '../../src/daemon/agent.js'
import { IpcClient, probeSocket } from '../../src/daemon/ipc-client.js'
import { silentLogger } from '../../src/daemon/log.js'
import { unlock } from '../../src/app/profile.js'
import { openStore } from '../../src/store/index.js'
import { offlineSockets } from '../../src/io/offline.js'
import type { Scheduler } from '../../src/io/scheduler.js'
import { PASS, profileHome } from './helpers.js'

t.test('parseDuration: units s, m, h, d, summed; anything else, 0 and more than 7 days are one-line errors', async t => {
  t.equal(parseDuration('15m'), 15 * 60_000)
  t.equal(parseDuration('2h'), 2 * 3600_000)
  t.equal(parseDuration('1h30m'), 90 * 60_000)
  t.equal(parseDuration(' 90S '), 90_000, 'case and spaces around do not matter')
  t.equal(parseDuration('7d'), MAX_UNLOCK_MS)
  t.equal(DEFAULT_UNLOCK_MS, 3600_000, 'the default is an hour')
  for (const bad of ['', '15', 'm', '1.5h', '-1h', '1 h', '1hour', '10x', 'soon', '1h 30m']) {
    t.throws(() => parseDuration(bad), { code: 'BAD_ARGUMENT', message: /^--for must be a duration like 15m, 2h or 1h30m/ }, JSON.stringify(bad))
  }
  for (const zero of ['0', '0s', '00m', 'forever', 'never']) {
    t.throws(() => parseDuration(zero), { code: 'BAD_ARGUMENT', message: /^--for must be longer than 0 .*dmess daemon --detach$/ }, zero)
  }
  t.throws(() => parseDuration('8d'), { code: 'BAD_ARGUMENT', message: '--for must be at most 7d, got "8d"' })
  t.throws(() => parseDuration('169h'), { code: 'BAD_ARGUMENT', message: /at most 7d/ })
  t.equal(formatDuration(90 * 60_000), '1h30m')
  t.equal(formatDuration(86_400_000 + 1000), '1d1s')
  t.equal(formatDuration(-5), '0s')
  for (const ms of [1000, 59_000, 3600_000, 5400_000, MAX_UNLOCK_MS]) t.equal(parseDuration(formatDuration(ms)), ms, `${ms} round-trips`)
})

/** A scheduler driven by hand: the monotonic and the wall clock move apart as a suspended machine's do. */
function drivenScheduler (): Scheduler & { advance: (monoMs: number, wallMs?: number) => void, pending: () => number } {
  let mono = 0
  let wall = 1_700_000_000_000
  let timers: Array<{ at: number, fn: () => void, id: number }> = []
  let next = 0
  const s = {
    now: () => mono,
    wallNow: () => wall,
    setTimer: (delayMs: number, fn: () => void) => { const id = ++next; timers.push({ at: mono + delayMs, fn, id }); return id },
    clearTimer: (h: unknown) => { timers = timers.filter(x => x.id !== h) },
    advance: (monoMs: number, wallMs = monoMs) => {
      mono += monoMs
      wall += wallMs
      for (;;) {
        const due = timers.filter(x => x.at <= mono).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) return
        timers = timers.filter(x => x !== due)
        due.fn()
      }
    },
    pending: () => timers.length
  }
  return s
}

t.test('AgentTimer: fires once at the deadline; a wall clock that jumped (a suspended machine) fires it at the next check; stop cancels', async t => {
  const s = drivenScheduler()
  let fired = 0
  const timer = new AgentTimer({ lockAfterMs: 60_000, scheduler: s, expire: () => { fired++ } })
  await timer.start()
  t.equal(timer.locksAt, s.wallNow() + 60_000)
  s.advance(59_999)
  t.equal(fired, 0, 'not before the time')
  s.advance(1)
  t.equal(fired, 1, 'at the time')
  s.advance(3600_000)
  t.equal(fired, 1, 'once')
  t.equal(s.pending(), 0, 'no timer left')

  // the machine sleeps for an hour 5 s after the unlock: the monotonic clock does not move, the wall clock does
  const slept = drivenScheduler()
  let sleptFired = 0
  await new AgentTimer({ lockAfterMs: 15 * 60_000, scheduler: slept, expire: () => { sleptFired++ } }).start()
  slept.advance(5000)
  slept.advance(0, 3600_000)
  t.equal(sleptFired, 0, 'nothing runs while asleep')
  slept.advance(AGENT_CHECK_MS)
  t.equal(sleptFired, 1, `locked at the first check after waking (≤ ${AGENT_CHECK_MS / 1000} s), not 15 min of awake time later`)

  // the wall clock set back an hour: the monotonic deadline still holds
  const back = drivenScheduler()
  let backFired = 0
  await new AgentTimer({ lockAfterMs: 60_000, scheduler: back, expire: () => { backFired++ } }).start()
  back.advance(1000, -3600_000)
  back.advance(59_000)
  t.equal(backFired, 1, 'a clock set back does not extend the unlock')

  const stopped = drivenScheduler()
  let stoppedFired = 0
  const st = new AgentTimer({ lockAfterMs: 60_000, scheduler: stopped, expire: () => { stoppedFired++ } })
  await st.start()
  await st.stop()
  stopped.advance(120_000)
  t.equal(stoppedFired, 0, 'a stopped timer never fires')
})

t.test('offline sockets: bound to nothing, every send is a counted loss, nothing arrives', async t => {
  const s = await offlineSockets.bind({ host: '127.0.0.1', port: 47474 })
  t.same(s.local, { host: '127.0.0.1', port: 0 }, 'no port: nothing was bound')
  s.send({ host: '127.0.0.1', port: 1 }, new Uint8Array(10))
  s.send({ host: '127.0.0.1', port: 1 }, new Uint8Array(10))
  t.equal(s.sendErrors, 2)
  await s.close()
})

/** The inodes of this process's sockets that the kernel lists as UDP or TCP (IPv4 and IPv6). */
async function networkSockets (): Promise<string[]> {
  const mine = new Set<string>()
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    const m = /^socket:\[(\d+)\]$/.exec(target)
    if (m !== null) mine.add(m[1] as string)
  }
  const found: string[] = []
  for (const table of ['udp', 'udp6', 'tcp', 'tcp6']) {
    const lines = (await readFile(`/proc/net/${table}`, 'utf8').catch(() => '')).split('\n').slice(1)
    // columns: sl local rem st tx:rx tr:tm retrnsmt uid timeout inode …
    for (const l of lines) {
      const inode = l.trim().split(/\s+/)[9]
      if (inode !== undefined && mine.has(inode)) found.push(`${table}:${inode}`)
    }
  }
  return found.sort()
}

t.test('the Daemon as the agent: no network socket, the store through IPC, a sent message kept in the outbox; it locks by itself and wipes the keys', async t => {
  const bob = await profileHome(t, 'bob')
  const { paths, fingerprint } = await profileHome(t, 'alice')
  const before = await networkSockets()
  const u = await unlock(paths, PASS)
  const d = new Daemon({ paths, host: '0.0.0.0', port: 47474, mdns: true, peers: [{ host: '127.0.0.1', port: 9 }], bootstrap: [{ host: '127.0.0.1', port: 9 }], log: silentLogger(), agent: { lockAfterMs: 60_000 } }, u)
  t.teardown(async () => { await d.stop('teardown') })
  const st = await d.start()
  const started = Date.now()
  t.match(st, { running: true, mode: 'agent', fingerprint, host: '', port: 0, mdns: false, dhtNodes: 0, peers: 0 })
  const locksAt = Date.parse(st.locksAt ?? '')
  t.ok(locksAt >= Date.parse(st.startedAt) + 60_000 && locksAt <= started + 60_000, `it locks 60 s after the keys and the store were ready: ${st.locksAt}`)
  t.same(await networkSockets(), before, 'no UDP or TCP socket was opened, whatever host, port, mDNS, peers and bootstrap said')
  t.equal(d.node.dht, null, 'no DHT')
  t.equal(d.node.nat, null, 'no STUN')
  t.equal(d.node.portmap, null, 'no port mapping')

  const c = await IpcClient.connect(d.files.socket)
  t.teardown(() => c.close())
  const added = await c.call('contacts.add', { who: bob.invite, name: 'bob' })
  t.equal(added.created, true)
  const sent = await c.call('messages.send', { contact: 'bob', text: 'written while offline' })
  t.equal(sent.status, 'sending', 'queued: nothing can be sent')
  const h = await c.call('messages.history', { contact: 'bob' })
  t.same(h.messages.map(m => m.text), ['written while offline'])
  await t.rejects(c.call('dht.lookup', { fingerprint: bob.fingerprint }), { message: /needs a running daemon/ }, 'DHT methods say a daemon is needed')
  c.close()

  await d.stop('test')
  t.ok(u.identity.signSecret.every(b => b === 0) && u.identity.dhSecret.every(b => b === 0), 'secret keys wiped')
  const again = await unlock(paths, PASS)
  const store = await openStore(paths.db, again.storeKey)
  t.teardown(async () => { await store.close() })
  t.equal((await store.getMessage(sent.id))?.status, 'sending', 'the message is in the store')
  t.ok((await store.listOutbox()).some(e => e.id === sent.id && e.peer === bob.fingerprint), 'and in the outbox, for the daemon to send')
})

t.test('the agent stops by itself when its time is up: socket gone, keys wiped', async t => {
  const { paths } = await profileHome(t, 'alice')
  const u = await unlock(paths, PASS)
  const d = new Daemon({ paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], bootstrap: [], log: silentLogger(), agent: { lockAfterMs: 200 } }, u)
  t.teardown(async () => { await d.stop('teardown') })
  await d.start()
  await d.stopped // the event, however long a loaded machine takes to get there
  t.equal(await probeSocket(d.files.socket), 'absent', 'socket removed')
  t.ok(u.identity.signSecret.every(b => b === 0) && u.storeKey.every(b => b === 0), 'keys wiped')
})
